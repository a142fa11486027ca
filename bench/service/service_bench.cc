// The cost of a request below HTTP: api::Service::Handle (JSON parse,
// validation, table lookup, key location, the table layer's read or write,
// JSON response) for the operations the table layer's hot path serves, on a
// preloaded store. No sockets: the figure is the server's own CPU per request
// minus HTTP framing and the kernel, so changes to the request path show
// without the network's noise.
//
//   BM_GetItem        GetItem of a random key of 100,000 (item: pk + 100-byte value)
//   BM_PutItem        PutItem overwriting a random key
//   BM_UpdateItem     UpdateItem SET #v = :v, #c = if_not_exists(#c, :zero) + :one
//   BM_Query          Query of 10 items (pk = :p AND sk BETWEEN :a AND :b)
//   BM_BatchWriteItem BatchWriteItem of 25 puts (random keys)
//   BM_TransactWriteItems/N  TransactWriteItems of N UpdateItem-like Updates
//                     (distinct random keys; N = 2, 10, 100)
//   BM_TransactGetItems/N    TransactGetItems of N Gets
//   BM_PartiqlSelect  ExecuteStatement SELECT * FROM "items" WHERE pk = '...'
//                     (BM_GetItem's read, through the PartiQL parser)
//   BM_PartiqlSelectParam  the same with the key as a `?` parameter
//
// Durability none (writes reach the WAL's page cache, never fdatasync), so a
// write's figure is CPU, not the disk. Single-threaded; Google Benchmark's
// CPU time per iteration is the figure to read (use --benchmark_repetitions).
// Run: basalt_service_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/table/table_store.h"
#include "server/api/service.h"
#include "server/metrics/server_metrics.h"

namespace basalt {
namespace {

constexpr int kItems = 100000;
constexpr int kQueryPartitions = 10000;  // 10 sort keys each
constexpr int kBodies = 4096;            // request bodies cycled through

std::string Value100(int i) {
  std::string v = fmt::format("{:08d}", i);
  v.resize(100, 'v');
  return v;
}

class Fixture {
 public:
  static Fixture& Get() {
    static Fixture f;
    return f;
  }
  server::api::Service& service() { return *service_; }

  // One request through the service; aborts the benchmark on an error answer.
  void Call(benchmark::State& state, const std::string& op, const std::string& body) {
    request_.headers[1].second = "DynamoDB_20120810." + op;
    request_.body = body;
    server::HttpResponse resp;
    service_->Handle(request_, &resp);
    if (resp.status != 200) state.SkipWithError((op + ": " + resp.body).c_str());
  }

 private:
  Fixture() {
    dir_ = (std::filesystem::temp_directory_path() /
            ("basalt_service_bench_" + std::to_string(::getpid())))
               .string();
    std::filesystem::remove_all(dir_);
    table::TableStoreOptions o;
    o.dir = dir_;
    o.lsm.durability = lsm::Durability::kNone;
    o.ttl_sweep_interval_ms = 0;
    o.stream_trim_interval_ms = 0;
    Status s = table::TableStore::Open(o, &store_);
    if (!s.ok()) std::abort();
    // BASALT_BENCH_METRICS=1: with the request metrics of basalt-server
    // (server/metrics; docs/benchmarks.md, "Metrics overhead").
    server::api::ServiceOptions so;
    so.capacity.enforce = false;  // as basalt-server --no-throttling: the preload is a burst
    if (const char* m = std::getenv("BASALT_BENCH_METRICS"); m != nullptr && m[0] == '1') {
      metrics_ = std::make_shared<server::metrics::ServerMetrics>(
          store_.get(), server::metrics::MetricsOptions{});
      if (!metrics_->Start().ok()) std::abort();
      so.observer = metrics_->observer();
    }
    service_ = std::make_unique<server::api::Service>(store_.get(), so);
    if (metrics_) metrics_->Attach(service_.get());
    request_.method = "POST";
    request_.target = "/";
    request_.headers = {{"content-type", "application/x-amz-json-1.0"}, {"x-amz-target", ""}};
    Setup(R"({"TableName":"items","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
        "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
        "BillingMode":"PAY_PER_REQUEST"})",
          "CreateTable");
    Setup(R"({"TableName":"query","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},
        {"AttributeName":"sk","KeyType":"RANGE"}],
        "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},
        {"AttributeName":"sk","AttributeType":"N"}],"BillingMode":"PAY_PER_REQUEST"})",
          "CreateTable");
    for (int i = 0; i < kItems; i++) {
      Setup(fmt::format(
                R"({{"TableName":"items","Item":{{"pk":{{"S":"key{:08d}"}},"v":{{"S":"{}"}}}}}})",
                i, Value100(i)),
            "PutItem");
    }
    for (int p = 0; p < kQueryPartitions; p++) {
      for (int sk = 0; sk < 10; sk++) {
        Setup(
            fmt::format(
                R"({{"TableName":"query","Item":{{"pk":{{"S":"p{:06d}"}},"sk":{{"N":"{}"}},"v":{{"S":"{}"}}}}}})",
                p, sk, Value100(sk)),
            "PutItem");
      }
    }
  }
  ~Fixture() {
    service_.reset();
    store_->Close().PermitUnchecked();
    std::filesystem::remove_all(dir_);
  }
  void Setup(const std::string& body, const std::string& op) {
    request_.headers[1].second = "DynamoDB_20120810." + op;
    request_.body = body;
    server::HttpResponse resp;
    service_->Handle(request_, &resp);
    if (resp.status != 200) {
      fmt::print(stderr, "setup {} failed: {}\n", op, resp.body);
      std::abort();
    }
  }

  std::string dir_;
  std::unique_ptr<table::TableStore> store_;
  std::shared_ptr<server::metrics::ServerMetrics> metrics_;
  std::unique_ptr<server::api::Service> service_;
  server::HttpRequest request_;
};

std::vector<std::string> Bodies(const std::function<std::string(std::mt19937_64&)>& make) {
  std::mt19937_64 rnd(42);
  std::vector<std::string> out;
  for (int i = 0; i < kBodies; i++) out.push_back(make(rnd));
  return out;
}

int Key(std::mt19937_64& rnd) { return static_cast<int>(rnd() % kItems); }

void Run(benchmark::State& state, const std::string& op, const std::vector<std::string>& bodies) {
  Fixture& f = Fixture::Get();
  size_t i = 0;
  for (auto _ : state) f.Call(state, op, bodies[i++ % bodies.size()]);
  state.SetItemsProcessed(state.iterations());
}

void BM_GetItem(benchmark::State& state) {
  static const auto bodies = Bodies([](std::mt19937_64& r) {
    return fmt::format(R"({{"TableName":"items","Key":{{"pk":{{"S":"key{:08d}"}}}}}})", Key(r));
  });
  Run(state, "GetItem", bodies);
}

void BM_PutItem(benchmark::State& state) {
  static const auto bodies = Bodies([](std::mt19937_64& r) {
    const int k = Key(r);
    return fmt::format(
        R"({{"TableName":"items","Item":{{"pk":{{"S":"key{:08d}"}},"v":{{"S":"{}"}}}}}})", k,
        Value100(k + 1));
  });
  Run(state, "PutItem", bodies);
}

void BM_UpdateItem(benchmark::State& state) {
  static const auto bodies = Bodies([](std::mt19937_64& r) {
    const int k = Key(r);
    return fmt::format(
        R"({{"TableName":"items","Key":{{"pk":{{"S":"key{:08d}"}}}},
        "UpdateExpression":"SET #v = :v, #c = if_not_exists(#c, :zero) + :one",
        "ExpressionAttributeNames":{{"#v":"v","#c":"c"}},
        "ExpressionAttributeValues":{{":v":{{"S":"{}"}},":zero":{{"N":"0"}},":one":{{"N":"1"}}}}}})",
        k, Value100(k + 2));
  });
  Run(state, "UpdateItem", bodies);
}

void BM_Query(benchmark::State& state) {
  static const auto bodies = Bodies([](std::mt19937_64& r) {
    return fmt::format(
        R"({{"TableName":"query","KeyConditionExpression":"pk = :p AND sk BETWEEN :a AND :b",
        "ExpressionAttributeValues":{{":p":{{"S":"p{:06d}"}},":a":{{"N":"0"}},":b":{{"N":"9"}}}}}})",
        static_cast<int>(r() % kQueryPartitions));
  });
  Run(state, "Query", bodies);
}

void BM_BatchWriteItem(benchmark::State& state) {
  static const auto bodies = Bodies([](std::mt19937_64& r) {
    std::string puts;
    std::vector<int> keys;
    while (keys.size() < 25) {
      const int k = Key(r);
      if (std::find(keys.begin(), keys.end(), k) != keys.end()) continue;
      keys.push_back(k);
      if (!puts.empty()) puts += ",";
      puts += fmt::format(
          R"({{"PutRequest":{{"Item":{{"pk":{{"S":"key{:08d}"}},"v":{{"S":"{}"}}}}}}}})", k,
          Value100(k + 3));
    }
    return R"({"RequestItems":{"items":[)" + puts + "]}}";
  });
  Run(state, "BatchWriteItem", bodies);
}

// n distinct random keys.
std::vector<int> Keys(std::mt19937_64& r, size_t n) {
  std::vector<int> keys;
  while (keys.size() < n) {
    const int k = Key(r);
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  }
  return keys;
}

void BM_TransactWriteItems(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const auto bodies = Bodies([n](std::mt19937_64& r) {
    std::string actions;
    for (const int k : Keys(r, n)) {
      if (!actions.empty()) actions += ",";
      actions += fmt::format(
          R"({{"Update":{{"TableName":"items","Key":{{"pk":{{"S":"key{:08d}"}}}},
          "UpdateExpression":"SET #v = :v, #c = if_not_exists(#c, :zero) + :one",
          "ExpressionAttributeNames":{{"#v":"v","#c":"c"}},
          "ExpressionAttributeValues":{{":v":{{"S":"{}"}},":zero":{{"N":"0"}},":one":{{"N":"1"}}}}}}}})",
          k, Value100(k + 4));
    }
    return R"({"TransactItems":[)" + actions + "]}";
  });
  Run(state, "TransactWriteItems", bodies);
}

void BM_TransactGetItems(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const auto bodies = Bodies([n](std::mt19937_64& r) {
    std::string gets;
    for (const int k : Keys(r, n)) {
      if (!gets.empty()) gets += ",";
      gets +=
          fmt::format(R"({{"Get":{{"TableName":"items","Key":{{"pk":{{"S":"key{:08d}"}}}}}}}})", k);
    }
    return R"({"TransactItems":[)" + gets + "]}";
  });
  Run(state, "TransactGetItems", bodies);
}

void BM_PartiqlSelect(benchmark::State& state) {
  static const auto bodies = Bodies([](std::mt19937_64& r) {
    return fmt::format(R"({{"Statement":"SELECT * FROM \"items\" WHERE pk = 'key{:08d}'"}})",
                       Key(r));
  });
  Run(state, "ExecuteStatement", bodies);
}

void BM_PartiqlSelectParam(benchmark::State& state) {
  static const auto bodies = Bodies([](std::mt19937_64& r) {
    return fmt::format(
        R"({{"Statement":"SELECT * FROM \"items\" WHERE pk = ?","Parameters":[{{"S":"key{:08d}"}}]}})",
        Key(r));
  });
  Run(state, "ExecuteStatement", bodies);
}

BENCHMARK(BM_GetItem);
BENCHMARK(BM_PutItem);
BENCHMARK(BM_UpdateItem);
BENCHMARK(BM_Query);
BENCHMARK(BM_BatchWriteItem);
BENCHMARK(BM_TransactWriteItems)->Arg(2)->Arg(10)->Arg(100);
BENCHMARK(BM_TransactGetItems)->Arg(2)->Arg(10)->Arg(100);
BENCHMARK(BM_PartiqlSelect);
BENCHMARK(BM_PartiqlSelectParam);

}  // namespace
}  // namespace basalt

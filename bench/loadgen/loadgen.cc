// basalt_loadgen: drives a DynamoDB-compatible server over HTTP with the
// DynamoDB JSON protocol and reports throughput, latency percentiles and every
// error. Runs unchanged against Basalt, DynamoDB Local or any other server.
//
// Workloads (--workload):
//   put     100% PutItem, a random value of --value-size bytes
//   get     100% GetItem on pk
//   update  100% UpdateItem: SET #v = :v, #c = if_not_exists(#c, :zero) + :one
//   a       YCSB A: 50% GetItem, 50% UpdateItem
//   b       YCSB B: 95% GetItem,  5% UpdateItem
// Keys are "user" + a 12-digit key number in [0, --records); --load N first
// writes keys [0, N) so that reads find their items. --distribution picks the
// key number: uniform, or YCSB's scrambled zipfian (theta 0.99; the zipfian
// rank is FNV-hashed, so the hot keys are scattered over the key space and
// the server's hash partitions instead of being the lowest numbers).
//
// Every connection is one thread running one request at a time (closed loop),
// so throughput = connections / latency. The run stops at --duration or after
// --max-requests requests, whichever comes first; every request has a timeout.
//
// Latency covers every request that got an HTTP response, error responses
// included; transport failures (no response) are counted but not timed.
// Exit status: 0 all requests succeeded, 2 some failed (see the errors
// section), 1 bad arguments or setup failure.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <latch>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/loadgen/client.h"
#include "bench/loadgen/histogram.h"
#include "engine/base/random.h"

namespace basalt::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kUsage = R"(usage: basalt_loadgen [options]

Drives a DynamoDB-compatible server with PutItem/GetItem/UpdateItem over HTTP
(DynamoDB JSON protocol, keep-alive, one thread per connection).

  --endpoint HOST:PORT   server address (default 127.0.0.1:8000); must be
                         loopback unless --allow-remote
  --allow-remote         permit a non-loopback endpoint
  --table NAME           table (default loadgen); hash key "pk" (S)
  --create               create the table (PAY_PER_REQUEST) if missing and
                         wait until it is ACTIVE
  --load N               first PutItem keys [0, N) over all connections
                         (default 0); not part of the measurement
  --records N            key space size (default: --load if given, else 100000)
  --workload W           put | get | update | a (50% get / 50% update) |
                         b (95% get / 5% update)   (default a)
  --distribution D       uniform | zipfian (YCSB scrambled, theta 0.99)
                         (default zipfian)
  --connections N        concurrent connections = threads (default 4)
  --duration SECONDS     measured run time (default 10)
  --max-requests N       hard cap on measured requests (default 10000000)
  --value-size BYTES     size of the value attribute "v" (default 100)
  --seed N               random seed; thread i uses seed + i (default 1)
  --timeout-ms N         per-request timeout (default 5000)
  --load-timeout SECONDS cap on the --load phase (default 600)
  --help                 this text

Output: settings, then per operation and total: requests, req/s, latency
p50/p99/p99.9/max (microseconds), errors by DynamoDB error type and transport
errors; last, two lines starting "tsv<TAB>": a header and the values.
Exit status: 0 no request failed, 2 some failed, 1 usage or setup error.
)";

enum Op { kGet = 0, kPut = 1, kUpdate = 2, kNumOps = 3 };
constexpr std::array<const char*, kNumOps> kOpNames = {"GetItem", "PutItem", "UpdateItem"};
constexpr std::array<const char*, kNumOps> kOpTsv = {"get", "put", "update"};

struct Options {
  std::string endpoint = "127.0.0.1:8000";
  bool allow_remote = false;
  std::string table = "loadgen";
  bool create = false;
  uint64_t load = 0;
  uint64_t records = 0;  // 0: derived from --load
  std::string workload = "a";
  std::string distribution = "zipfian";
  uint64_t connections = 4;
  uint64_t duration = 10;
  uint64_t max_requests = 10'000'000;
  uint64_t value_size = 100;
  uint64_t seed = 1;
  uint64_t timeout_ms = 5000;
  uint64_t load_timeout = 600;
};

// Percent of requests that are GetItem; the rest are the workload's write.
struct Mix {
  int get_percent;
  Op write;
};

bool ParseMix(const std::string& w, Mix* mix) {
  static const struct {
    const char* name;
    Mix mix;
  } kMixes[] = {{"put", {0, kPut}},
                {"get", {100, kUpdate}},
                {"update", {0, kUpdate}},
                {"a", {50, kUpdate}},
                {"b", {95, kUpdate}}};
  for (const auto& m : kMixes) {
    if (w == m.name) {
      *mix = m.mix;
      return true;
    }
  }
  return false;
}

bool ParseUint(std::string_view s, uint64_t lo, uint64_t hi, uint64_t* out) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) return false;
  *out = v;
  return true;
}

// Table names per DynamoDB: 3-255 of [a-zA-Z0-9_.-]. Checking it also means
// it can be pasted into request bodies without JSON escaping.
bool ValidTableName(const std::string& t) {
  if (t.size() < 3 || t.size() > 255) return false;
  return std::all_of(t.begin(), t.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

// Returns false (after printing why) on a bad command line.
bool ParseArgs(int argc, char** argv, Options* o, bool* help) {
  struct UintFlag {
    const char* name;
    uint64_t* value;
    uint64_t lo, hi;
  };
  const UintFlag uint_flags[] = {
      {"load", &o->load, 0, 1'000'000'000'000},
      {"records", &o->records, 1, 1'000'000'000'000},
      {"connections", &o->connections, 1, 1024},
      {"duration", &o->duration, 1, 86400},
      {"max-requests", &o->max_requests, 1, UINT64_MAX},
      {"value-size", &o->value_size, 1, 400 * 1024},  // DynamoDB's item size limit
      {"seed", &o->seed, 0, UINT64_MAX},
      {"timeout-ms", &o->timeout_ms, 1, 600'000},
      {"load-timeout", &o->load_timeout, 1, 86400},
  };
  for (int i = 1; i < argc; i++) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("--")) {
      fmt::print(stderr, "unexpected argument '{}' (see --help)\n", arg);
      return false;
    }
    arg.remove_prefix(2);
    std::string_view name = arg, value;
    bool has_value = false;
    if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    if (name == "help" || name == "create" || name == "allow-remote") {
      if (has_value) {
        fmt::print(stderr, "--{} takes no value\n", name);
        return false;
      }
      if (name == "help") *help = true;
      if (name == "create") o->create = true;
      if (name == "allow-remote") o->allow_remote = true;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        fmt::print(stderr, "--{} needs a value\n", name);
        return false;
      }
      value = argv[++i];
    }
    if (name == "endpoint") {
      o->endpoint = value;
    } else if (name == "table") {
      o->table = value;
    } else if (name == "workload") {
      o->workload = value;
    } else if (name == "distribution") {
      o->distribution = value;
    } else {
      bool known = false;
      for (const UintFlag& f : uint_flags) {
        if (name != f.name) continue;
        known = true;
        if (!ParseUint(value, f.lo, f.hi, f.value)) {
          fmt::print(stderr, "--{}: '{}' is not an integer in [{}, {}]\n", name, value, f.lo, f.hi);
          return false;
        }
      }
      if (!known) {
        fmt::print(stderr, "unknown option --{} (see --help)\n", name);
        return false;
      }
    }
  }
  Mix mix;
  if (!ParseMix(o->workload, &mix)) {
    fmt::print(stderr, "--workload must be put, get, update, a or b\n");
    return false;
  }
  if (o->distribution != "uniform" && o->distribution != "zipfian") {
    fmt::print(stderr, "--distribution must be uniform or zipfian\n");
    return false;
  }
  if (!ValidTableName(o->table)) {
    fmt::print(stderr, "--table: 3-255 characters of a-z A-Z 0-9 _ . -\n");
    return false;
  }
  if (o->records == 0) o->records = o->load > 0 ? o->load : 100'000;
  return true;
}

double UnitDouble(Random& rng) { return static_cast<double>(rng.Next() >> 11) * 0x1.0p-53; }

// YCSB's ScrambledZipfianGenerator: a zipfian rank over 10^10 items with the
// zeta constant YCSB precomputes for theta 0.99 (so setup is O(1) for any
// --records), FNV-1a-hashed and reduced modulo the key space. The hottest key
// gets 1/zeta = 3.8% of requests. (YCSB takes Math.abs of the signed hash; we
// use it unsigned, so the hot key numbers differ from YCSB's, not the shape.)
class ScrambledZipfian {
 public:
  explicit ScrambledZipfian(uint64_t records) : records_(records) {}

  uint64_t Next(Random& rng) { return Fnv64(NextRank(rng)) % records_; }

 private:
  static constexpr double kItems = 1e10;
  static constexpr double kTheta = 0.99;
  static constexpr double kZetaN = 26.46902820178302;  // zeta(10^10, 0.99), from YCSB

  uint64_t NextRank(Random& rng) const {
    const double u = UnitDouble(rng);
    const double uz = u * kZetaN;
    if (uz < 1.0) return 0;
    if (uz < 1.0 + std::pow(0.5, kTheta)) return 1;
    return static_cast<uint64_t>(kItems * std::pow(eta_ * u - eta_ + 1, alpha_));
  }
  // YCSB's Utils.fnvhash64: FNV-1a over the 8 little-endian bytes.
  static uint64_t Fnv64(uint64_t v) {
    uint64_t h = 0xCBF29CE484222325ULL;
    for (int i = 0; i < 8; i++) {
      h ^= v & 0xff;
      h *= 1099511628211ULL;
      v >>= 8;
    }
    return h;
  }

  const uint64_t records_;
  const double alpha_ = 1.0 / (1.0 - kTheta);
  const double eta_ =
      (1 - std::pow(2.0 / kItems, 1 - kTheta)) / (1 - (1 + std::pow(0.5, kTheta)) / kZetaN);
};

// Request bodies. Keys, values and the table name are plain ASCII from a safe
// alphabet, so they go into the JSON without escaping.
void KeyString(uint64_t id, std::string* out) {
  out->clear();
  fmt::format_to(std::back_inserter(*out), "user{:012}", id);
}

void RandomValue(Random& rng, size_t size, std::string* out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  out->resize(size);
  for (size_t i = 0; i < size; i += 8) {
    uint64_t r = rng.Next();
    for (size_t j = i; j < std::min(size, i + 8); j++, r >>= 8) (*out)[j] = kAlphabet[r & 63];
  }
}

void BuildBody(Op op, const std::string& table, const std::string& key, const std::string& value,
               std::string* body) {
  body->clear();
  auto out = std::back_inserter(*body);
  switch (op) {
    case kGet:
      fmt::format_to(out, R"({{"TableName":"{}","Key":{{"pk":{{"S":"{}"}}}}}})", table, key);
      break;
    case kPut:
      fmt::format_to(out, R"({{"TableName":"{}","Item":{{"pk":{{"S":"{}"}},"v":{{"S":"{}"}}}}}})",
                     table, key, value);
      break;
    case kUpdate:
      fmt::format_to(out,
                     R"({{"TableName":"{}","Key":{{"pk":{{"S":"{}"}}}},)"
                     R"("UpdateExpression":"SET #v = :v, #c = if_not_exists(#c, :zero) + :one",)"
                     R"("ExpressionAttributeNames":{{"#v":"v","#c":"c"}},)"
                     R"("ExpressionAttributeValues":{{":v":{{"S":"{}"}},)"
                     R"(":zero":{{"N":"0"}},":one":{{"N":"1"}}}}}})",
                     table, key, value);
      break;
    default:
      break;
  }
}

struct OpStats {
  Histogram latency;
  uint64_t requests = 0;
  uint64_t get_misses = 0;  // GetItem 200 without "Item": key never loaded
  std::map<std::string, uint64_t> errors;

  uint64_t ErrorCount() const {
    uint64_t n = 0;
    for (const auto& [_, c] : errors) n += c;
    return n;
  }
  uint64_t TransportCount() const {
    uint64_t n = 0;
    for (const auto& [type, c] : errors) n += type.starts_with("transport") ? c : 0;
    return n;
  }
  void Merge(const OpStats& o) {
    latency.Merge(o.latency);
    requests += o.requests;
    get_misses += o.get_misses;
    for (const auto& [type, c] : o.errors) errors[type] += c;
  }
};

struct Stats {
  std::array<OpStats, kNumOps> ops;
  Clock::time_point end;
};

// Sends one request, records its outcome. After a transport error it pauses
// briefly (never past deadline), so a dead server costs few spins, not millions.
void Issue(Connection& conn, Op op, const std::string& body, Clock::time_point deadline,
           OpStats* st) {
  const auto t0 = Clock::now();
  const Reply r = conn.Call(kOpNames[op], body);
  const auto t1 = Clock::now();
  st->requests++;
  if (r.kind != Reply::Kind::kTransport) {
    st->latency.Add(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  }
  if (r.kind != Reply::Kind::kOk) {
    st->errors[r.error]++;
    if (r.kind == Reply::Kind::kTransport) {
      std::this_thread::sleep_until(
          std::min(deadline, Clock::now() + std::chrono::milliseconds(10)));
    }
  } else if (op == kGet) {
    const auto* obj = r.body.if_object();
    if (obj == nullptr || !obj->contains("Item")) st->get_misses++;
  }
}

// Runs fn(thread index, connection, stats) on opts.connections threads, all
// connected (or failed to) before any starts; returns the merged stats and
// the elapsed time from the common start to the last thread's end.
template <typename Fn>
Stats RunThreads(const Options& opts, const Endpoint& endpoint, double* seconds, Fn fn) {
  const size_t n = opts.connections;
  std::vector<Stats> per_thread(n);
  std::latch ready(static_cast<std::ptrdiff_t>(n) + 1);
  std::latch go(1);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; i++) {
    threads.emplace_back([&, i] {
      Connection conn(endpoint, std::chrono::milliseconds(opts.timeout_ms));
      ready.count_down();
      go.wait();
      fn(i, conn, &per_thread[i]);
      per_thread[i].end = Clock::now();
    });
  }
  ready.arrive_and_wait();
  const auto start = Clock::now();
  go.count_down();
  for (auto& t : threads) t.join();
  Stats total;
  total.end = start;
  for (const Stats& s : per_thread) {
    for (int op = 0; op < kNumOps; op++) total.ops[op].Merge(s.ops[op]);
    total.end = std::max(total.end, s.end);
  }
  *seconds = std::chrono::duration<double>(total.end - start).count();
  return total;
}

// One control-plane call for setup; prints and fails on anything unexpected.
bool SetupCall(Connection& conn, std::string_view op, const std::string& body, Reply* reply) {
  *reply = conn.Call(op, body);
  return reply->kind == Reply::Kind::kOk;
}

std::string TableStatus(const Reply& r) {
  const auto* obj = r.body.if_object();
  const auto* table = obj ? obj->if_contains("Table") : nullptr;
  const auto* status =
      table && table->is_object() ? table->get_object().if_contains("TableStatus") : nullptr;
  return status && status->is_string() ? std::string(status->get_string()) : "";
}

// Checks the table exists; with --create makes it and waits (at most 60 s)
// for ACTIVE.
bool PrepareTable(const Options& opts, const Endpoint& endpoint) {
  Connection conn(endpoint, std::chrono::milliseconds(opts.timeout_ms));
  const std::string describe = fmt::format(R"({{"TableName":"{}"}})", opts.table);
  Reply r;
  if (!SetupCall(conn, "DescribeTable", describe, &r)) {
    if (r.error != "ResourceNotFoundException" || !opts.create) {
      fmt::print(stderr, "DescribeTable {}: {}{}\n", opts.table, r.error,
                 r.error == "ResourceNotFoundException" ? " (use --create)" : "");
      return false;
    }
    const std::string create = fmt::format(
        R"({{"TableName":"{}","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}}],)"
        R"("KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}}],"BillingMode":"PAY_PER_REQUEST"}})",
        opts.table);
    // ResourceInUseException: someone else created it meanwhile; fine.
    if (!SetupCall(conn, "CreateTable", create, &r) && r.error != "ResourceInUseException") {
      fmt::print(stderr, "CreateTable {}: {}\n", opts.table, r.error);
      return false;
    }
    fmt::print("created table {}\n", opts.table);
  }
  const auto give_up = Clock::now() + std::chrono::seconds(60);
  for (int polls = 0; polls < 600 && Clock::now() < give_up; polls++) {
    if (!SetupCall(conn, "DescribeTable", describe, &r)) {
      fmt::print(stderr, "DescribeTable {}: {}\n", opts.table, r.error);
      return false;
    }
    const std::string status = TableStatus(r);
    if (status == "ACTIVE") return true;
    if (status.empty()) {
      fmt::print(stderr, "DescribeTable {}: no Table.TableStatus in the response\n", opts.table);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  fmt::print(stderr, "table {} not ACTIVE after 60 s\n", opts.table);
  return false;
}

std::string Micros(const OpStats& s, double p) {
  return s.latency.Count() == 0 ? "NA" : fmt::format("{:.1f}", s.latency.PercentileMicros(p));
}

void PrintRow(const char* name, const OpStats& s, double seconds) {
  const std::string max =
      s.latency.Count() == 0 ? "NA" : fmt::format("{:.1f}", s.latency.MaxMicros());
  fmt::print("{:<11} {:>10} {:>10.1f} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9}\n", name, s.requests,
             s.requests / seconds, Micros(s, 50), Micros(s, 99), Micros(s, 99.9), max,
             s.ErrorCount(), s.TransportCount());
}

void PrintErrors(const char* name, const OpStats& s, bool* any) {
  for (const auto& [type, count] : s.errors) {
    fmt::print("  {:<11} {:<40} {:>10}\n", name, type, count);
    *any = true;
  }
}

int Main(int argc, char** argv) {
  Options opts;
  bool help = false;
  if (!ParseArgs(argc, argv, &opts, &help)) return 1;
  if (help) {
    fmt::print("{}", kUsage);
    return 0;
  }
  Mix mix;
  ParseMix(opts.workload, &mix);
  Endpoint endpoint;
  std::string error;
  if (!ResolveEndpoint(opts.endpoint, opts.allow_remote, &endpoint, &error)) {
    fmt::print(stderr, "{}\n", error);
    return 1;
  }

  fmt::print("basalt_loadgen\n");
  fmt::print("  endpoint      {}\n", opts.endpoint);
  fmt::print("  table         {}\n", opts.table);
  if (mix.get_percent == 100 || mix.get_percent == 0) {
    fmt::print("  workload      {} (100% {})\n", opts.workload,
               kOpNames[mix.get_percent == 100 ? kGet : mix.write]);
  } else {
    fmt::print("  workload      {} ({}% GetItem, {}% {})\n", opts.workload, mix.get_percent,
               100 - mix.get_percent, kOpNames[mix.write]);
  }
  fmt::print("  distribution  {}\n",
             opts.distribution == "zipfian" ? "zipfian (scrambled, theta 0.99)" : "uniform");
  fmt::print("  connections   {}\n", opts.connections);
  fmt::print("  duration      {} s (at most {} requests)\n", opts.duration, opts.max_requests);
  fmt::print("  value size    {} B\n", opts.value_size);
  fmt::print("  records       {} (loaded now: {})\n", opts.records, opts.load);
  fmt::print("  seed          {}\n", opts.seed);
  fmt::print("  timeout       {} ms per request\n", opts.timeout_ms);
  if (mix.get_percent > 0 && opts.load < opts.records) {
    fmt::print(
        "  note          --records > --load: GetItem on keys not loaded now finds nothing\n");
  }
  std::fflush(stdout);

  if (!PrepareTable(opts, endpoint)) return 1;

  bool any_error = false;
  if (opts.load > 0) {
    std::atomic<uint64_t> next{0};
    const auto deadline = Clock::now() + std::chrono::seconds(opts.load_timeout);
    double seconds = 0;
    Stats s = RunThreads(opts, endpoint, &seconds, [&](size_t t, Connection& conn, Stats* st) {
      Random rng(opts.seed + 1'000'003 * (t + 1));  // not the run's streams
      std::string key, value, body;
      for (uint64_t id = next++; id < opts.load && Clock::now() < deadline; id = next++) {
        KeyString(id, &key);
        RandomValue(rng, opts.value_size, &value);
        BuildBody(kPut, opts.table, key, value, &body);
        Issue(conn, kPut, body, deadline, &st->ops[kPut]);
      }
    });
    const OpStats& put = s.ops[kPut];
    fmt::print("load: {} PutItem in {:.2f} s, {:.1f} req/s, p99 {} us, {} errors\n", put.requests,
               seconds, put.requests / seconds, Micros(put, 99), put.ErrorCount());
    if (put.requests < opts.load) {
      fmt::print("load: STOPPED at --load-timeout after {} of {} items\n", put.requests, opts.load);
      any_error = true;
    }
    PrintErrors("PutItem", put, &any_error);
    std::fflush(stdout);
  }

  std::atomic<uint64_t> issued{0};
  const auto deadline = Clock::now() + std::chrono::seconds(opts.duration);
  double seconds = 0;
  Stats s = RunThreads(opts, endpoint, &seconds, [&](size_t t, Connection& conn, Stats* st) {
    Random rng(opts.seed + t);
    ScrambledZipfian zipf(opts.records);
    const bool zipfian = opts.distribution == "zipfian";
    std::string key, value, body;
    while (Clock::now() < deadline && issued++ < opts.max_requests) {
      const Op op = static_cast<int>(rng.Uniform(100)) < mix.get_percent ? kGet : mix.write;
      KeyString(zipfian ? zipf.Next(rng) : rng.Uniform(opts.records), &key);
      if (op != kGet) RandomValue(rng, opts.value_size, &value);
      BuildBody(op, opts.table, key, value, &body);
      Issue(conn, op, body, deadline, &st->ops[op]);
    }
  });

  OpStats total;
  for (const OpStats& o : s.ops) total.Merge(o);
  fmt::print("run: {:.2f} s; latency in microseconds over requests that got an HTTP response\n",
             seconds);
  fmt::print("{:<11} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9}\n", "op", "requests",
             "req/s", "p50", "p99", "p99.9", "max", "errors", "transport");
  for (int op = 0; op < kNumOps; op++) {
    if (s.ops[op].requests > 0) PrintRow(kOpNames[op], s.ops[op], seconds);
  }
  PrintRow("total", total, seconds);
  if (s.ops[kGet].get_misses > 0) {
    fmt::print("GetItem found no item for {} of {} requests (not errors: keys never loaded)\n",
               s.ops[kGet].get_misses, s.ops[kGet].requests);
  }
  fmt::print("errors:\n");
  bool run_errors = false;
  for (int op = 0; op < kNumOps; op++) PrintErrors(kOpNames[op], s.ops[op], &run_errors);
  if (!run_errors) fmt::print("  none\n");
  any_error |= run_errors;

  // One header and one value line, both prefixed "tsv\t" so `grep ^tsv` gives a table.
  std::string header =
      "tsv\tendpoint\ttable\tworkload\tdistribution\tconnections\tduration_s\tvalue_size\trecords"
      "\tseconds\trequests\treq_per_s\tp50_us\tp99_us\tp999_us\terrors\ttransport_errors";
  std::string row =
      fmt::format("tsv\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{:.3f}\t{}\t{:.1f}\t{}\t{}\t{}\t{}\t{}",
                  opts.endpoint, opts.table, opts.workload, opts.distribution, opts.connections,
                  opts.duration, opts.value_size, opts.records, seconds, total.requests,
                  total.requests / seconds, Micros(total, 50), Micros(total, 99),
                  Micros(total, 99.9), total.ErrorCount(), total.TransportCount());
  for (int op = 0; op < kNumOps; op++) {
    const OpStats& o = s.ops[op];
    header +=
        fmt::format("\t{0}_requests\t{0}_p50_us\t{0}_p99_us\t{0}_p999_us\t{0}_errors", kOpTsv[op]);
    row += fmt::format("\t{}\t{}\t{}\t{}\t{}", o.requests, Micros(o, 50), Micros(o, 99),
                       Micros(o, 99.9), o.ErrorCount());
  }
  fmt::print("{}\n{}\n", header, row);
  return any_error ? 2 : 0;
}

}  // namespace
}  // namespace basalt::loadgen

int main(int argc, char** argv) { return basalt::loadgen::Main(argc, argv); }

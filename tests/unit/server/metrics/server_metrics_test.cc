// ServerMetrics through a real Service: request counters, errors, latency
// histograms, engine and process gauges, the access log
// (server/metrics/server_metrics.h, access_log.h).
#include "server/metrics/server_metrics.h"

#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "server/api/service.h"
#include "tests/testutil/temp_dir.h"
#include "tests/unit/server/metrics/prometheus_parser.h"

namespace basalt::server::metrics {
namespace {

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<table::TableStore> store;
  std::shared_ptr<ServerMetrics> metrics;
  std::unique_ptr<api::Service> service;

  explicit Fixture(MetricsOptions mo = {}) {
    table::TableStoreOptions o;
    o.dir = dir.path() + "/data";
    o.lsm.durability = lsm::Durability::kNone;
    o.split_threshold_bytes = 0;
    api::ConfigureTableStore(&o);
    Status s = table::TableStore::Open(o, &store);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    metrics = std::make_shared<ServerMetrics>(store.get(), mo);
    REQUIRE(metrics->Start().ok());
    api::ServiceOptions so;
    so.observer = metrics->observer();
    service = std::make_unique<api::Service>(store.get(), so);
    metrics->Attach(service.get());
  }
  ~Fixture() {
    service.reset();
    metrics->Stop();
    store->Close().PermitUnchecked();
  }
  HttpResponse Call(const std::string& op, const std::string& body) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"content-type", "application/x-amz-json-1.0"},
                 {"x-amz-target", "DynamoDB_20120810." + op},
                 {"authorization",
                  "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/dynamodb/aws4_request, "
                  "SignedHeaders=host, Signature=00"}};
    r.body = body;
    HttpResponse resp;
    service->Handle(r, &resp);
    INFO(op, " -> ", resp.body);
    return resp;
  }
  void Ok(const std::string& op, const std::string& body) {
    HttpResponse resp = Call(op, body);
    INFO(op, " -> ", resp.body);
    REQUIRE(resp.status == 200);
  }
  std::string Scrape() {
    HttpRequest r;
    r.method = "GET";
    r.target = "/metrics";
    HttpResponse resp;
    service->Handle(r, &resp);
    REQUIRE(resp.status == 200);
    CHECK(resp.content_type.starts_with("text/plain; version=0.0.4"));
    return resp.body;
  }
  // The value of the sample `name` with exactly these labels (-1: none).
  static double Value(const std::vector<test::PromSample>& samples, const std::string& name,
                      const std::map<std::string, std::string>& labels) {
    for (const auto& s : samples) {
      if (s.name == name && s.labels == labels) return s.value;
    }
    return -1;
  }
};

const std::string kCreate =
    R"({"TableName":"tbl","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
    R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
    R"("BillingMode":"PAY_PER_REQUEST"})";

TEST_CASE("request counters, errors and latency histograms equal the requests made") {
  Fixture f;
  f.Ok("CreateTable", kCreate);
  for (int i = 0; i < 10; i++) {
    const std::string body =
        R"({"TableName":"tbl","Item":{"pk":{"S":"k)" + std::to_string(i) + R"("}}})";
    REQUIRE(f.Call("PutItem", body).status == 200);
  }
  for (int i = 0; i < 5; i++) {
    REQUIRE(f.Call("GetItem", R"({"TableName":"tbl","Key":{"pk":{"S":"k1"}}})").status == 200);
  }
  CHECK(f.Call("GetItem", R"({"TableName":"nope","Key":{"pk":{"S":"k1"}}})").status == 400);
  CHECK(f.Call("PutItem", R"({"TableName":"tbl","Item":{"pk":{"N":"1"}}})").status == 400);
  CHECK(f.Call("NoSuchOperation", "{}").status == 400);

  const std::string text = f.Scrape();
  std::vector<test::PromSample> samples;
  std::map<std::string, std::string> types;
  std::string error;
  REQUIRE_MESSAGE(test::ParsePrometheus(text, &samples, &types, &error), error);
  INFO(text);
  CHECK(types["basalt_requests_total"] == "counter");
  CHECK(types["basalt_request_duration_seconds"] == "histogram");
  using L = std::map<std::string, std::string>;
  CHECK(Fixture::Value(samples, "basalt_requests_total",
                       L{{"operation", "PutItem"}, {"outcome", "success"}}) == 10);
  CHECK(Fixture::Value(samples, "basalt_requests_total",
                       L{{"operation", "PutItem"}, {"outcome", "client_error"}}) == 1);
  CHECK(Fixture::Value(samples, "basalt_requests_total",
                       L{{"operation", "GetItem"}, {"outcome", "success"}}) == 5);
  CHECK(Fixture::Value(samples, "basalt_requests_total",
                       L{{"operation", "GetItem"}, {"outcome", "client_error"}}) == 1);
  CHECK(Fixture::Value(samples, "basalt_requests_total",
                       L{{"operation", "unknown"}, {"outcome", "client_error"}}) == 1);
  CHECK(Fixture::Value(samples, "basalt_errors_total",
                       L{{"operation", "GetItem"}, {"type", "ResourceNotFoundException"}}) == 1);
  CHECK(Fixture::Value(samples, "basalt_errors_total",
                       L{{"operation", "PutItem"}, {"type", "ValidationException"}}) == 1);
  CHECK(Fixture::Value(samples, "basalt_errors_total",
                       L{{"operation", "unknown"}, {"type", "UnknownOperationException"}}) == 1);
  CHECK(Fixture::Value(samples, "basalt_request_duration_seconds_count",
                       L{{"operation", "PutItem"}}) == 11);
  CHECK(Fixture::Value(samples, "basalt_request_duration_seconds_bucket",
                       L{{"operation", "PutItem"}, {"le", "+Inf"}}) == 11);
  CHECK(Fixture::Value(samples, "basalt_request_duration_seconds_count",
                       L{{"operation", "GetItem"}}) == 6);
  CHECK(Fixture::Value(samples, "basalt_request_duration_seconds_sum",
                       L{{"operation", "GetItem"}}) > 0);
  // The scrape itself is no API request.
  CHECK(text.find("operation=\"GET") == std::string::npos);

  // Engine and table gauges.
  CHECK(Fixture::Value(samples, "basalt_table_items", L{{"table", "tbl"}}) == 10);
  CHECK(Fixture::Value(samples, "basalt_table_size_bytes", L{{"table", "tbl"}}) > 0);
  CHECK(Fixture::Value(samples, "basalt_lsm_memtable_bytes",
                       L{{"table", "tbl"}, {"index", ""}, {"partition", "0"}}) > 0);
  CHECK(Fixture::Value(samples, "basalt_lsm_level_files",
                       L{{"table", "tbl"}, {"index", ""}, {"partition", "0"}, {"level", "0"}}) ==
        0);
  CHECK(Fixture::Value(samples, "basalt_lsm_wal_bytes_total", L{}) > 0);
  CHECK(Fixture::Value(samples, "basalt_lsm_wal_group_commits_total", L{}) >= 10);
  CHECK(Fixture::Value(samples, "basalt_lsm_wal_writers_per_sync", L{}) >= 1);
  CHECK(Fixture::Value(samples, "basalt_lsm_block_cache_hits_total", L{}) >= 0);
  CHECK(Fixture::Value(samples, "basalt_lsm_block_cache_reserved_bytes", L{}) >= 0);
  // Capacity: consumed write units of the ten puts (1 unit each).
  CHECK(Fixture::Value(samples, "basalt_consumed_capacity_units_total",
                       L{{"table", "tbl"},
                         {"index", ""},
                         {"kind", "write"},
                         {"cloudwatch_metric", "ConsumedWriteCapacityUnits"}}) == 10);
  // Process.
  CHECK(Fixture::Value(samples, "process_resident_memory_bytes", L{}) > 1e6);
  CHECK(Fixture::Value(samples, "process_open_fds", L{}) > 2);
  CHECK(Fixture::Value(samples, "process_threads", L{}) >= 1);
}

TEST_CASE("the write-stall, flush and compaction counters move with the engine") {
  Fixture f;
  f.Ok("CreateTable", kCreate);
  REQUIRE(f.Call("PutItem", R"({"TableName":"tbl","Item":{"pk":{"S":"a"}}})").status == 200);
  REQUIRE(f.store->db()->Flush(lsm::DB::kAllTrees).ok());
  std::vector<test::PromSample> samples;
  std::map<std::string, std::string> types;
  std::string error;
  REQUIRE_MESSAGE(test::ParsePrometheus(f.Scrape(), &samples, &types, &error), error);
  using L = std::map<std::string, std::string>;
  CHECK(Fixture::Value(samples, "basalt_lsm_flushes_total", L{}) >= 1);
  CHECK(
      Fixture::Value(samples, "basalt_lsm_level_files",
                     L{{"table", "tbl"}, {"index", ""}, {"partition", "0"}, {"level", "0"}}) +
          Fixture::Value(samples, "basalt_lsm_level_files",
                         L{{"table", "tbl"}, {"index", ""}, {"partition", "0"}, {"level", "1"}}) >=
      1);
  CHECK(Fixture::Value(samples, "basalt_lsm_write_stalls_total", L{}) >= 0);
  CHECK(types["basalt_lsm_write_stall_seconds_total"] == "counter");
}

TEST_CASE("without request metrics nothing observes and /metrics is not served") {
  MetricsOptions mo;
  mo.request_metrics = false;
  Fixture f(mo);
  CHECK(f.metrics->observer() == nullptr);
  HttpRequest r;
  r.method = "GET";
  r.target = "/metrics";
  HttpResponse resp;
  f.service->Handle(r, &resp);
  CHECK(resp.status == 404);
}

TEST_CASE("outcome and error type of an answer") {
  CHECK(OutcomeOf(200, "") == "success");
  CHECK(OutcomeOf(400, "ValidationException") == "client_error");
  CHECK(OutcomeOf(400, "ProvisionedThroughputExceededException") == "throttled");
  CHECK(OutcomeOf(400, "ThrottlingException") == "throttled");
  CHECK(OutcomeOf(500, "InternalServerError") == "server_error");
  HttpResponse r;
  r.status = 400;
  r.headers = {{"x-amzn-ErrorType", "ConditionalCheckFailedException"}};
  CHECK(ErrorTypeOf(r) == "ConditionalCheckFailedException");
  r.headers.clear();
  r.status = 404;
  CHECK(ErrorTypeOf(r) == "UnknownOperationException");
  r.status = 200;
  CHECK(ErrorTypeOf(r).empty());
}

TEST_CASE("the access log has one line per API request, with its fields") {
  test::TempDir dir;
  const std::string path = dir.path() + "/access.log";
  {
    MetricsOptions mo;
    mo.access_log = path;
    mo.now_ms = [] { return uint64_t{1767225600123}; };  // 2026-01-01T00:00:00.123Z
    Fixture f(mo);
    f.Ok("CreateTable", kCreate);
    REQUIRE(f.Call("PutItem", R"({"TableName":"tbl","Item":{"pk":{"S":"a"}}})").status == 200);
    CHECK(f.Call("GetItem", R"({"TableName":"nope","Key":{"pk":{"S":"a"}}})").status == 400);
    f.Scrape();  // not logged
  }              // Stop flushes
  std::ifstream in(path);
  std::vector<std::vector<std::string>> lines;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::vector<std::string> fields;
    for (std::string w; ls >> w;) fields.push_back(w);
    lines.push_back(fields);
  }
  REQUIRE(lines.size() == 3);
  for (const auto& l : lines) {
    REQUIRE(l.size() == 8);
    CHECK(l[0] == "2026-01-01T00:00:00.123Z");
    CHECK(l[1] == "AKIDTEST");
    CHECK(std::stod(l[6]) >= 0);
  }
  CHECK(lines[0][2] == "CreateTable");
  CHECK(lines[1][2] == "PutItem");
  CHECK(lines[1][3] == "tbl");
  CHECK(lines[1][4] == "200");
  CHECK(lines[1][5] == "-");
  CHECK(lines[1][7] == "1");  // one write unit
  CHECK(lines[2][2] == "GetItem");
  CHECK(lines[2][3] == "nope");
  CHECK(lines[2][4] == "400");
  CHECK(lines[2][5] == "ResourceNotFoundException");
}

TEST_CASE("access log lines: empty fields are '-', spaces cannot split a field") {
  AccessLog::Entry e;
  e.unix_ms = 0;
  e.operation = "Put Item";
  e.status = 200;
  e.latency_ms = 1.5;
  CHECK(AccessLog::Format(e) == "1970-01-01T00:00:00.000Z - Put?Item - 200 - 1.500 -\n");
  e.units = 0.5;
  CHECK(AccessLog::Format(e).ends_with(" 0.5\n"));
}

}  // namespace
}  // namespace basalt::server::metrics

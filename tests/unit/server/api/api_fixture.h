// A TableStore and an api::Service in a temp dir, driven without HTTP: each
// call builds the HttpRequest an SDK would send and parses the JSON answer.
// Shared by the Query/Scan and batch tests.
#pragma once

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "server/api/service.h"
#include "tests/testutil/temp_dir.h"

namespace basalt::test {

struct ApiFixture {
  TempDir dir;
  std::unique_ptr<table::TableStore> store;
  std::unique_ptr<server::api::Service> service;
  // Applied by Open (change, then Close and Open).
  uint64_t item_collection_limit_bytes = table::kItemCollectionLimitBytes;
  // Applied by Open after the defaults above, for options only one test
  // needs (e.g. a fake TTL clock); unset = the defaults.
  std::function<void(table::TableStoreOptions*)> configure;

  explicit ApiFixture(uint32_t initial_partitions = 1) { Open(initial_partitions); }
  // Opens (or reopens, after Close) the store in dir and a Service on it.
  void Open(uint32_t initial_partitions = 1) {
    table::TableStoreOptions o;
    o.dir = dir.path();
    o.lsm.durability = lsm::Durability::kNone;
    o.initial_partitions = initial_partitions;
    o.split_threshold_bytes = 0;    // splits only when a test asks
    o.index_build_interval_ms = 0;  // backfills only when a test asks (BuildIndexes)
    o.item_collection_limit_bytes = item_collection_limit_bytes;
    server::api::ConfigureTableStore(&o);
    if (configure) configure(&o);
    Status s = table::TableStore::Open(o, &store);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    service = std::make_unique<server::api::Service>(store.get(), server::api::ServiceOptions{});
  }
  void Close() {
    service.reset();
    if (store) store->Close().PermitUnchecked();
    store.reset();
  }
  ~ApiFixture() { Close(); }

  // The response to a POST of `body` with X-Amz-Target `target`.
  server::HttpResponse RawTarget(const std::string& target, const std::string& body,
                                 const std::string& ctype = "application/x-amz-json-1.0") {
    server::HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"content-type", ctype}, {"x-amz-target", target}};
    r.body = body;
    server::HttpResponse resp;
    service->Handle(r, &resp);
    return resp;
  }
  // The response to a POST of `body` for operation `op`, as an SDK sends it.
  server::HttpResponse Raw(const std::string& op, const std::string& body,
                           const std::string& ctype = "application/x-amz-json-1.0") {
    return RawTarget("DynamoDB_20120810." + op, body, ctype);
  }

  // ---- DynamoDB Streams operations (their own target prefix) ----
  boost::json::object SCall(const std::string& target, const std::string& body, int* status) {
    server::HttpResponse resp = RawTarget(target, body);
    *status = resp.status;
    return boost::json::parse(resp.body).as_object();
  }
  boost::json::object SOk(const std::string& op, const std::string& body) {
    int status = 0;
    boost::json::object o = SCall("DynamoDBStreams_20120810." + op, body, &status);
    INFO(op, " ", body, " -> ", boost::json::serialize(o));
    REQUIRE(status == 200);
    return o;
  }
  std::pair<std::string, std::string> SErr(const std::string& op, const std::string& body) {
    int status = 0;
    boost::json::object o = SCall("DynamoDBStreams_20120810." + op, body, &status);
    INFO(op, " ", body, " -> ", boost::json::serialize(o));
    REQUIRE(status == 400);
    std::string type(o.at("__type").as_string());
    return {type.substr(type.find('#') + 1), std::string(o.at("message").as_string())};
  }
  // The response body as JSON; *status (optional) receives the HTTP status.
  boost::json::object Call(const std::string& op, const std::string& body, int* status = nullptr) {
    server::HttpResponse resp = Raw(op, body);
    if (status != nullptr) *status = resp.status;
    return boost::json::parse(resp.body).as_object();
  }
  boost::json::object Ok(const std::string& op, const std::string& body) {
    int status = 0;
    boost::json::object o = Call(op, body, &status);
    INFO(op, " ", body, " -> ", boost::json::serialize(o));
    REQUIRE(status == 200);
    return o;
  }
  // Error type (after '#') and message.
  std::pair<std::string, std::string> Err(const std::string& op, const std::string& body) {
    int status = 0;
    boost::json::object o = Call(op, body, &status);
    INFO(op, " ", body, " -> ", boost::json::serialize(o));
    REQUIRE(status == 400);
    std::string type(o.at("__type").as_string());
    std::string msg = o.contains("message")   ? std::string(o.at("message").as_string())
                      : o.contains("Message") ? std::string(o.at("Message").as_string())
                                              : std::string();
    return {type.substr(type.find('#') + 1), msg};
  }
  // A table with partition key pk (type pkt) and optional sort key sk (skt).
  void CreateTable(const std::string& name, const std::string& pkt, const std::string& skt = "",
                   const std::string& extra = "") {
    std::string ks = R"([{"AttributeName":"pk","KeyType":"HASH"})";
    std::string ad = R"([{"AttributeName":"pk","AttributeType":")" + pkt + R"("})";
    if (!skt.empty()) {
      ks += R"(,{"AttributeName":"sk","KeyType":"RANGE"})";
      ad += R"(,{"AttributeName":"sk","AttributeType":")" + skt + R"("})";
    }
    Ok("CreateTable", R"({"TableName":")" + name + R"(","KeySchema":)" + ks +
                          R"(],"AttributeDefinitions":)" + ad + "]" + extra +
                          R"(,"BillingMode":"PAY_PER_REQUEST"})");
  }
};

}  // namespace basalt::test

// Fuzz target: one whole DynamoDB request through api::Service::Handle, below
// HTTP (as tests/unit/server/api/api_fixture.h drives it). The first byte
// picks the X-Amz-Target among the operations (DynamoDB and DynamoDB
// Streams); the rest is the JSON body. The service runs on a TableStore in a
// temp dir opened once, holding two tables: "tab1" (pk S) and "tab2" (pk S, sk N,
// a GSI "gsi" on g S, a stream). Every answer must be a well-formed response: a
// status of 200 or 400 (no 5xx from any input) and a body that is valid JSON
// (UTF-8 included), with "__type" when it is an error.
//
// The store keeps what earlier inputs wrote, as a server would. It is
// reopened fresh (the two tables recreated) after an input that changed the
// set of tables, and every 20,000 inputs, so runs stay bounded in memory and
// disk, and the two tables are there for most inputs.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "server/api/service.h"
#include "tests/fuzz/fuzz_util.h"

using basalt::Status;
namespace api = basalt::server::api;
namespace server = basalt::server;
namespace table = basalt::table;
namespace lsm = basalt::lsm;

namespace {

constexpr const char* kOps[] = {
    "PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
    "BatchWriteItem", "TransactWriteItems", "TransactGetItems", "ExecuteStatement",
    "BatchExecuteStatement", "ExecuteTransaction", "DescribeTable", "ListTables",
    "UpdateTimeToLive", "DescribeTimeToLive", "TagResource", "UntagResource", "ListTagsOfResource",
    "DescribeEndpoints", "DescribeLimits", "CreateTable", "DeleteTable", "UpdateTable",
    // Streams (their own prefix).
    "ListStreams", "DescribeStream", "GetShardIterator", "GetRecords",
    // Not an operation.
    "NoSuchOperation"};
constexpr size_t kNumOps = sizeof(kOps) / sizeof(kOps[0]);
constexpr size_t kFirstStreamsOp = 25;
constexpr size_t kFirstTableChangingOp = 22;  // CreateTable, DeleteTable, UpdateTable

class Harness {
 public:
  Harness() { Open(); }

  server::HttpResponse Call(std::string_view target, std::string_view body) {
    server::HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"content-type", "application/x-amz-json-1.0"},
                 {"x-amz-target", std::string(target)},
                 {"host", "localhost:8000"}};
    r.body = std::string(body);
    r.request_id = "fuzz";
    server::HttpResponse resp;
    service_->Handle(r, &resp);
    return resp;
  }

  void Reopen() {
    Close();
    Open();
  }

 private:
  void Open() {
    dir_ = basalt::fuzz::ScratchDir() + "/store" + std::to_string(generation_++);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    table::TableStoreOptions o;
    o.dir = dir_;
    o.lsm.durability = lsm::Durability::kNone;
    o.initial_partitions = 1;
    o.split_threshold_bytes = 0;
    o.index_build_interval_ms = 0;
    api::ConfigureTableStore(&o);
    Status s = table::TableStore::Open(o, &store_);
    FUZZ_CHECK(s.ok(), "%s", s.ToString().c_str());
    service_ = std::make_unique<api::Service>(store_.get(), api::ServiceOptions{});
    MustOk("CreateTable",
           R"({"TableName":"tab1","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
           R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
           R"("BillingMode":"PAY_PER_REQUEST"})");
    MustOk(
        "CreateTable",
        R"({"TableName":"tab2","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},)"
        R"({"AttributeName":"sk","KeyType":"RANGE"}],)"
        R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},)"
        R"({"AttributeName":"sk","AttributeType":"N"},{"AttributeName":"g","AttributeType":"S"}],)"
        R"("GlobalSecondaryIndexes":[{"IndexName":"gsi","KeySchema":[{"AttributeName":"g",)"
        R"("KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}],)"
        R"("StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"},)"
        R"("BillingMode":"PAY_PER_REQUEST"})");
  }
  void Close() {
    service_.reset();
    if (store_) store_->Close().PermitUnchecked();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void MustOk(const char* op, const char* body) {
    server::HttpResponse r = Call(std::string("DynamoDB_20120810.") + op, body);
    FUZZ_CHECK(r.status == 200, "%s: %d %s", op, r.status, r.body.c_str());
  }

  int generation_ = 0;
  std::string dir_;
  std::unique_ptr<table::TableStore> store_;
  std::unique_ptr<api::Service> service_;
};

Harness& H() {
  static Harness* h = new Harness();
  return *h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static uint64_t runs = 0;
  Harness& h = H();
  basalt::fuzz::Input in(data, size);
  size_t op = in.Byte() % kNumOps;
  std::string target = (op >= kFirstStreamsOp && op + 1 < kNumOps ? "DynamoDBStreams_20120810."
                                                                  : "DynamoDB_20120810.") +
                       std::string(kOps[op]);
  std::string_view body = in.Rest();

  server::HttpResponse resp = h.Call(target, body);
  FUZZ_CHECK(resp.status == 200 || resp.status == 400, "%s -> HTTP %d: %s", target.c_str(),
             resp.status, resp.body.c_str());
  // (TagResource and UntagResource answer 200 with an empty body, as DynamoDB.)
  if (resp.status != 200 || !resp.body.empty()) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(resp.body, ec);
    FUZZ_CHECK(!ec && v.is_object(), "%s -> body is not a JSON object: %s", target.c_str(),
               resp.body.c_str());
    if (resp.status != 200) {
      FUZZ_CHECK(v.as_object().contains("__type"), "%s -> error without __type: %s", target.c_str(),
                 resp.body.c_str());
    }
  }

  if ((op >= kFirstTableChangingOp && op < kFirstStreamsOp && resp.status == 200) ||
      ++runs % 20000 == 0) {
    h.Reopen();
  }
  return 0;
}

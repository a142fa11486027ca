// The DynamoDB Streams API through api::Service: dispatch on the
// DynamoDBStreams_20120810 prefix, the stream settings of the control plane,
// ListStreams/DescribeStream paging and ShardFilter, every iterator and view
// type, shard lineage across a partition split, and the error types and texts.
#include <doctest/doctest.h>

#include <atomic>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "tests/unit/server/api/api_fixture.h"

using namespace basalt;
namespace json = boost::json;

namespace {

constexpr const char* kNewAndOld = R"(,"StreamSpecification":{"StreamEnabled":true,)"
                                   R"("StreamViewType":"NEW_AND_OLD_IMAGES"})";

std::string ViewSpec(const std::string& view) {
  return R"(,"StreamSpecification":{"StreamEnabled":true,"StreamViewType":")" + view + R"("})";
}

// A fixture whose Streams calls use the Streams target prefix and whose
// service clock can be moved (iterator expiry).
struct StreamsFixture : test::ApiFixture {
  std::atomic<uint64_t> now_ms{0};

  StreamsFixture() {
    server::api::ServiceOptions o;
    o.now_ms = [this] {
      uint64_t fake = now_ms.load();
      if (fake != 0) return fake;
      return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    };
    service = std::make_unique<server::api::Service>(store.get(), o);
  }

  std::string FullType(const std::string& op, const std::string& body) {
    int status = 0;
    json::object o = SCall("DynamoDBStreams_20120810." + op, body, &status);
    return std::string(o.at("__type").as_string());
  }

  std::string Arn(const std::string& table) {
    json::object t = Ok("DescribeTable", R"({"TableName":")" + table + R"("})");
    return std::string(t.at("Table").at("LatestStreamArn").as_string());
  }
  json::array Shards(const std::string& arn) {
    return SOk("DescribeStream", R"({"StreamArn":")" + arn + R"("})")
        .at("StreamDescription")
        .at("Shards")
        .as_array();
  }
  std::string Iterator(const std::string& arn, const std::string& shard, const std::string& type,
                       const std::string& seq = "") {
    std::string body = R"({"StreamArn":")" + arn + R"(","ShardId":")" + shard +
                       R"(","ShardIteratorType":")" + type + R"(")";
    if (!seq.empty()) body += R"(,"SequenceNumber":")" + seq + R"(")";
    return std::string(SOk("GetShardIterator", body + "}").at("ShardIterator").as_string());
  }
  // Every record from `iter` on, following NextShardIterator until a page is
  // empty (open shard) or there is no next iterator (closed shard).
  std::vector<json::object> ReadAll(std::string iter, bool* closed = nullptr) {
    std::vector<json::object> out;
    for (int pages = 0; pages < 1000; pages++) {
      json::object r = SOk("GetRecords", R"({"ShardIterator":")" + iter + R"("})");
      for (const auto& rec : r.at("Records").as_array()) out.push_back(rec.as_object());
      if (!r.contains("NextShardIterator")) {
        if (closed) *closed = true;
        return out;
      }
      if (r.at("Records").as_array().empty()) break;
      iter = std::string(r.at("NextShardIterator").as_string());
    }
    if (closed) *closed = false;
    return out;
  }
  std::string FirstShard(const std::string& arn) {
    return std::string(Shards(arn).at(0).at("ShardId").as_string());
  }
};

std::string Str(const json::value& v) { return std::string(v.as_string()); }

}  // namespace

TEST_CASE("streams api: dispatch on the Streams target prefix") {
  StreamsFixture f;
  int status = 0;
  json::object o = f.SCall("DynamoDBStreams_20120810.ListStreams", "{}", &status);
  CHECK(status == 200);
  CHECK(o.at("Streams").as_array().empty());
  // Each prefix has its own operations.
  for (const char* t : {"DynamoDBStreams_20120810.ListTables", "DynamoDB_20120810.ListStreams",
                        "DynamoDBStreams_20120810.Nope", "DynamoDBStreams_20120810."}) {
    o = f.SCall(t, "{}", &status);
    CHECK(status == 400);
    CHECK(Str(o.at("__type")) == "com.amazon.coral.service#UnknownOperationException");
  }
}

TEST_CASE("streams api: control plane shows and changes the stream") {
  StreamsFixture f;
  f.CreateTable("tbl", "S", "", kNewAndOld);
  json::object t = f.Ok("DescribeTable", R"({"TableName":"tbl"})").at("Table").as_object();
  CHECK(json::serialize(t.at("StreamSpecification")) ==
        R"({"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"})");
  const std::string label = Str(t.at("LatestStreamLabel"));
  const std::string arn = Str(t.at("LatestStreamArn"));
  CHECK(arn == "arn:aws:dynamodb:us-east-1:000000000000:table/tbl/stream/" + label);
  CHECK(label.size() == 23);  // 2026-11-24T01:02:03.456

  // Enabling again, disabling twice: ValidationException (as AWS answers).
  auto e = f.Err("UpdateTable", R"({"TableName":"tbl",)" + std::string(kNewAndOld).substr(1) + "}");
  CHECK(e.first == "ValidationException");
  CHECK(e.second == "Table already has an enabled stream: TableName: tbl");
  f.Ok("UpdateTable", R"({"TableName":"tbl","StreamSpecification":{"StreamEnabled":false}})");
  e = f.Err("UpdateTable", R"({"TableName":"tbl","StreamSpecification":{"StreamEnabled":false}})");
  CHECK(e.first == "ValidationException");
  CHECK(e.second == "Table has no stream to disable: TableName: tbl");

  // Disabled: no StreamSpecification, the latest stream is still named and readable.
  t = f.Ok("DescribeTable", R"({"TableName":"tbl"})").at("Table").as_object();
  CHECK(!t.contains("StreamSpecification"));
  CHECK(Str(t.at("LatestStreamArn")) == arn);
  json::object d = f.SOk("DescribeStream", R"({"StreamArn":")" + arn + R"("})")
                       .at("StreamDescription")
                       .as_object();
  CHECK(Str(d.at("StreamStatus")) == "DISABLED");
  for (const auto& s : d.at("Shards").as_array()) {
    CHECK(s.at("SequenceNumberRange").as_object().contains("EndingSequenceNumber"));
  }

  // Re-enabling makes a new stream with a new label; both are listed.
  f.Ok("UpdateTable", R"({"TableName":"tbl",)" + ViewSpec("KEYS_ONLY").substr(1) + "}");
  t = f.Ok("DescribeTable", R"({"TableName":"tbl"})").at("Table").as_object();
  CHECK(Str(t.at("LatestStreamLabel")) > label);
  CHECK(Str(t.at("StreamSpecification").at("StreamViewType")) == "KEYS_ONLY");
  json::array streams = f.SOk("ListStreams", R"({"TableName":"tbl"})").at("Streams").as_array();
  REQUIRE(streams.size() == 2);
  CHECK(Str(streams[0].at("StreamArn")) == arn);
  CHECK(Str(streams[0].at("TableName")) == "tbl");
  CHECK(Str(streams[0].at("StreamLabel")) == label);
  CHECK(Str(streams[1].at("StreamArn")) == Str(t.at("LatestStreamArn")));
}

TEST_CASE("streams api: ListStreams filters and pages") {
  StreamsFixture f;
  f.CreateTable("aaa", "S", "", kNewAndOld);
  f.CreateTable("bbb", "S", "", kNewAndOld);
  f.CreateTable("ccc", "S", "", kNewAndOld);
  f.CreateTable("nostream", "S");
  json::array all = f.SOk("ListStreams", "{}").at("Streams").as_array();
  REQUIRE(all.size() == 3);
  CHECK(f.SOk("ListStreams", R"({"TableName":"bbb"})").at("Streams").as_array().size() == 1);
  CHECK(f.SOk("ListStreams", R"({"TableName":"nostream"})").at("Streams").as_array().empty());

  json::object page = f.SOk("ListStreams", R"({"Limit":2})");
  CHECK(page.at("Streams").as_array().size() == 2);
  const std::string last = Str(page.at("LastEvaluatedStreamArn"));
  CHECK(last == Str(all[1].at("StreamArn")));
  page = f.SOk("ListStreams", R"({"Limit":2,"ExclusiveStartStreamArn":")" + last + R"("})");
  REQUIRE(page.at("Streams").as_array().size() == 1);
  CHECK(Str(page.at("Streams").as_array()[0].at("TableName")) == "ccc");
  CHECK(!page.contains("LastEvaluatedStreamArn"));

  auto e = f.SErr("ListStreams", R"({"TableName":"missing"})");
  CHECK(e.first == "ResourceNotFoundException");
  e = f.SErr("ListStreams", R"({"Limit":0})");
  CHECK(e.second ==
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member "
        "must have value greater than or equal to 1");
  e = f.SErr("ListStreams", R"({"Limit":101})");
  CHECK(e.first == "ValidationException");
}

TEST_CASE("streams api: records of every event with NEW_AND_OLD_IMAGES") {
  StreamsFixture f;
  f.CreateTable("tbl", "S", "", kNewAndOld);
  f.Ok("PutItem", R"({"TableName":"tbl","Item":{"pk":{"S":"a"},"v":{"N":"1"}}})");
  f.Ok("PutItem", R"({"TableName":"tbl","Item":{"pk":{"S":"a"},"v":{"N":"2"}}})");
  f.Ok("DeleteItem", R"({"TableName":"tbl","Key":{"pk":{"S":"a"}}})");
  const std::string arn = f.Arn("tbl");
  json::object desc = f.SOk("DescribeStream", R"({"StreamArn":")" + arn + R"("})")
                          .at("StreamDescription")
                          .as_object();
  CHECK(Str(desc.at("StreamStatus")) == "ENABLED");
  CHECK(Str(desc.at("StreamViewType")) == "NEW_AND_OLD_IMAGES");
  CHECK(Str(desc.at("TableName")) == "tbl");
  CHECK(json::serialize(desc.at("KeySchema")) == R"([{"AttributeName":"pk","KeyType":"HASH"}])");
  CHECK(desc.at("CreationRequestDateTime").is_double());
  REQUIRE(desc.at("Shards").as_array().size() == 1);
  const std::string shard = f.FirstShard(arn);
  CHECK(shard.starts_with("shardId-"));

  auto recs = f.ReadAll(f.Iterator(arn, shard, "TRIM_HORIZON"));
  REQUIRE(recs.size() == 3);
  CHECK(Str(recs[0].at("eventName")) == "INSERT");
  CHECK(Str(recs[1].at("eventName")) == "MODIFY");
  CHECK(Str(recs[2].at("eventName")) == "REMOVE");
  std::string prev_seq;
  for (const auto& r : recs) {
    CHECK(Str(r.at("eventVersion")) == "1.1");
    CHECK(Str(r.at("eventSource")) == "aws:dynamodb");
    CHECK(Str(r.at("awsRegion")) == "us-east-1");
    CHECK(Str(r.at("eventID")).size() == 32);
    CHECK(!r.contains("userIdentity"));
    const json::object& d = r.at("dynamodb").as_object();
    CHECK(json::serialize(d.at("Keys")) == R"({"pk":{"S":"a"}})");
    CHECK(Str(d.at("StreamViewType")) == "NEW_AND_OLD_IMAGES");
    CHECK(d.at("SizeBytes").to_number<int64_t>() > 0);
    CHECK(d.at("ApproximateCreationDateTime").is_int64());
    std::string seq = Str(d.at("SequenceNumber"));
    CHECK(seq.size() == 21);
    CHECK(seq > prev_seq);
    prev_seq = seq;
  }
  const json::object& ins = recs[0].at("dynamodb").as_object();
  CHECK(json::serialize(ins.at("NewImage")) == R"({"pk":{"S":"a"},"v":{"N":"1"}})");
  CHECK(!ins.contains("OldImage"));
  const json::object& mod = recs[1].at("dynamodb").as_object();
  CHECK(json::serialize(mod.at("OldImage")) == R"({"pk":{"S":"a"},"v":{"N":"1"}})");
  CHECK(json::serialize(mod.at("NewImage")) == R"({"pk":{"S":"a"},"v":{"N":"2"}})");
  const json::object& rem = recs[2].at("dynamodb").as_object();
  CHECK(json::serialize(rem.at("OldImage")) == R"({"pk":{"S":"a"},"v":{"N":"2"}})");
  CHECK(!rem.contains("NewImage"));
}

TEST_CASE("streams api: view types decide the images") {
  for (const std::string view : {"KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"}) {
    CAPTURE(view);
    StreamsFixture f;
    f.CreateTable("tbl", "S", "", ViewSpec(view));
    f.Ok("PutItem", R"({"TableName":"tbl","Item":{"pk":{"S":"a"},"v":{"N":"1"}}})");
    f.Ok("PutItem", R"({"TableName":"tbl","Item":{"pk":{"S":"a"},"v":{"N":"2"}}})");
    const std::string arn = f.Arn("tbl");
    auto recs = f.ReadAll(f.Iterator(arn, f.FirstShard(arn), "TRIM_HORIZON"));
    REQUIRE(recs.size() == 2);
    const json::object& d = recs[1].at("dynamodb").as_object();
    CHECK(Str(d.at("StreamViewType")) == view);
    CHECK(d.contains("Keys"));
    CHECK(d.contains("NewImage") == (view == "NEW_IMAGE" || view == "NEW_AND_OLD_IMAGES"));
    CHECK(d.contains("OldImage") == (view == "OLD_IMAGE" || view == "NEW_AND_OLD_IMAGES"));
  }
}

TEST_CASE("streams api: iterator types and paging") {
  StreamsFixture f;
  f.CreateTable("tbl", "S", "", kNewAndOld);
  for (int i = 0; i < 5; i++) {
    f.Ok("PutItem", R"({"TableName":"tbl","Item":{"pk":{"S":"k)" + std::to_string(i) + R"("}}})");
  }
  const std::string arn = f.Arn("tbl");
  const std::string shard = f.FirstShard(arn);
  auto all = f.ReadAll(f.Iterator(arn, shard, "TRIM_HORIZON"));
  REQUIRE(all.size() == 5);
  const std::string seq2 = Str(all[2].at("dynamodb").at("SequenceNumber"));

  auto at = f.ReadAll(f.Iterator(arn, shard, "AT_SEQUENCE_NUMBER", seq2));
  REQUIRE(at.size() == 3);
  CHECK(Str(at[0].at("dynamodb").at("SequenceNumber")) == seq2);
  auto after = f.ReadAll(f.Iterator(arn, shard, "AFTER_SEQUENCE_NUMBER", seq2));
  REQUIRE(after.size() == 2);
  CHECK(Str(after[0].at("dynamodb").at("SequenceNumber")) > seq2);

  // LATEST: only what is written after the iterator was taken.
  const std::string latest = f.Iterator(arn, shard, "LATEST");
  json::object r = f.SOk("GetRecords", R"({"ShardIterator":")" + latest + R"("})");
  CHECK(r.at("Records").as_array().empty());
  REQUIRE(r.contains("NextShardIterator"));
  f.Ok("PutItem", R"({"TableName":"tbl","Item":{"pk":{"S":"later"}}})");
  auto fresh = f.ReadAll(latest);
  REQUIRE(fresh.size() == 1);
  CHECK(Str(fresh[0].at("dynamodb").at("Keys").at("pk").at("S")) == "later");

  // Limit pages through the shard without loss or repetition.
  std::string it = f.Iterator(arn, shard, "TRIM_HORIZON");
  std::vector<std::string> seqs;
  for (int i = 0; i < 10; i++) {
    r = f.SOk("GetRecords", R"({"ShardIterator":")" + it + R"(","Limit":2})");
    const auto& recs = r.at("Records").as_array();
    CHECK(recs.size() <= 2);
    if (recs.empty()) break;
    for (const auto& x : recs) seqs.push_back(Str(x.at("dynamodb").at("SequenceNumber")));
    it = Str(r.at("NextShardIterator"));
  }
  CHECK(seqs.size() == 6);
}

TEST_CASE("streams api: errors of DescribeStream and GetShardIterator") {
  StreamsFixture f;
  f.CreateTable("tbl", "S", "", kNewAndOld);
  const std::string arn = f.Arn("tbl");
  const std::string shard = f.FirstShard(arn);

  auto e = f.SErr("DescribeStream", "{}");
  CHECK(e.second ==
        "1 validation error detected: Value null at 'streamArn' failed to satisfy constraint: "
        "Member must not be null");
  e = f.SErr("DescribeStream", R"({"StreamArn":"arn:aws:dynamodb:us-east-1:0000:nothing-here"})");
  CHECK(e.first == "ValidationException");
  CHECK(e.second == "Invalid StreamArn");
  const std::string unknown = arn.substr(0, arn.rfind('/') + 1) + "2000-01-01T00:00:00.000";
  e = f.SErr("DescribeStream", R"({"StreamArn":")" + unknown + R"("})");
  CHECK(e.first == "ResourceNotFoundException");
  CHECK(e.second == "Requested resource not found: Stream: " + unknown + " not found");
  CHECK(f.FullType("DescribeStream", R"({"StreamArn":")" + unknown + R"("})") ==
        "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException");
  e = f.SErr("DescribeStream", R"({"StreamArn":")" + arn + R"(","Limit":101})");
  CHECK(e.first == "ValidationException");

  e = f.SErr("GetShardIterator", R"({"StreamArn":")" + arn + R"(","ShardId":")" + shard +
                                     R"(","ShardIteratorType":"SIDEWAYS"})");
  CHECK(e.first == "ValidationException");
  CHECK(e.second.find("Member must satisfy enum value set") != std::string::npos);
  e = f.SErr("GetShardIterator", R"({"StreamArn":")" + arn + R"(","ShardId":")" + shard +
                                     R"(","ShardIteratorType":"AT_SEQUENCE_NUMBER"})");
  CHECK(e.first == "ValidationException");
  e = f.SErr(
      "GetShardIterator",
      R"({"StreamArn":")" + arn +
          R"(","ShardId":"shardId-00000000000000000000-deadbeef","ShardIteratorType":"LATEST"})");
  CHECK(e.first == "ResourceNotFoundException");
  e = f.SErr("GetShardIterator", R"({"StreamArn":")" + unknown + R"(","ShardId":")" + shard +
                                     R"(","ShardIteratorType":"LATEST"})");
  CHECK(e.first == "ResourceNotFoundException");
}

TEST_CASE("streams api: bad, tampered and expired iterators") {
  StreamsFixture f;
  f.CreateTable("tbl", "S", "", kNewAndOld);
  const std::string arn = f.Arn("tbl");
  const std::string it = f.Iterator(arn, f.FirstShard(arn), "TRIM_HORIZON");

  for (const std::string& bad :
       {std::string("garbage"), std::string("Zm9v"), it.substr(0, it.size() - 4) + "AAAA"}) {
    auto e = f.SErr("GetRecords", R"({"ShardIterator":")" + bad + R"("})");
    CHECK(e.first == "ValidationException");
    CHECK(e.second == "Invalid ShardIterator");
  }
  auto e = f.SErr("GetRecords", R"({"ShardIterator":")" + it + R"(","Limit":1001})");
  CHECK(e.second ==
        "1 validation error detected: Value '1001' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 1000");
  e = f.SErr("GetRecords", "{}");
  CHECK(e.first == "ValidationException");

  // 15 minutes after it was issued the iterator has expired.
  const uint64_t now =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  f.now_ms = now + 14 * 60 * 1000;
  f.SOk("GetRecords", R"({"ShardIterator":")" + it + R"("})");
  f.now_ms = now + 16 * 60 * 1000;
  e = f.SErr("GetRecords", R"({"ShardIterator":")" + it + R"("})");
  CHECK(e.first == "ExpiredIteratorException");
  CHECK(e.second == "The provided iterator exceeds the maximum age allowed.");
  CHECK(f.FullType("GetRecords", R"({"ShardIterator":")" + it + R"("})") ==
        "com.amazonaws.dynamodb.v20120810#ExpiredIteratorException");
}

TEST_CASE("streams api: TTL deletions carry the service userIdentity") {
  StreamsFixture f;
  f.CreateTable("tbl", "S", "", kNewAndOld);
  f.Ok("UpdateTimeToLive",
       R"({"TableName":"tbl","TimeToLiveSpecification":{"AttributeName":"exp","Enabled":true}})");
  // A minute ago (TTL ignores values more than 5 years in the past).
  const int64_t exp = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count() -
                      60;
  f.Ok("PutItem", R"({"TableName":"tbl","Item":{"pk":{"S":"old"},"exp":{"N":")" +
                      std::to_string(exp) + R"("}}})");
  REQUIRE(f.store->SweepExpiredItems().ok());
  const std::string arn = f.Arn("tbl");
  auto recs = f.ReadAll(f.Iterator(arn, f.FirstShard(arn), "TRIM_HORIZON"));
  REQUIRE(recs.size() == 2);
  CHECK(!recs[0].contains("userIdentity"));
  CHECK(Str(recs[1].at("eventName")) == "REMOVE");
  CHECK(json::serialize(recs[1].at("userIdentity")) ==
        R"({"PrincipalId":"dynamodb.amazonaws.com","Type":"Service"})");
}

TEST_CASE("streams api: readers follow shard lineage across a split") {
  StreamsFixture f;
  f.CreateTable("tbl", "S", "", kNewAndOld);
  std::map<std::string, std::string> expect;  // pk -> v
  auto put = [&](int i, int v) {
    const std::string k = "k" + std::to_string(i);
    f.Ok("PutItem", R"({"TableName":"tbl","Item":{"pk":{"S":")" + k + R"("},"v":{"N":")" +
                        std::to_string(v) + R"("}}})");
    expect[k] = std::to_string(v);
  };
  for (int i = 0; i < 40; i++) put(i, i);
  table::TableDef def;
  REQUIRE(f.store->DescribeTable("tbl", &def).ok());
  REQUIRE(def.partitions.size() == 1);
  REQUIRE(f.store->SplitPartition("tbl", def.partitions[0].id).ok());
  for (int i = 20; i < 60; i++) put(i, i * 10);
  for (int i = 0; i < 10; i++) {
    f.Ok("DeleteItem", R"({"TableName":"tbl","Key":{"pk":{"S":"k)" + std::to_string(i) + R"("}}})");
    expect.erase("k" + std::to_string(i));
  }

  const std::string arn = f.Arn("tbl");
  json::array shards = f.Shards(arn);
  REQUIRE(shards.size() == 3);
  const std::string parent = Str(shards[0].at("ShardId"));
  CHECK(shards[0].at("SequenceNumberRange").as_object().contains("EndingSequenceNumber"));
  for (size_t i = 1; i < 3; i++) {
    CHECK(Str(shards[i].at("ParentShardId")) == parent);
    CHECK(!shards[i].at("SequenceNumberRange").as_object().contains("EndingSequenceNumber"));
  }
  // DescribeStream pages shards.
  json::object page = f.SOk("DescribeStream", R"({"StreamArn":")" + arn + R"(","Limit":1})")
                          .at("StreamDescription")
                          .as_object();
  CHECK(page.at("Shards").as_array().size() == 1);
  CHECK(Str(page.at("LastEvaluatedShardId")) == parent);
  page = f.SOk("DescribeStream",
               R"({"StreamArn":")" + arn + R"(","ExclusiveStartShardId":")" + parent + R"("})")
             .at("StreamDescription")
             .as_object();
  CHECK(page.at("Shards").as_array().size() == 2);
  CHECK(!page.contains("LastEvaluatedShardId"));

  // Parent first (to its end: no NextShardIterator), then the children:
  // replaying the records rebuilds the table.
  std::map<std::string, std::string> replay;
  auto apply = [&](const std::vector<json::object>& recs) {
    for (const auto& r : recs) {
      const json::object& d = r.at("dynamodb").as_object();
      const std::string k = Str(d.at("Keys").at("pk").at("S"));
      if (Str(r.at("eventName")) == "REMOVE") {
        replay.erase(k);
      } else {
        replay[k] = Str(d.at("NewImage").at("v").at("N"));
      }
    }
  };
  bool closed = false;
  apply(f.ReadAll(f.Iterator(arn, parent, "TRIM_HORIZON"), &closed));
  CHECK(closed);
  for (size_t i = 1; i < 3; i++) {
    apply(f.ReadAll(f.Iterator(arn, Str(shards[i].at("ShardId")), "TRIM_HORIZON"), &closed));
    CHECK(!closed);
  }
  CHECK(replay == expect);
}

TEST_CASE("streams api: DescribeStream ShardFilter CHILD_SHARDS") {
  StreamsFixture f;
  f.CreateTable("tbl", "S", "", kNewAndOld);
  const std::string arn = f.Arn("tbl");
  const std::string parent = f.FirstShard(arn);
  auto filtered = [&](const std::string& shard, const std::string& extra = "") {
    return f
        .SOk("DescribeStream", R"({"StreamArn":")" + arn +
                                   R"(","ShardFilter":{"Type":"CHILD_SHARDS","ShardId":")" + shard +
                                   R"("})" + extra + "}")
        .at("StreamDescription")
        .as_object();
  };
  // An open shard has no children; the rest of the description is as usual.
  json::object d = filtered(parent);
  CHECK(d.at("Shards").as_array().empty());
  CHECK(!d.contains("LastEvaluatedShardId"));
  CHECK(Str(d.at("StreamArn")) == arn);
  CHECK(Str(d.at("StreamStatus")) == "ENABLED");
  CHECK(Str(d.at("TableName")) == "tbl");

  // Validation: the model's constraints (aggregated, before the semantic checks).
  const std::string base = R"({"StreamArn":")" + arn + R"(","ShardFilter":)";
  auto e = f.SErr("DescribeStream", base + R"({"Type":"foo","ShardId":")" + parent + R"("}})");
  CHECK(e.first == "ValidationException");
  CHECK(e.second ==
        "1 validation error detected: Value 'foo' at 'shardFilter.type' failed to satisfy "
        "constraint: Member must satisfy enum value set: [CHILD_SHARDS]");
  e = f.SErr("DescribeStream", base + R"({"Type":"CHILD_SHARDS","ShardId":"qwerty"}})");
  CHECK(e.first == "ValidationException");
  CHECK(e.second ==
        "1 validation error detected: Value 'qwerty' at 'shardFilter.shardId' failed to satisfy "
        "constraint: Member must have length greater than or equal to 28");
  e = f.SErr("DescribeStream", base + R"({"Type":"bar","ShardId":"x"}})");
  CHECK(e.second.starts_with("2 validation errors detected: "));
  // Both members are optional in the model, but a filter needs both.
  e = f.SErr("DescribeStream", base + R"({"ShardId":")" + parent + R"("}})");
  CHECK(e.first == "ValidationException");
  CHECK(e.second == "ShardFilter.Type is required: the only supported value is CHILD_SHARDS");
  e = f.SErr("DescribeStream", base + R"({"Type":"CHILD_SHARDS"}})");
  CHECK(e.first == "ValidationException");
  CHECK(e.second == "ShardFilter.ShardId is required for ShardFilter.Type CHILD_SHARDS");
  e = f.SErr("DescribeStream", base + "{}}");
  CHECK(e.first == "ValidationException");
  CHECK(f.FullType("DescribeStream", base + R"("CHILD_SHARDS"})") ==
        "com.amazon.coral.service#SerializationException");
  // A well-formed id that is no shard of this stream.
  const std::string unknown = "shardId-00000000000000000000-deadbeef";
  e = f.SErr("DescribeStream", base + R"({"Type":"CHILD_SHARDS","ShardId":")" + unknown + R"("}})");
  CHECK(e.first == "ResourceNotFoundException");
  CHECK(e.second ==
        "Requested resource not found: Shard: " + unknown + " in Stream: " + arn + " not found");

  // After a split the parent's children are listed, and paged.
  table::TableDef def;
  REQUIRE(f.store->DescribeTable("tbl", &def).ok());
  REQUIRE(f.store->SplitPartition("tbl", def.partitions[0].id).ok());
  json::array all = f.Shards(arn);
  REQUIRE(all.size() == 3);
  const std::string left = Str(all[1].at("ShardId"));
  const std::string right = Str(all[2].at("ShardId"));
  d = filtered(parent);
  json::array kids = d.at("Shards").as_array();
  REQUIRE(kids.size() == 2);
  CHECK(Str(kids[0].at("ShardId")) == left);
  CHECK(Str(kids[1].at("ShardId")) == right);
  CHECK(Str(kids[0].at("ParentShardId")) == parent);
  CHECK(!d.contains("LastEvaluatedShardId"));
  d = filtered(parent, R"(,"Limit":1)");
  REQUIRE(d.at("Shards").as_array().size() == 1);
  CHECK(Str(d.at("Shards").at(0).at("ShardId")) == left);
  CHECK(Str(d.at("LastEvaluatedShardId")) == left);
  d = filtered(parent, R"(,"Limit":1,"ExclusiveStartShardId":")" + left + R"(")");
  REQUIRE(d.at("Shards").as_array().size() == 1);
  CHECK(Str(d.at("Shards").at(0).at("ShardId")) == right);
  CHECK(!d.contains("LastEvaluatedShardId"));
  // The children are open: no grandchildren.
  CHECK(filtered(left).at("Shards").as_array().empty());

  // A disabled stream's closed shards stay addressable; the last ones have no children.
  f.Ok("UpdateTable", R"({"TableName":"tbl","StreamSpecification":{"StreamEnabled":false}})");
  d = filtered(right);
  CHECK(Str(d.at("StreamStatus")) == "DISABLED");
  CHECK(d.at("Shards").as_array().empty());
  CHECK(filtered(parent).at("Shards").as_array().size() == 2);
}

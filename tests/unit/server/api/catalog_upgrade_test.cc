// Upgrade: a data directory written by a release with catalog format 2
// (tests/fixtures/catalog_v2, made by tests/fixtures/make_catalog_v2.py)
// opens through the server, serves everything it held, and is rewritten in
// catalog format 3 (docs/format/catalog.md, "Upgrades").
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <map>
#include <string>

#include "engine/table/catalog.h"
#include "server/api/json_value.h"
#include "tests/unit/server/api/api_fixture.h"

using namespace basalt;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// Replaces the fixture's (empty) store with a copy of tests/fixtures/<name>.
void LoadFixture(test::ApiFixture* f, const std::string& name) {
  f->Close();
  fs::remove_all(f->dir.path());
  fs::copy(fs::path(BASALT_FIXTURES_DIR) / name, f->dir.path());
}

// The version byte of every catalog entry, by table name.
std::map<std::string, int> CatalogVersions(table::TableStore* store) {
  lsm::TreeId catalog;
  REQUIRE(store->db()->FindTree(table::kCatalogTreeName, &catalog).ok());
  std::map<std::string, int> out;
  auto it = store->db()->NewIterator(lsm::ReadOptions(), catalog);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().starts_with("table:")) {
      out[std::string(it->key().substr(6))] = static_cast<uint8_t>(it->value()[0]);
    }
  }
  REQUIRE(it->status().ok());
  return out;
}

std::string Str(const json::value& v) { return std::string(v.as_string()); }

// Everything make_catalog_v2.py wrote into "orders" (read capacity: as
// created, or as a test changed it).
void CheckOrders(test::ApiFixture& f, int64_t read_units = 5) {
  json::object t = f.Ok("DescribeTable", R"({"TableName":"orders"})").at("Table").as_object();
  CHECK(t.at("ItemCount").to_number<int64_t>() == 20);
  CHECK(Str(t.at("BillingModeSummary").at("BillingMode")) == "PROVISIONED");
  CHECK(t.at("ProvisionedThroughput").at("ReadCapacityUnits").to_number<int64_t>() == read_units);
  CHECK(t.at("ProvisionedThroughput").at("WriteCapacityUnits").to_number<int64_t>() == 7);
  REQUIRE(t.at("GlobalSecondaryIndexes").as_array().size() == 1);
  const json::object& gsi = t.at("GlobalSecondaryIndexes").as_array()[0].as_object();
  CHECK(Str(gsi.at("IndexName")) == "by_status");
  CHECK(json::serialize(gsi.at("KeySchema")) ==
        R"([{"AttributeName":"status","KeyType":"HASH"},)"
        R"({"AttributeName":"created","KeyType":"RANGE"}])");
  CHECK(json::serialize(gsi.at("Projection")) ==
        R"({"ProjectionType":"INCLUDE","NonKeyAttributes":["note","total"]})");
  CHECK(gsi.at("ProvisionedThroughput").at("ReadCapacityUnits").to_number<int64_t>() == 3);
  CHECK(gsi.at("ProvisionedThroughput").at("WriteCapacityUnits").to_number<int64_t>() == 4);
  CHECK(Str(gsi.at("IndexStatus")) == "ACTIVE");
  REQUIRE(t.at("LocalSecondaryIndexes").as_array().size() == 1);
  const json::object& lsi = t.at("LocalSecondaryIndexes").as_array()[0].as_object();
  CHECK(Str(lsi.at("IndexName")) == "by_created");
  CHECK(json::serialize(lsi.at("KeySchema")) ==
        R"([{"AttributeName":"pk","KeyType":"HASH"},)"
        R"({"AttributeName":"created","KeyType":"RANGE"}])");
  CHECK(json::serialize(lsi.at("Projection")) == R"({"ProjectionType":"KEYS_ONLY"})");
  CHECK(t.at("StreamSpecification").at("StreamEnabled").as_bool());
  CHECK(Str(t.at("StreamSpecification").at("StreamViewType")) == "NEW_AND_OLD_IMAGES");
  const std::string arn = Str(t.at("LatestStreamArn"));

  json::object ttl = f.Ok("DescribeTimeToLive", R"({"TableName":"orders"})");
  CHECK(Str(ttl.at("TimeToLiveDescription").at("TimeToLiveStatus")) == "ENABLED");
  CHECK(Str(ttl.at("TimeToLiveDescription").at("AttributeName")) == "expires");
  json::object tags =
      f.Ok("ListTagsOfResource", R"({"ResourceArn":")" + Str(t.at("TableArn")) + R"("})");
  CHECK(json::serialize(tags.at("Tags")) ==
        R"([{"Key":"team","Value":"billing"},{"Key":"env","Value":"test"}])");

  json::object item = f.Ok("GetItem", R"({"TableName":"orders",
      "Key":{"pk":{"S":"customer#1"},"sk":{"N":"5"}}})");
  CHECK(Str(item.at("Item").at("note").at("S")) == "xxxxx");
  CHECK(Str(item.at("Item").at("total").at("N")) == "5.5");
  json::object q = f.Ok("Query", R"({"TableName":"orders","KeyConditionExpression":"pk = :p",
      "ExpressionAttributeValues":{":p":{"S":"customer#2"}}})");
  CHECK(q.at("Count").to_number<int64_t>() == 5);

  // The stream: one shard holding the 20 INSERT records written before the
  // upgrade (and nothing for the capacity change).
  json::array shards = f.SOk("DescribeStream", R"({"StreamArn":")" + arn + R"("})")
                           .at("StreamDescription")
                           .at("Shards")
                           .as_array();
  REQUIRE(shards.size() == 1);
  const std::string iter =
      Str(f.SOk("GetShardIterator", R"({"StreamArn":")" + arn + R"(","ShardId":")" +
                                        Str(shards[0].at("ShardId")) +
                                        R"(","ShardIteratorType":"TRIM_HORIZON"})")
              .at("ShardIterator"));
  json::array records =
      f.SOk("GetRecords", R"({"ShardIterator":")" + iter + R"("})").at("Records").as_array();
  REQUIRE(records.size() == 20);
  for (const auto& r : records) CHECK(Str(r.at("eventName")) == "INSERT");
}

}  // namespace

TEST_CASE("upgrade: a catalog format 2 directory opens, serves its data, becomes format 3") {
  test::ApiFixture f;
  LoadFixture(&f, "catalog_v2");

  // Without the server's converter the table layer cannot read the index
  // JSON of format 2: Open refuses, clearly, and changes nothing.
  {
    table::TableStoreOptions o;
    o.dir = f.dir.path();
    o.lsm.durability = lsm::Durability::kNone;
    std::unique_ptr<table::TableStore> store;
    Status s = table::TableStore::Open(o, &store);
    CHECK(s.IsNotSupported());
    CHECK(s.message().find("basalt-server") != std::string_view::npos);
  }

  f.Open();
  CHECK(CatalogVersions(f.store.get()) ==
        std::map<std::string, int>{{"events", 3}, {"orders", 3}, {"users", 3}});
  // The old release kept no index entries: the indexes are filled from the
  // tables (reads wait for it), then serve every item.
  CHECK(f.Err("Query", R"({"TableName":"orders","IndexName":"by_status",
      "KeyConditionExpression":"#s = :s","ExpressionAttributeNames":{"#s":"status"},
      "ExpressionAttributeValues":{":s":{"S":"open"}}})")
            .second == "Cannot read from backfilling global secondary index: by_status");
  REQUIRE(f.store->BuildIndexes().ok());
  for (const char* table : {"orders", "users"}) {
    std::vector<table::IndexVerifyReport> reports;
    REQUIRE(f.store->VerifyIndexes(table, &reports).ok());
    for (const auto& r : reports) {
      INFO(table, " ", r.index);
      CHECK(r.ok());
    }
  }
  CHECK(f.Ok("Query", R"({"TableName":"orders","IndexName":"by_status",
      "KeyConditionExpression":"#s = :s","ExpressionAttributeNames":{"#s":"status"},
      "ExpressionAttributeValues":{":s":{"S":"open"}}})")
            .at("Count")
            .to_number<int64_t>() == 10);
  CHECK(f.Ok("Query", R"({"TableName":"orders","IndexName":"by_created",
      "KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"customer#2"}}})")
            .at("Count")
            .to_number<int64_t>() == 5);
  CHECK(f.Ok("Scan", R"({"TableName":"users","IndexName":"by_email"})")
            .at("Count")
            .to_number<int64_t>() == 10);
  json::object list = f.Ok("ListTables", "{}");
  CHECK(json::serialize(list.at("TableNames")) == R"(["events","orders","users"])");
  CheckOrders(f);

  json::object users = f.Ok("DescribeTable", R"({"TableName":"users"})").at("Table").as_object();
  CHECK(users.at("ItemCount").to_number<int64_t>() == 10);
  CHECK(Str(users.at("BillingModeSummary").at("BillingMode")) == "PAY_PER_REQUEST");
  const json::object& by_email = users.at("GlobalSecondaryIndexes").as_array()[0].as_object();
  CHECK(Str(by_email.at("IndexName")) == "by_email");
  CHECK(json::serialize(by_email.at("Projection")) == R"({"ProjectionType":"ALL"})");
  json::object u = f.Ok("GetItem", R"({"TableName":"users","Key":{"id":{"B":"AwD/"}}})");
  CHECK(Str(u.at("Item").at("email").at("S")) == "u3@example.com");

  json::object events = f.Ok("DescribeTable", R"({"TableName":"events"})").at("Table").as_object();
  CHECK(events.at("ItemCount").to_number<int64_t>() == 4);
  CHECK(!events.contains("StreamSpecification"));
  CHECK(events.contains("LatestStreamLabel"));  // disabled, its records still readable
  json::object scan = f.Ok("Scan", R"({"TableName":"events"})");
  CHECK(scan.at("Count").to_number<int64_t>() == 4);

  // Writes after the upgrade, then a reopen: still format 3, all there.
  f.Ok("PutItem", R"({"TableName":"events","Item":{"id":{"N":"9"}}})");
  f.Ok("UpdateTable", R"({"TableName":"orders","ProvisionedThroughput":
      {"ReadCapacityUnits":6,"WriteCapacityUnits":7}})");
  f.Close();
  f.Open();
  CHECK(CatalogVersions(f.store.get()) ==
        std::map<std::string, int>{{"events", 3}, {"orders", 3}, {"users", 3}});
  CheckOrders(f, /*read_units=*/6);
  scan = f.Ok("Scan", R"({"TableName":"events"})");
  CHECK(scan.at("Count").to_number<int64_t>() == 5);
}

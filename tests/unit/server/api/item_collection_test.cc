// Item collections of tables with local secondary indexes through
// api::Service: ItemCollectionMetrics (ReturnItemCollectionMetrics SIZE) on
// single-item and batch writes, and ItemCollectionSizeLimitExceededException
// (with a small limit: TableStoreOptions::item_collection_limit_bytes).
#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>
#include <string>

#include "server/api/json_value.h"
#include "tests/unit/server/api/api_fixture.h"

using namespace basalt;
namespace json = boost::json;

namespace {

void CreateLsiTable(test::ApiFixture& f, const std::string& name) {
  f.Ok("CreateTable", R"({"TableName":")" + name + R"(","BillingMode":"PAY_PER_REQUEST",
      "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},
        {"AttributeName":"sk","AttributeType":"N"},{"AttributeName":"l","AttributeType":"S"}],
      "LocalSecondaryIndexes":[{"IndexName":"byL","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},
        {"AttributeName":"l","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}]})");
}

std::string Put(const std::string& table, const std::string& pk, int sk, size_t pad,
                const std::string& extra = "") {
  return R"({"TableName":")" + table + R"(","Item":{"pk":{"S":")" + pk + R"("},"sk":{"N":")" +
         std::to_string(sk) + R"("},"l":{"S":"x"},"pad":{"S":")" + std::string(pad, 'p') +
         R"("}})" + extra + "}";
}

}  // namespace

TEST_CASE("item collections: metrics on writes to tables with local secondary indexes") {
  test::ApiFixture f;
  CreateLsiTable(f, "lsi");
  const std::string size = R"(,"ReturnItemCollectionMetrics":"SIZE")";
  const std::string expected =
      R"({"ItemCollectionKey":{"pk":{"S":"a"}},"SizeEstimateRangeGB":[0E0,1E0]})";
  json::object r = f.Ok("PutItem", Put("lsi", "a", 1, 10, size));
  CHECK(json::serialize(r.at("ItemCollectionMetrics")) == expected);
  CHECK(!f.Ok("PutItem", Put("lsi", "a", 2, 10)).contains("ItemCollectionMetrics"));
  CHECK(!f.Ok("PutItem", Put("lsi", "a", 3, 10, R"(,"ReturnItemCollectionMetrics":"NONE")"))
             .contains("ItemCollectionMetrics"));
  r = f.Ok("UpdateItem", R"({"TableName":"lsi","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},
      "UpdateExpression":"SET q = :q","ExpressionAttributeValues":{":q":{"N":"1"}})" +
                             size + "}");
  CHECK(json::serialize(r.at("ItemCollectionMetrics")) == expected);
  r = f.Ok("DeleteItem",
           R"({"TableName":"lsi","Key":{"pk":{"S":"a"},"sk":{"N":"2"}})" + size + "}");
  CHECK(json::serialize(r.at("ItemCollectionMetrics")) == expected);
  CHECK(f.Err("PutItem", Put("lsi", "a", 1, 1, R"(,"ReturnItemCollectionMetrics":"ALL")"))
            .second.find("Member must satisfy enum value set: [SIZE, NONE]") != std::string::npos);

  // Batch: per table, each collection written once; tables without LSIs
  // have none.
  f.CreateTable("plain", "S");
  r = f.Ok("BatchWriteItem", R"({"ReturnItemCollectionMetrics":"SIZE","RequestItems":{
      "lsi":[{"PutRequest":{"Item":{"pk":{"S":"b"},"sk":{"N":"1"}}}},
             {"PutRequest":{"Item":{"pk":{"S":"b"},"sk":{"N":"2"}}}},
             {"DeleteRequest":{"Key":{"pk":{"S":"c"},"sk":{"N":"1"}}}}],
      "plain":[{"PutRequest":{"Item":{"pk":{"S":"z"}}}}]}})");
  const json::object& m = r.at("ItemCollectionMetrics").as_object();
  CHECK(m.size() == 1);
  const json::array& list = m.at("lsi").as_array();
  REQUIRE(list.size() == 2);
  CHECK(json::serialize(list[0].at("ItemCollectionKey")) == R"({"pk":{"S":"b"}})");
  CHECK(json::serialize(list[1].at("ItemCollectionKey")) == R"({"pk":{"S":"c"}})");
  CHECK(!f.Ok("PutItem", R"({"TableName":"plain","Item":{"pk":{"S":"y"}})" + size + "}")
             .contains("ItemCollectionMetrics"));
}

TEST_CASE("item collections: a write past the limit is refused, nothing written") {
  test::ApiFixture f;
  f.item_collection_limit_bytes = 32 * 1024;
  f.Close();
  f.Open();
  CreateLsiTable(f, "lsi");
  int written = 0;
  std::pair<std::string, std::string> err;
  for (int i = 0; i < 200; i++) {
    int status = 0;
    json::object o = f.Call("PutItem", Put("lsi", "a", i, 1000), &status);
    if (status != 200) {
      err = f.Err("PutItem", Put("lsi", "a", i, 1000));
      break;
    }
    written++;
  }
  INFO("written ", written);
  // 32 KiB hold the item and its LSI entry about 15 times.
  CHECK(written >= 10);
  CHECK(written <= 32);
  CHECK(err.first == "ItemCollectionSizeLimitExceededException");
  CHECK(err.second == "Collection size exceeded.");
  auto count = [&](const std::string& pk) {
    return f
        .Ok("Query", R"({"TableName":"lsi","KeyConditionExpression":"pk = :p",
        "ExpressionAttributeValues":{":p":{"S":")" +
                         pk + R"("}}})")
        .at("Count")
        .to_number<int>();
  };
  CHECK(count("a") == written);
  // Other collections, and writes that do not grow this one, go on.
  f.Ok("PutItem", Put("lsi", "b", 1, 1000));
  f.Ok("PutItem", Put("lsi", "a", 0, 10));  // shrinks item 0
  f.Ok("DeleteItem", R"({"TableName":"lsi","Key":{"pk":{"S":"a"},"sk":{"N":"1"}}})");
  CHECK(count("a") == written - 1);
  // Batch writes are all or nothing.
  CHECK(f.Err("BatchWriteItem", R"({"RequestItems":{"lsi":[
      {"PutRequest":{"Item":{"pk":{"S":"c"},"sk":{"N":"1"}}}},
      {"PutRequest":{"Item":{"pk":{"S":"a"},"sk":{"N":"900"},"pad":{"S":")" +
                                    std::string(20000, 'q') + R"("}}}}]}})")
            .first == "ItemCollectionSizeLimitExceededException");
  CHECK(count("c") == 0);
}

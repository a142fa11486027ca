// BatchGetItem and BatchWriteItem through api::Service: results, limits,
// duplicates, validation before any write, capacity per table.
#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>
#include <string>

#include "server/api/json_value.h"
#include "tests/unit/server/api/api_fixture.h"

using namespace basalt;
namespace json = boost::json;

namespace {

std::string Puts(const std::string& table, int from, int to, const std::string& extra = "") {
  std::string out = "\"" + table + "\":[";
  for (int i = from; i < to; ++i) {
    if (i != from) out += ",";
    out += R"({"PutRequest":{"Item":{"pk":{"S":"k)" + std::to_string(i) + R"("})" + extra + "}}}";
  }
  return out + "]";
}

int ItemCount(test::ApiFixture& f, const std::string& table) {
  return f.Ok("Scan", R"({"TableName":")" + table + R"(","Select":"COUNT"})")
      .at("Count")
      .to_number<int>();
}

double Units(const json::object& resp, const std::string& table) {
  for (const auto& c : resp.at("ConsumedCapacity").as_array()) {
    if (c.at("TableName").as_string() == table) return c.at("CapacityUnits").to_number<double>();
  }
  FAIL("no capacity for ", table);
  return -1;
}

}  // namespace

TEST_CASE("BatchWriteItem: puts and deletes across tables, capacity per table") {
  test::ApiFixture f;
  f.CreateTable("one", "S");
  f.CreateTable("two", "S", "N");
  json::object r = f.Ok("BatchWriteItem", R"({"RequestItems":{)" + Puts("one", 0, 20) +
                                              R"(},"ReturnConsumedCapacity":"TOTAL"})");
  CHECK(json::serialize(r.at("UnprocessedItems")) == "{}");
  CHECK(Units(r, "one") == 20);
  CHECK(ItemCount(f, "one") == 20);

  // 1.5 KB item = 2 units; delete of an existing 1.5 KB item = 2; delete of a
  // missing item = 1; small put = 1.
  const std::string big(1500, 'x');
  f.Ok("PutItem",
       R"({"TableName":"two","Item":{"pk":{"S":"a"},"sk":{"N":"1"},"d":{"S":")" + big + R"("}}})");
  r = f.Ok("BatchWriteItem", R"({"RequestItems":{
      "one":[{"PutRequest":{"Item":{"pk":{"S":"big"},"d":{"S":")" +
                                 big + R"("}}}},
             {"DeleteRequest":{"Key":{"pk":{"S":"nope"}}}}],
      "two":[{"DeleteRequest":{"Key":{"pk":{"S":"a"},"sk":{"N":"1"}}}},
             {"PutRequest":{"Item":{"pk":{"S":"b"},"sk":{"N":"-2.5"}}}}]},
      "ReturnConsumedCapacity":"INDEXES"})");
  CHECK(Units(r, "one") == 3);
  CHECK(Units(r, "two") == 3);
  CHECK(
      r.at("ConsumedCapacity").as_array()[0].at("Table").at("CapacityUnits").to_number<double>() ==
      3);
  CHECK(ItemCount(f, "one") == 21);
  CHECK(ItemCount(f, "two") == 1);
  CHECK(!f.Ok("BatchWriteItem", R"({"RequestItems":{)" + Puts("one", 0, 1) + "}}")
             .contains("ConsumedCapacity"));
}

TEST_CASE("BatchWriteItem: limits, duplicates and validation before any write") {
  test::ApiFixture f;
  f.CreateTable("bwt", "S");
  auto e = f.Err("BatchWriteItem", R"({"RequestItems":{)" + Puts("bwt", 0, 26) + "}}");
  CHECK(e.first == "ValidationException");
  CHECK(e.second.find("Member must have length less than or equal to 25") != std::string::npos);
  CHECK(f.Err("BatchWriteItem", R"({"RequestItems":{}})").second ==
        "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1");
  CHECK(f.Err("BatchWriteItem", "{}").second ==
        "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: "
        "Member must not be null");
  f.CreateTable("bwtwo", "S");
  CHECK(f.Err("BatchWriteItem",
              R"({"RequestItems":{)" + Puts("bwt", 0, 13) + "," + Puts("bwtwo", 0, 13) + "}}")
            .second == "Too many items requested for the BatchWriteItem call");
  // Two operations on one item, even a put and a delete.
  CHECK(f.Err("BatchWriteItem", R"({"RequestItems":{"bwt":[
      {"PutRequest":{"Item":{"pk":{"S":"x"},"a":{"N":"1"}}}},
      {"DeleteRequest":{"Key":{"pk":{"S":"x"}}}}]}})")
            .second == "Provided list of item keys contains duplicates");
  // Bare key-schema message for a missing or mistyped key; nothing written.
  CHECK(f.Err("BatchWriteItem", R"({"RequestItems":{"bwt":[
      {"PutRequest":{"Item":{"pk":{"S":"ok"}}}},
      {"PutRequest":{"Item":{"other":{"S":"x"}}}}]}})")
            .second == "The provided key element does not match the schema");
  CHECK(f.Err("BatchWriteItem", R"({"RequestItems":{"bwt":[
      {"DeleteRequest":{"Key":{"pk":{"N":"1"}}}}]}})")
            .second == "The provided key element does not match the schema");
  CHECK(f.Err("BatchWriteItem", R"({"RequestItems":{"bwt":[{}]}})").second ==
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
        "supported datatypes");
  CHECK(f.Err("BatchWriteItem", R"({"RequestItems":{"bwt":[
      {"PutRequest":{"Item":{"pk":{"S":"ok2"},"big":{"S":")" +
                                    std::string(409600, 'x') + R"("}}}}]}})")
            .second == "Item size has exceeded the maximum allowed size");
  auto missing = f.Err("BatchWriteItem", R"({"RequestItems":{)" + Puts("bwt", 0, 2) + "," +
                                             Puts("nothere", 0, 1) + "}}");
  CHECK(missing.first == "ResourceNotFoundException");
  CHECK(missing.second == "Requested resource not found");
  CHECK(ItemCount(f, "bwt") == 0);
}

TEST_CASE("BatchGetItem: items per table, projections, missing keys, capacity") {
  test::ApiFixture f;
  f.CreateTable("gta", "S");
  f.CreateTable("gtb", "S", "N");
  f.Ok("BatchWriteItem", R"({"RequestItems":{)" + Puts("gta", 0, 5, R"(,"v":{"N":"7"})") + "}}");
  const std::string big(5000, 'y');  // 5 KB: 2 units strong, 1 eventual
  f.Ok("PutItem", R"({"TableName":"gtb","Item":{"pk":{"S":"p"},"sk":{"N":"0.5"},"d":{"S":")" + big +
                      R"("}}})");
  json::object r = f.Ok("BatchGetItem", R"({"RequestItems":{
      "gta":{"Keys":[{"pk":{"S":"k1"}},{"pk":{"S":"k3"}},{"pk":{"S":"none"}}],
            "ProjectionExpression":"#v","ExpressionAttributeNames":{"#v":"v"},"ConsistentRead":true},
      "gtb":{"Keys":[{"pk":{"S":"p"},"sk":{"N":"0.5"}}],"AttributesToGet":["pk"]}},
      "ReturnConsumedCapacity":"TOTAL"})");
  CHECK(json::serialize(r.at("UnprocessedKeys")) == "{}");
  CHECK(json::serialize(r.at("Responses").at("gta")) == R"([{"v":{"N":"7"}},{"v":{"N":"7"}}])");
  CHECK(json::serialize(r.at("Responses").at("gtb")) == R"([{"pk":{"S":"p"}}])");
  CHECK(Units(r, "gta") == 3);    // each item (and the missing one) 1 unit, strong
  CHECK(Units(r, "gtb") == 1.0);  // 5 KB eventual = 2 * 0.5
}

TEST_CASE("BatchGetItem: limits and duplicates") {
  test::ApiFixture f;
  f.CreateTable("gtl", "S");
  f.CreateTable("gtm", "S");
  auto keys = [](int from, int to) {
    std::string out = "[";
    for (int i = from; i < to; ++i) {
      if (i != from) out += ",";
      out += R"({"pk":{"S":"k)" + std::to_string(i) + R"("}})";
    }
    return out + "]";
  };
  f.Ok("BatchGetItem", R"({"RequestItems":{"gtl":{"Keys":)" + keys(0, 100) + "}}}");
  CHECK(f.Err("BatchGetItem", R"({"RequestItems":{"gtl":{"Keys":)" + keys(0, 60) +
                                  R"(},"gtm":{"Keys":)" + keys(0, 41) + "}}}")
            .second == "Too many items requested for the BatchGetItem call");
  CHECK(f.Err("BatchGetItem", R"({"RequestItems":{"gtl":{"Keys":)" + keys(0, 101) + "}}}")
            .second.find("Member must have length less than or equal to 100") != std::string::npos);
  CHECK(f.Err("BatchGetItem",
              R"({"RequestItems":{"gtl":{"Keys":[{"pk":{"S":"a"}},{"pk":{"S":"a"}}]}}})")
            .second == "Provided list of item keys contains duplicates");
  CHECK(f.Err("BatchGetItem", R"({"RequestItems":{"gtl":{"Keys":[{"x":{"S":"a"}}]}}})").second ==
        "The provided key element does not match the schema");
  auto missing = f.Err("BatchGetItem", R"({"RequestItems":{"zz9":{"Keys":[{"pk":{"S":"a"}}]}}})");
  CHECK(missing.first == "ResourceNotFoundException");
}

TEST_CASE("BatchGetItem: a response past 16 MB leaves UnprocessedKeys") {
  test::ApiFixture f;
  f.CreateTable("huge", "S");
  // 50 items of ~390 KB = ~19 MB.
  const std::string blob(390 * 1024, 'z');
  for (int i = 0; i < 50; ++i) {
    f.Ok("PutItem", R"({"TableName":"huge","Item":{"pk":{"S":"k)" + std::to_string(i) +
                        R"("},"d":{"S":")" + blob + R"("}}})");
  }
  std::string keys = "[";
  for (int i = 0; i < 50; ++i) {
    if (i) keys += ",";
    keys += R"({"pk":{"S":"k)" + std::to_string(i) + R"("}})";
  }
  keys += "]";
  json::object r = f.Ok("BatchGetItem", R"({"RequestItems":{"huge":{"Keys":)" + keys +
                                            R"(,"ConsistentRead":true}}})");
  const size_t got = r.at("Responses").at("huge").as_array().size();
  const json::object& left = r.at("UnprocessedKeys").at("huge").as_object();
  CHECK(got < 50);
  CHECK(got + left.at("Keys").as_array().size() == 50);
  CHECK(left.at("ConsistentRead").as_bool());
}

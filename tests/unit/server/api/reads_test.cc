// Query and Scan through api::Service: ordering, paging, filters, Select,
// capacity, parallel scan across partitions and splits, validation messages.
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "server/api/json_value.h"
#include "tests/unit/server/api/api_fixture.h"

using namespace basalt;
namespace json = boost::json;

namespace {

std::string Str(const json::value& v) { return std::string(v.as_string()); }

// Every page of a Query or Scan request (a JSON object body without braces),
// following LastEvaluatedKey; *pages receives the number of calls.
std::vector<json::object> AllItems(test::ApiFixture& f, const std::string& op,
                                   const std::string& body, int* pages = nullptr) {
  std::vector<json::object> out;
  std::string start;
  int n = 0;
  for (;;) {
    json::object r = f.Ok(op, "{" + body + start + "}");
    ++n;
    REQUIRE(n < 1000);
    for (const auto& it : r.at("Items").as_array()) out.push_back(it.as_object());
    if (!r.contains("LastEvaluatedKey")) break;
    start = R"(,"ExclusiveStartKey":)" + json::serialize(r.at("LastEvaluatedKey"));
  }
  if (pages != nullptr) *pages = n;
  return out;
}

void Put(test::ApiFixture& f, const std::string& table, const std::string& item) {
  f.Ok("PutItem", R"({"TableName":")" + table + R"(","Item":)" + item + "}");
}

// Number sort keys, stored out of order, including negative and fractional.
const std::vector<std::string> kNumbers = {"-100", "-10", "-1.5", "-0.25", "0",   "0.001",
                                           "0.5",  "1",   "2.75", "10",    "1E+3"};

void FillNumbers(test::ApiFixture& f) {
  f.CreateTable("nums", "S", "N");
  for (size_t i = kNumbers.size(); i-- > 0;) {
    Put(f, "nums",
        R"({"pk":{"S":"a"},"sk":{"N":")" + kNumbers[i] + R"("},"flag":{"BOOL":)" +
            (i % 4 == 3 ? "true" : "false") + R"(},"i":{"N":")" + std::to_string(i) + R"("}})");
  }
  Put(f, "nums", R"({"pk":{"S":"b"},"sk":{"N":"5"}})");
}

std::vector<int> Indexes(const std::vector<json::object>& items) {
  std::vector<int> out;
  for (const auto& it : items) out.push_back(std::stoi(Str(it.at("i").at("N"))));
  return out;
}

}  // namespace

TEST_CASE("Query: number sort keys in numeric order, both directions, paged to exhaustion") {
  test::ApiFixture f;
  FillNumbers(f);
  const std::string q =
      R"("TableName":"nums","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"a"}})";
  std::vector<int> want;
  for (size_t i = 0; i < kNumbers.size(); ++i) want.push_back(static_cast<int>(i));
  CHECK(Indexes(AllItems(f, "Query", q)) == want);
  for (int limit : {1, 2, 3, 11, 100}) {
    int pages = 0;
    CHECK(Indexes(AllItems(f, "Query", q + R"(,"Limit":)" + std::to_string(limit), &pages)) ==
          want);
    // A page that stops exactly at Limit still carries LastEvaluatedKey, as in
    // DynamoDB, so 11 items in pages of 1 take 12 calls.
    CHECK(pages == static_cast<int>(kNumbers.size()) / limit + 1);
  }
  std::vector<int> rev(want.rbegin(), want.rend());
  CHECK(Indexes(AllItems(f, "Query", q + R"(,"ScanIndexForward":false)")) == rev);
  CHECK(Indexes(AllItems(f, "Query", q + R"(,"ScanIndexForward":false,"Limit":4)")) == rev);

  // Sort-key conditions with negative and fractional bounds.
  auto cond = [&](const std::string& kce, const std::string& values) {
    return Indexes(AllItems(f, "Query",
                            R"("TableName":"nums","KeyConditionExpression":")" + kce +
                                R"(","ExpressionAttributeValues":{":p":{"S":"a"},)" + values +
                                "}"));
  };
  CHECK(cond("pk = :p AND sk BETWEEN :a AND :b", R"(":a":{"N":"-1.5"},":b":{"N":"0.5"})") ==
        std::vector<int>{2, 3, 4, 5, 6});
  CHECK(cond("pk = :p AND sk < :a", R"(":a":{"N":"-0.25"})") == std::vector<int>{0, 1, 2});
  CHECK(cond("pk = :p AND sk >= :a", R"(":a":{"N":"10"})") == std::vector<int>{9, 10});
  CHECK(cond("pk = :p AND sk = :a", R"(":a":{"N":"1000"})") == std::vector<int>{10});
  CHECK(cond(":a < sk AND pk = :p", R"(":a":{"N":"2"})") == std::vector<int>{8, 9, 10});
}

TEST_CASE("Query: Limit counts items read, the filter may empty a page, Count and ScannedCount") {
  test::ApiFixture f;
  FillNumbers(f);
  const std::string q =
      R"({"TableName":"nums","KeyConditionExpression":"pk = :p","FilterExpression":"flag = :t",
          "ExpressionAttributeValues":{":p":{"S":"a"},":t":{"BOOL":true}}})";
  json::object all = f.Ok("Query", q);
  CHECK(all.at("Count").to_number<int>() == 2);  // i = 3, 7
  CHECK(all.at("ScannedCount").to_number<int>() == 11);
  CHECK(!all.contains("LastEvaluatedKey"));

  // The first three items all fail the filter: an empty page that goes on.
  std::string limited = q;
  limited.insert(limited.size() - 1, R"(,"Limit":3)");
  json::object p1 = f.Ok("Query", limited);
  CHECK(p1.at("Items").as_array().empty());
  CHECK(p1.at("Count").to_number<int>() == 0);
  CHECK(p1.at("ScannedCount").to_number<int>() == 3);
  REQUIRE(p1.contains("LastEvaluatedKey"));
  CHECK(json::serialize(p1.at("LastEvaluatedKey")) == R"({"pk":{"S":"a"},"sk":{"N":"-1.5"}})");
  // Paging the filtered query returns exactly the matching items.
  std::string body = std::string(limited.substr(1, limited.size() - 2));
  CHECK(Indexes(AllItems(f, "Query", body)) == std::vector<int>{3, 7});

  // Select COUNT: no Items, same counts.
  std::string count = q;
  count.insert(count.size() - 1, R"(,"Select":"COUNT")");
  json::object c = f.Ok("Query", count);
  CHECK(!c.contains("Items"));
  CHECK(c.at("Count").to_number<int>() == 2);
  CHECK(c.at("ScannedCount").to_number<int>() == 11);

  // Legacy KeyConditions + QueryFilter + AttributesToGet.
  json::object legacy = f.Ok("Query", R"({"TableName":"nums",
      "KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"a"}]},
                       "sk":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"0"}]}},
      "QueryFilter":{"flag":{"ComparisonOperator":"EQ","AttributeValueList":[{"BOOL":true}]}},
      "AttributesToGet":["i"]})");
  CHECK(json::serialize(legacy.at("Items")) == R"([{"i":{"N":"7"}}])");
  CHECK(legacy.at("ScannedCount").to_number<int>() == 6);
}

TEST_CASE("Query: string and binary sort keys, begins_with, between, projection") {
  test::ApiFixture f;
  f.CreateTable("bins", "S", "B");
  // Sort keys as bytes: 00, 00 00, 01, 7f, 80, ff, ff 00 (unsigned order).
  const std::vector<std::string> bytes = {
      std::string(1, '\0'),    std::string(2, '\0'), "\x01", "\x7f", "\x80", "\xff",
      std::string("\xff\0", 2)};
  for (size_t i = bytes.size(); i-- > 0;) {
    Put(f, "bins",
        R"({"pk":{"S":"k"},"sk":{"B":")" + basalt::Base64Encode(bytes[i]) + R"("},"i":{"N":")" +
            std::to_string(i) + R"("},"x":{"S":"y"}})");
  }
  const std::string q = R"("TableName":"bins","KeyConditionExpression":"pk = :p")";
  CHECK(Indexes(AllItems(f, "Query", q + R"(,"ExpressionAttributeValues":{":p":{"S":"k"}})")) ==
        std::vector<int>{0, 1, 2, 3, 4, 5, 6});
  CHECK(Indexes(AllItems(
            f, "Query",
            R"j("TableName":"bins","KeyConditionExpression":"pk = :p AND begins_with(sk, :b)",
                            "ExpressionAttributeValues":{":p":{"S":"k"},":b":{"B":")j" +
                basalt::Base64Encode(std::string("\xff")) + R"("}})")) == std::vector<int>{5, 6});
  CHECK(Indexes(AllItems(
            f, "Query",
            R"j("TableName":"bins","KeyConditionExpression":"pk = :p AND begins_with(sk, :b)",
                            "ExpressionAttributeValues":{":p":{"S":"k"},":b":{"B":"AA=="}})j")) ==
        std::vector<int>{0, 1});

  f.CreateTable("strs", "S", "S");
  for (const char* s : {"apple", "apricot", "banana", "blueberry", "cherry", "a", "b"}) {
    Put(f, "strs", R"({"pk":{"S":"k"},"sk":{"S":")" + std::string(s) + R"("},"n":{"N":"1"}})");
  }
  auto sks = [&](const std::string& kce, const std::string& vals, const std::string& more = "") {
    std::vector<std::string> out;
    for (const auto& it :
         AllItems(f, "Query",
                  R"("TableName":"strs","KeyConditionExpression":")" + kce +
                      R"(","ExpressionAttributeValues":{":p":{"S":"k"},)" + vals + "}" + more)) {
      out.push_back(Str(it.at("sk").at("S")));
    }
    return out;
  };
  CHECK(sks("pk = :p AND begins_with(sk, :a)", R"(":a":{"S":"ap"})") ==
        std::vector<std::string>{"apple", "apricot"});
  CHECK(sks("pk = :p AND sk BETWEEN :a AND :b", R"(":a":{"S":"b"},":b":{"S":"c"})") ==
        std::vector<std::string>{"b", "banana", "blueberry"});
  CHECK(sks("pk = :p AND sk > :a", R"(":a":{"S":"b"})", R"(,"ScanIndexForward":false,"Limit":2)") ==
        std::vector<std::string>{"cherry", "blueberry", "banana"});
  json::object proj =
      f.Ok("Query", R"({"TableName":"strs","KeyConditionExpression":"pk = :p AND sk = :s",
          "ProjectionExpression":"#n","ExpressionAttributeNames":{"#n":"n"},
          "ExpressionAttributeValues":{":p":{"S":"k"},":s":{"S":"a"}}})");
  CHECK(json::serialize(proj.at("Items")) == R"([{"n":{"N":"1"}}])");
}

TEST_CASE("Query and Scan: consumed capacity sums the items read, rounded once per partition") {
  test::ApiFixture f;
  f.CreateTable("cap", "S", "N");
  // 5 items of 1500 + a few bytes: 7.5 KB read = 2 units strong, 1 eventual.
  size_t total = 0;
  for (int i = 0; i < 5; ++i) {
    const std::string item = R"({"pk":{"S":"k"},"sk":{"N":")" + std::to_string(i) +
                             R"("},"d":{"S":")" + std::string(1500, 'x') + R"("}})";
    Put(f, "cap", item);
    total += table::ItemSize(server::api::ParseItem(json::parse(item), "Item"));
  }
  REQUIRE(total > 4096);
  REQUIRE(total <= 8192);
  const std::string q =
      R"({"TableName":"cap","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"k"}},"ReturnConsumedCapacity":"TOTAL")";
  CHECK(f.Ok("Query", q + "}").at("ConsumedCapacity").at("CapacityUnits").to_number<double>() ==
        1.0);
  CHECK(f.Ok("Query", q + R"(,"ConsistentRead":true})")
            .at("ConsumedCapacity")
            .at("CapacityUnits")
            .to_number<double>() == 2.0);
  // COUNT and a filter that drops everything cost the same.
  CHECK(f.Ok("Query", q + R"(,"ConsistentRead":true,"Select":"COUNT"})")
            .at("ConsumedCapacity")
            .at("CapacityUnits")
            .to_number<double>() == 2.0);
  json::object idx = f.Ok("Scan", R"j({"TableName":"cap","ReturnConsumedCapacity":"INDEXES",
      "FilterExpression":"attribute_not_exists(d)"})j");
  CHECK(idx.at("Count").to_number<int>() == 0);
  // A Scan is charged per partition read (reads.cc, ScanUnits): an on-demand
  // table has 4; the one holding the items costs 1 (7.5 KB eventual), the
  // three others 0.5 each.
  CHECK(idx.at("ConsumedCapacity").at("CapacityUnits").to_number<double>() == 2.5);
  CHECK(idx.at("ConsumedCapacity").at("Table").at("CapacityUnits").to_number<double>() == 2.5);
  CHECK(idx.at("ConsumedCapacity").at("TableName").as_string() == "cap");
  CHECK(!f.Ok("Scan", R"({"TableName":"cap"})").contains("ConsumedCapacity"));
}

TEST_CASE("Query: validation messages") {
  test::ApiFixture f;
  FillNumbers(f);
  const std::string kv = R"("ExpressionAttributeValues":{":p":{"S":"a"}})";
  auto err = [&](const std::string& body) { return f.Err("Query", body); };
  CHECK(err(R"({"TableName":"nums","KeyConditionExpression":"pk = :p","Limit":0,)" + kv + "}")
            .second ==
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member "
        "must have value greater than or equal to 1");
  CHECK(err(R"({"TableName":"nums","KeyConditionExpression":"pk = :p","Select":"ALL",)" + kv + "}")
            .second ==
        "1 validation error detected: Value 'ALL' at 'select' failed to satisfy constraint: Member "
        "must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, "
        "ALL_PROJECTED_ATTRIBUTES]");
  CHECK(err(R"({"TableName":"nums"})").second ==
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the "
        "request.");
  CHECK(
      err(R"({"TableName":"nums","KeyConditionExpression":"pk = :p","Select":"COUNT","ProjectionExpression":"i",)" +
          kv + "}")
          .second == "Cannot specify the ProjectionExpression when choosing to get only the Count");
  CHECK(
      err(R"({"TableName":"nums","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"a"}]}},"Select":"ALL_ATTRIBUTES","AttributesToGet":["i"]})")
          .second == "Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES");
  CHECK(
      err(R"({"TableName":"nums","KeyConditionExpression":"pk = :p","Select":"SPECIFIC_ATTRIBUTES",)" +
          kv + "}")
          .second ==
      "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
      "SPECIFIC_ATTRIBUTES");
  CHECK(
      err(R"({"TableName":"nums","KeyConditionExpression":"pk = :p","Select":"ALL_PROJECTED_ATTRIBUTES",)" +
          kv + "}")
          .second == "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName");
  CHECK(err(R"({"TableName":"nums","KeyConditionExpression":"pk = :p","IndexName":"nope",)" + kv +
            "}")
            .second == "The table does not have the specified index: nope");
  auto missing = err(R"({"TableName":"missing","KeyConditionExpression":"pk = :p",)" + kv + "}");
  CHECK(missing.first == "ResourceNotFoundException");
  CHECK(missing.second == "Requested resource not found");
  CHECK(
      err(R"({"TableName":"nums","KeyConditionExpression":"pk = :p","FilterExpression":"sk > :p",)" +
          kv + "}")
          .second ==
      "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk");
  CHECK(
      err(R"({"TableName":"nums","KeyConditionExpression":"pk = :p","ExclusiveStartKey":{"pk":{"S":"b"},"sk":{"N":"1"}},)" +
          kv + "}")
          .second ==
      "The provided starting key is outside query boundaries based on provided conditions");
  CHECK(
      err(R"({"TableName":"nums","KeyConditionExpression":"pk = :p","ExclusiveStartKey":{"pk":{"S":"a"}},)" +
          kv + "}")
          .second == "The provided starting key is invalid");
  CHECK(
      err(R"({"TableName":"nums","KeyConditionExpression":"pk = :p AND sk > :z","ExclusiveStartKey":{"pk":{"S":"a"},"sk":{"N":"-1"}},"ExpressionAttributeValues":{":p":{"S":"a"},":z":{"N":"0"}}})")
          .second == "The provided starting key does not match the range key predicate");
  CHECK(err(R"({"TableName":"nums","KeyConditionExpression":"pk = :p OR sk = :p",)" + kv + "}")
            .second == "Invalid operator used in KeyConditionExpression: OR");
  CHECK(
      err(R"({"TableName":"nums","KeyConditionExpression":"pk = :p","QueryFilter":{"i":{"ComparisonOperator":"EQ","AttributeValueList":[{"N":"1"}]}},)" +
          kv + "}")
          .second ==
      "Can not use both expression and non-expression parameters in the same request: "
      "Non-expression parameters: {QueryFilter} Expression parameters: {KeyConditionExpression}");
}

TEST_CASE("Query and Scan: IndexName reads the index, an unknown index is refused") {
  test::ApiFixture f;
  f.Ok("CreateTable", R"({"TableName":"withgsi","BillingMode":"PAY_PER_REQUEST",
      "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},
      {"AttributeName":"g","AttributeType":"S"}],"GlobalSecondaryIndexes":[{"IndexName":"byG",
      "KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}]})");
  f.Ok("PutItem", R"({"TableName":"withgsi","Item":{"pk":{"S":"a"},"g":{"S":"x"}}})");
  f.Ok("PutItem", R"({"TableName":"withgsi","Item":{"pk":{"S":"b"},"g":{"S":"x"}}})");
  f.Ok("PutItem", R"({"TableName":"withgsi","Item":{"pk":{"S":"c"}}})");
  json::object q =
      f.Ok("Query", R"({"TableName":"withgsi","IndexName":"byG","KeyConditionExpression":"g = :g",
      "ExpressionAttributeValues":{":g":{"S":"x"}}})");
  CHECK(q.at("Count").to_number<int64_t>() == 2);
  // Sparse: the item without g is not in the index.
  CHECK(f.Ok("Scan", R"({"TableName":"withgsi","IndexName":"byG"})")
            .at("Count")
            .to_number<int64_t>() == 2);
  CHECK(f.Err("Scan", R"({"TableName":"withgsi","IndexName":"other"})").second ==
        "The table does not have the specified index: other");
  CHECK(f.Err("Query", R"({"TableName":"withgsi","IndexName":"byG","ConsistentRead":true,
      "KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"x"}}})")
            .second == "Consistent reads are not supported on global secondary indexes");
}

namespace {

// Scans `table` with n segments, paging each with `limit`; every item's pk
// into *seen (counting repeats). `between_pages` runs after each page.
void ParallelScan(test::ApiFixture& f, const std::string& table, int n, int limit,
                  std::map<std::string, int>* seen,
                  const std::function<void()>& between_pages = nullptr) {
  for (int seg = 0; seg < n; ++seg) {
    std::string start;
    for (int guard = 0;; ++guard) {
      REQUIRE(guard < 10000);
      json::object r =
          f.Ok("Scan", R"({"TableName":")" + table + R"(","Segment":)" + std::to_string(seg) +
                           R"(,"TotalSegments":)" + std::to_string(n) + R"(,"Limit":)" +
                           std::to_string(limit) + start + "}");
      for (const auto& it : r.at("Items").as_array()) ++(*seen)[Str(it.at("pk").at("S"))];
      if (between_pages) between_pages();
      if (!r.contains("LastEvaluatedKey")) break;
      start = R"(,"ExclusiveStartKey":)" + json::serialize(r.at("LastEvaluatedKey"));
    }
  }
}

void FillScan(test::ApiFixture& f, const std::string& table, int count) {
  f.CreateTable(table, "S");
  for (int i = 0; i < count; ++i) {
    Put(f, table, R"({"pk":{"S":"item)" + std::to_string(i) + R"("}})");
  }
}

void CheckEachOnce(const std::map<std::string, int>& seen, int count) {
  CHECK(seen.size() == static_cast<size_t>(count));
  for (const auto& [k, n] : seen) {
    // The macro's lambda may not capture a structured binding (clang 14).
    const std::string& key = k;
    INFO(key);
    CHECK(n == 1);
  }
}

}  // namespace

TEST_CASE("Scan: parallel segments return every item exactly once") {
  for (uint32_t parts : {1u, 5u}) {
    test::ApiFixture f(parts);
    FillScan(f, "scan", 200);
    for (int n : {1, 2, 7, 16}) {
      for (int limit : {7, 1000}) {
        INFO("partitions ", parts, " segments ", n, " limit ", limit);
        std::map<std::string, int> seen;
        ParallelScan(f, "scan", n, limit, &seen);
        CheckEachOnce(seen, 200);
      }
    }
    // A plain paged Scan too.
    std::map<std::string, int> seen;
    for (const auto& it : AllItems(f, "Scan", R"("TableName":"scan","Limit":9)")) {
      ++seen[Str(it.at("pk").at("S"))];
    }
    CheckEachOnce(seen, 200);
  }
}

TEST_CASE("Scan: segments stay exact while partitions split between pages") {
  test::ApiFixture f(3);
  FillScan(f, "split", 300);
  int pages = 0;
  std::map<std::string, int> seen;
  ParallelScan(f, "split", 7, 11, &seen, [&] {
    // Every fifth page, split the partition with the most recent id.
    if (++pages % 5 != 0) return;
    table::TableDef def;
    REQUIRE(f.store->DescribeTable("split", &def).ok());
    uint32_t id = 0;
    for (const auto& p : def.partitions) id = std::max(id, p.id);
    Status s = f.store->SplitPartition("split", id);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  });
  CHECK(pages > 20);
  CheckEachOnce(seen, 300);
}

TEST_CASE("Scan: validation messages, filters, Select") {
  test::ApiFixture f;
  FillScan(f, "svt", 20);
  CHECK(f.Err("Scan", R"({"TableName":"svt","Segment":5,"TotalSegments":2})").second ==
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
        "Segment: 5 is not less than TotalSegments: 2");
  CHECK(f.Err("Scan", R"({"TableName":"svt","Segment":1})").second ==
        "The TotalSegments parameter is required but was not present in the request when Segment "
        "parameter is present");
  CHECK(f.Err("Scan", R"({"TableName":"svt","TotalSegments":2})").second ==
        "The Segment parameter is required but was not present in the request when parameter "
        "TotalSegments is present");
  CHECK(f.Err("Scan", R"({"TableName":"svt","Segment":0,"TotalSegments":1000001})").second ==
        "1 validation error detected: Value '1000001' at 'totalSegments' failed to satisfy "
        "constraint: Member must have value less than or equal to 1000000");
  f.Ok("Scan", R"({"TableName":"svt","Segment":999999,"TotalSegments":1000000})");
  // A start key from another segment.
  std::string other;
  for (int i = 0; i < 20 && other.empty(); ++i) {
    const std::string k = "item" + std::to_string(i);
    if (table::PartitionHash(table::Value::MakeS(k)) >= (uint64_t{1} << 63)) other = k;
  }
  REQUIRE(!other.empty());
  CHECK(
      f.Err("Scan",
            R"({"TableName":"svt","Segment":0,"TotalSegments":2,"ExclusiveStartKey":{"pk":{"S":")" +
                other + R"("}}})")
          .second ==
      "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use "
      "ExclusiveStartKey with correct Segment. TotalSegments: 2 Segment: 0");
  CHECK(f.Err("Scan", R"({"TableName":"svt","ExclusiveStartKey":{"x":{"S":"a"}}})").second ==
        "The provided starting key is invalid: The provided key element does not match the schema");
  json::object r =
      f.Ok("Scan", R"({"TableName":"svt","ScanFilter":{"pk":{"ComparisonOperator":"BEGINS_WITH",
      "AttributeValueList":[{"S":"item1"}]}},"Select":"COUNT"})");
  CHECK(r.at("Count").to_number<int>() == 11);  // item1, item10..item19
  CHECK(r.at("ScannedCount").to_number<int>() == 20);
  CHECK(!r.contains("Items"));
  CHECK(f.Err("Scan", R"({"TableName":"svt","Select":"COUNT","AttributesToGet":["pk"]})").second ==
        "Cannot specify the AttributesToGet when choosing to get only the Count");
}

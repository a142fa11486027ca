// The DynamoDB service without HTTP: requests as HttpRequest values, answers
// checked for status, error type and body.
#include "server/api/service.h"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "server/api/errors.h"
#include "server/api/json_value.h"
#include "tests/unit/server/api/api_fixture.h"

using namespace basalt;
using namespace basalt::server;
namespace json = boost::json;

namespace {

// The shared fixture, with service_test's one-argument CreateTable.
struct Fixture : test::ApiFixture {
  using ApiFixture::CreateTable;
  void CreateTable(const std::string& name) { ApiFixture::CreateTable(name, "S"); }
};

}  // namespace

TEST_CASE("protocol: health check, unknown operation, bad JSON, content type") {
  Fixture f;
  HttpRequest get;
  get.method = "GET";
  get.target = "/";
  HttpResponse resp;
  f.service->Handle(get, &resp);
  CHECK(resp.status == 200);
  CHECK(resp.body == "healthy: dynamodb.us-east-1.amazonaws.com ");

  CHECK(f.Err("NoSuchOp", "{}").first == "UnknownOperationException");
  CHECK(f.Raw("ListTables", "{not json").status == 400);
  CHECK(f.Err("ListTables", "[1]").first == "SerializationException");
  CHECK(f.Err("ListTables", "").first == "SerializationException");
  HttpResponse wrong = f.Raw("ListTables", "{}", "text/plain");
  CHECK(wrong.status == 404);
  CHECK(wrong.body == "<UnknownOperationException/>");
  // application/json is accepted and echoed.
  HttpResponse js = f.Raw("ListTables", "{}", "application/json");
  CHECK(js.status == 200);
  CHECK(js.content_type == "application/json");
}

TEST_CASE("CreateTable validation messages") {
  Fixture f;
  auto e = f.Err("CreateTable",
                 R"({"TableName":"ab","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"})");
  CHECK(e.first == "ValidationException");
  CHECK(e.second == "TableName must be at least 3 characters long and at most 255 characters long");
  e = f.Err("CreateTable",
            R"({"TableName":"abc","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
      "AttributeDefinitions":[{"AttributeName":"other","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"})");
  CHECK(e.second ==
        "One or more parameter values were invalid: Some index key attributes are not defined in "
        "AttributeDefinitions. Keys: [pk], AttributeDefinitions: [other]");
  e = f.Err("CreateTable",
            R"({"TableName":"abc","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}]})");
  CHECK(e.second ==
        "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must "
        "both be specified when BillingMode is PROVISIONED");
  e = f.Err("CreateTable", R"({"TableName":5})");
  CHECK(e.first == "SerializationException");
  f.CreateTable("dup");
  e = f.Err("CreateTable",
            R"({"TableName":"dup","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"})");
  CHECK(e.first == "ResourceInUseException");
  CHECK(e.second == "Table already exists: dup");
  e = f.Err("DescribeTable", R"({"TableName":"missing"})");
  CHECK(e.first == "ResourceNotFoundException");
  CHECK(e.second == "Requested resource not found: Table: missing not found");
}

TEST_CASE("DescribeTable, ListTables paging, UpdateTable and tags") {
  Fixture f;
  for (const char* n : {"t1", "t2", "t3"}) f.CreateTable(std::string(n) + "xx");
  json::object d = f.Ok("DescribeTable", R"({"TableName":"t2xx"})").at("Table").as_object();
  CHECK(d.at("TableStatus").as_string() == "ACTIVE");
  CHECK(d.at("TableArn").as_string() == "arn:aws:dynamodb:us-east-1:000000000000:table/t2xx");
  CHECK(d.at("BillingModeSummary").at("BillingMode").as_string() == "PAY_PER_REQUEST");
  CHECK(d.at("ItemCount").to_number<int64_t>() == 0);

  json::object page = f.Ok("ListTables", R"({"Limit":2})");
  CHECK(page.at("TableNames").as_array().size() == 2);
  CHECK(page.at("LastEvaluatedTableName").as_string() == "t2xx");
  page = f.Ok("ListTables", R"({"Limit":2,"ExclusiveStartTableName":"t2xx"})");
  CHECK(page.at("TableNames").as_array().size() == 1);
  CHECK(!page.contains("LastEvaluatedTableName"));

  json::object u = f.Ok("UpdateTable", R"({"TableName":"t1xx","BillingMode":"PROVISIONED",
      "ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":6}})");
  CHECK(u.at("TableDescription")
            .at("ProvisionedThroughput")
            .at("WriteCapacityUnits")
            .to_number<int64_t>() == 6);
  auto e = f.Err("UpdateTable", R"({"TableName":"t1xx",
      "ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":6}})");
  CHECK(e.second.starts_with("The provisioned throughput for the table will not change."));

  const std::string arn = "arn:aws:dynamodb:us-east-1:000000000000:table/t3xx";
  // Tag/UntagResource answer 200 with an empty body.
  HttpResponse tr =
      f.Raw("TagResource", R"({"ResourceArn":")" + arn +
                               R"(","Tags":[{"Key":"a","Value":"1"},{"Key":"b","Value":"2"}]})");
  CHECK(tr.status == 200);
  CHECK(tr.body.empty());
  CHECK(f.Raw("UntagResource", R"({"ResourceArn":")" + arn + R"(","TagKeys":["a"]})").status ==
        200);
  json::object tags = f.Ok("ListTagsOfResource", R"({"ResourceArn":")" + arn + R"("})");
  REQUIRE(tags.at("Tags").as_array().size() == 1);
  CHECK(tags.at("Tags").as_array()[0].at("Key").as_string() == "b");
  e = f.Err("ListTagsOfResource",
            R"({"ResourceArn":"arn:aws:dynamodb:us-east-1:000000000000:table/nope"})");
  CHECK(e.first == "ResourceNotFoundException");

  json::object del = f.Ok("DeleteTable", R"({"TableName":"t3xx"})");
  CHECK(del.at("TableDescription").at("TableStatus").as_string() == "DELETING");
  CHECK(f.Err("DeleteTable", R"({"TableName":"t3xx"})").first == "ResourceNotFoundException");
}

TEST_CASE("items: put, get with projection, update, conditional delete, capacity") {
  Fixture f;
  f.CreateTable("items");
  f.Ok("PutItem", R"({"TableName":"items","Item":{"pk":{"S":"k"},"n":{"N":"1.50"},
      "m":{"M":{"a":{"L":[{"S":"x"},{"B":"AAE="}]}}},"ss":{"SS":["b","a"]}}})");
  json::object g = f.Ok("GetItem", R"({"TableName":"items","Key":{"pk":{"S":"k"}},
      "ProjectionExpression":"#m.a[1], n","ExpressionAttributeNames":{"#m":"m"},
      "ReturnConsumedCapacity":"TOTAL"})");
  CHECK(json::serialize(g.at("Item")) ==
        R"({"m":{"M":{"a":{"L":[{"B":"AAE="}]}}},"n":{"N":"1.5"}})");
  CHECK(g.at("ConsumedCapacity").at("CapacityUnits").as_double() == 0.5);

  json::object u = f.Ok("UpdateItem", R"({"TableName":"items","Key":{"pk":{"S":"k"}},
      "UpdateExpression":"SET n = n + :one","ExpressionAttributeValues":{":one":{"N":"1"}},
      "ReturnValues":"UPDATED_NEW"})");
  CHECK(json::serialize(u.at("Attributes")) == R"({"n":{"N":"2.5"}})");

  auto e = f.Err("DeleteItem", R"({"TableName":"items","Key":{"pk":{"S":"k"}},
      "ConditionExpression":"n > :v","ExpressionAttributeValues":{":v":{"N":"10"}},
      "ReturnValuesOnConditionCheckFailure":"ALL_OLD"})");
  CHECK(e.first == "ConditionalCheckFailedException");
  CHECK(e.second == "The conditional request failed");
  json::object d = f.Ok("DeleteItem", R"({"TableName":"items","Key":{"pk":{"S":"k"}},
      "ReturnValues":"ALL_OLD","ReturnConsumedCapacity":"TOTAL"})");
  CHECK(d.at("Attributes").at("n").at("N").as_string() == "2.5");
  CHECK(d.at("ConsumedCapacity").at("CapacityUnits").as_double() == 1.0);
  CHECK(!f.Ok("GetItem", R"({"TableName":"items","Key":{"pk":{"S":"k"}}})").contains("Item"));
}

TEST_CASE("items: validation errors") {
  Fixture f;
  f.CreateTable("items");
  auto e = f.Err("PutItem", R"({"TableName":"items","Item":{"x":{"S":"k"}}})");
  CHECK(e.second == "One or more parameter values were invalid: Missing the key pk in the item");
  e = f.Err("GetItem", R"({"TableName":"items","Key":{"pk":{"N":"1"}}})");
  CHECK(e.second == "The provided key element does not match the schema");
  e = f.Err("PutItem", R"({"TableName":"nope","Item":{"pk":{"S":"k"}}})");
  CHECK(e.first == "ResourceNotFoundException");
  CHECK(e.second == "Requested resource not found");
  e = f.Err("PutItem", R"({"TableName":"items","Item":{"pk":{"S":"k"},"a":{}}})");
  CHECK(e.second ==
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
  e = f.Err("PutItem", R"({"TableName":"items","Item":{"pk":{"S":"k"}},"ReturnValues":"ALL_NEW"})");
  CHECK(e.second == "ReturnValues can only be ALL_OLD or NONE");
  e = f.Err("PutItem", R"J({"TableName":"items","Item":{"pk":{"S":"k"}},
      "ConditionExpression":"attribute_exists(pk)","Expected":{"pk":{"Exists":false}}})J");
  CHECK(e.second ==
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}");
  e = f.Err("PutItem", R"({"TableName":"items","Item":{"pk":{"S":"k"}},
      "ExpressionAttributeNames":{"#a":"a"}})");
  CHECK(e.second == "ExpressionAttributeNames can only be specified when using expressions");
  e = f.Err("PutItem", R"({"TableName":"items","Item":{"pk":{"S":"k"},"b":{"B":"abc"}}})");
  CHECK(e.first == "SerializationException");
}

TEST_CASE("base64 round trip and strict decoding") {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    CHECK(api::Base64Decode(basalt::Base64Encode(s)) == s);
  }
  CHECK(basalt::Base64Encode("ab") == "YWI=");
  CHECK_THROWS_AS(api::Base64Decode("YWI"), api::ApiError);
  CHECK_THROWS_AS(api::Base64Decode("Y=WI"), api::ApiError);
  CHECK_THROWS_AS(api::Base64Decode("YW!="), api::ApiError);
}

TEST_CASE("error bodies stay valid UTF-8: ValidUtf8 and Base64 errors echo whole characters") {
  CHECK(api::ValidUtf8("plain \xc3\xa9 \xf0\x9f\x98\x80") == "plain \xc3\xa9 \xf0\x9f\x98\x80");
  CHECK(api::ValidUtf8("a\xc3") == "a\xef\xbf\xbd");                // truncated sequence
  CHECK(api::ValidUtf8("\x80z") == "\xef\xbf\xbdz");                // stray continuation byte
  CHECK(api::ValidUtf8("\xc0\xaf") == "\xef\xbf\xbd\xef\xbf\xbd");  // overlong '/'
  CHECK(api::ValidUtf8("\xed\xa0\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate
  CHECK(api::ValidUtf8("\xf4\x90\x80\x80").find('\xf4') == std::string::npos);      // > U+10FFFF
  CHECK(api::Quote("x\xe2\x82") == "'x\xef\xbf\xbd\xef\xbf\xbd'");

  Fixture f;
  f.CreateTable("utf8");
  // "é" is two bytes: the message names the whole character, and the length
  // is counted in characters, as DynamoDB (Java) counts it.
  for (const std::string& b64 : {std::string("YW\xc3\xa9="), std::string("\xc3\xa9YWI="),
                                 std::string("YWJj\xf0\x9f\x98\x80YW=")}) {
    HttpResponse r = f.Raw(
        "PutItem", R"({"TableName":"utf8","Item":{"pk":{"S":"k"},"b":{"B":")" + b64 + R"("}}})");
    INFO(b64, " -> ", r.body);
    CHECK(r.status == 400);
    CHECK(api::ValidUtf8(r.body) == r.body);
    json::object o = json::parse(r.body).as_object();
    CHECK(o.at("__type").as_string() == "com.amazon.coral.service#SerializationException");
  }
  auto e =
      f.Err("PutItem", R"({"TableName":"utf8","Item":{"pk":{"S":"k"},"b":{"B":"YW\u00e9="}}})");
  CHECK(e.second == "Invalid Base64 character: '\xc3\xa9'");
  e = f.Err("PutItem", R"({"TableName":"utf8","Item":{"pk":{"S":"k"},"b":{"BS":["\u00e9YW"]}}})");
  CHECK(e.second == "Base64 encoded length is expected a multiple of 4 bytes but found: 3");
  e = f.Err("PutItem",
            R"({"TableName":"utf8","Item":{"pk":{"S":"k"},"b":{"B":"YW\ud83d\ude00"}}})");
  CHECK(e.second == "Invalid Base64 character: '\xf0\x9f\x98\x80'");
}

TEST_CASE("integer members: only an integer literal in the Java type's range") {
  Fixture f;
  f.CreateTable("ints");
  const std::string q = R"({"TableName":"ints","KeyConditionExpression":"pk = :p",
      "ExpressionAttributeValues":{":p":{"S":"k"}},"Limit":)";
  const std::string s = R"({"TableName":"ints","Segment":0,"TotalSegments":)";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"1.5", "DECIMAL_VALUE cannot be converted to Integer"},
      {"1e2", "DECIMAL_VALUE cannot be converted to Integer"},
      {"1e999999", "NUMBER_VALUE cannot be converted to Integer"},
      {"2147483648", "NUMBER_VALUE cannot be converted to Integer"},
      {"-2147483649", "NUMBER_VALUE cannot be converted to Integer"},
      {"9223372036854775808", "NUMBER_VALUE cannot be converted to Integer"},
      {std::string(1000, '7'), "NUMBER_VALUE cannot be converted to Integer"},
      {R"("5")", "STRING_VALUE cannot be converted to Integer"},
      {"true", "TRUE_VALUE cannot be converted to Integer"},
  };
  for (const auto& [value, message] : bad) {
    // The macro's lambda may not capture a structured binding (clang 14).
    const std::string& v = value;
    INFO(v);
    auto e = f.Err("Query", q + value + "}");
    CHECK(e.first == "SerializationException");
    CHECK(e.second == message);
    e = f.Err("Scan", s + value + "}");
    CHECK(e.first == "SerializationException");
    CHECK(e.second == message);
    e = f.Err("ListTables", R"({"Limit":)" + value + "}");
    CHECK(e.first == "SerializationException");
    CHECK(e.second == message);
  }
  // In range: the constraint checks decide, as before.
  CHECK(f.Ok("Query", q + "2147483647}").at("Count").as_int64() == 0);
  CHECK(f.Err("Query", q + "-2147483648}").first == "ValidationException");
  // ProvisionedThroughput's units are Long: past 2^31 is a value (out of
  // DynamoDB's bounds), past 2^63 a SerializationException.
  const std::string ct =
      R"({"TableName":"ints2","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
      "ProvisionedThroughput":{"WriteCapacityUnits":1,"ReadCapacityUnits":)";
  CHECK(f.Err("CreateTable", ct + "1000000000001}}").second ==
        "Given value 1000000000001 for ReadCapacityUnits is out of bounds");
  auto e = f.Err("CreateTable", ct + "9223372036854775808}}");
  CHECK(e.first == "SerializationException");
  CHECK(e.second == "NUMBER_VALUE cannot be converted to Long");
  e = f.Err("CreateTable", ct + "2.5}}");
  CHECK(e.second == "DECIMAL_VALUE cannot be converted to Long");
  // Other members name a decimal literal DECIMAL_VALUE too.
  CHECK(f.Err("ListTables", R"({"ExclusiveStartTableName":34.56})").second ==
        "DECIMAL_VALUE cannot be converted to String");
}

TEST_CASE("map nesting: ValidationException at every depth the JSON parser accepts") {
  Fixture f;
  f.CreateTable("deep");
  // levels: the number of nested M values (1 = a map of a scalar).
  auto put = [&](int levels) {
    // Built front and back in one pass: wrapping the value once per level
    // copies it each time (quadratic: minutes for 100000 levels under ASan).
    std::string v;
    for (int i = 0; i < levels; i++) v += R"({"M":{"a":)";
    v += R"({"S":"x"})";
    v.append(2 * static_cast<size_t>(levels), '}');
    return f.Raw("PutItem", R"({"TableName":"deep","Item":{"pk":{"S":"k"},"n":)" + v + "}}");
  };
  CHECK(put(31).status == 200);  // 32 levels with the scalar: DynamoDB's limit
  for (int levels : {32, 50, 126, 127, 128, 300, 497}) {
    HttpResponse r = put(levels);
    INFO(levels, " -> ", r.body.substr(0, 200));
    CHECK(r.status == 400);
    CHECK(r.body.find("ValidationException") != std::string::npos);
    CHECK(r.body.find("Nesting Levels have exceeded supported limits") != std::string::npos);
  }
  // Deeper than the parser's bound (1000 JSON levels, Jackson's default):
  // unparsable JSON, answered without a crash.
  HttpResponse r = put(600);
  CHECK(r.status == 400);
  CHECK(r.body.find("SerializationException") != std::string::npos);
  r = put(100000);
  CHECK(r.status == 400);
  CHECK(r.body.find("SerializationException") != std::string::npos);
}

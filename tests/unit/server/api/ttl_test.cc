// UpdateTimeToLive and DescribeTimeToLive through api::Service: the settled
// states, DynamoDB's error texts, and expiry by the table layer's sweeper.
#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>
#include <chrono>
#include <string>

#include "tests/unit/server/api/api_fixture.h"

using namespace basalt;
namespace json = boost::json;

namespace {

std::string Spec(const std::string& table, const std::string& attr, bool enabled) {
  return R"({"TableName":")" + table + R"(","TimeToLiveSpecification":{"AttributeName":")" + attr +
         R"(","Enabled":)" + (enabled ? "true" : "false") + "}}";
}

std::string Describe(test::ApiFixture& f, const std::string& table) {
  return json::serialize(f.Ok("DescribeTimeToLive", R"({"TableName":")" + table + R"("})"));
}

}  // namespace

TEST_CASE("ttl api: enable, describe, disable") {
  test::ApiFixture f;
  f.CreateTable("tbl", "S");
  CHECK(Describe(f, "tbl") == R"({"TimeToLiveDescription":{"TimeToLiveStatus":"DISABLED"}})");

  json::object r = f.Ok("UpdateTimeToLive", Spec("tbl", "expires", true));
  CHECK(json::serialize(r) ==
        R"({"TimeToLiveSpecification":{"AttributeName":"expires","Enabled":true}})");
  CHECK(Describe(f, "tbl") ==
        R"({"TimeToLiveDescription":{"TimeToLiveStatus":"ENABLED","AttributeName":"expires"}})");

  r = f.Ok("UpdateTimeToLive", Spec("tbl", "expires", false));
  CHECK(json::serialize(r) ==
        R"({"TimeToLiveSpecification":{"AttributeName":"expires","Enabled":false}})");
  CHECK(Describe(f, "tbl") == R"({"TimeToLiveDescription":{"TimeToLiveStatus":"DISABLED"}})");

  // Re-enabling on another attribute after a disable is allowed.
  f.Ok("UpdateTimeToLive", Spec("tbl", "other", true));
  CHECK(Describe(f, "tbl") ==
        R"({"TimeToLiveDescription":{"TimeToLiveStatus":"ENABLED","AttributeName":"other"}})");
}

TEST_CASE("ttl api: state errors as DynamoDB words them") {
  test::ApiFixture f;
  f.CreateTable("tbl", "S");
  auto e = f.Err("UpdateTimeToLive", Spec("tbl", "expires", false));
  CHECK(e.first == "ValidationException");
  CHECK(e.second == "TimeToLive is already disabled");

  f.Ok("UpdateTimeToLive", Spec("tbl", "expires", true));
  e = f.Err("UpdateTimeToLive", Spec("tbl", "expires", true));
  CHECK(e.first == "ValidationException");
  CHECK(e.second == "TimeToLive is already enabled");
  e = f.Err("UpdateTimeToLive", Spec("tbl", "new", true));
  CHECK(e.first == "ValidationException");
  CHECK(e.second ==
        "TimeToLive is active on a different AttributeName: current AttributeName is expires");
  e = f.Err("UpdateTimeToLive", Spec("tbl", "dog", false));
  CHECK(e.first == "ValidationException");
  CHECK(e.second ==
        "TimeToLive is active on a different AttributeName: current AttributeName is expires");
  // Nothing changed.
  CHECK(Describe(f, "tbl") ==
        R"({"TimeToLiveDescription":{"TimeToLiveStatus":"ENABLED","AttributeName":"expires"}})");
}

TEST_CASE("ttl api: missing table and request validation") {
  test::ApiFixture f;
  f.CreateTable("tbl", "S");
  auto e = f.Err("UpdateTimeToLive", Spec("nosuch", "expires", true));
  CHECK(e.first == "ResourceNotFoundException");
  CHECK(e.second == "Requested resource not found: Table: nosuch not found");
  e = f.Err("DescribeTimeToLive", R"({"TableName":"nosuch"})");
  CHECK(e.first == "ResourceNotFoundException");
  e = f.Err("DescribeTimeToLive", "{}");
  CHECK(e.second == "The parameter 'TableName' is required but was not present in the request");

  e = f.Err("UpdateTimeToLive", R"({"TableName":"tbl"})");
  CHECK(e.first == "ValidationException");
  CHECK(e.second ==
        "1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy "
        "constraint: Member must not be null");
  e = f.Err("UpdateTimeToLive", R"({"TableName":"tbl","TimeToLiveSpecification":{}})");
  CHECK(e.second ==
        "2 validation errors detected: Value null at 'timeToLiveSpecification.attributeName' "
        "failed to satisfy constraint: Member must not be null; Value null at "
        "'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null");
  e = f.Err("UpdateTimeToLive", Spec("tbl", "", true));
  CHECK(e.second ==
        "1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' failed "
        "to satisfy constraint: Member must have length greater than or equal to 1");
  e = f.Err("UpdateTimeToLive", Spec("tbl", std::string(256, 'x'), true));
  CHECK(e.first == "ValidationException");
  CHECK(e.second.find("Member must have length less than or equal to 255") != std::string::npos);
  e = f.Err(
      "UpdateTimeToLive",
      R"({"TableName":"tbl","TimeToLiveSpecification":{"AttributeName":"a","Enabled":"dog"}})");
  CHECK(e.first == "SerializationException");
  // 255 bytes is fine.
  f.Ok("UpdateTimeToLive", Spec("tbl", std::string(255, 'x'), true));
}

TEST_CASE("ttl api: expired items are deleted by a sweep, others stay") {
  test::ApiFixture f;
  f.CreateTable("tbl", "S");
  f.Ok("UpdateTimeToLive", Spec("tbl", "exp", true));
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auto put = [&](const std::string& pk, const std::string& exp) {
    f.Ok("PutItem", R"({"TableName":"tbl","Item":{"pk":{"S":")" + pk + R"("})" + exp + "}}");
  };
  put("old", R"(,"exp":{"N":")" + std::to_string(now - 60) + R"("})");
  put("new", R"(,"exp":{"N":")" + std::to_string(now + 3600) + R"("})");
  put("str", R"(,"exp":{"S":")" + std::to_string(now - 60) + R"("})");
  put("none", "");
  // Still readable before the sweep.
  CHECK(f.Ok("GetItem", R"({"TableName":"tbl","Key":{"pk":{"S":"old"}}})").contains("Item"));
  table::TtlStats st;
  Status s = f.store->SweepExpiredItems(&st);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(st.items_deleted == 1);
  CHECK_FALSE(f.Ok("GetItem", R"({"TableName":"tbl","Key":{"pk":{"S":"old"}}})").contains("Item"));
  for (const char* pk : {"new", "str", "none"}) {
    CHECK(f.Ok("GetItem", std::string(R"({"TableName":"tbl","Key":{"pk":{"S":")") + pk + R"("}}})")
              .contains("Item"));
  }
}

// UpdateContributorInsights, DescribeContributorInsights,
// ListContributorInsights and GET /contributor-insights through api::Service,
// with a fake clock: statuses, rule names, errors, paging, durability.
#include "server/api/contributor_insights.h"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

#include "tests/unit/server/api/api_fixture.h"

using namespace basalt;
namespace json = boost::json;

namespace {

constexpr uint64_t kT0 = 1'700'000'000'000;

struct Fixture : test::ApiFixture {
  uint64_t now = kT0;
  Fixture() { Restart(); }
  // A Service with the fake clock (after Open).
  void Restart() {
    server::api::ServiceOptions o;
    o.now_ms = [this] { return now; };
    service = std::make_unique<server::api::Service>(store.get(), std::move(o));
  }
  void Reopen() {
    Close();
    Open();
    Restart();
  }
  json::object Get(const std::string& target, int* status = nullptr) {
    server::HttpRequest r;
    r.method = "GET";
    r.target = target;
    server::HttpResponse resp;
    server::api::ContributorInsightsGetHandler(service.get(), store.get())(r, &resp);
    if (status != nullptr) *status = resp.status;
    return json::parse(resp.body).as_object();
  }
};

std::string Update(const std::string& table, const std::string& action,
                   const std::string& extra = "") {
  return R"({"TableName":")" + table + R"(","ContributorInsightsAction":")" + action + "\"" +
         extra + "}";
}

std::string S(const json::object& o) { return json::serialize(o); }

const char* kGsi =
    R"(,"GlobalSecondaryIndexes":[{"IndexName":"gsi1","KeySchema":[{"AttributeName":"g",)"
    R"("KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}])";

}  // namespace

TEST_CASE("contributor insights api: enable, describe, disable") {
  Fixture f;
  f.CreateTable("tbl", "S", "N");
  CHECK(S(f.Ok("DescribeContributorInsights", R"({"TableName":"tbl"})")) ==
        R"({"TableName":"tbl","ContributorInsightsStatus":"DISABLED"})");
  // DISABLE of a never-configured table: nothing to do.
  CHECK(S(f.Ok("UpdateContributorInsights", Update("tbl", "DISABLE"))) ==
        R"({"TableName":"tbl","ContributorInsightsStatus":"DISABLED"})");

  CHECK(S(f.Ok("UpdateContributorInsights", Update("tbl", "ENABLE"))) ==
        R"({"TableName":"tbl","ContributorInsightsStatus":"ENABLING",)"
        R"("ContributorInsightsMode":"ACCESSED_AND_THROTTLED_KEYS"})");
  json::object d = f.Ok("DescribeContributorInsights", R"({"TableName":"tbl"})");
  CHECK(d.at("ContributorInsightsStatus") == "ENABLING");
  f.now += 1000;
  d = f.Ok("DescribeContributorInsights", R"({"TableName":"tbl"})");
  CHECK(S(d) == R"({"TableName":"tbl","ContributorInsightsRuleList":[)"
                R"("DynamoDBContributorInsights-PKC-tbl-1700000000000",)"
                R"("DynamoDBContributorInsights-SKC-tbl-1700000000000",)"
                R"("DynamoDBContributorInsights-PKT-tbl-1700000000000",)"
                R"("DynamoDBContributorInsights-SKT-tbl-1700000000000"],)"
                R"("ContributorInsightsStatus":"ENABLED","LastUpdateDateTime":1.7E9,)"
                R"("ContributorInsightsMode":"ACCESSED_AND_THROTTLED_KEYS"})");
  // ENABLE again: no change.
  CHECK(
      f.Ok("UpdateContributorInsights", Update("tbl", "ENABLE")).at("ContributorInsightsStatus") ==
      "ENABLED");
  // THROTTLED_KEYS: the accessed rules go, the names keep their time.
  f.now += 5000;
  CHECK(f.Ok("UpdateContributorInsights",
             Update("tbl", "ENABLE", R"(,"ContributorInsightsMode":"THROTTLED_KEYS")"))
            .at("ContributorInsightsStatus") == "ENABLING");
  f.now += 1000;
  d = f.Ok("DescribeContributorInsights", R"({"TableName":"tbl"})");
  CHECK(S(json::object{{"r", d.at("ContributorInsightsRuleList")}}) ==
        R"({"r":["DynamoDBContributorInsights-PKT-tbl-1700000000000",)"
        R"("DynamoDBContributorInsights-SKT-tbl-1700000000000"]})");

  f.now += 1000;
  CHECK(
      f.Ok("UpdateContributorInsights", Update("tbl", "DISABLE")).at("ContributorInsightsStatus") ==
      "DISABLING");
  CHECK(f.Ok("DescribeContributorInsights", R"({"TableName":"tbl"})")
            .at("ContributorInsightsStatus") == "DISABLING");
  f.now += 2000;
  // Disabled after a cycle: mode and time stay, no rules.
  CHECK(S(f.Ok("DescribeContributorInsights", R"({"TableName":"tbl"})")) ==
        R"({"TableName":"tbl","ContributorInsightsStatus":"DISABLED",)"
        R"("LastUpdateDateTime":1.700000008E9,"ContributorInsightsMode":"THROTTLED_KEYS"})");
  // TableName may be the table's ARN.
  CHECK(f.Ok("DescribeContributorInsights",
             R"({"TableName":"arn:aws:dynamodb:us-east-1:000000000000:table/tbl"})")
            .at("TableName") == "tbl");
}

TEST_CASE("contributor insights api: errors") {
  Fixture f;
  f.CreateTable("tbl", "S");
  CHECK(f.Err("DescribeContributorInsights", R"({"TableName":"nope"})") ==
        std::pair<std::string, std::string>{"ResourceNotFoundException",
                                            "Requested resource not found: Table: nope not found"});
  CHECK(f.Err("UpdateContributorInsights", Update("tbl", "ENABLE", R"(,"IndexName":"idx")")) ==
        std::pair<std::string, std::string>{
            "ResourceNotFoundException",
            "Requested resource not found: Index: idx not found for table: tbl"});
  CHECK(f.Err("ListContributorInsights", R"({"TableName":"nope"})").first ==
        "ResourceNotFoundException");
  CHECK(f.Err("UpdateContributorInsights", R"({"TableName":"tbl"})") ==
        std::pair<std::string, std::string>{
            "ValidationException",
            "1 validation error detected: Value null at 'contributorInsightsAction' failed to "
            "satisfy constraint: Member must not be null"});
  CHECK(f.Err("UpdateContributorInsights", Update("tbl", "ON")).second ==
        "1 validation error detected: Value 'ON' at 'contributorInsightsAction' failed to "
        "satisfy constraint: Member must satisfy enum value set: [ENABLE, DISABLE]");
  CHECK(f.Err("UpdateContributorInsights",
              Update("tbl", "ENABLE", R"(,"ContributorInsightsMode":"ALL")"))
            .second ==
        "1 validation error detected: Value 'ALL' at 'contributorInsightsMode' failed to satisfy "
        "constraint: Member must satisfy enum value set: [ACCESSED_AND_THROTTLED_KEYS, "
        "THROTTLED_KEYS]");
  CHECK(f.Err("ListContributorInsights", R"({"MaxResults":101})").second ==
        "1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: "
        "Member must have value less than or equal to 100");
  CHECK(f.Err("ListContributorInsights", R"({"NextToken":"zz"})").second == "Invalid NextToken");
  CHECK(f.Err("DescribeContributorInsights", R"({})").first == "ValidationException");
}

TEST_CASE("contributor insights api: GSI rules, list paging, restart") {
  Fixture f;
  f.Ok("CreateTable",
       R"({"TableName":"b-tbl","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
       R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},)"
       R"({"AttributeName":"g","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST")" +
           std::string(kGsi) + "}");
  f.CreateTable("a-tbl", "S");
  f.Ok("UpdateContributorInsights", Update("b-tbl", "ENABLE"));
  f.Ok("UpdateContributorInsights", Update("b-tbl", "ENABLE", R"(,"IndexName":"gsi1")"));
  f.Ok("UpdateContributorInsights", Update("a-tbl", "ENABLE"));
  f.now += 1000;
  json::object d =
      f.Ok("DescribeContributorInsights", R"({"TableName":"b-tbl","IndexName":"gsi1"})");
  CHECK(S(json::object{{"r", d.at("ContributorInsightsRuleList")}}) ==
        R"({"r":["DynamoDBContributorInsights-PKC-b-tbl-gsi1-1700000000000",)"
        R"("DynamoDBContributorInsights-PKT-b-tbl-gsi1-1700000000000"]})");

  // One per page, in order: a-tbl, b-tbl, b-tbl/gsi1.
  std::vector<std::string> seen;
  std::string token;
  for (int page = 0; page < 5; page++) {
    std::string req = R"({"MaxResults":1)";
    if (!token.empty()) req += R"(,"NextToken":")" + token + "\"";
    json::object r = f.Ok("ListContributorInsights", req + "}");
    for (const auto& s : r.at("ContributorInsightsSummaries").as_array()) {
      const auto& o = s.as_object();
      CHECK(o.at("ContributorInsightsStatus") == "ENABLED");
      CHECK(o.at("ContributorInsightsMode") == "ACCESSED_AND_THROTTLED_KEYS");
      seen.push_back(
          std::string(o.at("TableName").as_string()) +
          (o.contains("IndexName") ? "/" + std::string(o.at("IndexName").as_string()) : ""));
    }
    if (!r.contains("NextToken")) break;
    token = std::string(r.at("NextToken").as_string());
  }
  CHECK(seen == std::vector<std::string>{"a-tbl", "b-tbl", "b-tbl/gsi1"});
  CHECK(f.Ok("ListContributorInsights", R"({"TableName":"b-tbl"})")
            .at("ContributorInsightsSummaries")
            .as_array()
            .size() == 2);

  // Counting, the endpoint, and the settings across a restart.
  auto& ci = f.service->contributor_insights();
  ci.Record("b-tbl", "gsi1", R"({"S":"hot"})", "", 3, false);
  ci.Record("b-tbl", "gsi1", R"({"S":"cold"})", "", 1, false);
  json::object g = f.Get("/contributor-insights?TableName=b-tbl&IndexName=gsi1");
  CHECK(S(g) ==
        R"({"TableName":"b-tbl","IndexName":"gsi1","ContributorInsightsStatus":"ENABLED",)"
        R"("ContributorInsightsMode":"ACCESSED_AND_THROTTLED_KEYS","Rules":[)"
        R"({"RuleName":"DynamoDBContributorInsights-PKC-b-tbl-gsi1-1700000000000","Kind":"PKC",)"
        R"("WindowSeconds":60,"TopContributors":[{"Keys":[{"S":"hot"}],"Value":3E0},)"
        R"({"Keys":[{"S":"cold"}],"Value":1E0}]},)"
        R"({"RuleName":"DynamoDBContributorInsights-PKT-b-tbl-gsi1-1700000000000","Kind":"PKT",)"
        R"("WindowSeconds":60,"TopContributors":[]}]})");
  CHECK(f.Get("/contributor-insights").at("ContributorInsights").as_array().size() == 3);
  int status = 0;
  f.Get("/contributor-insights?TableName=zzz", &status);
  CHECK(status == 404);
  f.Get("/contributor-insights?TableName=b-tbl&WindowSeconds=7", &status);
  CHECK(status == 400);

  f.Ok("UpdateContributorInsights", Update("a-tbl", "DISABLE"));
  f.Reopen();
  f.now += 10'000;
  CHECK(f.service->contributor_insights().Enabled("b-tbl", "gsi1"));
  CHECK(f.service->contributor_insights().Enabled("b-tbl", ""));
  CHECK_FALSE(f.service->contributor_insights().Enabled("a-tbl", ""));
  CHECK(f.Ok("DescribeContributorInsights", R"({"TableName":"b-tbl","IndexName":"gsi1"})")
            .at("ContributorInsightsStatus") == "ENABLED");
  CHECK(
      f.Ok("ListContributorInsights", "{}").at("ContributorInsightsSummaries").as_array().size() ==
      2);

  // A table deleted and re-created under the same name starts unconfigured.
  f.Ok("DeleteTable", R"({"TableName":"b-tbl"})");
  f.CreateTable("b-tbl", "S");
  CHECK(S(f.Ok("DescribeContributorInsights", R"({"TableName":"b-tbl"})")) ==
        R"({"TableName":"b-tbl","ContributorInsightsStatus":"DISABLED"})");
  CHECK(
      f.Ok("ListContributorInsights", "{}").at("ContributorInsightsSummaries").as_array().empty());
  CHECK_FALSE(f.service->contributor_insights().Enabled("b-tbl", "gsi1"));
}

// IAM-style policies: parsing, each element and condition operator, policy
// variables, resource policies and Authorize (server/auth/policy.h).
#include "server/auth/policy.h"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace basalt;
using namespace basalt::server::auth;

namespace {

constexpr std::string_view kAccount = "123456789012";
const std::string kTable = "arn:aws:dynamodb:us-east-1:123456789012:table/T";
const std::string kIndex = "arn:aws:dynamodb:us-east-1:123456789012:table/T/index/I";
const std::string kStream =
    "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2024-05-01T00:00:00.000";

Policy MustParse(std::string_view text, Policy::Kind kind = Policy::Kind::kIdentity) {
  Policy p;
  Status s = Policy::Parse(text, kind, &p);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return p;
}

// The message of a parse that must fail with InvalidArgument.
std::string ParseError(std::string_view text, Policy::Kind kind = Policy::Kind::kIdentity) {
  Policy p;
  Status s = Policy::Parse(text, kind, &p);
  CHECK_MESSAGE(s.IsInvalidArgument(), s.ToString());
  return std::string(s.message());
}

AccessRequest Req(std::string action, std::string resource = kTable, std::string user = "alice") {
  AccessRequest r;
  r.principal.account = std::string(kAccount);
  r.principal.arn = "arn:aws:iam::123456789012:user/" + user;
  r.principal.username = user;
  r.principal.userid = "AIDA" + user;
  r.action = std::move(action);
  r.resource = std::move(resource);
  return r;
}

// An identity policy with one statement allowing every DynamoDB action on
// every resource under `condition` (a JSON object).
std::string AllowIf(std::string_view condition, std::string_view version = "2012-10-17") {
  return std::string(R"({"Version":")") + std::string(version) +
         R"(","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":)" +
         std::string(condition) + "}}";
}

// Whether AllowIf(condition) allows a GetItem request with `keys`.
bool AllowedWith(std::string_view condition, const ConditionKeys& keys = {},
                 std::string_view version = "2012-10-17") {
  Policy p = MustParse(AllowIf(condition, version));
  AccessRequest r = Req("dynamodb:GetItem");
  r.keys = keys;
  return p.Evaluate(r) == Decision::kAllow;
}

ConditionKeys Keys(std::string_view name, std::vector<std::string> values) {
  ConditionKeys k;
  if (values.empty()) SetConditionKeyEmpty(&k, name);
  for (std::string& v : values) AddConditionKey(&k, name, std::move(v));
  return k;
}

std::string Identity(std::string_view statements) {
  return std::string(R"({"Version":"2012-10-17","Statement":)") + std::string(statements) + "}";
}

Decision EvalIdentity(std::string_view statements, const AccessRequest& r) {
  return MustParse(Identity(statements)).Evaluate(r);
}

}  // namespace

TEST_CASE("policy: Action exact, wildcards, case-insensitive, arrays") {
  auto allows = [](std::string_view action_json, std::string_view action) {
    return EvalIdentity(std::string(R"({"Effect":"Allow","Action":)") + std::string(action_json) +
                            R"(,"Resource":"*"})",
                        Req(std::string(action))) == Decision::kAllow;
  };
  CHECK(allows(R"("dynamodb:GetItem")", "dynamodb:GetItem"));
  CHECK_FALSE(allows(R"("dynamodb:GetItem")", "dynamodb:PutItem"));
  CHECK_FALSE(allows(R"("dynamodb:GetItem")", "dynamodb:GetItems"));
  // Service prefix and action name are case-insensitive, both ways.
  CHECK(allows(R"("DynamoDB:getitem")", "dynamodb:GetItem"));
  CHECK(allows(R"("dynamodb:GetItem")", "DYNAMODB:GETITEM"));
  CHECK(allows(R"("dynamodb:Get*")", "dynamodb:GetItem"));
  CHECK(allows(R"("dynamodb:Get*")", "dynamodb:GetRecords"));
  CHECK_FALSE(allows(R"("dynamodb:Get*")", "dynamodb:BatchGetItem"));
  CHECK(allows(R"("dynamodb:*Item")", "dynamodb:BatchGetItem"));
  CHECK_FALSE(allows(R"("dynamodb:*Item")", "dynamodb:Query"));
  CHECK(allows(R"("dynamodb:?etItem")", "dynamodb:GetItem"));
  CHECK_FALSE(allows(R"("dynamodb:?etItem")", "dynamodb:BatchGetItem"));
  CHECK(allows(R"("dynamodb:*")", "dynamodb:DeleteTable"));
  CHECK_FALSE(allows(R"("dynamodb:*")", "s3:GetObject"));
  CHECK(allows(R"("*")", "s3:GetObject"));
  CHECK(allows(R"(["dynamodb:Query","dynamodb:Scan"])", "dynamodb:Scan"));
  CHECK_FALSE(allows(R"(["dynamodb:Query","dynamodb:Scan"])", "dynamodb:GetItem"));
  // Backtracking: the first '*' must not swallow too much.
  CHECK(allows(R"("dynamodb:*Get*Item")", "dynamodb:BatchGetItem"));
  CHECK_FALSE(allows(R"("dynamodb:*Get*Items")", "dynamodb:BatchGetItem"));
}

TEST_CASE("policy: NotAction") {
  const std::string st = R"({"Effect":"Allow","NotAction":["dynamodb:Delete*","dynamodb:Update*"],
                             "Resource":"*"})";
  CHECK(EvalIdentity(st, Req("dynamodb:GetItem")) == Decision::kAllow);
  CHECK(EvalIdentity(st, Req("dynamodb:PutItem")) == Decision::kAllow);
  CHECK(EvalIdentity(st, Req("dynamodb:DeleteItem")) == Decision::kImplicitDeny);
  CHECK(EvalIdentity(st, Req("dynamodb:DeleteTable")) == Decision::kImplicitDeny);
  CHECK(EvalIdentity(st, Req("dynamodb:updateitem")) == Decision::kImplicitDeny);
  // Deny with NotAction: deny everything except reads.
  const std::string deny = R"([{"Effect":"Allow","Action":"*","Resource":"*"},
      {"Effect":"Deny","NotAction":["dynamodb:Get*","dynamodb:Query"],"Resource":"*"}])";
  CHECK(EvalIdentity(deny, Req("dynamodb:Query")) == Decision::kAllow);
  CHECK(EvalIdentity(deny, Req("dynamodb:PutItem")) == Decision::kExplicitDeny);
}

TEST_CASE("policy: Resource ARNs, index/stream wildcards, segments, case") {
  auto allows = [](std::string_view resource_json, const std::string& resource) {
    return EvalIdentity(std::string(R"({"Effect":"Allow","Action":"dynamodb:*","Resource":)") +
                            std::string(resource_json) + "}",
                        Req("dynamodb:Query", resource)) == Decision::kAllow;
  };
  const std::string table_json = "\"" + kTable + "\"";
  CHECK(allows(table_json, kTable));
  // A table's ARN does not cover its indexes or streams.
  CHECK_FALSE(allows(table_json, kIndex));
  CHECK_FALSE(allows(table_json, kStream));
  const std::string indexes = "\"" + kTable + "/index/*\"";
  CHECK(allows(indexes, kIndex));
  CHECK(allows(indexes, kTable + "/index/Other"));
  CHECK_FALSE(allows(indexes, kTable));
  CHECK_FALSE(allows(indexes, kStream));
  CHECK(allows("\"" + kTable + "/stream/*\"", kStream));
  // The last segment's '*' spans '/', so table/T* covers T2 and T's indexes.
  const std::string prefix = R"("arn:aws:dynamodb:us-east-1:123456789012:table/T*")";
  CHECK(allows(prefix, kTable));
  CHECK(allows(prefix, kIndex));
  CHECK(allows(prefix, "arn:aws:dynamodb:us-east-1:123456789012:table/T2"));
  CHECK_FALSE(allows(prefix, "arn:aws:dynamodb:us-east-1:123456789012:table/U"));
  // Region and account wildcards.
  const std::string any_region = R"("arn:aws:dynamodb:*:*:table/T")";
  CHECK(allows(any_region, kTable));
  CHECK(allows(any_region, "arn:aws:dynamodb:eu-west-1:999999999999:table/T"));
  CHECK_FALSE(allows(any_region, kIndex));
  // A wildcard in a middle segment never spans a colon.
  CHECK_FALSE(allows(R"("arn:aws:dynamodb:*:table/T")", kTable));
  CHECK(allows(R"("arn:aws:dynamodb:us-*-1:123456789012:table/*")", kTable));
  // '?' is one character; matching is case-sensitive.
  CHECK(allows(R"("arn:aws:dynamodb:us-east-1:123456789012:table/?")", kTable));
  CHECK_FALSE(allows(R"("arn:aws:dynamodb:us-east-1:123456789012:table/?")",
                     "arn:aws:dynamodb:us-east-1:123456789012:table/TT"));
  CHECK_FALSE(allows(R"("arn:aws:dynamodb:us-east-1:123456789012:table/t")", kTable));
  CHECK(allows(R"("*")", kStream));
  CHECK(allows(R"(["arn:aws:dynamodb:us-east-1:123456789012:table/X",")" + kTable + "\"]", kTable));
}

TEST_CASE("policy: NotResource") {
  const std::string st = R"({"Effect":"Allow","Action":"dynamodb:*",
      "NotResource":"arn:aws:dynamodb:us-east-1:123456789012:table/Secret*"})";
  CHECK(EvalIdentity(st, Req("dynamodb:GetItem")) == Decision::kAllow);
  CHECK(EvalIdentity(
            st, Req("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/Secret")) ==
        Decision::kImplicitDeny);
  CHECK(EvalIdentity(st, Req("dynamodb:Query",
                             "arn:aws:dynamodb:us-east-1:123456789012:table/Secret/index/I")) ==
        Decision::kImplicitDeny);
}

TEST_CASE("policy: Deny wins over Allow, default deny, statement index and Sid") {
  Policy p = MustParse(Identity(R"([
      {"Sid":"All","Effect":"Allow","Action":"dynamodb:*","Resource":"*"},
      {"Sid":"NoDelete","Effect":"Deny","Action":"dynamodb:DeleteTable","Resource":"*"}])"));
  int st = -2;
  CHECK(p.Evaluate(Req("dynamodb:GetItem"), &st) == Decision::kAllow);
  CHECK(st == 0);
  CHECK(p.Evaluate(Req("dynamodb:DeleteTable"), &st) == Decision::kExplicitDeny);
  CHECK(st == 1);
  CHECK(p.statement_sid(1) == "NoDelete");
  CHECK(p.statement_count() == 2);
  CHECK(p.version() == "2012-10-17");
  // Nothing allows s3.
  CHECK(p.Evaluate(Req("s3:GetObject"), &st) == Decision::kImplicitDeny);
  CHECK(st == -1);
  // The empty policy allows nothing.
  CHECK(Policy().Evaluate(Req("dynamodb:GetItem")) == Decision::kImplicitDeny);
  // A Deny that does not apply changes nothing.
  CHECK(EvalIdentity(R"([{"Effect":"Allow","Action":"*","Resource":"*"},
      {"Effect":"Deny","Action":"dynamodb:PutItem","Resource":"*"}])",
                     Req("dynamodb:GetItem")) == Decision::kAllow);
  // Order does not matter.
  CHECK(EvalIdentity(R"([{"Effect":"Deny","Action":"*","Resource":"*"},
      {"Effect":"Allow","Action":"*","Resource":"*"}])",
                     Req("dynamodb:GetItem")) == Decision::kExplicitDeny);
  CHECK(DecisionName(Decision::kExplicitDeny) == "ExplicitDeny");
}

TEST_CASE("policy: string operators") {
  const ConditionKeys get = Keys("dynamodb:Select", {"ALL_ATTRIBUTES"});
  CHECK(AllowedWith(R"({"StringEquals":{"dynamodb:Select":"ALL_ATTRIBUTES"}})", get));
  CHECK_FALSE(AllowedWith(R"({"StringEquals":{"dynamodb:Select":"all_attributes"}})", get));
  CHECK(AllowedWith(R"({"StringEquals":{"dynamodb:Select":["COUNT","ALL_ATTRIBUTES"]}})", get));
  CHECK_FALSE(AllowedWith(R"({"StringNotEquals":{"dynamodb:Select":"ALL_ATTRIBUTES"}})", get));
  CHECK(AllowedWith(R"({"StringNotEquals":{"dynamodb:Select":"COUNT"}})", get));
  // Negated with several values: NOR.
  CHECK_FALSE(
      AllowedWith(R"({"StringNotEquals":{"dynamodb:Select":["COUNT","ALL_ATTRIBUTES"]}})", get));
  CHECK(AllowedWith(R"({"StringEqualsIgnoreCase":{"dynamodb:Select":"all_attributes"}})", get));
  CHECK_FALSE(AllowedWith(R"({"StringEqualsIgnoreCase":{"dynamodb:Select":"count"}})", get));
  CHECK_FALSE(
      AllowedWith(R"({"StringNotEqualsIgnoreCase":{"dynamodb:Select":"all_ATTRIBUTES"}})", get));
  CHECK(AllowedWith(R"({"StringNotEqualsIgnoreCase":{"dynamodb:Select":"count"}})", get));
  CHECK(AllowedWith(R"({"StringLike":{"dynamodb:Select":"ALL_*"}})", get));
  CHECK(AllowedWith(R"({"StringLike":{"dynamodb:Select":"ALL?ATTRIBUTES"}})", get));
  CHECK_FALSE(AllowedWith(R"({"StringLike":{"dynamodb:Select":"all_*"}})", get));
  CHECK_FALSE(AllowedWith(R"({"StringLike":{"dynamodb:Select":"SPECIFIC_*"}})", get));
  CHECK_FALSE(AllowedWith(R"({"StringNotLike":{"dynamodb:Select":"*ATTR*"}})", get));
  CHECK(AllowedWith(R"({"StringNotLike":{"dynamodb:Select":"COUNT*"}})", get));
  // In StringEquals, '*' is an ordinary character.
  CHECK_FALSE(AllowedWith(R"({"StringEquals":{"dynamodb:Select":"ALL_*"}})", get));
  CHECK(AllowedWith(R"({"StringEquals":{"dynamodb:Select":"ALL_*"}})",
                    Keys("dynamodb:Select", {"ALL_*"})));
  // '?' is one code point, not one byte.
  CHECK(AllowedWith(R"({"StringLike":{"aws:username":"b?b"}})", {}) == false);
  Policy p = MustParse(AllowIf(R"({"StringLike":{"aws:username":"j?rg"}})"));
  CHECK(p.Evaluate(Req("dynamodb:GetItem", kTable, "j\xC3\xB6rg")) == Decision::kAllow);
  CHECK(p.Evaluate(Req("dynamodb:GetItem", kTable, "jrg")) == Decision::kImplicitDeny);
}

TEST_CASE("policy: condition keys are case-insensitive, values per operator") {
  ConditionKeys k;
  AddConditionKey(&k, "DynamoDB:ReturnValues", "ALL_OLD");
  CHECK(k.count("dynamodb:returnvalues") == 1);
  CHECK(AllowedWith(R"({"StringEquals":{"dynamodb:returnvalues":"ALL_OLD"}})", k));
  CHECK(AllowedWith(R"({"StringEquals":{"DYNAMODB:RETURNVALUES":"ALL_OLD"}})", k));
  SetConditionKey(&k, "dynamodb:ReturnValues", "NONE");
  CHECK(k["dynamodb:returnvalues"].size() == 1);
  CHECK_FALSE(AllowedWith(R"({"StringEquals":{"dynamodb:ReturnValues":"ALL_OLD"}})", k));
  // A key stored without the helpers, in mixed case, is still found (a Deny
  // on it must not be dodged by spelling).
  ConditionKeys raw;
  raw["dynamodb:Attributes"] = {"id", "ssn"};
  Policy p = MustParse(Identity(R"([{"Effect":"Allow","Action":"*","Resource":"*"},
      {"Effect":"Deny","Action":"*","Resource":"*",
       "Condition":{"ForAnyValue:StringEquals":{"dynamodb:attributes":"ssn"}}}])"));
  AccessRequest r = Req("dynamodb:GetItem");
  r.keys = raw;
  CHECK(p.Evaluate(r) == Decision::kExplicitDeny);
  // Keys the evaluator takes from the principal win over request keys.
  AccessRequest spoof = Req("dynamodb:GetItem", kTable, "alice");
  SetConditionKey(&spoof.keys, "aws:username", "bob");
  SetConditionKey(&spoof.keys, "test:Owner", "bob");
  Policy own = MustParse(AllowIf(R"({"StringEquals":{"test:Owner":"${aws:username}"}})"));
  CHECK(own.Evaluate(spoof) == Decision::kImplicitDeny);
  SetConditionKey(&spoof.keys, "test:Owner", "alice");
  CHECK(own.Evaluate(spoof) == Decision::kAllow);
}

TEST_CASE("policy: numeric operators") {
  const ConditionKeys k = Keys("dynamodb:Limit", {"10"});
  CHECK(AllowedWith(R"({"NumericEquals":{"dynamodb:Limit":"10"}})", k));
  CHECK(AllowedWith(R"({"NumericEquals":{"dynamodb:Limit":"10.0"}})", k));
  CHECK(AllowedWith(R"({"NumericEquals":{"dynamodb:Limit":10}})", k));  // a JSON number
  CHECK_FALSE(AllowedWith(R"({"NumericEquals":{"dynamodb:Limit":"11"}})", k));
  CHECK(AllowedWith(R"({"NumericNotEquals":{"dynamodb:Limit":"11"}})", k));
  CHECK_FALSE(AllowedWith(R"({"NumericNotEquals":{"dynamodb:Limit":"10"}})", k));
  CHECK(AllowedWith(R"({"NumericLessThan":{"dynamodb:Limit":"11"}})", k));
  CHECK_FALSE(AllowedWith(R"({"NumericLessThan":{"dynamodb:Limit":"10"}})", k));
  CHECK(AllowedWith(R"({"NumericLessThanEquals":{"dynamodb:Limit":"10"}})", k));
  CHECK_FALSE(AllowedWith(R"({"NumericLessThanEquals":{"dynamodb:Limit":"9.5"}})", k));
  CHECK(AllowedWith(R"({"NumericGreaterThan":{"dynamodb:Limit":"9.5"}})", k));
  CHECK_FALSE(AllowedWith(R"({"NumericGreaterThan":{"dynamodb:Limit":"10"}})", k));
  CHECK(AllowedWith(R"({"NumericGreaterThanEquals":{"dynamodb:Limit":"10"}})", k));
  CHECK_FALSE(AllowedWith(R"({"NumericGreaterThanEquals":{"dynamodb:Limit":"10.5"}})", k));
  // A request value that is not a number matches no numeric value.
  CHECK_FALSE(AllowedWith(R"({"NumericLessThan":{"dynamodb:Limit":"100"}})",
                          Keys("dynamodb:Limit", {"ten"})));
}

TEST_CASE("policy: date operators, ISO 8601 and epoch seconds") {
  // 2024-05-01T12:00:00Z = 1714564800.
  const ConditionKeys k = Keys("aws:CurrentTime", {"2024-05-01T12:00:00Z"});
  CHECK(AllowedWith(R"({"DateEquals":{"aws:CurrentTime":"2024-05-01T12:00:00Z"}})", k));
  CHECK(AllowedWith(R"({"DateEquals":{"aws:CurrentTime":"1714564800"}})", k));
  CHECK(AllowedWith(R"({"DateEquals":{"aws:CurrentTime":"2024-05-01T14:00:00+02:00"}})", k));
  CHECK(AllowedWith(R"({"DateEquals":{"aws:CurrentTime":"2024-05-01T12:00Z"}})", k));
  CHECK_FALSE(AllowedWith(R"({"DateEquals":{"aws:CurrentTime":"2024-05-01"}})", k));
  CHECK(AllowedWith(R"({"DateNotEquals":{"aws:CurrentTime":"2024-05-01"}})", k));
  CHECK_FALSE(AllowedWith(R"({"DateNotEquals":{"aws:CurrentTime":"1714564800"}})", k));
  CHECK(AllowedWith(R"({"DateLessThan":{"aws:CurrentTime":"2024-05-02"}})", k));
  CHECK_FALSE(AllowedWith(R"({"DateLessThan":{"aws:CurrentTime":"2024-05-01T12:00:00Z"}})", k));
  CHECK(AllowedWith(R"({"DateLessThanEquals":{"aws:CurrentTime":"2024-05-01T12:00:00Z"}})", k));
  CHECK_FALSE(AllowedWith(R"({"DateLessThanEquals":{"aws:CurrentTime":"2024-05-01"}})", k));
  CHECK(AllowedWith(R"({"DateGreaterThan":{"aws:CurrentTime":"2024-05-01"}})", k));
  CHECK_FALSE(
      AllowedWith(R"({"DateGreaterThan":{"aws:CurrentTime":"2024-05-01T12:00:00.001Z"}})", k));
  CHECK(AllowedWith(R"({"DateGreaterThanEquals":{"aws:CurrentTime":"1714564800"}})", k));
  CHECK_FALSE(AllowedWith(R"({"DateGreaterThanEquals":{"aws:CurrentTime":"1714564801"}})", k));
  // The request value may be epoch seconds too; fractions count.
  CHECK(AllowedWith(R"({"DateLessThan":{"aws:CurrentTime":"2024-05-01T12:00:00.5Z"}})",
                    Keys("aws:CurrentTime", {"1714564800"})));
  CHECK_FALSE(AllowedWith(R"({"DateLessThan":{"aws:CurrentTime":"2030-01-01"}})",
                          Keys("aws:CurrentTime", {"not a date"})));
}

TEST_CASE("policy: Bool, BinaryEquals") {
  const ConditionKeys secure = Keys("aws:SecureTransport", {"true"});
  CHECK(AllowedWith(R"({"Bool":{"aws:SecureTransport":"true"}})", secure));
  CHECK(AllowedWith(R"({"Bool":{"aws:SecureTransport":true}})", secure));  // JSON boolean
  CHECK(AllowedWith(R"({"Bool":{"aws:SecureTransport":"TRUE"}})", secure));
  CHECK_FALSE(AllowedWith(R"({"Bool":{"aws:SecureTransport":"false"}})", secure));
  CHECK(AllowedWith(R"({"Bool":{"aws:SecureTransport":false}})",
                    Keys("aws:SecureTransport", {"false"})));
  CHECK_FALSE(AllowedWith(R"({"Bool":{"aws:SecureTransport":"true"}})", {}));
  // "QmFzYWx0" is base64 for "Basalt"; the request value is the raw bytes.
  CHECK(AllowedWith(R"({"BinaryEquals":{"test:Blob":"QmFzYWx0"}})", Keys("test:Blob", {"Basalt"})));
  CHECK_FALSE(
      AllowedWith(R"({"BinaryEquals":{"test:Blob":"QmFzYWx0"}})", Keys("test:Blob", {"basalt"})));
  CHECK(AllowedWith(R"({"BinaryEquals":{"test:Blob":"AP8="}})",
                    Keys("test:Blob", {std::string("\x00\xff", 2)})));
}

TEST_CASE("policy: IpAddress, NotIpAddress (IPv4, IPv6, mapped)") {
  const ConditionKeys v4 = Keys("aws:SourceIp", {"203.0.113.77"});
  CHECK(AllowedWith(R"({"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}})", v4));
  CHECK(AllowedWith(R"({"IpAddress":{"aws:SourceIp":"203.0.113.77"}})", v4));
  CHECK(AllowedWith(R"({"IpAddress":{"aws:SourceIp":"203.0.113.64/26"}})", v4));
  CHECK_FALSE(AllowedWith(R"({"IpAddress":{"aws:SourceIp":"203.0.113.0/26"}})", v4));
  CHECK_FALSE(AllowedWith(R"({"IpAddress":{"aws:SourceIp":"198.51.100.0/24"}})", v4));
  CHECK(AllowedWith(R"({"IpAddress":{"aws:SourceIp":["198.51.100.0/24","203.0.0.0/8"]}})", v4));
  CHECK(AllowedWith(R"({"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}})", v4));
  CHECK(AllowedWith(R"({"NotIpAddress":{"aws:SourceIp":"198.51.100.0/24"}})", v4));
  CHECK_FALSE(AllowedWith(R"({"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}})", v4));
  const ConditionKeys v6 = Keys("aws:SourceIp", {"2001:db8:1234:5678::9"});
  CHECK(AllowedWith(R"({"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}})", v6));
  CHECK_FALSE(AllowedWith(R"({"IpAddress":{"aws:SourceIp":"2001:db8:1234:5679::/64"}})", v6));
  CHECK_FALSE(AllowedWith(R"({"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}})", v6));
  CHECK(AllowedWith(R"({"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}})",
                    Keys("aws:SourceIp", {"::ffff:203.0.113.9"})));
  CHECK_FALSE(AllowedWith(R"({"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}})",
                          Keys("aws:SourceIp", {"garbage"})));
}

TEST_CASE("policy: Arn operators match per segment") {
  // aws:PrincipalArn comes from the principal.
  CHECK(AllowedWith(R"({"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"}})"));
  CHECK(AllowedWith(R"({"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:user/al*"}})"));
  CHECK(
      AllowedWith(R"({"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:user/alice"}})"));
  CHECK_FALSE(AllowedWith(R"({"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}})"));
  // '*' in the account segment does not reach into the resource segment.
  CHECK_FALSE(AllowedWith(R"({"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*alice"}})"));
  // A pattern of fewer than six pieces matches only as many pieces.
  CHECK_FALSE(AllowedWith(R"({"ArnLike":{"aws:PrincipalArn":"arn:aws:*"}})"));
  CHECK(AllowedWith(R"({"ArnLike":{"test:Arn":"arn:aws:*"}})", Keys("test:Arn", {"arn:aws:x"})));
  // The sixth piece takes the rest, colons included.
  CHECK(AllowedWith(R"({"ArnLike":{"test:Arn":"arn:aws:s3:::bucket/*"}})",
                    Keys("test:Arn", {"arn:aws:s3:::bucket/a:b:c"})));
  CHECK(AllowedWith(R"({"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/bob"}})"));
  CHECK_FALSE(AllowedWith(R"({"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::*:user/alice"}})"));
  // A value that is not an ARN matches no ARN pattern.
  CHECK_FALSE(
      AllowedWith(R"({"ArnLike":{"test:Arn":"arn:*:*:*:*:*"}})", Keys("test:Arn", {"not-an-arn"})));
}

TEST_CASE("policy: absent keys: positive false, negated true, IfExists true") {
  // IAM: "If the key ... is not present in the request context, the values do
  // not match and the condition is false ... [for] StringNotLike or ArnNotLike
  // ... the condition is true", except ...IfExists and Null.
  CHECK_FALSE(AllowedWith(R"({"StringEquals":{"dynamodb:Select":"COUNT"}})"));
  CHECK_FALSE(AllowedWith(R"({"StringLike":{"dynamodb:Select":"*"}})"));
  CHECK_FALSE(AllowedWith(R"({"NumericLessThan":{"dynamodb:Limit":"5"}})"));
  CHECK_FALSE(AllowedWith(R"({"DateLessThan":{"aws:CurrentTime":"2099-01-01"}})"));
  CHECK_FALSE(AllowedWith(R"({"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}})"));
  CHECK_FALSE(AllowedWith(R"({"ArnLike":{"test:Arn":"*"}})"));
  CHECK(AllowedWith(R"({"StringNotEquals":{"dynamodb:Select":"COUNT"}})"));
  CHECK(AllowedWith(R"({"StringNotLike":{"dynamodb:Select":"*"}})"));
  CHECK(AllowedWith(R"({"StringNotEqualsIgnoreCase":{"dynamodb:Select":"COUNT"}})"));
  CHECK(AllowedWith(R"({"NumericNotEquals":{"dynamodb:Limit":"5"}})"));
  CHECK(AllowedWith(R"({"DateNotEquals":{"aws:CurrentTime":"2099-01-01"}})"));
  CHECK(AllowedWith(R"({"NotIpAddress":{"aws:SourceIp":"0.0.0.0/0"}})"));
  CHECK(AllowedWith(R"({"ArnNotLike":{"test:Arn":"*"}})"));
  // IfExists: true when absent, the operator's own test when present.
  CHECK(AllowedWith(R"({"StringEqualsIfExists":{"dynamodb:Select":"COUNT"}})"));
  CHECK(AllowedWith(R"({"NumericLessThanIfExists":{"dynamodb:Limit":"5"}})"));
  CHECK(AllowedWith(R"({"BoolIfExists":{"aws:SecureTransport":"true"}})"));
  const ConditionKeys sel = Keys("dynamodb:Select", {"ALL_ATTRIBUTES"});
  CHECK_FALSE(AllowedWith(R"({"StringEqualsIfExists":{"dynamodb:Select":"COUNT"}})", sel));
  CHECK(AllowedWith(R"({"StringEqualsIfExists":{"dynamodb:Select":"ALL_ATTRIBUTES"}})", sel));
  CHECK(AllowedWith(R"({"StringNotEqualsIfExists":{"dynamodb:Select":"COUNT"}})", sel));
  CHECK_FALSE(
      AllowedWith(R"({"StringNotEqualsIfExists":{"dynamodb:Select":"ALL_ATTRIBUTES"}})", sel));
  // IfExists on a Deny widens it: an absent key makes the condition true, so
  // the Deny applies to requests without the key too.
  const std::string policy = Identity(R"([{"Effect":"Allow","Action":"*","Resource":"*"},
      {"Effect":"Deny","Action":"*","Resource":"*",
       "Condition":{"StringNotEqualsIfExists":{"dynamodb:ReturnValues":["NONE","UPDATED_NEW"]}}}])");
  Policy p = MustParse(policy);
  AccessRequest r = Req("dynamodb:UpdateItem");
  CHECK(p.Evaluate(r) == Decision::kExplicitDeny);
  SetConditionKey(&r.keys, "dynamodb:ReturnValues", "ALL_OLD");
  CHECK(p.Evaluate(r) == Decision::kExplicitDeny);
  SetConditionKey(&r.keys, "dynamodb:ReturnValues", "UPDATED_NEW");
  CHECK(p.Evaluate(r) == Decision::kAllow);
  // To spare requests without the key, pair the Deny with a Null check.
  Policy spare = MustParse(Identity(R"([{"Effect":"Allow","Action":"*","Resource":"*"},
      {"Effect":"Deny","Action":"*","Resource":"*",
       "Condition":{"StringNotEquals":{"dynamodb:ReturnValues":["NONE","UPDATED_NEW"]},
                    "Null":{"dynamodb:ReturnValues":"false"}}}])"));
  r.keys.clear();
  CHECK(spare.Evaluate(r) == Decision::kAllow);
  SetConditionKey(&r.keys, "dynamodb:ReturnValues", "ALL_OLD");
  CHECK(spare.Evaluate(r) == Decision::kExplicitDeny);
}

TEST_CASE("policy: Null") {
  const ConditionKeys present = Keys("dynamodb:LeadingKeys", {"alice"});
  CHECK(AllowedWith(R"({"Null":{"dynamodb:LeadingKeys":"true"}})"));
  CHECK_FALSE(AllowedWith(R"({"Null":{"dynamodb:LeadingKeys":"true"}})", present));
  CHECK_FALSE(AllowedWith(R"({"Null":{"dynamodb:LeadingKeys":"false"}})"));
  CHECK(AllowedWith(R"({"Null":{"dynamodb:LeadingKeys":"false"}})", present));
  CHECK(AllowedWith(R"({"Null":{"dynamodb:LeadingKeys":false}})", present));
  // A key present with an empty set is null.
  CHECK(AllowedWith(R"({"Null":{"dynamodb:Attributes":"true"}})", Keys("dynamodb:Attributes", {})));
  // Principal keys are supplied by the evaluator.
  CHECK(AllowedWith(R"({"Null":{"aws:username":"false","aws:userid":"false",
                               "aws:PrincipalArn":"false","aws:PrincipalAccount":"false"}})"));
}

TEST_CASE("policy: ForAllValues / ForAnyValue on multivalued keys") {
  // The LeadingKeys tenant policy of the DynamoDB developer guide.
  const std::string tenant = R"({"ForAllValues:StringEquals":
                                  {"dynamodb:LeadingKeys":["${aws:username}"]}})";
  CHECK(AllowedWith(tenant, Keys("dynamodb:LeadingKeys", {"alice"})));
  CHECK(AllowedWith(tenant, Keys("dynamodb:LeadingKeys", {"alice", "alice"})));
  CHECK_FALSE(AllowedWith(tenant, Keys("dynamodb:LeadingKeys", {"bob"})));
  CHECK_FALSE(AllowedWith(tenant, Keys("dynamodb:LeadingKeys", {"alice", "bob"})));
  // As AWS warns, ForAllValues is true when the key is absent or empty...
  CHECK(AllowedWith(tenant, {}));
  CHECK(AllowedWith(tenant, Keys("dynamodb:LeadingKeys", {})));
  // ...so AWS recommends pairing it with a Null check.
  const std::string guarded = R"({"ForAllValues:StringEquals":
                                   {"dynamodb:LeadingKeys":["${aws:username}"]},
                                   "Null":{"dynamodb:LeadingKeys":"false"}})";
  CHECK_FALSE(AllowedWith(guarded, {}));
  CHECK_FALSE(AllowedWith(guarded, Keys("dynamodb:LeadingKeys", {})));
  CHECK(AllowedWith(guarded, Keys("dynamodb:LeadingKeys", {"alice"})));
  CHECK_FALSE(AllowedWith(guarded, Keys("dynamodb:LeadingKeys", {"bob"})));

  // ForAllValues over attributes: every requested attribute must be allowed.
  const std::string attrs = R"({"ForAllValues:StringEquals":
                                 {"dynamodb:Attributes":["id","name","email"]}})";
  CHECK(AllowedWith(attrs, Keys("dynamodb:Attributes", {"id", "email"})));
  CHECK_FALSE(AllowedWith(attrs, Keys("dynamodb:Attributes", {"id", "salary"})));
  // ForAnyValue: at least one value must match; absent or empty is false.
  const std::string any =
      R"({"ForAnyValue:StringEquals":{"dynamodb:Attributes":["salary","ssn"]}})";
  CHECK(AllowedWith(any, Keys("dynamodb:Attributes", {"id", "ssn"})));
  CHECK_FALSE(AllowedWith(any, Keys("dynamodb:Attributes", {"id", "name"})));
  CHECK_FALSE(AllowedWith(any, {}));
  CHECK_FALSE(AllowedWith(any, Keys("dynamodb:Attributes", {})));
  CHECK(AllowedWith(R"({"ForAnyValue:StringLike":{"dynamodb:Attributes":"sal*"}})",
                    Keys("dynamodb:Attributes", {"id", "salary"})));
  // Negated with a set operator: the negation is per request value.
  const ConditionKeys id_ssn = Keys("dynamodb:Attributes", {"id", "ssn"});
  CHECK_FALSE(
      AllowedWith(R"({"ForAllValues:StringNotEquals":{"dynamodb:Attributes":"ssn"}})", id_ssn));
  CHECK(
      AllowedWith(R"({"ForAllValues:StringNotEquals":{"dynamodb:Attributes":"salary"}})", id_ssn));
  CHECK(AllowedWith(R"({"ForAnyValue:StringNotEquals":{"dynamodb:Attributes":"ssn"}})", id_ssn));
  CHECK_FALSE(AllowedWith(R"({"ForAnyValue:StringNotEquals":{"dynamodb:Attributes":["id","ssn"]}})",
                          id_ssn));
  CHECK(AllowedWith(R"({"ForAllValues:StringNotEquals":{"dynamodb:Attributes":"ssn"}})", {}));
  CHECK_FALSE(AllowedWith(R"({"ForAnyValue:StringNotEquals":{"dynamodb:Attributes":"ssn"}})", {}));
  // A Deny on sensitive attributes with ForAnyValue.
  Policy p = MustParse(Identity(R"([{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"},
      {"Effect":"Deny","Action":"dynamodb:*","Resource":"*",
       "Condition":{"ForAnyValue:StringEquals":{"dynamodb:Attributes":["ssn"]}}}])"));
  AccessRequest r = Req("dynamodb:GetItem");
  r.keys = Keys("dynamodb:Attributes", {"id", "name"});
  CHECK(p.Evaluate(r) == Decision::kAllow);
  AddConditionKey(&r.keys, "dynamodb:Attributes", "ssn");
  CHECK(p.Evaluate(r) == Decision::kExplicitDeny);
}

TEST_CASE("policy: multivalued key without a set operator") {
  // Any value matching suffices; a negated operator is its complement.
  const ConditionKeys two = Keys("dynamodb:Attributes", {"id", "ssn"});
  CHECK(AllowedWith(R"({"StringEquals":{"dynamodb:Attributes":"ssn"}})", two));
  CHECK_FALSE(AllowedWith(R"({"StringEquals":{"dynamodb:Attributes":"name"}})", two));
  CHECK_FALSE(AllowedWith(R"({"StringNotEquals":{"dynamodb:Attributes":"ssn"}})", two));
  CHECK(AllowedWith(R"({"StringNotEquals":{"dynamodb:Attributes":"name"}})", two));
  CHECK_FALSE(AllowedWith(R"({"StringEquals":{"dynamodb:Attributes":"id"}})",
                          Keys("dynamodb:Attributes", {})));
  CHECK(AllowedWith(R"({"StringNotEquals":{"dynamodb:Attributes":"id"}})",
                    Keys("dynamodb:Attributes", {})));
}

TEST_CASE("policy: several operators and keys are ANDed") {
  const std::string cond = R"({"StringEquals":{"dynamodb:Select":"COUNT",
                                                "dynamodb:ReturnConsumedCapacity":"TOTAL"},
                                "Bool":{"aws:SecureTransport":"true"}})";
  ConditionKeys k;
  SetConditionKey(&k, "dynamodb:Select", "COUNT");
  SetConditionKey(&k, "dynamodb:ReturnConsumedCapacity", "TOTAL");
  SetConditionKey(&k, "aws:SecureTransport", "true");
  CHECK(AllowedWith(cond, k));
  SetConditionKey(&k, "aws:SecureTransport", "false");
  CHECK_FALSE(AllowedWith(cond, k));
  SetConditionKey(&k, "aws:SecureTransport", "true");
  SetConditionKey(&k, "dynamodb:ReturnConsumedCapacity", "NONE");
  CHECK_FALSE(AllowedWith(cond, k));
}

TEST_CASE("policy: variables in Resource and conditions") {
  const std::string own_table = Identity(R"({"Effect":"Allow","Action":"dynamodb:*",
      "Resource":"arn:aws:dynamodb:*:${aws:PrincipalAccount}:table/${aws:username}-*"})");
  Policy p = MustParse(own_table);
  CHECK(p.Evaluate(Req("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/alice-x",
                       "alice")) == Decision::kAllow);
  CHECK(p.Evaluate(Req("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/alice-x",
                       "bob")) == Decision::kImplicitDeny);
  CHECK(p.Evaluate(Req("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:999999999999:table/alice-x",
                       "alice")) == Decision::kImplicitDeny);
  // No user name in the request: the pattern matches nothing.
  AccessRequest anon = Req("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/-x");
  anon.principal.username.clear();
  CHECK(p.Evaluate(anon) == Decision::kImplicitDeny);
  // Variable names are case-insensitive; request keys work as variables.
  CHECK(AllowedWith(R"({"StringEquals":{"test:Owner":"${AWS:UserName}"}})",
                    Keys("test:Owner", {"alice"})));
  CHECK(AllowedWith(R"({"StringEquals":{"test:Owner":"user-${test:Tenant}"}})", [] {
    ConditionKeys k = Keys("test:Owner", {"user-acme"});
    AddConditionKey(&k, "test:Tenant", "acme");
    return k;
  }()));
  // A multivalued key is no variable: the value matches nothing.
  CHECK_FALSE(AllowedWith(R"({"StringEquals":{"test:Owner":"${test:Tenant}"}})", [] {
    ConditionKeys k = Keys("test:Owner", {"a"});
    AddConditionKey(&k, "test:Tenant", "a");
    AddConditionKey(&k, "test:Tenant", "b");
    return k;
  }()));
  // userid and PrincipalArn.
  CHECK(AllowedWith(R"({"StringEquals":{"test:Id":"${aws:userid}"}})",
                    Keys("test:Id", {"AIDAalice"})));
  CHECK(AllowedWith(R"({"ArnEquals":{"test:Arn":"${aws:PrincipalArn}"}})",
                    Keys("test:Arn", {"arn:aws:iam::123456789012:user/alice"})));
}

TEST_CASE("policy: variables: version 2008 is literal, escapes, defaults") {
  const ConditionKeys literal = Keys("test:Owner", {"${aws:username}"});
  const ConditionKeys alice = Keys("test:Owner", {"alice"});
  const std::string cond = R"({"StringEquals":{"test:Owner":"${aws:username}"}})";
  CHECK(AllowedWith(cond, alice, "2012-10-17"));
  CHECK_FALSE(AllowedWith(cond, literal, "2012-10-17"));
  CHECK_FALSE(AllowedWith(cond, alice, "2008-10-17"));
  CHECK(AllowedWith(cond, literal, "2008-10-17"));
  // No Version means 2008-10-17.
  Policy none = MustParse(
      R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*",
          "Condition":{"StringEquals":{"test:Owner":"${aws:username}"}}}})");
  CHECK(none.version() == "2008-10-17");
  AccessRequest r = Req("dynamodb:GetItem");
  r.keys = literal;
  CHECK(none.Evaluate(r) == Decision::kAllow);

  // ${*} is a literal '*' in StringLike, not a wildcard; ${?} likewise; ${$} is '$'.
  const std::string star = R"({"StringLike":{"test:V":"a${*}"}})";
  CHECK(AllowedWith(star, Keys("test:V", {"a*"})));
  CHECK_FALSE(AllowedWith(star, Keys("test:V", {"ab"})));
  CHECK(AllowedWith(R"({"StringLike":{"test:V":"a${?}*"}})", Keys("test:V", {"a?z"})));
  CHECK_FALSE(AllowedWith(R"({"StringLike":{"test:V":"a${?}*"}})", Keys("test:V", {"abz"})));
  CHECK(AllowedWith(R"({"StringEquals":{"test:V":"${$}{x}"}})", Keys("test:V", {"${x}"})));
  // A substituted value is literal too: a user name with '*' matches only itself.
  Policy like = MustParse(AllowIf(R"({"StringLike":{"test:V":"${aws:username}"}})"));
  AccessRequest starry = Req("dynamodb:GetItem", kTable, "a*");
  starry.keys = Keys("test:V", {"abc"});
  CHECK(like.Evaluate(starry) == Decision::kImplicitDeny);
  starry.keys = Keys("test:V", {"a*"});
  CHECK(like.Evaluate(starry) == Decision::kAllow);

  // Defaults apply when the key is absent.
  const std::string def = R"({"StringEquals":{"test:Owner":"${test:Missing, 'nobody'}"}})";
  CHECK(AllowedWith(def, Keys("test:Owner", {"nobody"})));
  CHECK_FALSE(AllowedWith(def, Keys("test:Owner", {"alice"})));
  CHECK(AllowedWith(R"({"StringEquals":{"test:Owner":"${aws:username, 'nobody'}"}})", alice));
  CHECK(AllowedWith(R"({"StringEquals":{"test:Owner":"${test:Missing,'it''s'}"}})",
                    Keys("test:Owner", {"it's"})));
  CHECK(AllowedWith(R"({"StringEquals":{"test:Owner":"${test:Missing, 'a}b'}"}})",
                    Keys("test:Owner", {"a}b"})));
  // Without a default, an unresolved variable matches nothing, so a negated
  // operator is true.
  CHECK_FALSE(AllowedWith(R"({"StringEquals":{"test:Owner":"${test:Missing}"}})", alice));
  CHECK(AllowedWith(R"({"StringNotEquals":{"test:Owner":"${test:Missing}"}})", alice));
}

TEST_CASE("policy: resource policy Principal forms") {
  auto rp = [](std::string_view principal, std::string_view effect = "Allow") {
    return MustParse(std::string(R"({"Version":"2012-10-17","Statement":{"Effect":")") +
                         std::string(effect) + R"(","Principal":)" + std::string(principal) +
                         R"(,"Action":"dynamodb:*","Resource":"*"}})",
                     Policy::Kind::kResource);
  };
  const AccessRequest alice = Req("dynamodb:GetItem", kTable, "alice");
  const AccessRequest bob = Req("dynamodb:GetItem", kTable, "bob");
  CHECK(rp(R"("*")").Evaluate(alice) == Decision::kAllow);
  CHECK(rp(R"({"AWS":"*"})").Evaluate(alice) == Decision::kAllow);
  const std::string alice_arn = R"({"AWS":"arn:aws:iam::123456789012:user/alice"})";
  CHECK(rp(alice_arn).Evaluate(alice) == Decision::kAllow);
  CHECK(rp(alice_arn).Evaluate(bob) == Decision::kImplicitDeny);
  CHECK(rp(R"({"AWS":["arn:aws:iam::123456789012:user/bob",
                      "arn:aws:iam::123456789012:user/alice"]})")
            .Evaluate(alice) == Decision::kAllow);
  // An account principal delegates to the account's identity policies: it
  // grants nothing by itself to a user...
  CHECK(rp(R"({"AWS":"123456789012"})").Evaluate(alice) == Decision::kImplicitDeny);
  CHECK(rp(R"({"AWS":"arn:aws:iam::123456789012:root"})").Evaluate(alice) ==
        Decision::kImplicitDeny);
  // ...but does to the account root itself,
  AccessRequest root = Req("dynamodb:GetItem");
  root.principal.arn = "arn:aws:iam::123456789012:root";
  root.principal.username.clear();
  CHECK(rp(R"({"AWS":"123456789012"})").Evaluate(root) == Decision::kAllow);
  // and a Deny to the account denies its users.
  CHECK(rp(R"({"AWS":"123456789012"})", "Deny").Evaluate(alice) == Decision::kExplicitDeny);
  CHECK(rp(R"({"AWS":"999999999999"})", "Deny").Evaluate(alice) == Decision::kImplicitDeny);
  CHECK(rp(alice_arn, "Deny").Evaluate(alice) == Decision::kExplicitDeny);
  CHECK(rp(alice_arn, "Deny").Evaluate(bob) == Decision::kImplicitDeny);
  // Service principals never match a user.
  CHECK(rp(R"({"Service":"dynamodb.amazonaws.com"})").Evaluate(alice) == Decision::kImplicitDeny);
}

TEST_CASE("policy: NotPrincipal with Deny") {
  auto np = [](std::string_view principals) {
    return MustParse(std::string(R"({"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":"*","Action":"dynamodb:*","Resource":"*"},
        {"Effect":"Deny","NotPrincipal":)") +
                         std::string(principals) + R"(,"Action":"dynamodb:*","Resource":"*"}]})",
                     Policy::Kind::kResource);
  };
  const AccessRequest alice = Req("dynamodb:GetItem", kTable, "alice");
  const AccessRequest bob = Req("dynamodb:GetItem", kTable, "bob");
  // With the user and its account listed, only that user is spared.
  Policy both = np(R"({"AWS":["arn:aws:iam::123456789012:user/alice","123456789012"]})");
  CHECK(both.Evaluate(alice) == Decision::kAllow);
  CHECK(both.Evaluate(bob) == Decision::kExplicitDeny);
  // AWS: without the account ARN, the policy denies the account and so the user too.
  Policy user_only = np(R"({"AWS":"arn:aws:iam::123456789012:user/alice"})");
  CHECK(user_only.Evaluate(alice) == Decision::kExplicitDeny);
  // The account alone does not spare its users.
  CHECK(np(R"({"AWS":"123456789012"})").Evaluate(alice) == Decision::kExplicitDeny);
  CHECK(np(R"({"AWS":"*"})").Evaluate(alice) == Decision::kAllow);
}

TEST_CASE("policy: Authorize combines identity and resource policies") {
  const Policy allow_get =
      MustParse(Identity(R"({"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"})"));
  const Policy deny_put =
      MustParse(Identity(R"({"Effect":"Deny","Action":"dynamodb:PutItem","Resource":"*"})"));
  const Policy rp_alice_put = MustParse(R"({"Version":"2012-10-17","Statement":[
      {"Sid":"Put","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},
       "Action":["dynamodb:PutItem","dynamodb:Query"],"Resource":"*"},
      {"Sid":"NoScan","Effect":"Deny","Principal":"*","Action":"dynamodb:Scan","Resource":"*"}]})",
                                        Policy::Kind::kResource);
  const Policy rp_account = MustParse(R"({"Version":"2012-10-17","Statement":
      {"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"*","Resource":"*"}})",
                                      Policy::Kind::kResource);
  AuthorizeDetail d;
  // No policies: implicit deny.
  CHECK(Authorize({}, nullptr, Req("dynamodb:GetItem"), &d) == Decision::kImplicitDeny);
  CHECK(d.source == AuthorizeDetail::Source::kNone);
  // Identity policy alone.
  CHECK(Authorize({allow_get}, nullptr, Req("dynamodb:GetItem"), &d) == Decision::kAllow);
  CHECK(d.source == AuthorizeDetail::Source::kIdentityPolicy);
  CHECK(d.policy_index == 0);
  CHECK(d.statement == 0);
  CHECK(Authorize({allow_get}, nullptr, Req("dynamodb:PutItem")) == Decision::kImplicitDeny);
  // The resource policy alone suffices within the account.
  CHECK(Authorize({allow_get}, &rp_alice_put, Req("dynamodb:PutItem"), &d) == Decision::kAllow);
  CHECK(d.source == AuthorizeDetail::Source::kResourcePolicy);
  CHECK(d.statement == 0);
  CHECK(Authorize({allow_get}, &rp_alice_put, Req("dynamodb:PutItem", kTable, "bob")) ==
        Decision::kImplicitDeny);
  // An explicit deny in an identity policy beats the resource policy's Allow.
  CHECK(Authorize({allow_get, deny_put}, &rp_alice_put, Req("dynamodb:PutItem"), &d) ==
        Decision::kExplicitDeny);
  CHECK(d.source == AuthorizeDetail::Source::kIdentityPolicy);
  CHECK(d.policy_index == 1);
  // An explicit deny in the resource policy beats the identity policy's Allow.
  const Policy allow_all = MustParse(Identity(R"({"Effect":"Allow","Action":"*","Resource":"*"})"));
  CHECK(Authorize({allow_all}, &rp_alice_put, Req("dynamodb:Scan"), &d) == Decision::kExplicitDeny);
  CHECK(d.source == AuthorizeDetail::Source::kResourcePolicy);
  CHECK(d.statement == 1);
  // An account principal needs the identity policy to allow.
  CHECK(Authorize({}, &rp_account, Req("dynamodb:GetItem")) == Decision::kImplicitDeny);
  CHECK(Authorize({allow_get}, &rp_account, Req("dynamodb:GetItem")) == Decision::kAllow);
}

TEST_CASE("policy: parse errors name the statement, the element and the problem") {
  auto has = [](const std::string& msg, std::string_view part) {
    const bool ok = msg.find(part) != std::string::npos;
    if (!ok) MESSAGE("message: " << msg);
    return ok;
  };
  CHECK(has(ParseError("{"), "not valid JSON"));
  CHECK(has(ParseError("[]"), "must be a JSON object"));
  CHECK(has(ParseError(R"({"Version":"2012-10-17"})"), "Statement is missing"));
  CHECK(has(ParseError(R"({"Version":"2012-10-17","Statement":[]})"), "must not be empty"));
  CHECK(has(ParseError(R"({"Version":"2012-10-17","Statement":"x"})"), "object or an array"));
  CHECK(has(ParseError(R"({"Version":"2020-01-01","Statement":[]})"), "Version must be"));
  CHECK(has(ParseError(R"({"Versions":"2012-10-17","Statement":[]})"),
            "unknown top-level element \"Versions\""));
  const std::string ok_st = R"({"Effect":"Allow","Action":"*","Resource":"*"})";
  CHECK(has(ParseError(Identity("[" + ok_st + "," + ok_st +
                                R"(,{"Effect":"Permit","Action":"*","Resource":"*"}])")),
            "Statement[2]: Effect must be \"Allow\" or \"Deny\""));
  CHECK(has(ParseError(Identity(R"({"Action":"*","Resource":"*"})")),
            "Statement[0]: Effect is missing"));
  CHECK(has(ParseError(Identity(R"({"Sid":"S1","Effect":"Allow","Resource":"*"})")),
            "Statement[0] (Sid \"S1\"): Action (or NotAction) is missing"));
  CHECK(has(ParseError(Identity(R"({"Effect":"Allow","Action":"*"})")),
            "Resource (or NotResource) is missing"));
  CHECK(has(
      ParseError(Identity(R"({"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"})")),
      "both Action and NotAction"));
  CHECK(has(ParseError(Identity(R"({"Effect":"Allow","Action":42,"Resource":"*"})")),
            "Action must be a string or a non-empty array of strings"));
  CHECK(has(ParseError(Identity(R"({"Effect":"Allow","Action":["a:b",1],"Resource":"*"})")),
            "Action must be a string"));
  CHECK(has(ParseError(Identity(R"({"Effect":"Allow","Action":"GetItem","Resource":"*"})")),
            "Action \"GetItem\" must be \"*\" or \"service:action\""));
  CHECK(has(ParseError(Identity(R"({"Effect":"Allow","Action":"*","Resource":"table/T"})")),
            "Resource \"table/T\" must be \"*\" or an ARN"));
  CHECK(has(ParseError(Identity(R"({"Effect":"Allow","Actions":"*","Resource":"*"})")),
            "unknown element \"Actions\""));
  CHECK(has(ParseError(Identity(R"([{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},
                                     {"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"}])")),
            "Statement[1] (Sid \"A\"): Sid \"A\" is used by an earlier statement"));
  CHECK(has(ParseError(Identity(R"({"Effect":"Allow","Principal":"*","Action":"*",
                                    "Resource":"*"})")),
            "Statement[0]: Principal is not allowed in an identity-based policy"));
  CHECK(has(ParseError(Identity(R"({"Effect":"Allow","Action":"*","Resource":"*"})"),
                       Policy::Kind::kResource),
            "needs Principal"));
  CHECK(has(ParseError(Identity(R"({"Effect":"Allow","NotPrincipal":"*","Action":"*",
                                    "Resource":"*"})"),
                       Policy::Kind::kResource),
            "NotPrincipal can only be used with \"Effect\": \"Deny\""));
  CHECK(has(ParseError(Identity(R"({"Effect":"Allow","Principal":"alice","Action":"*",
                                    "Resource":"*"})"),
                       Policy::Kind::kResource),
            "Principal must be \"*\" or an object"));
  CHECK(has(ParseError(Identity(R"({"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"*",
                                    "Resource":"*"})"),
                       Policy::Kind::kResource),
            "Principal.AWS value \"alice\""));
  CHECK(has(ParseError(Identity(R"({"Effect":"Allow","Principal":{"User":"x"},"Action":"*",
                                    "Resource":"*"})"),
                       Policy::Kind::kResource),
            "unknown principal type \"User\""));
  // Conditions.
  auto cond_error = [](std::string_view cond) { return ParseError(AllowIf(cond)); };
  CHECK(has(cond_error(R"({"StringEqual":{"aws:username":"a"}})"),
            "Statement[0]: Condition: unknown condition operator \"StringEqual\""));
  CHECK(has(cond_error(R"({"ForSomeValues:StringEquals":{"aws:username":"a"}})"),
            "unknown condition operator"));
  CHECK(has(cond_error(R"({"NullIfExists":{"aws:username":"true"}})"), "Null takes neither"));
  CHECK(has(cond_error(R"({"ForAllValues:Null":{"aws:username":"true"}})"), "Null takes neither"));
  CHECK(has(cond_error(R"("StringEquals")"), "Condition must be an object"));
  CHECK(has(cond_error(R"({"StringEquals":"x"})"), "must map condition keys to values"));
  CHECK(has(cond_error(R"({"StringEquals":{"username":"a"}})"), "not of the form"));
  CHECK(has(cond_error(R"({"StringEquals":{"aws:username":[]}})"), "has no values"));
  CHECK(has(cond_error(R"({"StringEquals":{"aws:username":{"a":1}}})"), "must be strings"));
  CHECK(has(cond_error(R"({"StringEquals":{"aws:username":null}})"), "must be strings"));
  CHECK(has(cond_error(R"({"NumericLessThan":{"dynamodb:Limit":"ten"}})"), "is not a number"));
  CHECK(has(cond_error(R"({"DateLessThan":{"aws:CurrentTime":"yesterday"}})"), "is not a date"));
  CHECK(has(cond_error(R"({"DateLessThan":{"aws:CurrentTime":"2024-02-30"}})"), "is not a date"));
  CHECK(has(cond_error(R"({"IpAddress":{"aws:SourceIp":"300.1.1.1/8"}})"), "not an IP address"));
  CHECK(has(cond_error(R"({"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}})"), "not an IP address"));
  CHECK(has(cond_error(R"({"BinaryEquals":{"test:B":"not base64!"}})"), "is not base64"));
  CHECK(has(cond_error(R"({"Bool":{"aws:SecureTransport":"yes"}})"), "\"true\" or \"false\""));
  CHECK(has(cond_error(R"({"Null":{"aws:username":"maybe"}})"), "\"true\" or \"false\""));
  CHECK(has(cond_error(R"({"StringEquals":{"aws:username":"${aws:username"}})"),
            "unterminated policy variable"));
  CHECK(has(cond_error(R"({"StringEquals":{"aws:username":"${}"}})"), "empty policy variable"));
  CHECK(has(cond_error(R"({"StringEquals":{"aws:username":"${aws:username, nobody}"}})"),
            "single quotes"));
  // In 2008-10-17 the same text is literal and fine.
  Policy p;
  CHECK(
      Policy::Parse(AllowIf(R"({"StringEquals":{"aws:username":"${aws:username"}})", "2008-10-17"),
                    Policy::Kind::kIdentity, &p)
          .ok());
  // A failed parse leaves *out unchanged.
  Policy keep = MustParse(Identity(R"({"Effect":"Allow","Action":"*","Resource":"*"})"));
  CHECK_FALSE(Policy::Parse("{", Policy::Kind::kIdentity, &keep).ok());
  CHECK(keep.Evaluate(Req("dynamodb:GetItem")) == Decision::kAllow);
}

TEST_CASE("policy: size limits") {
  // 6,144 non-white-space characters for identity policies.
  auto identity_of_size = [](size_t target, size_t spaces) {
    std::string head = R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*",)"
                       R"("Resource":"*","Sid":")";
    std::string tail = "\"}}";
    std::string doc = head + std::string(target - head.size() - tail.size(), 'x') + tail;
    doc.insert(1, std::string(spaces, ' '));
    return doc;
  };
  Policy p;
  CHECK(Policy::Parse(identity_of_size(6144, 5000), Policy::Kind::kIdentity, &p).ok());
  Status s = Policy::Parse(identity_of_size(6145, 0), Policy::Kind::kIdentity, &p);
  CHECK(s.IsInvalidArgument());
  CHECK(std::string(s.message()).find("too large") != std::string::npos);
  // Explicit limits: 0 disables, another value counts bytes.
  CHECK(Policy::Parse(identity_of_size(7000, 0), Policy::Kind::kIdentity, &p, {0}).ok());
  CHECK_FALSE(Policy::Parse(identity_of_size(6000, 200), Policy::Kind::kIdentity, &p, {6100}).ok());
  // 20 KB, white space counted, for resource policies.
  std::string rp = R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*",)"
                   R"("Action":"*","Resource":"*"}})";
  CHECK(Policy::Parse(rp, Policy::Kind::kResource, &p).ok());
  rp.insert(1, std::string(20 * 1024, ' '));
  CHECK_FALSE(Policy::Parse(rp, Policy::Kind::kResource, &p).ok());
}

TEST_CASE("policy: JSON value overload, single statement object, Id") {
  boost::json::value doc = boost::json::parse(
      R"({"Version":"2012-10-17","Id":"tenant-policy",
          "Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"}})");
  Policy p;
  REQUIRE(Policy::Parse(doc, Policy::Kind::kIdentity, &p).ok());
  CHECK(p.id() == "tenant-policy");
  CHECK(p.kind() == Policy::Kind::kIdentity);
  CHECK(p.statement_count() == 1);
  CHECK(p.Evaluate(Req("dynamodb:GetItem")) == Decision::kAllow);
}

TEST_CASE("policy: copies share the parsed form; concurrent evaluation") {
  const Policy original = MustParse(Identity(R"([
      {"Effect":"Allow","Action":"dynamodb:*",
       "Resource":"arn:aws:dynamodb:*:*:table/${aws:username}*",
       "Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${aws:username}"]}}},
      {"Effect":"Deny","Action":"dynamodb:DeleteTable","Resource":"*"}])"));
  const Policy copy = original;  // NOLINT(performance-unnecessary-copy-initialization)
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      const std::string user = "u" + std::to_string(t);
      for (int i = 0; i < 500; i++) {
        AccessRequest r =
            Req("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/" + user, user);
        AddConditionKey(&r.keys, "dynamodb:LeadingKeys", i % 2 ? user : "other");
        const Decision want = i % 2 ? Decision::kAllow : Decision::kImplicitDeny;
        if ((t % 2 ? copy : original).Evaluate(r) != want) wrong[t]++;
        r.action = "dynamodb:DeleteTable";
        if (original.Evaluate(r) != Decision::kExplicitDeny) wrong[t]++;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int w : wrong) CHECK(w == 0);
}

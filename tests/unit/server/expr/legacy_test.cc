// Key conditions, legacy parameters.
#include "server/expr/expr.h"
#include "tests/unit/server/expr/test_util.h"

using namespace basalt;
using namespace basalt::server::expr;
using namespace basalt::server::expr::testing;
using table::SortKeyOp;

namespace {

table::TableDef Def(bool with_sort) {
  table::TableDef def;
  def.name = "t";
  def.partition_key = {"p", table::ValueType::kS};
  if (with_sort) def.sort_key = table::KeyAttribute{"c", table::ValueType::kN};
  return def;
}

Request KeyVals() {
  return Request(
      {{"#p", "p"}},
      {{":p", S("pk")}, {":n1", N("1")}, {":n2", N("2")}, {":s", S("x")}, {":s2", S("y")}});
}

std::string KeyError(std::string_view text, bool with_sort = true, Request r = KeyVals(),
                     KeyCondition* out = nullptr) {
  KeyCondition kc;
  Status s = ParseKeyCondition(text, &r.p, Def(with_sort), out != nullptr ? out : &kc);
  return s.ok() ? "" : std::string(s.message());
}

bool EvalLegacy(const std::vector<LegacyCondition>& entries, std::string_view op, const Item* item,
                std::string_view param = "Expected") {
  std::shared_ptr<const Condition> c;
  Status s = ConditionFromLegacy(entries, op, param, &c);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  bool result = false;
  REQUIRE(EvaluateCondition(*c, item, &result).ok());
  return result;
}

std::string LegacyError(const std::vector<LegacyCondition>& entries,
                        std::string_view param = "Expected") {
  std::shared_ptr<const Condition> c;
  Status s = ConditionFromLegacy(entries, "", param, &c);
  return s.ok() ? "" : std::string(s.message());
}

LegacyCondition Cmp(std::string name, std::string op, std::vector<Value> values) {
  LegacyCondition c;
  c.name = std::move(name);
  c.comparison_operator = std::move(op);
  c.attribute_value_list = std::move(values);
  return c;
}

}  // namespace

TEST_CASE("key conditions: accepted forms") {
  KeyCondition kc;
  CHECK(KeyError("p = :p", true, KeyVals(), &kc) == "");
  CHECK(kc.pk == S("pk"));
  CHECK(kc.sk.op == SortKeyOp::kAll);
  CHECK(KeyError("#p = :p AND c >= :n1", true, KeyVals(), &kc) == "");
  CHECK(kc.sk.op == SortKeyOp::kGe);
  CHECK(kc.sk.a == N("1"));
  CHECK(KeyError(":n1 < c AND :p = p", true, KeyVals(), &kc) == "");  // flipped
  CHECK(kc.sk.op == SortKeyOp::kGt);
  CHECK(KeyError("p = :p AND c BETWEEN :n1 AND :n2", true, KeyVals(), &kc) == "");
  CHECK(kc.sk.op == SortKeyOp::kBetween);
  CHECK(*kc.sk.b == N("2"));
  CHECK(KeyError("p = :p and c = :n2", true, KeyVals(), &kc) == "");
  CHECK(kc.sk.op == SortKeyOp::kEq);
  CHECK(KeyError("c <= :n1 AND p = :p", true, KeyVals(), &kc) == "");
  CHECK(kc.sk.op == SortKeyOp::kLe);
  CHECK(KeyError("p = :p AND c < :n1", true, KeyVals(), &kc) == "");
  CHECK(kc.sk.op == SortKeyOp::kLt);
}

TEST_CASE("key conditions: DynamoDB's errors") {
  CHECK(KeyError("p = :p OR c = :n1") == "Invalid operator used in KeyConditionExpression: OR");
  CHECK(KeyError("NOT p = :p") == "Invalid operator used in KeyConditionExpression: NOT");
  CHECK(KeyError("p IN (:p)") == "Invalid operator used in KeyConditionExpression: IN");
  CHECK(KeyError("p <> :p") == "Invalid operator used in KeyConditionExpression: <>");
  CHECK(KeyError("attribute_exists(p)") ==
        "Invalid operator used in KeyConditionExpression: attribute_exists");
  CHECK(KeyError("p = :p AND c > :n1 AND c < :n2") ==
        "KeyConditionExpressions must only contain one condition per key");
  CHECK(KeyError("c = :n1") == "Query condition missed key schema element: p");
  CHECK(KeyError("p = :p AND x = :n1") == "Query condition missed key schema element: c");
  CHECK(KeyError("p = :p AND c = :n1", false) == "Query key condition not supported");
  CHECK(KeyError("p > :p") == "Query key condition not supported");
  CHECK(KeyError("begins_with(p, :p)") == "Query key condition not supported");
  CHECK(KeyError("p = :n1") ==
        "One or more parameter values were invalid: Condition parameter type does not match "
        "schema type");
  CHECK(KeyError("p = :p AND c = :s") ==
        "One or more parameter values were invalid: Condition parameter type does not match "
        "schema type");
  CHECK(KeyError("p = :p AND begins_with(c, :n1)") ==
        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
        "operator or function: begins_with, operand type: N");
  CHECK(KeyError("p.x = :p") ==
        "KeyConditionExpressions cannot have conditions on nested attributes");
  CHECK(KeyError("p = c") ==
        "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
        "condition");
  CHECK(KeyError(":p = :s") ==
        "Invalid condition in KeyConditionExpression: No key attribute specified");
  CHECK(KeyError("size(p) = :n1") == "KeyConditionExpressions cannot contain nested operations");
  CHECK(KeyError("p = :p AND c BETWEEN :n2 AND :n1") ==
        "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater "
        "than or equal to lower bound; lower bound operand: AttributeValue: {N:2}, upper bound "
        "operand: AttributeValue: {N:1}");
  CHECK(KeyError("name = :p") ==
        "Invalid KeyConditionExpression: Attribute name is a reserved keyword; reserved keyword: "
        "name");
}

TEST_CASE("legacy KeyConditions") {
  KeyCondition kc;
  std::vector<LegacyCondition> e = {Cmp("p", "EQ", {S("a")}), Cmp("c", "BEGINS_WITH", {N("1")})};
  CHECK(
      KeyConditionFromLegacy(e, Def(true), &kc).message() ==
      "One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not valid for "
      "N AttributeValue type");
  e = {Cmp("p", "EQ", {S("a")}), Cmp("c", "GT", {S("1")})};
  CHECK(KeyConditionFromLegacy(e, Def(true), &kc).message() ==
        "One or more parameter values were invalid: Condition parameter type does not match schema "
        "type");
  e = {Cmp("p", "EQ", {S("a")}), Cmp("c", "GT", {N("1")})};
  REQUIRE(KeyConditionFromLegacy(e, Def(true), &kc).ok());
  CHECK(kc.sk.op == SortKeyOp::kGt);
  e = {Cmp("p", "NE", {S("a")})};
  CHECK(KeyConditionFromLegacy(e, Def(true), &kc).message() ==
        "Attempted conditional constraint is not an indexable operation");
  e = {Cmp("p", "BETWEEN", {S("a")})};
  CHECK(KeyConditionFromLegacy(e, Def(true), &kc).message() ==
        "One or more parameter values were invalid: Invalid number of argument(s) for the BETWEEN "
        "ComparisonOperator");
}

TEST_CASE("legacy Expected: validation") {
  LegacyCondition c;
  c.name = "a";
  CHECK(LegacyError({c}) ==
        "One or more parameter values were invalid: Value must be provided when Exists is null "
        "for Attribute: a");
  c.exists = true;
  CHECK(LegacyError({c}) ==
        "One or more parameter values were invalid: Value must be provided when Exists is true "
        "for Attribute: a");
  c.exists = false;
  c.value = S("x");
  CHECK(LegacyError({c}) ==
        "One or more parameter values were invalid: Value cannot be used when Exists is false for "
        "Attribute: a");
  c.comparison_operator = "EQ";
  CHECK(LegacyError({c}) ==
        "One or more parameter values were invalid: Exists and ComparisonOperator cannot be used "
        "together for Attribute: a");
  c.exists.reset();
  c.attribute_value_list = std::vector<Value>{S("x")};
  CHECK(LegacyError({c}) ==
        "One or more parameter values were invalid: Value and AttributeValueList cannot be used "
        "together for Attribute: a");
  CHECK(LegacyError({Cmp("a", "GT", {S("x"), S("y")})}) ==
        "One or more parameter values were invalid: Invalid number of argument(s) for the GT "
        "ComparisonOperator");
  CHECK(LegacyError({Cmp("a", "IN", {S("x"), N("1")})}) ==
        "One or more parameter values were invalid: AttributeValues inside AttributeValueList must "
        "be of same type");
  CHECK(LegacyError({Cmp("a", "LT", {SS({"x"})})}, "ScanFilter") ==
        "One or more parameter values were invalid: ComparisonOperator LT is not valid for SS "
        "AttributeValue type");
  CHECK(LegacyError({Cmp("a", "BETWEEN", {N("2"), N("1")})}, "QueryFilter") ==
        "The BETWEEN condition was provided a range where the lower bound is greater than the "
        "upper bound");
}

TEST_CASE("legacy conditions: semantics") {
  Item item = MakeItem({{"a", S("hello")}, {"n", N("5")}, {"ss", SS({"x"})}});
  LegacyCondition exists;
  exists.name = "a";
  exists.value = S("hello");
  CHECK(EvalLegacy({exists}, "", &item));
  LegacyCondition absent;
  absent.name = "zz";
  absent.exists = false;
  CHECK(EvalLegacy({exists, absent}, "AND", &item));
  CHECK_FALSE(EvalLegacy({absent}, "", nullptr) == false);
  CHECK(EvalLegacy({Cmp("n", "BETWEEN", {N("1"), N("5")})}, "", &item, "ScanFilter"));
  CHECK(EvalLegacy({Cmp("zz", "NE", {N("1")})}, "", &item, "ScanFilter"));
  CHECK(EvalLegacy({Cmp("zz", "NULL", {})}, "", &item, "ScanFilter"));
  CHECK(EvalLegacy({Cmp("a", "NOT_NULL", {})}, "", &item, "ScanFilter"));
  CHECK(EvalLegacy({Cmp("a", "CONTAINS", {S("ell")})}, "", &item, "ScanFilter"));
  CHECK(EvalLegacy({Cmp("ss", "NOT_CONTAINS", {S("y")})}, "", &item, "ScanFilter"));
  CHECK_FALSE(EvalLegacy({Cmp("zz", "NOT_CONTAINS", {S("y")})}, "", &item, "ScanFilter"));
  CHECK(EvalLegacy({Cmp("a", "BEGINS_WITH", {S("he")})}, "", &item, "ScanFilter"));
  CHECK(EvalLegacy({Cmp("n", "IN", {N("4"), N("5")})}, "", &item, "ScanFilter"));
  CHECK_FALSE(
      EvalLegacy({Cmp("n", "GT", {N("5")}), Cmp("a", "EQ", {S("x")})}, "AND", &item, "ScanFilter"));
  CHECK(EvalLegacy({Cmp("n", "GT", {N("5")}), Cmp("a", "EQ", {S("hello")})}, "OR", &item,
                   "ScanFilter"));
  CHECK(EvalLegacy({}, "", &item));
}

TEST_CASE("legacy AttributeUpdates") {
  auto apply = [](std::vector<AttributeUpdate> u, const Item& old, Item* out) -> std::string {
    std::shared_ptr<const UpdatePlan> plan;
    Status s = UpdateFromLegacy(u, &plan);
    if (s.ok()) s = ApplyUpdate(*plan, &old, {"pk"}, out, nullptr);
    return s.ok() ? "" : std::string(s.message());
  };
  Item old = MakeItem({{"n", N("1")}, {"l", L({N("1")})}, {"ss", SS({"a", "b"})}, {"x", S("x")}});
  Item out;
  CHECK(apply({{"n", "ADD", N("2")},
               {"l", "ADD", L({N("2")})},
               {"ss", "DELETE", SS({"a"})},
               {"x", "DELETE", std::nullopt},
               {"y", "PUT", S("y")}},
              old, &out) == "");
  CHECK(out ==
        MakeItem({{"n", N("3")}, {"l", L({N("1"), N("2")})}, {"ss", SS({"b"})}, {"y", S("y")}}));
  CHECK(apply({{"y", "PUT", std::nullopt}}, old, &out) ==
        "One or more parameter values were invalid: Only DELETE action is allowed when no "
        "attribute value is specified");
  CHECK(apply({{"y", "ADD", S("s")}}, old, &out) ==
        "One or more parameter values were invalid: ADD action is not supported for the type S");
  CHECK(apply({{"y", "DELETE", N("1")}}, old, &out) ==
        "One or more parameter values were invalid: DELETE action with value is not supported for "
        "the type N");
  CHECK(apply({{"pk", "PUT", S("y")}}, old, &out) ==
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute is "
        "part of the key");
}

TEST_CASE("legacy AttributeUpdates: attribute name limits") {
  std::shared_ptr<const UpdatePlan> plan;
  CHECK(UpdateFromLegacy({{"", "PUT", S("y")}}, &plan).message() == "Empty attribute name");
  CHECK(UpdateFromLegacy({{std::string(65536, 'a'), "DELETE", std::nullopt}}, &plan).message() ==
        "1 validation error detected: Attribute name is too large, must be less than 65536 "
        "bytes");
  CHECK(UpdateFromLegacy({{std::string(65535, 'a'), "PUT", S("y")}}, &plan).ok());
}

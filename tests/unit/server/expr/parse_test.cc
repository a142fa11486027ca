// Parse-time checks and DynamoDB's exact error texts.
#include <string>

#include "server/expr/expr.h"
#include "tests/unit/server/expr/test_util.h"

using namespace basalt;
using namespace basalt::server::expr;
using namespace basalt::server::expr::testing;

TEST_CASE("reserved words") {
  CHECK(IsReservedWord("name"));
  CHECK(IsReservedWord("STATUS"));
  CHECK(IsReservedWord("Zone"));
  CHECK(IsReservedWord("abort"));
  CHECK_FALSE(IsReservedWord("foo"));
  CHECK_FALSE(IsReservedWord("names_"));
  Request r({}, {{":v", S("x")}});
  CHECK(
      CondError("Name = :v", r) ==
      "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Name");
  CHECK(CondError("a.status = :v", r, "FilterExpression") ==
        "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: status");
  Request named({{"#n", "name"}}, {{":v", S("x")}});
  CHECK(CondError("#n = :v", named) == "");
}

TEST_CASE("empty and oversized expressions") {
  CHECK(CondError("") == "Invalid ConditionExpression: The expression can not be empty;");
  Request r({}, {{":v", S("x")}});
  std::string ok = "a = :v";
  while (ok.size() < 4096) ok = "a" + ok;
  CHECK(CondError(ok, r) == "");
  CHECK(CondError("a" + ok, r) ==
        "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; "
        "expression size: 4097");
}

TEST_CASE("syntax errors name the token and what precedes it") {
  Request r({}, {{":v", S("x")}, {":w", S("y")}});
  CHECK(CondError("a == :v", r) ==
        "Invalid ConditionExpression: Syntax error; token: \"=\", near: \"==\"");
  CHECK(CondError("foo", r) ==
        "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"foo\"");
  CHECK(CondError("a = :v :w", r) ==
        "Invalid ConditionExpression: Syntax error; token: \":w\", near: \":v :w\"");
  CHECK(CondError("a = :v AND", r) ==
        "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"AND\"");
  CHECK(CondError("(a = :v", r) ==
        "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \":v\"");
  CHECK(CondError("a ! :v", r) ==
        "Invalid ConditionExpression: Syntax error; token: \"!\", near: \"a !\"");
  CHECK(CondError("a = :v + :w", r) ==
        "Invalid ConditionExpression: Syntax error; token: \"+\", near: \":v +\"");
  CHECK(UpdateError("SET MyStr = myNum + 1") ==
        "Invalid UpdateExpression: Syntax error; token: \"1\", near: \"+ 1\"");
  CHECK(UpdateError("SET a = b c") ==
        "Invalid UpdateExpression: Syntax error; token: \"c\", near: \"b c\"");
  // Keywords are not attribute names.
  CHECK(CondError("and = :v", r) ==
        "Invalid ConditionExpression: Syntax error; token: \"and\", near: \"and\"");
}

TEST_CASE("placeholders: undefined, used, unused") {
  Request r({{"#a", "a"}, {"#b", "b"}}, {{":v", S("x")}, {":w", S("y")}});
  CHECK(CondError("#x = :v", r) ==
        "Invalid ConditionExpression: An expression attribute name used in the document path is "
        "not defined; attribute name: #x");
  CHECK(CondError("a = :z", r) ==
        "Invalid ConditionExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :z");
  std::shared_ptr<const Condition> c;
  REQUIRE(ParseCondition("#a = :v", "ConditionExpression", &r.p, &c).ok());
  CHECK(CheckAllUsed(r.p).message() ==
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}");
  std::vector<Path> proj;
  REQUIRE(ParseProjection("#b", &r.p, &proj).ok());
  CHECK(CheckAllUsed(r.p).message() ==
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}");
  REQUIRE(ParseCondition("#b = :w", "FilterExpression", &r.p, &c).ok());
  CHECK(CheckAllUsed(r.p).ok());
  Request two(std::map<std::string, std::string>{{"#a", "a"}, {"#b", "b"}});
  CHECK(CheckAllUsed(two.p).message() ==
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}");
}

TEST_CASE("functions: names, arity, operand types, misuse") {
  Request r({}, {{":v", S("x")}, {":n", N("1")}, {":t", S("SS")}, {":bad", S("XX")}});
  CHECK(CondError("foo(a)", r) ==
        "Invalid ConditionExpression: Invalid function name; function: foo");
  CHECK(CondError("attribute_exists(a, b)", r) ==
        "Invalid ConditionExpression: Incorrect number of operands for operator or function; "
        "operator or function: attribute_exists, number of operands: 2");
  CHECK(CondError("attribute_exists(:v)", r) ==
        "Invalid ConditionExpression: Operator or function requires a document path; operator or "
        "function: attribute_exists");
  CHECK(CondError("begins_with(a, :n)", r) ==
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator "
        "or function: begins_with, operand type: N");
  CHECK(CondError("attribute_type(a, :n)", r) ==
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator "
        "or function: attribute_type, operand type: N");
  CHECK(CondError("attribute_type(a, :bad)", r) ==
        "Invalid ConditionExpression: Invalid attribute type name found; type: XX, valid types: "
        "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}");
  CHECK(CondError("attribute_type(a, :t)", r) == "");
  CHECK(CondError("size(a)", r) ==
        "Invalid ConditionExpression: The function is not allowed to be used this way in an "
        "expression; function: size");
  CHECK(CondError("size(:n) > :n", r) ==
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator "
        "or function: size, operand type: N");
  CHECK(CondError("attribute_exists(a) = :v", r) ==
        "Invalid ConditionExpression: The function is not allowed to be used this way in an "
        "expression; function: attribute_exists");
  CHECK(CondError("a = a", r) ==
        "Invalid ConditionExpression: The first operand must be distinct from the remaining "
        "operands for this operator or function; operator: =, first operand: [a]");
  CHECK(CondError("contains(a.b, a.b)", r) ==
        "Invalid ConditionExpression: The first operand must be distinct from the remaining "
        "operands for this operator or function; operator: contains, first operand: [a, b]");
  CHECK(CondError("size(a) > :n AND contains(a, :v) AND begins_with(b, :v)", r) == "");
}

TEST_CASE("parentheses, precedence and BETWEEN bounds") {
  Request r({}, {{":v", S("x")}, {":a", S("a")}, {":b", S("b")}, {":n", N("1")}});
  CHECK(CondError("((a = :v))", r) ==
        "Invalid ConditionExpression: The expression has redundant parentheses;");
  CHECK(CondError("(a = :v)", r) == "");
  CHECK(CondError("(a) = :v", r) == "");
  CHECK(CondError("((a)) = :v", r) ==
        "Invalid ConditionExpression: The expression has redundant parentheses;");
  CHECK(CondError("(a = :v AND b = :v) OR (NOT c = :v)", r) == "");
  CHECK(CondError("a BETWEEN :n AND :a", r) ==
        "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and "
        "upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: "
        "AttributeValue: {S:a}");
  CHECK(CondError("a BETWEEN :b AND :a", r) ==
        "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater "
        "than or equal to lower bound; lower bound operand: AttributeValue: {S:b}, upper bound "
        "operand: AttributeValue: {S:a}");
  CHECK(CondError("a between :a and :b", r) == "");
  CHECK(CondError("a in (:a, :b) and not b <> :v or c < :n", r) == "");
}

TEST_CASE("operator and IN limits") {
  Request r({}, {{":v", S("x")}});
  std::string expr = "a = :v";
  for (int i = 1; i < 150; ++i) expr += " AND a = :v";  // 150 comparisons + 149 ANDs
  CHECK(CondError(expr, r) == "");
  expr += " AND a = :v";  // 301
  CHECK(CondError(expr, r) ==
        "Invalid ConditionExpression: The expression contains too many operators; operator "
        "count: 301");
  std::string in = "a IN (:v";
  for (int i = 1; i < 100; ++i) in += ",:v";
  CHECK(CondError(in + ")", r) == "");
  CHECK(CondError(in + ",:v)", r) ==
        "Invalid ConditionExpression: Too many operands for IN operator; number of operands: 101");
}

TEST_CASE("document paths") {
  Request r({{"#k", "weird.name"}}, {{":v", S("x")}});
  std::vector<Path> paths;
  REQUIRE(ParseProjection("a.b[2].c, #k, x[0][1]", &r.p, &paths).ok());
  REQUIRE(paths.size() == 3);
  CHECK(PathToString(paths[0]) == "a.b[2].c");
  CHECK(paths[1].size() == 1);
  CHECK(paths[1][0].name == "weird.name");
  CHECK(PathToString(paths[2]) == "x[0][1]");
  std::string deep = "a";
  for (int i = 0; i < 31; ++i) deep += ".b";
  CHECK(CondError(deep + " = :v", r) == "");
  CHECK(CondError(deep + ".c = :v", r) ==
        "Invalid ConditionExpression: The document path has too many nesting levels; nesting "
        "levels: 33");
}

TEST_CASE("projection overlaps and conflicts") {
  Request r;
  std::vector<Path> paths;
  Status s = ParseProjection("a, a.b", &r.p, &paths);
  CHECK(s.message() ==
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or "
        "rewrite one of these paths; path one: [a], path two: [a, b]");
  s = ParseProjection("a.b, a[1]", &r.p, &paths);
  CHECK(s.message() ==
        "Invalid ProjectionExpression: Two document paths conflict with each other; must remove "
        "or rewrite one of these paths; path one: [a, b], path two: [a, [1]]");
  s = ParseProjection("a, a", &r.p, &paths);
  CHECK(s.message() ==
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or "
        "rewrite one of these paths; path one: [a], path two: [a]");
  s = ParseProjection("a.b, a.c, b[1], b[2]", &r.p, &paths);
  CHECK(s.ok());
  s = ParseProjection("data", &r.p, &paths);
  CHECK(s.message() ==
        "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: "
        "data");
}

TEST_CASE("update expression parse errors") {
  Request r({}, {{":v", S("x")}, {":n", N("1")}, {":l", L({})}, {":ss", SS({"a"})}});
  CHECK(UpdateError("SET a = :v SET b = :v", r) ==
        "Invalid UpdateExpression: The \"SET\" section can only be used once in an update "
        "expression;");
  CHECK(UpdateError("SET a = :v, a.b = :v", r) ==
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
        "rewrite one of these paths; path one: [a], path two: [a, b]");
  CHECK(UpdateError("SET a.b = :v REMOVE a[1]", r) ==
        "Invalid UpdateExpression: Two document paths conflict with each other; must remove or "
        "rewrite one of these paths; path one: [a, b], path two: [a, [1]]");
  CHECK(UpdateError("SET a = foo(b)", r) ==
        "Invalid UpdateExpression: Invalid function name; function: foo");
  CHECK(UpdateError("SET a = list_append(:l)", r) ==
        "Invalid UpdateExpression: Incorrect number of operands for operator or function; "
        "operator or function: list_append, number of operands: 1");
  CHECK(UpdateError("SET a = list_append(:l, :v)", r) ==
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or "
        "function: list_append, operand type: S");
  CHECK(UpdateError("SET a = :v + :n", r) ==
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or "
        "function: +, operand type: S");
  CHECK(UpdateError("SET a = if_not_exists(:v, :v)", r) ==
        "Invalid UpdateExpression: Operator or function requires a document path; operator or "
        "function: if_not_exists");
  CHECK(UpdateError("ADD a :v", r) ==
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: "
        "ADD, operand type: STRING");
  CHECK(UpdateError("DELETE a :n", r) ==
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: "
        "DELETE, operand type: NUMBER");
  CHECK(UpdateError("SET size = :v", r) ==
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: size");
  CHECK(UpdateError("SET a = :zz", r) ==
        "Invalid UpdateExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :zz");
  CHECK(UpdateError("") == "Invalid UpdateExpression: The expression can not be empty;");
  CHECK(UpdateError("set a = :v remove b add c :n delete d :ss", r) == "");
  CHECK(UpdateError("SET a = (b + :n), c = if_not_exists(c, :n) - :n", r) == "");
}

TEST_CASE("names start with a letter; placeholders with any word character") {
  Request r({{"#_", "x"}, {"#1a", "y"}}, {{":v", N("1")}, {":_", N("2")}, {":12", N("3")}});
  // DynamoDB's lexer has no token starting with "_": the error names the "_"
  // and shows the whole word (observed answer of DynamoDB).
  CHECK(UpdateError("SET _123 = :v", r) ==
        "Invalid UpdateExpression: Syntax error; token: \"_\", near: \"SET _123\"");
  CHECK(UpdateError("SET a = _f(b)", r) ==
        "Invalid UpdateExpression: Syntax error; token: \"_\", near: \"= _f\"");
  CHECK(CondError("_a = :v", r) ==
        "Invalid ConditionExpression: Syntax error; token: \"_\", near: \"_a\"");
  CHECK(UpdateError("SET 123a = :v", r) ==
        "Invalid UpdateExpression: Syntax error; token: \"123\", near: \"SET 123\"");
  CHECK(UpdateError("SET a_1 = :_, A_ = :12, #_ = :v, #1a = :v", r) == "");
  // A function name follows the same rule: "_f" is no unknown function.
  CHECK(UpdateError("SET a = f_1(b)", r) ==
        "Invalid UpdateExpression: Invalid function name; function: f_1");
}

TEST_CASE("update functions: list_append may not nest in list_append") {
  Request r({}, {{":a", L({S("a")})}, {":b", L({S("b")})}, {":c", L({S("c")})}, {":n", N("1")}});
  const std::string misused =
      "Invalid UpdateExpression: The function is not allowed to be used this way in an "
      "expression; function: list_append";
  CHECK(UpdateError("SET x = list_append(list_append(:a, :b), :c)", r) == misused);
  CHECK(UpdateError("SET x = list_append(:a, list_append(:b, :c))", r) == misused);
  // if_not_exists nests anywhere, itself included.
  CHECK(UpdateError("SET x = list_append(if_not_exists(x, :a), :b), y = if_not_exists(y, "
                    "if_not_exists(z, :n)), w = if_not_exists(w, list_append(:a, :c))",
                    r) == "");
  // An unknown function is reported first.
  CHECK(UpdateError("SET x = list_append(list_append(:a, :b), f(:c))", r) ==
        "Invalid UpdateExpression: Invalid function name; function: f");
}

TEST_CASE("attribute name limits") {
  CHECK(CheckAttributeName("a").ok());
  CHECK(CheckAttributeName(std::string(kMaxAttributeNameSize, 'x')).ok());
  CHECK(CheckAttributeName("").message() == "Empty attribute name");
  CHECK(CheckAttributeName(std::string(kMaxAttributeNameSize + 1, 'x')).message() ==
        "1 validation error detected: Attribute name is too large, must be less than 65536 "
        "bytes");
}

// Statement forms, literals, parameters and DynamoDB's error texts.
#include <string>
#include <vector>

#include "server/expr/ast.h"
#include "server/partiql/partiql.h"
#include "tests/unit/server/partiql/test_util.h"

using namespace basalt;
using namespace basalt::server;
using namespace basalt::server::partiql;
using namespace basalt::server::partiql::testing;

namespace {

expr::Path P(std::vector<std::string> names) {
  expr::Path p;
  for (auto& n : names) p.push_back(expr::PathElement{std::move(n)});
  return p;
}

expr::PathElement Index(uint32_t i) {
  expr::PathElement e;
  e.is_index = true;
  e.index = i;
  return e;
}

// The value of `attr` in INSERT INTO t VALUE {'attr': <literal>}.
Value Literal(const std::string& literal, std::vector<Value> params = {}) {
  Statement st = MustParse("INSERT INTO t VALUE {'pk': 'k', 'v': " + literal + "}", params);
  const Value* v = st.item.Find("v");
  REQUIRE(v != nullptr);
  return *v;
}

Item Apply(const Statement& st, const Item& old) {
  REQUIRE(st.update != nullptr);
  Item out;
  Status s = expr::ApplyUpdate(*st.update, &old, {"pk"}, &out, nullptr);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return out;
}

}  // namespace

TEST_CASE("select: projection, table, index, where, order by") {
  Statement st = MustParse("SELECT * FROM \"Music\"");
  CHECK(st.kind == Statement::Kind::kSelect);
  CHECK(st.select_all);
  CHECK(st.projection.empty());
  CHECK(st.table == "Music");
  CHECK_FALSE(st.index.has_value());
  CHECK(st.where == nullptr);
  CHECK_FALSE(st.exists);

  st = MustParse("select Artist, a.b[2].c, \"x y\" from Music where Artist = 'Acme'");
  CHECK_FALSE(st.select_all);
  REQUIRE(st.projection.size() == 3);
  CHECK(st.projection[0] == P({"Artist"}));
  expr::Path abc = P({"a", "b"});
  abc.push_back(Index(2));
  abc.push_back(expr::PathElement{"c"});
  CHECK(st.projection[1] == abc);
  CHECK(st.projection[2] == P({"x y"}));
  REQUIRE(st.where != nullptr);
  CHECK(st.where->kind == Expr::Kind::kCompare);

  st = MustParse("SELECT * FROM \"Music\".\"ByTitle\" WHERE Title = 'x' ORDER BY Title DESC;");
  CHECK(st.table == "Music");
  CHECK(st.index == std::optional<std::string>("ByTitle"));
  REQUIRE(st.order_by.has_value());
  CHECK(*st.order_by == P({"Title"}));
  CHECK(st.order_desc);
  st = MustParse("SELECT * FROM t WHERE pk = 1 ORDER BY sk ASC");
  CHECK_FALSE(st.order_desc);
  st = MustParse("SELECT * FROM t WHERE pk = 1 ORDER BY sk");
  CHECK_FALSE(st.order_desc);

  // Comments, case, whitespace.
  st = MustParse("/* all */ SeLeCt\t*\nFROM t -- trailing\n WHERE a['k'] = 1");
  CHECK(st.where->args[0].path == P({"a", "k"}));
}

TEST_CASE("insert, update, delete, exists") {
  Statement st = MustParse("INSERT INTO \"Music\" VALUE {'Artist': 'Acme', 'n': 1}");
  CHECK(st.kind == Statement::Kind::kInsert);
  CHECK(st.table == "Music");
  CHECK(st.item == MakeItem({{"Artist", S("Acme")}, {"n", N("1")}}));

  st = MustParse(
      "UPDATE \"Music\" SET AwardsWon = 1 SET AwardDetail = {'Grammys': [2020, 2018]} "
      "REMOVE Old WHERE Artist = 'Acme' AND SongTitle = 'Hit' RETURNING ALL NEW *");
  CHECK(st.kind == Statement::Kind::kUpdate);
  CHECK(st.returning == Statement::Returning::kAllNew);
  REQUIRE(st.update != nullptr);
  REQUIRE(st.update->actions.size() == 3);
  CHECK(st.update->actions[0].kind == expr::UpdateAction::Kind::kSet);
  CHECK(st.update->actions[2].kind == expr::UpdateAction::Kind::kRemove);
  CHECK(st.update->actions[2].path == P({"Old"}));
  Item after = Apply(st, MakeItem({{"pk", S("a")}, {"Old", N("1")}}));
  CHECK(after == MakeItem({{"pk", S("a")},
                           {"AwardsWon", N("1")},
                           {"AwardDetail", M({{"Grammys", L({N("2020"), N("2018")})}})}}));

  static const std::pair<const char*, Statement::Returning> kReturning[] = {
      {"ALL OLD *", Statement::Returning::kAllOld},
      {"MODIFIED OLD *", Statement::Returning::kModifiedOld},
      {"ALL NEW *", Statement::Returning::kAllNew},
      {"MODIFIED NEW *", Statement::Returning::kModifiedNew}};
  for (const auto& [text, r] : kReturning) {
    st = MustParse(std::string("UPDATE t SET a = 1 WHERE pk = 'x' RETURNING ") + text);
    CHECK(st.returning == r);
  }

  st = MustParse("DELETE FROM \"Music\" WHERE Artist = 'Acme' RETURNING ALL OLD *");
  CHECK(st.kind == Statement::Kind::kDelete);
  CHECK(st.table == "Music");
  CHECK(st.returning == Statement::Returning::kAllOld);
  CHECK(st.where != nullptr);
  st = MustParse("delete from t where pk = 1");
  CHECK(st.returning == Statement::Returning::kNone);

  st = MustParse("INSERT INTO t VALUE ?", {M({{"pk", S("a")}})});
  CHECK(st.item == MakeItem({{"pk", S("a")}}));

  st = MustParse("EXISTS(SELECT * FROM \"Music\" WHERE Artist = 'Acme' AND size(Awards) > 2)");
  CHECK(st.kind == Statement::Kind::kSelect);
  CHECK(st.exists);
  CHECK(st.table == "Music");
}

TEST_CASE("update: SET right-hand sides") {
  Item old = MakeItem({{"pk", S("a")},
                       {"n", N("10")},
                       {"m", N("3")},
                       {"l", L({N("1")})},
                       {"ss", SS({"x", "y"})},
                       {"ns", NS({"1", "2"})}});
  Statement st = MustParse(
      "UPDATE t SET n = n + 5, m = m - n SET l = list_append(l, [2, 'b']) "
      "SET c = n SET ss = set_add(ss, <<'z'>>) SET ns = SET_DELETE(ns, <<1>>) WHERE pk = 'a'");
  REQUIRE(st.update->actions.size() == 6);
  CHECK(st.update->actions[4].kind == expr::UpdateAction::Kind::kAdd);
  CHECK(st.update->actions[5].kind == expr::UpdateAction::Kind::kDelete);
  Item after = Apply(st, old);
  CHECK(*after.Find("n") == N("15"));
  CHECK(*after.Find("m") == N("-7"));
  CHECK(*after.Find("l") == L({N("1"), N("2"), S("b")}));
  CHECK(*after.Find("c") == N("10"));
  CHECK(*after.Find("ss") == SS({"x", "y", "z"}));
  CHECK(*after.Find("ns") == NS({"2"}));

  // Nested targets and parameters.
  st = MustParse("UPDATE t SET m.k[1] = ?, \"q r\" = ? REMOVE l[0] WHERE pk = ?",
                 {S("v"), N("2"), S("a")});
  expr::Path mk = P({"m", "k"});
  mk.push_back(Index(1));
  CHECK(st.update->actions[0].path == mk);
  CHECK(st.update->actions[0].value.value == S("v"));
  CHECK(st.update->actions[1].path == P({"q r"}));
}

TEST_CASE("literals: every type") {
  CHECK(Literal("'it''s'") == S("it's"));
  CHECK(Literal("''") == S(""));
  CHECK(Literal("'?'") == S("?"));  // a ? inside a string is text
  CHECK(Literal("1") == N("1"));
  CHECK(Literal("-12.50") == N("-12.5"));
  CHECK(Literal("1e3") == N("1000"));
  CHECK(Literal("1.5E-3") == N("0.0015"));
  CHECK(Literal(".5") == N("0.5"));
  CHECK(Literal("+7") == N("7"));
  CHECK(Literal("- -7") == N("7"));
  CHECK(Literal("TRUE") == Value::MakeBool(true));
  CHECK(Literal("false") == Value::MakeBool(false));
  CHECK(Literal("NULL") == Value::MakeNull());
  CHECK(Literal("null").type() == table::ValueType::kNull);
  CHECK(Literal("[]") == L({}));
  CHECK(Literal("[1, 'a', [true], {'k': NULL}]") ==
        L({N("1"), S("a"), L({Value::MakeBool(true)}), M({{"k", Value::MakeNull()}})}));
  CHECK(Literal("{}") == M({}));
  CHECK(Literal("{'a': {'b': <<1, 2.5>>}, 'c': <<'x', 'y'>>}") ==
        M({{"a", M({{"b", NS({"1", "2.5"})}})}, {"c", SS({"x", "y"})}}));
  CHECK(Literal("(1, 2)") == L({N("1"), N("2")}));  // a row value is a list
  CHECK(Literal("(('x'))") == S("x"));
}

TEST_CASE("parameters") {
  const std::vector<Value> all = {S("s"),
                                  N("1.5"),
                                  B(std::string("\x00\xff", 2)),
                                  Value::MakeBool(true),
                                  Value::MakeNull(),
                                  L({S("a")}),
                                  M({{"k", N("1")}}),
                                  SS({"a"}),
                                  NS({"1"}),
                                  Value::MakeBS({"b"})};
  for (const Value& p : all) {
    CHECK(Literal("?", {p}) == p);
    CHECK(Literal("[?]", {p}) == L({p}));
    CHECK(Literal("{'x': ?}", {p}) == M({{"x", p}}));
  }
  // In a set literal: S, N and B (the only way to write a binary set).
  CHECK(Literal("<<?, ?>>", {S("a"), S("b")}) == SS({"a", "b"}));
  CHECK(Literal("<<?, 2>>", {N("1")}) == NS({"1", "2"}));
  CHECK(Literal("<<?, ?>>", {B("x"), B("y")}) == Value::MakeBS({"x", "y"}));
  CHECK(ParseError("INSERT INTO t VALUE {'v': <<?>>}", {L({})}) ==
        "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags");
  CHECK(ParseError("INSERT INTO t VALUE {'v': <<?, 'a'>>}", {N("1")}) ==
        "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags");
  // A struct key may be a parameter.
  CHECK(Literal("{?: 1}", {S("k")}) == M({{"k", N("1")}}));
  // Parameters in order, across clauses.
  Statement st = MustParse("UPDATE t SET a = ? WHERE pk = ? AND sk = ?", {N("1"), S("p"), N("2")});
  CHECK(st.update->actions[0].value.value == N("1"));
  CHECK(st.where->args[0].args[1].value == S("p"));
  CHECK(st.where->args[1].args[1].value == N("2"));
  // The count must match.
  const std::string mismatch = "Number of parameters in request and statement don't match.";
  CHECK(ParseError("SELECT * FROM t WHERE a = ?") == mismatch);
  CHECK(ParseError("SELECT * FROM t WHERE a = ? AND b = ?", {S("x")}) == mismatch);
  CHECK(ParseError("SELECT * FROM t WHERE a = ?", {S("x"), S("y")}) == mismatch);
  CHECK(ParseError("SELECT * FROM t", {S("x")}) == mismatch);
  // Syntax errors win over the count.
  CHECK(ParseError("SELECT * FROM t WHERE a = ? AND") ==
        kMalformed + "Missing right-hand side expression of infix operator");
}

TEST_CASE("syntax errors: DynamoDB's details") {
  const std::string leftover = kMalformed + "Unexpected token after expression";
  CHECK(ParseError("SELECT * FROM \"t\" WHERE pk = 1 foo") == leftover);
  CHECK(ParseError("SELECT * FROM \"t\" WHERE pk = 1 e5") == leftover);
  CHECK(ParseError("INSERT INTO \"t\" VALUE {'pk': 970001} foo") == leftover);
  CHECK(ParseError("UPDATE \"t\" SET a = 9 WHERE pk = 970002 foo") == leftover);
  CHECK(ParseError("DELETE FROM \"t\" WHERE pk = 970003 foo") == leftover);
  CHECK(ParseError("SELECT * FROM \"t\" WHERE pk = 1)") == leftover);
  CHECK(ParseError("DELETE FROM \"t\" WHERE pk = 970004 ORDER BY pk") == leftover);
  CHECK(ParseError("SELECT * FROM \"t\" ORDER BY pk WHERE pk = 1") == leftover);
  CHECK(ParseError("INSERT INTO \"t\" t VALUE {'pk': 'x'}") == leftover);
  CHECK(ParseError("SELECT * FROM t; SELECT * FROM t") ==
        kMalformed + "Unexpected token after semicolon. (Only one query is allowed.)");

  // Text the lexer cannot read: no detail.
  CHECK(ParseError("SELECT * FROM \"t\" WHERE pk = 1 # note") == kMalformed);
  CHECK(ParseError("SELECT * FROM \"t\" WHERE pk = 1 /* note") == kMalformed);
  CHECK(ParseError("SELECT * FROM \"t\" WHERE pk = 'open") == kMalformed);
  CHECK(ParseError("SELECT * FROM \"t WHERE pk = 1") == kMalformed);
  CHECK(ParseError("SELECT * FROM t WHERE a ~ 1") == kMalformed);
  CHECK(ParseError("SELECT * FROM t WHERE a = `ion`") == kMalformed);
  CHECK(ParseError("SELECT * FROM \"t\" WHERE pk = 1e2147483648") == kMalformed);
  CHECK(ParseError("SELECT * FROM \"t\" WHERE pk = 1e99999999999") == kMalformed);
  CHECK(ParseError("SELECT * FROM \"t\" WHERE pk = 1.5e-2147483647") == kMalformed);

  const std::string term = kMalformed + "Unexpected term";
  for (const char* text :
       {"SELECT * FROM \"t\" WHERE", "SELECT * FROM \"t\" WHERE;", "SELECT * FROM \"t\" WHERE   ",
        "SELECT pk FROM \"t\" WHERE", "UPDATE \"t\" SET a = 1 WHERE", "DELETE FROM \"t\" WHERE",
        "SELECT * FROM \"t\" WHERE NOT", "SELECT * FROM \"t\" WHERE (", "SELECT * FROM", "", "   ",
        "SELECT * FROM t WHERE a = -"}) {
    CAPTURE(text);
    CHECK(ParseError(text) == term);
  }
  const std::string infix = kMalformed + "Missing right-hand side expression of infix operator";
  CHECK(ParseError("SELECT * FROM \"t\" WHERE pk = 'p1' AND") == infix);
  CHECK(ParseError("SELECT * FROM \"t\" WHERE pk = 'p1' OR") == infix);
  CHECK(ParseError("SELECT * FROM \"t\" WHERE pk =") == infix);
  CHECK(ParseError("SELECT * FROM \"t\" WHERE pk IN") == infix);
  CHECK(ParseError("SELECT * FROM \"t\" WHERE ORDER BY pk") == kMalformed + "Unexpected keyword");
  CHECK(ParseError("SELECT * FROM \"t\" WHERE pk = 'a' AND x IS FOO") ==
        kMalformed + "Expected type name");
  CHECK(ParseError("SELECT * FROM \"t\" WHERE IS NULL") == kMalformed + "Unexpected operator");
  CHECK(ParseError("SELECT * FROM \"t\" WHERE pk = LIKE") == kMalformed + "Unexpected operator");
  CHECK(ParseError("SELECT * FROM \"t\" WHERE pk = = 1") == kMalformed + "Unexpected operator");
  for (const char* text :
       {"DELETE FROM", "DELETE FROM   ", "DELETE FROM;", "DELETE FROM WHERE pk = 'a'",
        "UPDATE SET a = 1", "INSERT INTO VALUE {}"}) {
    CAPTURE(text);
    CHECK(ParseError(text) == kMalformed + "Expected identifier for simple path");
  }
  // Reserved words are not names unless quoted.
  CHECK(ParseError("SELECT * FROM t WHERE pad = 'none'") == kMalformed + "Unexpected keyword");
  CHECK(ParseError("SELECT * FROM t WHERE \"pad\" = 'none'") == "");
  CHECK(ParseError("SELECT * FROM t WHERE a.value = 1") ==
        kMalformed + "Invalid path dot component");
  CHECK(ParseError("SELECT * FROM t WHERE a.\"value\" = 1") == "");
  // Other shapes.
  CHECK(ParseError("SELECT * t") == kMalformed + "Expected FROM after SELECT list");
  CHECK(ParseError("DELETE t WHERE a = 1") == kMalformed + "Expected FROM after DELETE");
  CHECK(ParseError("UPDATE t WHERE pk = 1") == kMalformed + "Expected data manipulation");
  CHECK(ParseError("UPDATE t SET a 1 WHERE pk = 1") == kMalformed + "Expected '='");
  CHECK(ParseError("SELECT * FROM t WHERE a IN (1, 2") == kMalformed + "Expected RIGHT_PAREN");
  CHECK(ParseError("SELECT * FROM t WHERE a = [1, 2") == kMalformed + "Expected RIGHT_BRACKET");
  CHECK(ParseError("SELECT * FROM t WHERE a = {'k' 1}") == kMalformed + "Expected COLON");
  CHECK(ParseError("SELECT * FROM t WHERE a = {'k': 1") == kMalformed + "Expected RIGHT_CURLY");
  CHECK(ParseError("SELECT * FROM t WHERE a = <<1") ==
        kMalformed + "Expected RIGHT_DOUBLE_ANGLE_BRACKET");
  CHECK(ParseError("SELECT * FROM t WHERE a = ()") ==
        kMalformed + "Expression group cannot be empty");
  CHECK(ParseError("SELECT * FROM t WHERE a BETWEEN 1 AND") ==
        kMalformed + "Expected expression after AND");
  CHECK(ParseError("SELECT * FROM t WHERE a BETWEEN 1 OR 2") ==
        kMalformed + "Expected KEYWORD and");
  CHECK(ParseError("UPSERT INTO t VALUE {'pk': 1}") == leftover);
  CHECK(ParseError("CREATE TABLE t") == kMalformed + "Unexpected keyword");
}

TEST_CASE("statement shapes DynamoDB refuses") {
  CHECK(ParseError("SELECT * FROM \"t\" t WHERE pk = 'x'") == "Aliasing is not supported");
  CHECK(ParseError("SELECT * FROM \"t\" AS t WHERE pk = 'x'") == "Aliasing is not supported");
  CHECK(ParseError("UPDATE \"t\" t SET a = 3 WHERE pk = 'x'") == "Aliasing is not supported");
  CHECK(ParseError("DELETE FROM \"t\" t WHERE pk = 'x'") == "Aliasing is not supported");
  CHECK(ParseError("SELECT a AS b FROM t") == "Aliasing is not supported");
  CHECK(ParseError("SELECT * FROM t WHERE pk = 1 LIMIT 5") == "Unsupported clause: LIMIT");
  CHECK(ParseError("SELECT m.z, z FROM t") == "Duplicate identifiers in select clause: z");
  CHECK(ParseError("SELECT a, a FROM t") == "Duplicate identifiers in select clause: a");
  CHECK(ParseError("SELECT m.k[1], l[0], m.z FROM t") == "");
  CHECK(ParseError("SELECT *, a FROM t") ==
        "Other attributes should not be present in the projection when '*' is used.");
  CHECK(ParseError("SELECT count(*) FROM t") == kMalformed + "Unexpected term");
  CHECK(ParseError("SELECT size(a) FROM t") == "Unsupported operation: Call");
  CHECK(ParseError("SELECT ? FROM t", {S("a")}) == "Unsupported operation: Lit");
  CHECK(ParseError("SELECT VALUE a FROM t") ==
        "Select projection doesn't support value or pivot keywords");
  CHECK(ParseError("SELECT * FROM a, b") ==
        "Only select from a single table or index is supported.");
  CHECK(ParseError("SELECT * FROM \"t\".\"i\".\"x\"") ==
        "A path may contain at most 2 components in the FROM clause");
  CHECK(ParseError("SELECT * FROM 't'") == "Unexpected from source");
  CHECK(ParseError("SELECT * FROM t ORDER BY pk") ==
        "Must have WHERE clause in the statement when using ORDER BY clause.");
  CHECK(ParseError("SELECT * FROM t WHERE pk = 1 ORDER BY a.b") ==
        "Argument to ORDER BY must be of type VariableReference. Type: Path");
  CHECK(ParseError("INSERT INTO t VALUE {'pk': 1} RETURNING ALL OLD *") ==
        "RETURNING is not supported in INSERT");
  CHECK(ParseError("INSERT INTO t VALUE [1]") ==
        "Unsupported format in item expression. Please use struct format {...} to express item "
        "values for insert statement.");
  CHECK(ParseError("INSERT INTO t <<{'pk': 1}>>") ==
        "Unsupported operation: Inserting multiple items in a single statement is not supported, "
        "use \"INSERT INTO tableName VALUE item\" instead");
  CHECK(ParseError("INSERT INTO t VALUE {'pk': 1} AT 2") ==
        "AT is not supported in insert statements.");
  CHECK(ParseError("INSERT INTO t.i VALUE {'pk': 1}") ==
        "FROM clause may only contain a single table name in data manipulation statements");
  CHECK(ParseError("DELETE FROM t WHERE pk = 1 RETURNING ALL NEW *") ==
        "Invalid returning clause: RETURNING ALL NEW *. Only RETURNING ALL OLD * is allowed in "
        "DELETE statements.");
  CHECK(ParseError("UPDATE t SET a = 1 WHERE pk = 1 RETURNING ALL NEW") ==
        "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause");
  CHECK(ParseError("UPDATE t SET a = 1 WHERE pk = 1 RETURNING ALL NEW *, a") ==
        "Invalid syntax with multiple returning elements in RETURNING clause");
  CHECK(ParseError("EXISTS(DELETE FROM t WHERE pk = 1)") == kMalformed + "Unexpected keyword");
  CHECK(ParseError("EXISTS(SELECT * FROM t WHERE pk = 1") == kMalformed + "Expected RIGHT_PAREN");
  CHECK(ParseError("x IS INT4") == "Unsupported operation: IsType");
  CHECK(ParseError("x IS DOUBLE PRECISION") == "Unsupported operation: IsType");
  CHECK(ParseError("x IS CHARACTER VARYING") == "Unsupported operation: IsType");
  CHECK(ParseError("1 + 1") == "Unsupported operation: Plus");
}

TEST_CASE("literal errors name the value's position") {
  const std::string overflow =
      "Number overflow. Attempting to store a number with magnitude larger than supported range";
  const std::string underflow =
      "Number underflow. Attempting to store a number with magnitude smaller than supported range";
  CHECK(ParseError("SELECT * FROM t WHERE pk = 1e126") == overflow + " under root");
  CHECK(ParseError("SELECT * FROM t WHERE pk = 1e-131") == underflow + " under root");
  CHECK(ParseError("SELECT * FROM t WHERE pk = 123456789012345678901234567890123456789") ==
        "Attempting to store more than 38 significant digits in a Number under root");
  CHECK(ParseError("INSERT INTO t VALUE {'pk': 1e126}") == overflow + " under root");
  CHECK(ParseError("UPDATE t SET a = 1e-131 WHERE pk = 1") == underflow + " under root");
  CHECK(ParseError("INSERT INTO t VALUE {'pk': 1, 'm': {'x': 1e126}}") ==
        overflow + " under root.x");
  CHECK(ParseError("INSERT INTO t VALUE {'pk': 1, 'l': [1, 1e126]}") ==
        overflow + " under root[1]");
  CHECK(ParseError("INSERT INTO t VALUE {'pk': 1, 'pk': 2}") ==
        "Duplicate keys in tuple. Key: pk under root");
  CHECK(ParseError("INSERT INTO t VALUE {1: 2}") ==
        "Tuple keys must be of type String. Actual type: N under root");
  CHECK(ParseError("INSERT INTO t VALUE {'pk': 1, 'v': a}") ==
        "Unsupported data type: Id under key root");
  CHECK(ParseError("INSERT INTO t VALUE {'pk': 1, 'v': <<>>}") == "Empty bags are not supported");
  CHECK(ParseError("INSERT INTO t VALUE {'pk': 1, 'v': <<1, 'a'>>}") ==
        "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags");
  CHECK(ParseError("INSERT INTO t VALUE {'pk': 1, 'v': <<true>>}") ==
        "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags");
  CHECK(ParseError("INSERT INTO t VALUE {'pk': 1, 'v': MISSING}") ==
        "MISSING must be compared using IS operator");
  CHECK(ParseError("SELECT * FROM t WHERE a = MISSING") ==
        "MISSING must be compared using IS operator");
}

TEST_CASE("where clause checks") {
  CHECK(ParseError("SELECT * FROM t WHERE a") ==
        "WHERE clause must contain an expression that resolves to a boolean");
  CHECK(ParseError("SELECT * FROM t WHERE size(a)") ==
        "WHERE clause must contain an expression that resolves to a boolean");
  CHECK(ParseError("SELECT * FROM t WHERE a = 1 AND b") ==
        "The arguments to AND/OR must be Expressions");
  CHECK(ParseError("SELECT * FROM t WHERE NOT b") ==
        "The argument to NOT must be a Type or Expression");
  CHECK(ParseError("SELECT * FROM t WHERE a + 1 = 2") ==
        "Unsupported operator in Condition Expression. Operator: +");
  CHECK(ParseError("SELECT * FROM t WHERE a * 2 = 2") ==
        "Unsupported operator in Condition Expression. Operator: *");
  CHECK(ParseError("SELECT * FROM t WHERE a LIKE 'x%'") ==
        "Unsupported operator in Condition Expression. Operator: LIKE");
  CHECK(ParseError("SELECT * FROM t WHERE a = -b") ==
        "Unsupported operator in Condition Expression. Operator: -");
  CHECK(ParseError("SELECT * FROM t WHERE foo(a)") == "Unrecognized function: foo");
  CHECK(ParseError("SELECT * FROM t WHERE list_append(a, b) = 1") ==
        "The function is not allowed in a condition expression; function: list_append");
  CHECK(ParseError("SELECT * FROM t WHERE begins_with(a)") ==
        "Incorrect number of operands for operator or function; operator or function: "
        "begins_with, number of operands: 1");
  CHECK(ParseError("SELECT * FROM t WHERE begins_with(a, 1)") ==
        "Incorrect operand type for operator or function; operator or function: begins_with, "
        "operand type: N");
  CHECK(ParseError("SELECT * FROM t WHERE attribute_type(a, 'X')") ==
        "Invalid attribute type name found; type: X, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}");
  CHECK(ParseError("SELECT * FROM t WHERE attribute_exists('a')") ==
        "Operator or function requires a document path; operator or function: attribute_exists");
  CHECK(ParseError("SELECT * FROM t WHERE begins_with(a, 'x') = true") ==
        "The function is not allowed to be used this way in an expression; function: begins_with");
  CHECK(ParseError("SELECT * FROM t WHERE size(1) > 1") ==
        "Incorrect operand type for operator or function; operator or function: size, operand "
        "type: N");
  CHECK(ParseError("SELECT * FROM t WHERE 1 IN [1]") ==
        "IN operator must have a left hand argument of type Variable Reference and right hand "
        "argument of type Seq with at least one member");
  CHECK(ParseError("SELECT * FROM t WHERE a IN 'x'") ==
        "IN operator must have a left hand argument of type Variable Reference and right hand "
        "argument of type Seq with at least one member");
  CHECK(ParseError("SELECT * FROM t WHERE a IN []") ==
        "IN operator must have a left hand argument of type Variable Reference and right hand "
        "argument of type Seq with at least one member");
  CHECK(ParseError("SELECT * FROM t WHERE a IS INT") ==
        "Unsupported data type for IS operator: INT. Supported data types are [MISSING, NULL, "
        "BOOLEAN, BLOB, STRING, NUMERIC, STRUCT, TUPLE, LIST]");
  CHECK(ParseError("SELECT * FROM t WHERE size(a) IS MISSING") ==
        "The left hand side argument to IS must be a Variable Reference, Literal, or Path");
  CHECK(ParseError("SELECT * FROM t WHERE a.* = 1") ==
        "Unpivot path component like a.*.b are not supported");
  CHECK(ParseError("SELECT * FROM t WHERE a[*].b = 1") ==
        "Wildcard path component like a[*].b are not supported");
  CHECK(ParseError("SELECT * FROM t WHERE a[-1] = 1") ==
        "List index is not within the allowable range; index: [-1]");
  CHECK(ParseError("SELECT * FROM t WHERE a[1.5] = 1") ==
        "List index is not within the allowable range; index: [1.5]");
  CHECK(ParseError("SELECT * FROM t WHERE a[b] = 1") == "Unexpected path component");
  CHECK(ParseError("SELECT * FROM t WHERE \"\" = 1") == "Path component cannot be an empty string");
  // Every accepted form.
  for (const char* text : {"a = 1",
                           "a <> 1",
                           "a != 1",
                           "a < 1",
                           "a <= 1",
                           "a > 1",
                           "a >= 1",
                           "1 = a",
                           "a BETWEEN 1 AND 2",
                           "a NOT BETWEEN 1 AND 2",
                           "a IN [1, 2]",
                           "a IN (1, 2)",
                           "a NOT IN ['x']",
                           "a IN [b, 'x']",
                           "begins_with(a, 'x')",
                           "contains(a, 'x')",
                           "attribute_type(a, 'S')",
                           "attribute_exists(a)",
                           "attribute_not_exists(a.b[1])",
                           "size(a) > 3",
                           "SIZE(a) = 1",
                           "a IS MISSING",
                           "a IS NOT MISSING",
                           "a IS NULL",
                           "a IS NOT NULL",
                           "a IS BOOLEAN",
                           "a IS BOOL",
                           "a IS STRING",
                           "a IS NUMERIC",
                           "a IS BLOB",
                           "a IS LIST",
                           "a IS STRUCT",
                           "a IS TUPLE",
                           "NOT a = 1",
                           "NOT (a = 1 OR b = 2)",
                           "(a = 1) AND ((b = 2))",
                           "a = 1 AND b = 2 OR c = 3",
                           "a = NULL",
                           "a = true",
                           "a = [1, {'k': <<'s'>>}]",
                           "a.b.c[0].\"d e\" = 1",
                           "a['k'] = 1"}) {
    CAPTURE(text);
    CHECK(ParseError(std::string("SELECT * FROM t WHERE ") + text) == "");
  }
}

TEST_CASE("update clause checks") {
  CHECK(
      ParseError("UPDATE t SET a = b + 'x' WHERE pk = 1") ==
      "Incorrect operand type for operator or function; operator or function: +, operand type: S");
  CHECK(ParseError("UPDATE t SET a = list_append(a, 1) WHERE pk = 1") ==
        "Incorrect operand type for operator or function; operator or function: list_append, "
        "operand type: N");
  CHECK(ParseError("UPDATE t SET a = list_append(a) WHERE pk = 1") ==
        "Incorrect number of operands for operator or function; operator or function: "
        "list_append, number of operands: 1");
  CHECK(ParseError("UPDATE t SET a = set_add(a) WHERE pk = 1") ==
        "SET_ADD must have exactly two arguments");
  CHECK(ParseError("UPDATE t SET a = set_add(b, <<1>>) WHERE pk = 1") ==
        "The first argument to SET_ADD must equal the assignment value");
  CHECK(ParseError("UPDATE t SET a = set_delete(a, [1]) WHERE pk = 1") ==
        "The second argument to SET_DELETE must be a value with type SET");
  CHECK(ParseError("UPDATE t SET a = begins_with(a, 'x') WHERE pk = 1") ==
        "Unsupported operator in Update Expression. Operator: begins_with");
  CHECK(ParseError("UPDATE t SET a = if_not_exists(a, 1) WHERE pk = 1") ==
        "Unrecognized function: if_not_exists");
  CHECK(ParseError("UPDATE t SET a = b = c WHERE pk = 1") == "Unsupported operation: Eq");
  CHECK(ParseError("UPDATE t SET a = NOT b WHERE pk = 1") == "Unsupported operation: Not");
  CHECK(ParseError("SELECT * FROM t WHERE a = NOT b") == "Unsupported operation: Not");
  CHECK(ParseError("UPDATE t SET a = 1 * 2 WHERE pk = 1") ==
        "Unsupported operator in Update Expression. Operator: *");
  CHECK(ParseError("UPDATE t SET a = 1 SET a.b = 2 WHERE pk = 1") ==
        "Two document paths overlap with each other; must remove or rewrite one of these paths; "
        "path one: [a], path two: [a, b]");
  CHECK(ParseError("UPDATE t SET a = 1 REMOVE a WHERE pk = 1").starts_with("Two document paths"));
}

TEST_CASE("limits: length and nesting") {
  std::string ok = "SELECT * FROM t WHERE a = '";
  ok += std::string(kMaxStatementLength - ok.size() - 1, 'x') + "'";
  CHECK(ok.size() == kMaxStatementLength);
  CHECK(ParseError(ok) == "");
  CHECK(ParseError(ok + " ") == "Member must have length less than or equal to 8192");
  // Characters, not bytes: 8192 two-byte characters fit.
  std::string wide = "SELECT * FROM t WHERE a = '";
  for (size_t n = wide.size() + 1; n < kMaxStatementLength; ++n) wide += "\xc3\xa9";
  wide += "'";
  CHECK(ParseError(wide) == "");

  const std::string deep = kMalformed + "Statement nesting exceeds the supported depth";
  for (const char* open : {"(", "[", "NOT ", "- ", "{'k': ", "size("}) {
    std::string text = "SELECT * FROM t WHERE a = ";
    while (text.size() + std::string_view(open).size() < kMaxStatementLength) text += open;
    CAPTURE(open);
    CHECK(ParseError(text) == deep);
  }
  // 32 levels of literal nesting parse.
  std::string nested = "INSERT INTO t VALUE {'pk': 1, 'v': ";
  for (int i = 0; i < 31; ++i) nested += "[";
  nested += "1";
  for (int i = 0; i < 31; ++i) nested += "]";
  nested += "}";
  CHECK(ParseError(nested) == "");
  // Long AND/OR chains are n-ary, not deep.
  std::string chain = "SELECT * FROM t WHERE a = 0";
  for (int i = 1; chain.size() < 8000; ++i) chain += " OR a = " + std::to_string(i);
  CHECK(ParseError(chain) == "");
}

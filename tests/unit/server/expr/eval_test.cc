// Condition evaluation semantics.
#include "server/expr/expr.h"
#include "tests/unit/server/expr/test_util.h"

using namespace basalt;
using namespace basalt::server::expr;
using namespace basalt::server::expr::testing;

namespace {

Item Sample() {
  return MakeItem({
      {"s", S("hello")},
      {"n", N("10")},
      {"b", B(std::string("\x01\xff", 2))},
      {"t", Value::MakeBool(true)},
      {"z", Value::MakeNull()},
      {"l", L({S("x"), N("2"), L({S("y")})})},
      {"m", M({{"k", S("v")}, {"inr", M({{"deep", N("5")}})}})},
      {"ss", SS({"a", "b"})},
      {"ns", NS({"1", "2.5"})},
      {"bs", Value::MakeBS({"\x01", "\x02"})},
  });
}

Request Values() {
  return Request({{"#s", "s"}}, {{":hello", S("hello")},
                                 {":he", S("he")},
                                 {":ell", S("ell")},
                                 {":n10", N("10.0")},
                                 {":n9", N("9")},
                                 {":n11", N("1.1e1")},
                                 {":a", S("a")},
                                 {":x", S("x")},
                                 {":two", N("2")},
                                 {":2_5", N("2.50")},
                                 {":b01", B("\x01")},
                                 {":bff", B(std::string("\x01\xff", 2))},
                                 {":S", S("S")},
                                 {":N", N("3")},
                                 {":T_S", S("S")},
                                 {":T_N", S("N")},
                                 {":T_B", S("B")},
                                 {":T_BOOL", S("BOOL")},
                                 {":T_NULL", S("NULL")},
                                 {":T_L", S("L")},
                                 {":T_M", S("M")},
                                 {":T_SS", S("SS")},
                                 {":T_NS", S("NS")},
                                 {":T_BS", S("BS")},
                                 {":true", Value::MakeBool(true)},
                                 {":five", N("5")},
                                 {":list", L({S("x"), N("2"), L({S("y")})})},
                                 {":y", L({S("y")})},
                                 {":sz5", N("5")},
                                 {":sz3", N("3")},
                                 {":sz2", N("2")}});
}

}  // namespace

TEST_CASE("comparisons") {
  Item item = Sample();
  Request r = Values();
  CHECK(Eval("s = :hello", &item, r));
  CHECK(Eval("#s = :hello", &item, r));
  CHECK(Eval("n = :n10", &item, r));  // by value
  CHECK(Eval("n <> :n9", &item, r));
  CHECK_FALSE(Eval("n <> :n10", &item, r));
  CHECK(Eval("n > :n9", &item, r));
  CHECK(Eval("n >= :n10", &item, r));
  CHECK(Eval("n < :n11 AND n <= :n10", &item, r));
  CHECK_FALSE(Eval("n < :n9", &item, r));
  CHECK(Eval("s > :he", &item, r));
  CHECK(Eval("b > :b01", &item, r));  // bytewise unsigned: 0x01ff > 0x01
  CHECK(Eval("b = :bff", &item, r));
  // Different types: false, not an error; <> is true.
  CHECK_FALSE(Eval("s = :n10", &item, r));
  CHECK_FALSE(Eval("s < :n10", &item, r));
  CHECK(Eval("s <> :n10", &item, r));
  // Missing attribute.
  CHECK_FALSE(Eval("nope = :a", &item, r));
  CHECK(Eval("nope <> :a", &item, r));
  CHECK_FALSE(Eval("nope < :a", &item, r));
  // Documents compare by equality.
  CHECK(Eval("l = :list", &item, r));
  CHECK(Eval("l[2] = :y", &item, r));
  CHECK(Eval("m.inr.deep = :five", &item, r));
  CHECK_FALSE(Eval("m.inr.nope = :five", &item, r));
  CHECK_FALSE(Eval("l[7] = :x", &item, r));
  CHECK(Eval("l[0] = :x", &item, r));
  // Comparing two attributes.
  CHECK(Eval("n > l[1]", &item, r));
  CHECK_FALSE(Eval("s = :hello", nullptr, r));
}

TEST_CASE("BETWEEN and IN") {
  Item item = Sample();
  Request r = Values();
  CHECK(Eval("n BETWEEN :n9 AND :n11", &item, r));
  CHECK(Eval("n BETWEEN :n10 AND :n10", &item, r));
  CHECK_FALSE(Eval("n BETWEEN :n9 AND :n9", &item, r));
  CHECK_FALSE(Eval("s BETWEEN :n9 AND :n11", &item, r));
  CHECK(Eval("s IN (:a, :hello)", &item, r));
  CHECK_FALSE(Eval("s IN (:a, :x)", &item, r));
  CHECK(Eval("n IN (:n10)", &item, r));
  CHECK_FALSE(Eval("nope IN (:a)", &item, r));
}

TEST_CASE("logical operators and precedence") {
  Item item = Sample();
  Request r = Values();
  // NOT > AND > OR.
  CHECK(Eval("s = :a AND n = :n9 OR n = :n10", &item, r));
  CHECK_FALSE(Eval("s = :a AND (n = :n9 OR n = :n10)", &item, r));
  CHECK(Eval("NOT s = :a", &item, r));
  CHECK_FALSE(Eval("NOT s = :hello AND n = :n10", &item, r));
  CHECK(Eval("NOT (s = :hello AND n = :n9)", &item, r));
  CHECK(Eval("s = :a OR NOT n = :n9 AND s = :hello", &item, r));
  CHECK(Eval("not not s = :hello", &item, r));
}

TEST_CASE("functions") {
  Item item = Sample();
  Request r = Values();
  CHECK(Eval("attribute_exists(s)", &item, r));
  CHECK(Eval("attribute_exists(m.inr.deep)", &item, r));
  CHECK_FALSE(Eval("attribute_exists(nope)", &item, r));
  CHECK(Eval("attribute_not_exists(nope)", &item, r));
  CHECK(Eval("attribute_not_exists(l[9])", &item, r));
  CHECK(Eval("attribute_not_exists(s)", nullptr, r));
  CHECK(Eval("attribute_type(s, :T_S) AND attribute_type(n, :T_N) AND attribute_type(b, :T_B)",
             &item, r));
  CHECK(
      Eval("attribute_type(t, :T_BOOL) AND attribute_type(z, :T_NULL) AND attribute_type(l, :T_L)",
           &item, r));
  CHECK(Eval("attribute_type(m, :T_M) AND attribute_type(ss, :T_SS) AND attribute_type(ns, :T_NS)",
             &item, r));
  CHECK(Eval("attribute_type(bs, :T_BS)", &item, r));
  CHECK_FALSE(Eval("attribute_type(s, :T_N)", &item, r));
  CHECK(Eval("begins_with(s, :he)", &item, r));
  CHECK_FALSE(Eval("begins_with(s, :ell)", &item, r));
  CHECK(Eval("begins_with(b, :b01)", &item, r));
  CHECK_FALSE(Eval("begins_with(n, :he)", &item, r));
  CHECK(Eval("contains(s, :ell)", &item, r));
  CHECK(Eval("contains(ss, :a)", &item, r));
  CHECK_FALSE(Eval("contains(ss, :x)", &item, r));
  CHECK(Eval("contains(ns, :2_5)", &item, r));
  CHECK(Eval("contains(bs, :b01)", &item, r));
  CHECK(Eval("contains(l, :x) AND contains(l, :two) AND contains(l, :y)", &item, r));
  CHECK_FALSE(Eval("contains(n, :n10)", &item, r));
  CHECK_FALSE(Eval("contains(nope, :a)", &item, r));
  CHECK(Eval("NOT contains(nope, :a)", &item, r));
  // size(): bytes of S/B, elements of collections; none for numbers.
  CHECK(Eval("size(s) = :sz5", &item, r));
  CHECK(Eval("size(b) = :sz2", &item, r));
  CHECK(Eval("size(l) = :sz3 AND size(m) = :sz2 AND size(ss) = :sz2", &item, r));
  CHECK(Eval("size(ns) = :sz2 AND size(bs) = :sz2", &item, r));
  CHECK(Eval("size(s) > size(l)", &item, r));
  CHECK_FALSE(Eval("size(n) = :sz2", &item, r));
  CHECK_FALSE(Eval("size(nope) = :sz2", &item, r));
  CHECK(Eval("size(nope) <> :sz2", &item, r));
}

TEST_CASE("parsed conditions are immutable and reusable") {
  Request r = Values();
  std::shared_ptr<const Condition> c;
  REQUIRE(ParseCondition("n > :n9", "FilterExpression", &r.p, &c).ok());
  Item a = MakeItem({{"n", N("10")}});
  Item b = MakeItem({{"n", N("1")}});
  bool ra = false, rb = true;
  REQUIRE(EvaluateCondition(*c, &a, &ra).ok());
  REQUIRE(EvaluateCondition(*c, &b, &rb).ok());
  CHECK(ra);
  CHECK_FALSE(rb);
}

TEST_CASE("projection keeps only the projected parts") {
  Item item = Sample();
  Request r(std::map<std::string, std::string>{{"#m", "m"}});
  std::vector<Path> paths;
  REQUIRE(ParseProjection("s, #m.inr.deep, l[2][0], l[0], nope, m.nope", &r.p, &paths).ok());
  Item out = Project(item, paths);
  CHECK(out == MakeItem({{"s", S("hello")},
                         {"m", M({{"inr", M({{"deep", N("5")}})}})},
                         {"l", L({S("x"), L({S("y")})})}}));
  // Paths into a scalar or past the end yield nothing.
  REQUIRE(ParseProjection("s.x, l[9], n[0]", &r.p, &paths).ok());
  CHECK(Project(item, paths).empty());
}

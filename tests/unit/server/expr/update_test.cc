// Applying update expressions.
#include "server/expr/expr.h"
#include "tests/unit/server/expr/test_util.h"

using namespace basalt;
using namespace basalt::server::expr;
using namespace basalt::server::expr::testing;

namespace {

// Parses and applies; returns the error message or "" and the new item.
std::string Apply(std::string_view text, const Item* old, Item* out, Request r = Request(),
                  std::vector<Path>* updated = nullptr) {
  std::shared_ptr<const UpdatePlan> plan;
  Status s = ParseUpdate(text, &r.p, &plan);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  s = ApplyUpdate(*plan, old, {"pk", "sk"}, out, updated);
  return s.ok() ? "" : std::string(s.message());
}

Request Vals() {
  return Request({{"#a", "a"}}, {{":one", N("1")},
                                 {":big", N("1e50")},
                                 {":half", N("0.5")},
                                 {":s", S("str")},
                                 {":l", L({N("3")})},
                                 {":l2", L({N("4"), N("5")})},
                                 {":ss", SS({"c", "a"})},
                                 {":ss_ab", SS({"a", "b"})},
                                 {":ns", NS({"2"})},
                                 {":m", M({})}});
}

}  // namespace

TEST_CASE("SET with arithmetic, list_append and if_not_exists") {
  Item old = MakeItem({{"pk", S("k")}, {"n", N("10")}, {"l", L({N("1"), N("2")})}, {"s", S("x")}});
  Item out;
  std::vector<Path> updated;
  CHECK(Apply("SET n = n + :one, m = n - :half, #a = :s", &old, &out, Vals(), &updated) == "");
  CHECK(out == MakeItem({{"pk", S("k")},
                         {"n", N("11")},
                         {"m", N("9.5")},
                         {"a", S("str")},
                         {"l", L({N("1"), N("2")})},
                         {"s", S("x")}}));
  REQUIRE(updated.size() == 3);
  CHECK(PathToString(updated[1]) == "m");
  CHECK(Apply("SET l = list_append(l, :l), c = list_append(:l2, l)", &old, &out, Vals()) == "");
  CHECK(*out.Find("l") == L({N("1"), N("2"), N("3")}));
  CHECK(*out.Find("c") == L({N("4"), N("5"), N("1"), N("2")}));
  CHECK(Apply("SET n = if_not_exists(n, :one), x = if_not_exists(x, :one) + :one", &old, &out,
              Vals()) == "");
  CHECK(*out.Find("n") == N("10"));
  CHECK(*out.Find("x") == N("2"));
  // Right-hand sides see the old item: a swap.
  CHECK(Apply("SET n = s, s = n", &old, &out) == "");
  CHECK(*out.Find("n") == S("x"));
  CHECK(*out.Find("s") == N("10"));
  // No old item.
  CHECK(Apply("SET a = :one", nullptr, &out, Vals()) == "");
  CHECK(out == MakeItem({{"a", N("1")}}));
}

TEST_CASE("SET run-time errors") {
  Item old = MakeItem({{"n", N("10")}, {"s", S("x")}, {"l", L({})}, {"m", M({})}});
  Item out;
  CHECK(Apply("SET a = nope + :one", &old, &out, Vals()) ==
        "The provided expression refers to an attribute that does not exist in the item");
  CHECK(Apply("SET a = nope", &old, &out, Vals()) ==
        "The provided expression refers to an attribute that does not exist in the item");
  CHECK(Apply("SET a = s + :one", &old, &out, Vals()) ==
        "An operand in the update expression has an incorrect data type");
  CHECK(Apply("SET a = list_append(s, :l)", &old, &out, Vals()) ==
        "An operand in the update expression has an incorrect data type");
  CHECK(Apply("SET n = n + :big", &old, &out, Vals()) ==
        "Number overflow. Attempting to store a number with magnitude larger than supported range");
  CHECK(Apply("SET x.y = :one", &old, &out, Vals()) ==
        "The document path provided in the update expression is invalid for update");
  CHECK(Apply("SET s.y = :one", &old, &out, Vals()) ==
        "The document path provided in the update expression is invalid for update");
  CHECK(Apply("SET m[0] = :one", &old, &out, Vals()) ==
        "The document path provided in the update expression is invalid for update");
  CHECK(Apply("SET pk = :one", &old, &out, Vals()) ==
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute is "
        "part of the key");
  CHECK(Apply("REMOVE sk", &old, &out, Vals()) ==
        "One or more parameter values were invalid: Cannot update attribute sk. This attribute is "
        "part of the key");
}

TEST_CASE("SET nested paths and list indexes") {
  Item old = MakeItem({{"m", M({{"a", N("1")}})}, {"l", L({N("0"), N("1")})}});
  Item out;
  CHECK(Apply("SET m.b = :one, m.a = :s, l[0] = :s, l[9] = :one", &old, &out, Vals()) == "");
  CHECK(out == MakeItem({{"m", M({{"a", S("str")}, {"b", N("1")}})},
                         {"l", L({S("str"), N("1"), N("1")})}}));
}

TEST_CASE("REMOVE, including list elements") {
  Item old = MakeItem({{"a", N("1")},
                       {"l", L({N("0"), N("1"), N("2"), N("3"), N("4")})},
                       {"m", M({{"x", N("1")}, {"y", N("2")}})}});
  Item out;
  // Indexes refer to the old list.
  CHECK(Apply("REMOVE l[1], l[3], m.x, a, nope, l[9], m.nope", &old, &out) == "");
  CHECK(out == MakeItem({{"l", L({N("0"), N("2"), N("4")})}, {"m", M({{"y", N("2")}})}}));
}

TEST_CASE("ADD numbers and sets") {
  Item old = MakeItem({{"n", N("1.5")}, {"ss", SS({"a", "b"})}, {"s", S("x")}, {"ns", NS({"1"})}});
  Item out;
  CHECK(Apply("ADD n :one, newn :one, ss :ss, newss :ss, ns :ns", &old, &out, Vals()) == "");
  CHECK(*out.Find("n") == N("2.5"));
  CHECK(*out.Find("newn") == N("1"));
  CHECK(*out.Find("ss") == SS({"a", "b", "c"}));
  CHECK(*out.Find("newss") == SS({"a", "c"}));
  CHECK(*out.Find("ns") == NS({"1", "2"}));
  CHECK(Apply("ADD s :one", &old, &out, Vals()) ==
        "An operand in the update expression has an incorrect data type");
  CHECK(Apply("ADD ss :ns", &old, &out, Vals()) ==
        "An operand in the update expression has an incorrect data type");
  CHECK(Apply("ADD x.y :one", &old, &out, Vals()) ==
        "The document path provided in the update expression is invalid for update");
}

TEST_CASE("DELETE from sets") {
  Item old = MakeItem({{"ss", SS({"a", "b", "c"})}, {"ab", SS({"a", "b"})}, {"n", N("1")}});
  Item out;
  CHECK(Apply("DELETE ss :ss, ab :ss_ab, nope :ss", &old, &out, Vals()) == "");
  CHECK(out == MakeItem({{"ss", SS({"b"})}, {"n", N("1")}}));  // emptied set removed
  CHECK(Apply("DELETE n :ss", &old, &out, Vals()) ==
        "An operand in the update expression has an incorrect data type");
  CHECK(Apply("DELETE ss :ns", &old, &out, Vals()) ==
        "An operand in the update expression has an incorrect data type");
}

TEST_CASE("nesting depth of the result") {
  Value deep = N("1");
  for (int i = 0; i < 31; ++i) deep = L({deep});
  Request r({}, {{":deep", deep}});
  Item old = MakeItem({{"m", M({})}});
  Item out;
  CHECK(Apply("SET a = :deep", &old, &out, r) == "");
  CHECK(Apply("SET m.a = :deep", &old, &out, r) == table::kNestingTooDeepMessage);
}

TEST_CASE("SET past the end of a list appends in index order") {
  Item old = MakeItem({{"l", L({S("one"), S("two")})}});
  Item out;
  Request r({}, {{":a", S("a")}, {":b", S("b")}, {":c", S("c")}, {":d", S("d")}});
  // "the elements are sorted in order by element number" (DynamoDB Developer
  // Guide), whatever the order of the actions.
  CHECK(Apply("SET l[84] = :a, l[37] = :b, l[2] = :c, l[50] = :d", &old, &out, r) == "");
  CHECK(*out.Find("l") == L({S("one"), S("two"), S("c"), S("b"), S("d"), S("a")}));
  // Indexes inside the list replace; the others append after them.
  CHECK(Apply("SET l[3] = :a, l[0] = :b, l[2] = :c", &old, &out, r) == "");
  CHECK(*out.Find("l") == L({S("b"), S("two"), S("c"), S("a")}));
  // ADD to an index past the end appends too, in the same order.
  Request n({}, {{":one", N("1")}, {":two", N("2")}});
  CHECK(Apply("ADD l[9] :two SET l[5] = :one", &old, &out, n) == "");
  CHECK(*out.Find("l") == L({S("one"), S("two"), N("1"), N("2")}));
}

TEST_CASE("REMOVE needs the container of the removed element") {
  Item old = MakeItem({{"s", S("hello")}, {"l", L({S("hi")})}, {"m", M({{"x", N("1")}})}});
  Item out;
  const std::string bad =
      "The document path provided in the update expression is invalid for update";
  // Container missing or of the wrong type (DynamoDB's observed answers).
  CHECK(Apply("REMOVE s.c", &old, &out) == bad);
  CHECK(Apply("REMOVE l.c", &old, &out) == bad);
  CHECK(Apply("REMOVE nope.c", &old, &out) == bad);
  CHECK(Apply("REMOVE s[0]", &old, &out) == bad);
  CHECK(Apply("REMOVE m[0]", &old, &out) == bad);
  CHECK(Apply("REMOVE nope[0]", &old, &out) == bad);
  CHECK(Apply("REMOVE m.nope.x", &old, &out) == bad);
  CHECK(Apply("REMOVE l[5].x", &old, &out) == bad);
  // A missing last element is fine.
  CHECK(Apply("REMOVE m.y, l[7], nope", &old, &out) == "");
  CHECK(out == old);
  // The check sees the item after the SETs: a list SET just made holds elements.
  Request r({}, {{":l", L({S("a"), S("b")})}});
  CHECK(Apply("SET s = :l REMOVE m.x", &old, &out, r) == "");
  CHECK(*out.Find("m") == M({}));
}

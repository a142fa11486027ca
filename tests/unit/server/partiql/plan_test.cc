// WHERE clauses as conditions (ToCondition) and as key plans (PlanKeys,
// KeyForWrite).
#include <optional>
#include <string>
#include <vector>

#include "server/partiql/partiql.h"
#include "tests/unit/server/partiql/test_util.h"

using namespace basalt;
using namespace basalt::server;
using namespace basalt::server::partiql;
using namespace basalt::server::partiql::testing;

namespace {

const std::optional<std::string> kSk = "sk";
const std::optional<std::string> kNoSk = std::nullopt;

KeyPlan Plan(const std::string& where, const std::optional<std::string>& sk = kSk,
             std::vector<Value> params = {}) {
  Statement st = MustParse("SELECT * FROM t WHERE " + where, std::move(params));
  KeyPlan plan;
  REQUIRE(PlanKeys(*st.where, "pk", sk, &plan).ok());
  return plan;
}

Item Key(Value pk, std::optional<Value> sk = std::nullopt) {
  Item k;
  k.Set("pk", std::move(pk));
  if (sk) k.Set("sk", std::move(*sk));
  return k;
}

std::string WriteKeyError(const std::string& where, const std::optional<std::string>& sk = kSk) {
  Statement st = MustParse("DELETE FROM t WHERE " + where);
  Item key;
  Status s = KeyForWrite(st.where.get(), "pk", sk, &key);
  return s.ok() ? "" : std::string(s.message());
}

Item Sample() {
  return MakeItem({
      {"pk", S("p1")},
      {"sk", N("5")},
      {"s", S("hello")},
      {"n", N("10")},
      {"b", B(std::string("\x01\xff", 2))},
      {"t", Value::MakeBool(true)},
      {"z", Value::MakeNull()},
      {"l", L({S("x"), N("2"), L({S("y")})})},
      {"m", M({{"k", S("v")}, {"nested", M({{"deep", N("5")}})}, {"a b", N("1")}})},
      {"ss", SS({"a", "b"})},
      {"ns", NS({"1", "2.5"})},
  });
}

bool Where(const std::string& where, std::vector<Value> params = {}) {
  return Matches("SELECT * FROM t WHERE " + where, Sample(), std::move(params));
}

}  // namespace

TEST_CASE("ToCondition: comparisons and logic") {
  CHECK(Where("s = 'hello'"));
  CHECK(Where("\"s\" = 'hello'"));
  CHECK_FALSE(Where("s = 'hell'"));
  CHECK(Where("n = 10.0"));
  CHECK(Where("n <> 9"));
  CHECK(Where("n != 9"));
  CHECK_FALSE(Where("n != 10"));
  CHECK(Where("n > 9 AND n >= 10 AND n < 11 AND n <= 10"));
  CHECK(Where("9 < n"));
  CHECK_FALSE(Where("n < 9"));
  CHECK_FALSE(Where("s = 10"));  // other types never compare equal
  CHECK(Where("t = true"));
  CHECK(Where("z = NULL"));
  CHECK(Where("l = ['x', 2, ['y']]"));
  CHECK(Where("m.k = 'v' AND m.nested.deep = 5 AND m.\"a b\" = 1 AND m['k'] = 'v'"));
  CHECK(Where("l[1] = 2 AND l[2][0] = 'y'"));
  CHECK(Where("ss = <<'b', 'a'>>"));
  CHECK(Where("ns = <<2.5, 1>>"));
  CHECK(Where("n BETWEEN 1 AND 10"));
  CHECK_FALSE(Where("n BETWEEN 11 AND 20"));
  CHECK(Where("n NOT BETWEEN 11 AND 20"));
  CHECK(Where("s IN ['a', 'hello']"));
  CHECK(Where("s IN ('a', 'hello')"));
  CHECK(Where("n IN [s, 10]"));
  CHECK_FALSE(Where("s IN ['a']"));
  CHECK(Where("s NOT IN ['a']"));
  CHECK(Where("s IN ?", {L({S("hello")})}));
  CHECK(Where("s = 'x' OR n = 10"));
  CHECK_FALSE(Where("s = 'x' OR n = 11"));
  CHECK(Where("NOT s = 'x'"));
  CHECK(Where("NOT (s = 'x' OR n = 11) AND (t = true)"));
  CHECK(Where("s = ? AND n = ?", {S("hello"), N("10")}));
}

TEST_CASE("ToCondition: functions and IS") {
  CHECK(Where("begins_with(s, 'he')"));
  CHECK_FALSE(Where("begins_with(s, 'lo')"));
  CHECK(Where("begins_with(b, ?)", {B("\x01")}));
  CHECK(Where("contains(s, 'ell')"));
  CHECK(Where("contains(ss, 'a')"));
  CHECK(Where("contains(ns, 2.5)"));
  CHECK(Where("contains(l, 'x')"));
  CHECK_FALSE(Where("contains(ss, 'c')"));
  CHECK(Where("attribute_type(s, 'S') AND attribute_type(ns, 'NS') AND attribute_type(z, 'NULL')"));
  CHECK_FALSE(Where("attribute_type(s, 'N')"));
  CHECK(Where("attribute_exists(m.k) AND attribute_not_exists(m.nope)"));
  CHECK(Where("size(s) = 5 AND size(l) = 3 AND size(ss) = 2 AND size(m) > 2"));
  CHECK(Where("nope IS MISSING"));
  CHECK_FALSE(Where("s IS MISSING"));
  CHECK(Where("s IS NOT MISSING"));
  CHECK(Where("z IS NULL"));
  CHECK_FALSE(Where("s IS NULL"));
  CHECK(Where("s IS NOT NULL"));
  CHECK(Where("nope IS NOT NULL"));  // NOT (IS NULL)
  CHECK_FALSE(Where("nope IS NULL"));
  CHECK(
      Where("s IS STRING AND n IS NUMERIC AND t IS BOOLEAN AND b IS BLOB AND l IS LIST AND "
            "m IS STRUCT AND m IS TUPLE"));
  CHECK_FALSE(Where("s IS NUMERIC"));
  CHECK(Where("s IS NOT NUMERIC"));
}

TEST_CASE("ToCondition: long OR chains become balanced trees") {
  std::string where = "n = 0";
  for (int i = 1000; where.size() < 7900; ++i) where += " OR n = " + std::to_string(i);
  where += " OR n = 10";
  CHECK(Where(where));
  CHECK_FALSE(Where(where + " AND s = 'x'"));
}

TEST_CASE("ToCondition refuses trees Parse does not produce") {
  Expr e;
  e.kind = Expr::Kind::kArith;
  std::shared_ptr<const expr::Condition> c;
  CHECK(ToCondition(e, &c).IsInvalidArgument());
  Expr call;
  call.kind = Expr::Kind::kCall;
  call.name = "nope";
  CHECK(ToCondition(call, &c).IsInvalidArgument());
}

TEST_CASE("PlanKeys: full keys") {
  KeyPlan p = Plan("pk = 'a' AND sk = 1");
  REQUIRE(p.kind == KeyPlan::Kind::kKeys);
  CHECK(p.keys == std::vector<Item>{Key(S("a"), N("1"))});

  p = Plan("sk = 1 AND 'a' = pk AND other > 3");
  CHECK(p.kind == KeyPlan::Kind::kKeys);
  CHECK(p.keys == std::vector<Item>{Key(S("a"), N("1"))});

  p = Plan("pk IN ['a', 'b', 'a']", kNoSk);
  REQUIRE(p.kind == KeyPlan::Kind::kKeys);
  CHECK(p.keys == std::vector<Item>{Key(S("a")), Key(S("b"))});

  p = Plan("pk = 'a'", kNoSk);
  CHECK(p.kind == KeyPlan::Kind::kKeys);
  CHECK(p.keys == std::vector<Item>{Key(S("a"))});

  p = Plan("(pk = 'a' AND sk = 1) OR (pk = 'b' AND sk = 2)");
  REQUIRE(p.kind == KeyPlan::Kind::kKeys);
  CHECK(p.keys == std::vector<Item>{Key(S("a"), N("1")), Key(S("b"), N("2"))});

  p = Plan("pk = 'a' OR pk = 'b' OR pk = 'a'", kNoSk);
  CHECK(p.kind == KeyPlan::Kind::kKeys);
  CHECK(p.keys == std::vector<Item>{Key(S("a")), Key(S("b"))});

  p = Plan("pk IN ['a', 'b'] AND sk IN [1, 2]");
  CHECK(p.kind == KeyPlan::Kind::kKeys);
  CHECK(p.keys.size() == 4);

  // An OR of full keys narrowed by an AND.
  p = Plan("(pk = 'a' AND sk = 1 OR pk = 'b' AND sk = 2) AND pk = 'b'");
  CHECK(p.kind == KeyPlan::Kind::kKeys);
  CHECK(p.keys == std::vector<Item>{Key(S("b"), N("2"))});

  // Contradictions and values no key can hold: nothing to read.
  p = Plan("pk = 'a' AND pk = 'b'");
  CHECK(p.kind == KeyPlan::Kind::kKeys);
  CHECK(p.keys.empty());
  p = Plan("pk = [1]", kNoSk);
  CHECK(p.kind == KeyPlan::Kind::kKeys);
  CHECK(p.keys.empty());
  p = Plan("pk = 1.0 AND pk = 1", kNoSk);  // numbers by value
  CHECK(p.keys == std::vector<Item>{Key(N("1.0"))});

  // Parameters count as constants.
  p = Plan("pk = ? AND sk = ?", kSk, {S("x"), B("y")});
  CHECK(p.keys == std::vector<Item>{Key(S("x"), B("y"))});
}

TEST_CASE("PlanKeys: one partition") {
  KeyPlan p = Plan("pk = 'a' AND sk > 3");
  REQUIRE(p.kind == KeyPlan::Kind::kQuery);
  CHECK(p.pk == S("a"));
  CHECK(p.sort.op == table::SortKeyOp::kGt);
  CHECK(p.sort.a == N("3"));

  p = Plan("3 > sk AND pk = 'a'");
  CHECK(p.kind == KeyPlan::Kind::kQuery);
  CHECK(p.sort.op == table::SortKeyOp::kLt);

  p = Plan("pk = 'a' AND begins_with(sk, 'x')");
  REQUIRE(p.kind == KeyPlan::Kind::kQuery);
  CHECK(p.sort.op == table::SortKeyOp::kBeginsWith);
  CHECK(p.sort.a == S("x"));

  p = Plan("pk = 'a' AND sk BETWEEN 1 AND 5");
  REQUIRE(p.kind == KeyPlan::Kind::kQuery);
  CHECK(p.sort.op == table::SortKeyOp::kBetween);
  CHECK(p.sort.a == N("1"));
  CHECK(p.sort.b == std::optional<Value>(N("5")));

  for (const char* where : {"pk = 'a'", "pk = 'a' AND sk <> 3", "pk = 'a' AND other = 1",
                            "pk IN ['a'] AND contains(sk, 'x')", "pk = 'a' AND sk BETWEEN 5 AND 1",
                            "pk = 'a' AND begins_with(x, 'a')", "pk = 'a' AND (sk = 1 OR x = 2)"}) {
    CAPTURE(where);
    p = Plan(where);
    CHECK(p.kind == KeyPlan::Kind::kQuery);
    CHECK(p.pk == S("a"));
    CHECK(p.sort.op == table::SortKeyOp::kAll);
  }
  // ORs within one partition.
  p = Plan("pk = 'a' AND sk = 1 OR pk = 'a' AND sk > 5");
  CHECK(p.kind == KeyPlan::Kind::kQuery);
  CHECK(p.pk == S("a"));
  // An index whose keys are other attributes.
  Statement st = MustParse("SELECT * FROM t.gsi WHERE g = 'x' AND h >= 2");
  KeyPlan ip;
  REQUIRE(PlanKeys(*st.where, "g", std::string("h"), &ip).ok());
  CHECK(ip.kind == KeyPlan::Kind::kQuery);
  CHECK(ip.pk == S("x"));
  CHECK(ip.sort.op == table::SortKeyOp::kGe);
}

TEST_CASE("PlanKeys: scans") {
  for (const char* where :
       {"sk = 1", "other = 1", "pk > 'a'", "pk <> 'a'", "NOT pk = 'a'", "pk = 'a' OR other = 1",
        "pk = 'a' AND sk = 1 OR other = 2", "pk IN ['a', 'b']", "pk IN ['a', b]", "m.pk = 'a'",
        "pk[0] = 'a'", "begins_with(pk, 'a')", "pk = 'a' OR pk = 'b'", "attribute_exists(pk)",
        "pk IS NOT MISSING"}) {
    CAPTURE(where);
    CHECK(Plan(where).kind == KeyPlan::Kind::kScan);
  }
  // Too many keys for lookups: one partition is queried, several are scanned.
  std::string many = "pk = 'a' AND sk IN [0";
  for (size_t i = 1; i <= kMaxPlannedKeys; ++i) many += ", " + std::to_string(i);
  many += "]";
  KeyPlan p = Plan(many);
  CHECK(p.kind == KeyPlan::Kind::kQuery);
  std::string wide = "pk IN [0";
  for (size_t i = 1; i <= kMaxPlannedKeys; ++i) wide += ", " + std::to_string(i);
  wide += "]";
  CHECK(Plan(wide, kNoSk).kind == KeyPlan::Kind::kScan);
}

TEST_CASE("PlanKeys is sound: every matching item is a candidate") {
  // Items over a small key space; for each clause, the items the condition
  // matches must all be among the planned candidates.
  std::vector<Item> items;
  for (const char* pk : {"a", "b", "c"}) {
    for (int sk = 0; sk < 4; ++sk) {
      items.push_back(MakeItem({{"pk", S(pk)}, {"sk", N(std::to_string(sk))}, {"x", N("1")}}));
    }
  }
  for (const char* where :
       {"pk = 'a' AND sk = 1", "pk = 'a' AND sk > 1", "pk IN ['a', 'c'] AND sk IN [0, 3]",
        "(pk = 'a' AND sk = 1) OR (pk = 'b' AND sk = 2)", "pk = 'b' AND begins_with(sk, 'x')",
        "pk = 'a' AND sk = 1 OR pk = 'a' AND sk >= 2", "(pk = 'a' OR pk = 'b') AND sk = 2",
        "pk = 'a' AND (sk = 1 OR sk = 2)", "pk = 'c' AND sk BETWEEN 1 AND 2", "x = 1"}) {
    CAPTURE(where);
    Statement st = MustParse(std::string("SELECT * FROM t WHERE ") + where);
    KeyPlan plan;
    REQUIRE(PlanKeys(*st.where, "pk", kSk, &plan).ok());
    std::shared_ptr<const expr::Condition> c;
    REQUIRE(ToCondition(*st.where, &c).ok());
    for (const Item& item : items) {
      bool match = false;
      REQUIRE(expr::EvaluateCondition(*c, &item, &match).ok());
      if (!match) continue;
      const Item key = Key(*item.Find("pk"), *item.Find("sk"));
      switch (plan.kind) {
        case KeyPlan::Kind::kKeys:
          CHECK(std::find(plan.keys.begin(), plan.keys.end(), key) != plan.keys.end());
          break;
        case KeyPlan::Kind::kQuery: {
          CHECK(*item.Find("pk") == plan.pk);
          if (plan.sort.op != table::SortKeyOp::kAll) {
            // The sort condition, as the condition language would state it.
            static const char* kOps[] = {"", "=", "<", "<=", ">", ">="};
            const int op = static_cast<int>(plan.sort.op);
            if (op >= 1 && op <= 5) {
              CHECK(Matches(std::string("SELECT * FROM t WHERE sk ") + kOps[op] + " ?", item,
                            {plan.sort.a}));
            }
          }
          break;
        }
        case KeyPlan::Kind::kScan:
          break;
      }
    }
  }
}

TEST_CASE("KeyForWrite") {
  Statement st = MustParse("UPDATE t SET a = 1 WHERE pk = 'a' AND sk = 2 AND a > 3");
  Item key;
  REQUIRE(KeyForWrite(st.where.get(), "pk", kSk, &key).ok());
  CHECK(key == Key(S("a"), N("2")));
  REQUIRE(KeyForWrite(st.where.get(), "pk", kNoSk, &key).ok());
  CHECK(key == Key(S("a")));

  const std::string incomplete =
      "Where clause does not contain a mandatory equality on all key attributes";
  CHECK(KeyForWrite(nullptr, "pk", kSk, &key).message() == incomplete);
  CHECK(WriteKeyError("pk = 'a'") == incomplete);
  CHECK(WriteKeyError("pk = 'a' OR sk = 1") == incomplete);
  CHECK(WriteKeyError("pk IN ['a'] AND sk = 1") == incomplete);
  CHECK(WriteKeyError("pk = 'a' AND sk > 1") == incomplete);
  CHECK(WriteKeyError("pk = 'a' AND NOT sk = 1") == incomplete);
  CHECK(WriteKeyError("m.pk = 'a' AND sk = 1") == incomplete);
  CHECK(WriteKeyError("pk = 'a' AND sk = 1 AND pk = 'b'") ==
        "Multiple conditions on same key pk. Only single item Update/Insert/Delete are supported");
  CHECK(WriteKeyError("pk = 'a' AND sk = 1 AND pk = 'a'") == "");
  CHECK(WriteKeyError("pk = [1] AND sk = 1") ==
        "Key value must be of type S, N, or B. Key name: pk, Key type: L");
  CHECK(WriteKeyError("(pk = 'a' AND sk = 1) AND x = 1") == "");
}

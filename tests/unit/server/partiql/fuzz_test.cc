// The parser is total: mutated statements give OK or InvalidArgument, never a
// crash, and whatever parses translates.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "server/partiql/partiql.h"
#include "tests/unit/server/partiql/test_util.h"

using namespace basalt;
using namespace basalt::server;
using namespace basalt::server::partiql;
using namespace basalt::server::partiql::testing;

namespace {

// xorshift64*: deterministic, seed printed on failure.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ULL;
  }
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(Next() % n); }
};

const char* const kSeeds[] = {
    "SELECT * FROM \"Music\" WHERE Artist = 'Acme' AND SongTitle > 'A' ORDER BY SongTitle DESC",
    "SELECT a, b.c[1], \"d e\" FROM t.\"idx\" WHERE begins_with(a, 'x') OR n BETWEEN 1 AND ?",
    "INSERT INTO t VALUE {'pk': 'a', 'n': -1.5e3, 'l': [1, 'x', {'k': NULL}], 's': <<'a', 'b'>>, "
    "'ns': <<1, 2>>, 'b': true}",
    "UPDATE t SET a = a + 1, b = list_append(b, [?]) SET c = set_add(c, <<'x'>>) REMOVE d[0] "
    "WHERE pk = 'k' AND sk = 1 RETURNING MODIFIED NEW *",
    "DELETE FROM t WHERE pk = ? AND attribute_exists(x) RETURNING ALL OLD *",
    "EXISTS(SELECT * FROM t WHERE pk = 'a' AND x IS NOT MISSING AND y IN [1, 2, 3])",
    "SELECT * FROM t WHERE NOT (a <> 1 AND size(b) >= 2) OR c IS NULL -- comment\n",
};

const char* const kFragments[] = {" ",        "(",
                                  ")",        "[",
                                  "]",        "{",
                                  "}",        "<<",
                                  ">>",       ",",
                                  ".",        ":",
                                  ";",        "*",
                                  "?",        "=",
                                  "<>",       "!=",
                                  "<",        "<=",
                                  ">",        ">=",
                                  "+",        "-",
                                  "/",        "||",
                                  "'",        "''",
                                  "\"",       "--",
                                  "/*",       "*/",
                                  "AND",      " OR ",
                                  " NOT ",    " IN ",
                                  " IS ",     "NULL",
                                  "MISSING",  "TRUE",
                                  "1e",       "1e999",
                                  ".5",       "-0",
                                  "SELECT",   "FROM",
                                  "WHERE",    "SET",
                                  "REMOVE",   "VALUE",
                                  "size(",    "begins_with(",
                                  "set_add(", "x",
                                  "\"q\"",    "'s'",
                                  "42",       "\xff",
                                  "\x00",     "#",
                                  "`",        "BETWEEN 1 AND",
                                  "ORDER BY", "RETURNING ALL OLD *"};

std::string Mutate(std::string s, Rng* rng) {
  const int edits = 1 + static_cast<int>(rng->Below(rng->Below(4) == 0 ? 4 : 1));
  for (int e = 0; e < edits; ++e) {
    const size_t pos = rng->Below(s.size() + 1);
    switch (rng->Below(5)) {
      case 0:  // delete a span
        if (!s.empty()) s.erase(pos < s.size() ? pos : s.size() - 1, 1 + rng->Below(6));
        break;
      case 1: {  // insert a fragment
        const char* f = kFragments[rng->Below(std::size(kFragments))];
        s.insert(pos, std::string(f, f[0] == '\0' ? 1 : std::char_traits<char>::length(f)));
        break;
      }
      case 2:  // replace a byte
        if (!s.empty()) s[pos < s.size() ? pos : 0] = static_cast<char>(rng->Below(256));
        break;
      case 3: {  // duplicate a span
        if (s.empty()) break;
        const size_t from = rng->Below(s.size());
        s.insert(pos, s.substr(from, 1 + rng->Below(12)));
        break;
      }
      default:  // truncate
        s.resize(pos);
        break;
    }
  }
  return s;
}

// Usually as many parameters as the text has question marks.
std::vector<Value> RandomParams(const std::string& text, Rng* rng) {
  const Value kChoices[] = {S("a"),
                            N("1"),
                            B("b"),
                            Value::MakeBool(false),
                            Value::MakeNull(),
                            L({N("1")}),
                            M({{"k", S("v")}}),
                            SS({"x"})};
  std::vector<Value> params;
  const size_t marks = static_cast<size_t>(std::count(text.begin(), text.end(), '?'));
  const size_t n = rng->Below(4) == 0 ? rng->Below(4) : marks;
  for (size_t i = 0; i < n; ++i) params.push_back(kChoices[rng->Below(std::size(kChoices))]);
  return params;
}

}  // namespace

TEST_CASE("fuzz: mutated statements never crash") {
  Rng rng{0x9E3779B97F4A7C15ULL};
  size_t ok = 0, invalid = 0;
  for (int i = 0; i < 8000; ++i) {
    const uint64_t seed = rng.s;
    const std::string text = Mutate(kSeeds[rng.Below(std::size(kSeeds))], &rng);
    std::vector<Value> params = RandomParams(text, &rng);
    Statement st;
    Status s = Parse(text, params, &st);
    CAPTURE(seed);
    CAPTURE(text);
    if (!s.ok()) {
      CHECK(s.IsInvalidArgument());
      CHECK_FALSE(s.message().empty());
      ++invalid;
      continue;
    }
    ++ok;
    if (st.where != nullptr) {
      std::shared_ptr<const expr::Condition> c;
      CHECK(ToCondition(*st.where, &c).ok());
      KeyPlan plan;
      CHECK(PlanKeys(*st.where, "pk", std::string("sk"), &plan).ok());
      Item key;
      (void)KeyForWrite(st.where.get(), "pk", std::nullopt, &key);
    }
  }
  MESSAGE("parsed " << ok << ", refused " << invalid);
  CHECK(ok > 0);
  CHECK(invalid > 0);
}

TEST_CASE("fuzz: random bytes and token soup") {
  Rng rng{42};
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    const size_t n = rng.Below(40);
    for (size_t k = 0; k < n; ++k) {
      if (rng.Below(3) == 0) {
        text += static_cast<char>(rng.Below(256));
      } else {
        text += kFragments[rng.Below(std::size(kFragments))];
        text += ' ';
      }
    }
    Statement st;
    Status s = Parse(text, {}, &st);
    CAPTURE(text);
    CHECK((s.ok() || s.IsInvalidArgument()));
  }
}

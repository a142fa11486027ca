// Fuzz target: the PartiQL parser (server/partiql/partiql.h). The first byte
// picks how many `?` parameters are passed (0-7, from a fixed list of values
// of every type); the rest is the statement. A statement that parses is
// translated as ExecuteStatement would: its WHERE into a condition (evaluated
// on a few items) and into key plans for a hash-only and a hash+range schema,
// KeyForWrite, and an UPDATE's plan applied to an item.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/table/decimal.h"
#include "server/expr/expr.h"
#include "server/partiql/partiql.h"
#include "tests/fuzz/fuzz_util.h"

using basalt::Status;
using basalt::table::Decimal;
using basalt::table::Item;
using basalt::table::Value;
namespace expr = basalt::server::expr;
namespace partiql = basalt::server::partiql;

namespace {

struct Fixture {
  std::vector<Value> params;
  std::vector<Item> items;
  Fixture() {
    Item m;
    m.Set("x", Value::MakeN(Decimal::FromInt64(1)));
    params = {Value::MakeS("k"),        Value::MakeN(Decimal::FromInt64(7)),
              Value::MakeB("\x01\x02"), Value::MakeBool(false),
              Value::MakeNull(),        Value::MakeL({Value::MakeS("x")}),
              Value::MakeM(m),          Value::MakeSS({"a", "b"})};
    Item a;
    a.Set("pk", Value::MakeS("k"));
    a.Set("sk", Value::MakeN(Decimal::FromInt64(7)));
    a.Set("a", Value::MakeL({Value::MakeN(Decimal::FromInt64(1)), Value::MakeM(m)}));
    a.Set("s", Value::MakeSS({"a"}));
    items.push_back(a);
    items.push_back(Item());
  }
};

const Fixture& F() {
  static const Fixture* f = new Fixture();
  return *f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& f = F();
  basalt::fuzz::Input in(data, size);
  uint8_t sel = in.Byte();
  std::vector<Value> params(f.params.begin(), f.params.begin() + (sel % 8));
  std::string_view text = in.Rest();

  partiql::Statement st;
  Status s = partiql::Parse(text, params, &st);
  if (!s.ok()) {
    FUZZ_CHECK(s.IsInvalidArgument(), "%s", s.ToString().c_str());
    return 0;
  }
  if (st.where) {
    std::shared_ptr<const expr::Condition> c;
    Status cs = partiql::ToCondition(*st.where, &c);
    FUZZ_CHECK(cs.ok(), "ToCondition refused a parsed WHERE: %s", cs.ToString().c_str());
    for (const Item& item : f.items) {
      bool r = false;
      (void)expr::EvaluateCondition(*c, &item, &r);
    }
    partiql::KeyPlan plan;
    FUZZ_CHECK(partiql::PlanKeys(*st.where, "pk", std::nullopt, &plan).ok());
    partiql::KeyPlan plan2;
    FUZZ_CHECK(partiql::PlanKeys(*st.where, "pk", std::string("sk"), &plan2).ok());
    Item key;
    (void)partiql::KeyForWrite(st.where.get(), "pk", std::string("sk"), &key);
  } else {
    Item key;
    FUZZ_CHECK(!partiql::KeyForWrite(nullptr, "pk", std::nullopt, &key).ok());
  }
  if (st.update) {
    for (const Item& item : f.items) {
      Item out;
      (void)expr::ApplyUpdate(*st.update, &item, {"pk", "sk"}, &out, nullptr);
    }
  }
  for (const Item& item : f.items) (void)expr::Project(item, st.projection);
  return 0;
}

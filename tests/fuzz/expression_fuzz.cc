// Fuzz target: the expression parser (server/expr/expr.h). The first byte
// picks the parser (condition, update, projection, key condition against a
// hash-only, a hash+range and a multi-attribute key schema); the rest is the
// expression text, parsed with a fixed set of #name and :value placeholders.
// What parses is also used: conditions are evaluated and updates applied to
// a few items, projections projected, and the unused-placeholder check run.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/table/decimal.h"
#include "server/expr/expr.h"
#include "tests/fuzz/fuzz_util.h"

using basalt::Status;
using basalt::table::Decimal;
using basalt::table::Item;
using basalt::table::Value;
using basalt::table::ValueType;
namespace expr = basalt::server::expr;

namespace {

Value N(const char* text) {
  Decimal d;
  (void)Decimal::Parse(text, &d);
  return Value::MakeN(d);
}

struct Fixture {
  std::map<std::string, std::string> names = {
      {"#a", "a"}, {"#b", "b"},   {"#pk", "pk"},  {"#sk", "sk"}, {"#l", "l"},
      {"#m", "m"}, {"#d", "a.b"}, {"#s", "size"}, {"#k1", "k1"}, {"#k2", "k2"}};
  std::map<std::string, Value> values;
  std::vector<Item> items;
  expr::KeySchema hash_only, hash_range, multi;

  Fixture() {
    Item m;
    m.Set("x", N("1"));
    m.Set("y", Value::MakeS("str"));
    values = {
        {":v", N("1")},
        {":w", N("-2.5e10")},
        {":s", Value::MakeS("abc")},
        {":e", Value::MakeS("")},
        {":b", Value::MakeB(std::string("\x00\xff", 2))},
        {":t", Value::MakeBool(true)},
        {":n", Value::MakeNull()},
        {":l", Value::MakeL({N("1"), Value::MakeS("x")})},
        {":m", Value::MakeM(m)},
        {":ss", Value::MakeSS({"a", "b"})},
        {":ns", Value::MakeNS({Decimal::FromInt64(1), Decimal::FromInt64(2)})},
        {":bs", Value::MakeBS({std::string("\x01", 1)})},
    };
    Item a;
    a.Set("pk", Value::MakeS("k"));
    a.Set("sk", N("7"));
    a.Set("a", N("3"));
    a.Set("b", Value::MakeS("abcdef"));
    a.Set("l", Value::MakeL({N("1"), Value::MakeL({Value::MakeS("x")}), Value::MakeM(m)}));
    a.Set("m", Value::MakeM(m));
    a.Set("ss", Value::MakeSS({"a", "c"}));
    a.Set("ns", Value::MakeNS({Decimal::FromInt64(5)}));
    items.push_back(a);
    Item b;
    b.Set("pk", Value::MakeS("k2"));
    b.Set("a", Value::MakeS("3"));
    b.Set("m", Value::MakeL({}));
    items.push_back(b);
    items.push_back(Item());

    hash_only.hash = {{"pk", ValueType::kS}};
    hash_range.hash = {{"pk", ValueType::kS}};
    hash_range.range = {{"sk", ValueType::kN}};
    multi.hash = {{"pk", ValueType::kS}, {"a", ValueType::kN}};
    multi.range = {{"sk", ValueType::kN}, {"b", ValueType::kS}, {"k1", ValueType::kB}};
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
  std::string_view text = in.Rest();
  expr::Placeholders p;
  p.names = &f.names;
  p.values = &f.values;

  Status s;
  switch (sel % 6) {
    case 0: {
      std::shared_ptr<const expr::Condition> c;
      s = expr::ParseCondition(text, sel & 0x80 ? "FilterExpression" : "ConditionExpression", &p,
                               &c);
      if (s.ok()) {
        FUZZ_CHECK(c != nullptr);
        for (const Item& item : f.items) {
          bool r = false;
          (void)expr::EvaluateCondition(*c, &item, &r);
        }
        bool r = false;
        (void)expr::EvaluateCondition(*c, nullptr, &r);
        (void)expr::CheckIndexKeyPaths(*c, {"a", "b"});
      }
      break;
    }
    case 1: {
      std::shared_ptr<const expr::UpdatePlan> plan;
      s = expr::ParseUpdate(text, &p, &plan);
      if (s.ok()) {
        FUZZ_CHECK(plan != nullptr);
        (void)expr::RemovesOnly(*plan);
        (void)expr::AssignedTypes(*plan);
        (void)expr::CheckIndexKeyPaths(*plan, {"a", "b"});
        (void)expr::CheckNoKeyUpdate(*plan, {"pk", "sk"});
        for (const Item& item : f.items) {
          Item out;
          std::vector<expr::Path> updated;
          (void)expr::ApplyUpdate(*plan, &item, {"pk", "sk"}, &out, &updated);
        }
        Item out;
        (void)expr::ApplyUpdate(*plan, nullptr, {"pk"}, &out, nullptr);
      }
      break;
    }
    case 2: {
      std::vector<expr::Path> paths;
      s = expr::ParseProjection(text, &p, &paths);
      if (s.ok()) {
        for (const Item& item : f.items) {
          (void)expr::Project(item, paths);
          for (const expr::Path& path : paths) {
            (void)expr::FindPath(item, path);
            (void)expr::PathToString(path);
          }
        }
      }
      break;
    }
    default: {
      const expr::KeySchema& schema = sel % 6 == 3   ? f.hash_only
                                      : sel % 6 == 4 ? f.hash_range
                                                     : f.multi;
      expr::KeyCondition kc;
      s = expr::ParseKeyCondition(text, &p, schema, &kc);
      if (s.ok()) FUZZ_CHECK(kc.pk_values.size() == schema.hash.size());
      break;
    }
  }
  if (s.ok()) (void)expr::CheckAllUsed(p);
  if (!s.ok()) {
    FUZZ_CHECK(s.IsInvalidArgument(), "parse error that is not InvalidArgument: %s",
               s.ToString().c_str());
  }
  (void)expr::IsReservedWord(text);
  (void)expr::CheckAttributeName(text);
  return 0;
}

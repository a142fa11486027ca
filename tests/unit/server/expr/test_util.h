// Helpers for the expression tests.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/table/value.h"
#include "server/expr/expr.h"

namespace basalt::server::expr::testing {

inline Value N(std::string_view text) {
  Value v;
  Status s = Value::ParseN(text, &v);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return v;
}
inline Value S(std::string s) { return Value::MakeS(std::move(s)); }
inline Value B(std::string s) { return Value::MakeB(std::move(s)); }
inline Value L(std::vector<Value> l) { return Value::MakeL(std::move(l)); }
inline Value M(std::vector<table::AttributeMap::Entry> e) {
  return Value::MakeM(table::AttributeMap::FromUnsorted(std::move(e)));
}
inline Value SS(std::vector<std::string> s) { return Value::MakeSS(std::move(s)); }
inline Value NS(std::vector<std::string> texts) {
  Value::NumberSet ns;
  for (const auto& t : texts) ns.push_back(N(t).n());
  return Value::MakeNS(std::move(ns));
}
inline Item MakeItem(std::vector<table::AttributeMap::Entry> e) {
  return table::AttributeMap::FromUnsorted(std::move(e));
}

// One request's placeholders, owning the maps.
struct Request {
  std::map<std::string, std::string> names;
  std::map<std::string, Value> values;
  Placeholders p;
  Request(std::map<std::string, std::string> n = {}, std::map<std::string, Value> v = {})
      : names(std::move(n)), values(std::move(v)) {
    p.names = names.empty() ? nullptr : &names;
    p.values = values.empty() ? nullptr : &values;
  }
};

// The error message of a failed parse ("" when it succeeded).
inline std::string CondError(std::string_view text, Request r = Request(),
                             std::string_view param = "ConditionExpression") {
  std::shared_ptr<const Condition> c;
  Status s = ParseCondition(text, param, &r.p, &c);
  return s.ok() ? "" : std::string(s.message());
}

inline std::string UpdateError(std::string_view text, Request r = Request()) {
  std::shared_ptr<const UpdatePlan> u;
  Status s = ParseUpdate(text, &r.p, &u);
  return s.ok() ? "" : std::string(s.message());
}

// Parses and evaluates; fails the test on a parse error.
inline bool Eval(std::string_view text, const Item* item, Request r = Request()) {
  std::shared_ptr<const Condition> c;
  Status s = ParseCondition(text, "ConditionExpression", &r.p, &c);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  bool result = false;
  s = EvaluateCondition(*c, item, &result);
  REQUIRE(s.ok());
  return result;
}

}  // namespace basalt::server::expr::testing

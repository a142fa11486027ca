// Helpers for the PartiQL tests.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/table/value.h"
#include "server/expr/expr.h"
#include "server/partiql/partiql.h"

namespace basalt::server::partiql::testing {

using table::Item;
using table::Value;

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

// Parses `text`; fails the test on an error.
inline Statement MustParse(std::string_view text, std::vector<Value> params = {}) {
  Statement st;
  Status s = Parse(text, params, &st);
  REQUIRE_MESSAGE(s.ok(), (std::string(text) + " -> " + s.ToString()));
  return st;
}

// The error message of a failed parse ("" when it succeeded).
inline std::string ParseError(std::string_view text, std::vector<Value> params = {}) {
  Statement st;
  Status s = Parse(text, params, &st);
  if (!s.ok()) CHECK(s.IsInvalidArgument());
  return s.ok() ? "" : std::string(s.message());
}

inline const std::string kMalformed = "Statement wasn't well formed, can't be processed: ";

// Evaluates the WHERE clause of `text` on `item`.
inline bool Matches(std::string_view text, const Item& item, std::vector<Value> params = {}) {
  Statement st = MustParse(text, std::move(params));
  REQUIRE(st.where != nullptr);
  std::shared_ptr<const expr::Condition> c;
  Status s = ToCondition(*st.where, &c);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  bool result = false;
  REQUIRE(expr::EvaluateCondition(*c, &item, &result).ok());
  return result;
}

}  // namespace basalt::server::partiql::testing

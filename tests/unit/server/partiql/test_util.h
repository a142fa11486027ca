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
#include "tests/unit/server/expr/test_util.h"

namespace basalt::server::partiql::testing {

using table::Item;
using table::Value;

// Value builders shared with the expression tests.
using expr::testing::B;
using expr::testing::L;
using expr::testing::M;
using expr::testing::MakeItem;
using expr::testing::N;
using expr::testing::NS;
using expr::testing::S;
using expr::testing::SS;

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

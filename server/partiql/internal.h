// Internal: helpers shared by the parser and the translations. Not part of the
// public API (partiql.h).
#pragma once

#include <string>
#include <vector>

#include "server/expr/ast.h"
#include "server/partiql/partiql.h"

namespace basalt::server::partiql {

// The detail-less envelope of every syntax error.
inline constexpr std::string_view kMalformed = "Statement wasn't well formed, can't be processed: ";

// PartiQL's AST name of a node ("Id", "Path", "Lit", "Eq", "IsType", ...), as
// DynamoDB names it in "Unsupported operation: <name>".
const char* NodeName(const Expr& e);

// The checks of a WHERE clause (boolean where a boolean belongs, operands
// where operands belong, known functions with the right operands). Returns
// the first problem's message, or "" when the clause translates.
std::string CheckWhere(const Expr& where);

// Translates `SET path = value` into one update action (SET, or ADD/DELETE
// for set_add/set_delete). Returns the first problem's message or "".
std::string SetAction(const expr::Path& path, const Expr& value, expr::UpdateAction* out);

}  // namespace basalt::server::partiql

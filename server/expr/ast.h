// Internal: the AST shared by the parser, the evaluator and the update
// applier. Not part of the public API (see expr.h). Immutable once built.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "server/expr/expr.h"

namespace basalt::server::expr {

// An operand of a condition or of a SET right-hand side.
struct Operand {
  enum class Kind {
    kPath,         // a.b[1]
    kValue,        // :v (copied from the placeholders) or a legacy value
    kSize,         // size(path)
    kIfNotExists,  // if_not_exists(path, operand)
    kListAppend,   // list_append(operand, operand)
    kPlus,         // operand + operand
    kMinus,        // operand - operand
    kFunc,         // parse-time only: a call not yet classified (see parser.cc)
  };
  Kind kind = Kind::kValue;
  Path path;
  Value value;
  std::vector<Operand> args;
  std::string func;  // kFunc: the function name
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };

struct CondNode {
  enum class Kind {
    kTrue,  // empty legacy condition
    kCompare,
    kBetween,  // operands: x, lo, hi
    kIn,       // operands: x, candidates...
    kAnd,
    kOr,
    kNot,
    kExists,       // attribute_exists(path)
    kNotExists,    // attribute_not_exists(path)
    kType,         // attribute_type(path, :t)
    kBeginsWith,   // begins_with(a, b)
    kContains,     // contains(a, b)
    kNotContains,  // legacy NOT_CONTAINS: false when the attribute is missing
  };
  Kind kind = Kind::kTrue;
  CompareOp op = CompareOp::kEq;
  std::vector<Operand> operands;
  std::vector<std::unique_ptr<CondNode>> children;  // AND/OR: 2, NOT: 1
};

class Condition {
 public:
  CondNode root;
};

struct UpdateAction {
  enum class Kind { kSet, kRemove, kAdd, kDelete };
  Kind kind = Kind::kSet;
  Path path;
  Operand value;  // SET right-hand side; ADD/DELETE constant
  // From AttributeUpdates: ADD may append a list, and a value of the wrong
  // type for the attribute is "Type mismatch for attribute to update".
  bool legacy = false;
};

class UpdatePlan {
 public:
  std::vector<UpdateAction> actions;
};

// Helpers shared by the implementation files.
const char* TypeName(table::ValueType t);  // "S", "N", ... "NULL"
// DynamoDB's "[a, b, [2]]" form used in overlap/conflict messages.
std::string PathListString(const Path& path);
// Checks pairwise overlap/conflict of paths as DynamoDB does; returns the
// unprefixed message or "" when the paths are independent; *overlap: the
// message is an overlap (else a conflict).
std::string CheckPathOverlaps(const std::vector<Path>& paths, bool* overlap);
// Value ordering for S, N and B of the same type: <0, 0, >0.
int CompareScalar(const Value& a, const Value& b);
bool IsScalarKeyType(const Value& v);

}  // namespace basalt::server::expr

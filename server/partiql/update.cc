// UPDATE's SET clauses as actions of the expression module's update plan.
//
// `SET p = v` is a SET action whose right-hand side may use paths, constants,
// + and -, and list_append. `SET p = set_add(p, <<...>>)` adds to a set and
// `SET p = set_delete(p, <<...>>)` removes from one: the ADD and DELETE
// actions of an UpdateExpression (DynamoDB Developer Guide, "PartiQL update
// statements for DynamoDB").
#include <string>

#include "server/partiql/internal.h"

namespace basalt::server::partiql {
namespace {

using table::ValueType;

bool IsSet(ValueType t) {
  return t == ValueType::kSS || t == ValueType::kNS || t == ValueType::kBS;
}

std::string OperandType(const std::string& f, ValueType t) {
  return "Incorrect operand type for operator or function; operator or function: " + f +
         ", operand type: " + table::ValueTypeName(t);
}

std::string UpdateOperand(const Expr& e, expr::Operand* out) {
  switch (e.kind) {
    case Expr::Kind::kPath:
      out->kind = expr::Operand::Kind::kPath;
      out->path = e.path;
      return "";
    case Expr::Kind::kValue:
      out->kind = expr::Operand::Kind::kValue;
      out->value = e.value;
      return "";
    case Expr::Kind::kArith: {
      out->kind = e.minus ? expr::Operand::Kind::kMinus : expr::Operand::Kind::kPlus;
      out->args.resize(2);
      for (size_t i = 0; i < 2; ++i) {
        const Expr& a = e.args[i];
        if (a.kind == Expr::Kind::kValue && a.value.type() != ValueType::kN) {
          return OperandType(e.minus ? "-" : "+", a.value.type());
        }
        std::string msg = UpdateOperand(a, &out->args[i]);
        if (!msg.empty()) return msg;
      }
      return "";
    }
    case Expr::Kind::kCall: {
      const std::string& f = e.name;
      if (f != "list_append") {
        if (f == "set_add" || f == "set_delete" || f == "begins_with" || f == "contains" ||
            f == "attribute_type" || f == "attribute_exists" || f == "attribute_not_exists" ||
            f == "size") {
          return "Unsupported operator in Update Expression. Operator: " + f;
        }
        return "Unrecognized function: " + f;
      }
      if (e.args.size() != 2) {
        return "Incorrect number of operands for operator or function; operator or function: " + f +
               ", number of operands: " + std::to_string(e.args.size());
      }
      out->kind = expr::Operand::Kind::kListAppend;
      out->args.resize(2);
      for (size_t i = 0; i < 2; ++i) {
        const Expr& a = e.args[i];
        if (a.kind == Expr::Kind::kValue && a.value.type() != ValueType::kL) {
          return OperandType(f, a.value.type());
        }
        std::string msg = UpdateOperand(a, &out->args[i]);
        if (!msg.empty()) return msg;
      }
      return "";
    }
    default:
      return std::string("Unsupported operation: ") + NodeName(e);
  }
}

}  // namespace

std::string SetAction(const expr::Path& path, const Expr& value, expr::UpdateAction* out) {
  out->path = path;
  if (value.kind == Expr::Kind::kCall && (value.name == "set_add" || value.name == "set_delete")) {
    const bool add = value.name == "set_add";
    const std::string which = add ? "ADD" : "DELETE";
    out->kind = add ? expr::UpdateAction::Kind::kAdd : expr::UpdateAction::Kind::kDelete;
    if (value.args.size() != 2) return "SET_" + which + " must have exactly two arguments";
    if (value.args[0].kind != Expr::Kind::kPath || value.args[0].path != path) {
      return "The first argument to SET_" + which + " must equal the assignment value";
    }
    const Expr& set = value.args[1];
    if (set.kind != Expr::Kind::kValue || !IsSet(set.value.type())) {
      return "The second argument to SET_" + which + " must be a value with type SET";
    }
    out->value.kind = expr::Operand::Kind::kValue;
    out->value.value = set.value;
    return "";
  }
  out->kind = expr::UpdateAction::Kind::kSet;
  return UpdateOperand(value, &out->value);
}

}  // namespace basalt::server::partiql

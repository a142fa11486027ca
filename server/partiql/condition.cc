// WHERE clauses: their checks (CheckWhere) and their translation into the
// expression module's condition AST (ToCondition).
//
// DynamoDB runs a PartiQL WHERE clause as a condition expression, so the
// operand and function checks reuse the expression language's messages
// (server/expr/parser.cc), unprefixed.
#include <string>
#include <string_view>
#include <utility>

#include "server/partiql/internal.h"

namespace basalt::server::partiql {
namespace {

using table::Value;
using table::ValueType;

bool IsBooleanFunction(const std::string& f) {
  return f == "begins_with" || f == "contains" || f == "attribute_type" ||
         f == "attribute_exists" || f == "attribute_not_exists";
}

bool IsUpdateFunction(const std::string& f) {
  return f == "list_append" || f == "set_add" || f == "set_delete" || f == "if_not_exists";
}

size_t Arity(const std::string& f) {
  return f == "attribute_exists" || f == "attribute_not_exists" || f == "size" ? 1 : 2;
}

// The DynamoDB type code an IS type name tests, or nullptr (MISSING and the
// unsupported names).
const char* IsTypeCode(const std::string& name) {
  if (name == "NULL") return "NULL";
  if (name == "BOOLEAN") return "BOOL";
  if (name == "STRING") return "S";
  if (name == "NUMERIC") return "N";
  if (name == "BLOB") return "B";
  if (name == "LIST") return "L";
  if (name == "STRUCT" || name == "TUPLE") return "M";
  return nullptr;
}

class Checker {
 public:
  std::string error;

  // `e` stands where a boolean belongs; `not_boolean` is the message when
  // it is not one.
  void Bool(const Expr& e, std::string_view not_boolean) {
    if (!error.empty()) return;
    switch (e.kind) {
      case Expr::Kind::kAnd:
      case Expr::Kind::kOr:
        for (const Expr& a : e.args) Bool(a, "The arguments to AND/OR must be Expressions");
        return;
      case Expr::Kind::kNot:
        return Bool(e.args[0], "The argument to NOT must be a Type or Expression");
      case Expr::Kind::kCompare:
      case Expr::Kind::kBetween:
        for (const Expr& a : e.args) Operand(a);
        return;
      case Expr::Kind::kIn:
        if (e.args.size() < 2 || e.args[0].kind != Expr::Kind::kPath) {
          return Note(
              "IN operator must have a left hand argument of type Variable Reference and right "
              "hand argument of type Seq with at least one member");
        }
        for (const Expr& a : e.args) Operand(a);
        return;
      case Expr::Kind::kIs:
        if (e.args[0].kind != Expr::Kind::kPath && e.args[0].kind != Expr::Kind::kValue) {
          return Note(
              "The left hand side argument to IS must be a Variable Reference, Literal, or Path");
        }
        if (e.name != "MISSING" && IsTypeCode(e.name) == nullptr) {
          return Note("Unsupported data type for IS operator: " + e.name +
                      ". Supported data types are [MISSING, NULL, BOOLEAN, BLOB, STRING, NUMERIC, "
                      "STRUCT, TUPLE, LIST]");
        }
        return;
      case Expr::Kind::kCall:
        // An unknown or misplaced function is named before its result type.
        Call(e);
        if (error.empty() && !IsBooleanFunction(e.name)) Note(std::string(not_boolean));
        return;
      default:
        return Note(std::string(not_boolean));
    }
  }

 private:
  void Note(std::string msg) {
    if (error.empty()) error = std::move(msg);
  }

  void Operand(const Expr& e) {
    if (!error.empty()) return;
    switch (e.kind) {
      case Expr::Kind::kPath:
      case Expr::Kind::kValue:
        return;
      case Expr::Kind::kCall:
        if (IsBooleanFunction(e.name)) {
          return Note(
              "The function is not allowed to be used this way in an expression; function: " +
              e.name);
        }
        return Call(e);
      case Expr::Kind::kArith:
        return Note(std::string("Unsupported operator in Condition Expression. Operator: ") +
                    (e.minus ? "-" : "+"));
      default:
        return Note(std::string("Unsupported operation: ") + NodeName(e));
    }
  }

  void OperandType(const std::string& f, const char* type) {
    Note("Incorrect operand type for operator or function; operator or function: " + f +
         ", operand type: " + type);
  }

  void Call(const Expr& e) {
    const std::string& f = e.name;
    if (IsUpdateFunction(f)) {
      return Note("The function is not allowed in a condition expression; function: " + f);
    }
    if (!IsBooleanFunction(f) && f != "size") return Note("Unrecognized function: " + f);
    if (e.args.size() != Arity(f)) {
      return Note("Incorrect number of operands for operator or function; operator or function: " +
                  f + ", number of operands: " + std::to_string(e.args.size()));
    }
    for (const Expr& a : e.args) Operand(a);
    if (!error.empty()) return;
    if (f == "attribute_exists" || f == "attribute_not_exists") {
      if (e.args[0].kind != Expr::Kind::kPath) {
        Note("Operator or function requires a document path; operator or function: " + f);
      }
    } else if (f == "begins_with") {
      for (const Expr& a : e.args) {
        if (a.kind == Expr::Kind::kValue && a.value.type() != ValueType::kS &&
            a.value.type() != ValueType::kB) {
          return OperandType(f, table::ValueTypeName(a.value.type()));
        }
      }
    } else if (f == "attribute_type") {
      const Expr& t = e.args[1];
      if (t.kind != Expr::Kind::kValue || t.value.type() != ValueType::kS) {
        return OperandType(f, t.kind == Expr::Kind::kValue ? table::ValueTypeName(t.value.type())
                                                           : "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}");
      }
      static constexpr std::string_view kTypes[] = {"S",    "N", "B",  "NULL", "SS",
                                                    "BOOL", "L", "BS", "NS",   "M"};
      for (std::string_view k : kTypes) {
        if (t.value.s() == k) return;
      }
      Note("Invalid attribute type name found; type: " + t.value.s() +
           ", valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}");
    } else if (f == "size") {
      const Expr& a = e.args[0];
      if (a.kind == Expr::Kind::kValue &&
          (a.value.type() == ValueType::kN || a.value.type() == ValueType::kBool ||
           a.value.type() == ValueType::kNull)) {
        OperandType(f, table::ValueTypeName(a.value.type()));
      }
    }
  }
};

expr::CompareOp ToExprOp(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return expr::CompareOp::kEq;
    case CompareOp::kNe:
      return expr::CompareOp::kNe;
    case CompareOp::kLt:
      return expr::CompareOp::kLt;
    case CompareOp::kLe:
      return expr::CompareOp::kLe;
    case CompareOp::kGt:
      return expr::CompareOp::kGt;
    case CompareOp::kGe:
      return expr::CompareOp::kGe;
  }
  return expr::CompareOp::kEq;
}

Status Unsupported(const Expr& e) {
  return Status::InvalidArgument(std::string("Unsupported operation: ") + NodeName(e));
}

Status ConvertOperand(const Expr& e, expr::Operand* out) {
  switch (e.kind) {
    case Expr::Kind::kPath:
      out->kind = expr::Operand::Kind::kPath;
      out->path = e.path;
      return Status::OK();
    case Expr::Kind::kValue:
      out->kind = expr::Operand::Kind::kValue;
      out->value = e.value;
      return Status::OK();
    case Expr::Kind::kCall:
      if (e.name == "size" && e.args.size() == 1) {
        out->kind = expr::Operand::Kind::kSize;
        out->args.resize(1);
        return ConvertOperand(e.args[0], &out->args[0]);
      }
      return Unsupported(e);
    default:
      return Unsupported(e);
  }
}

Status ConvertOperands(const std::vector<Expr>& args, expr::CondNode* out) {
  out->operands.resize(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    Status s = ConvertOperand(args[i], &out->operands[i]);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status Convert(const Expr& e, expr::CondNode* out);

// args[lo, hi) joined by AND/OR as a balanced tree (depth log n).
Status ConvertJunction(expr::CondNode::Kind kind, const std::vector<Expr>& args, size_t lo,
                       size_t hi, expr::CondNode* out) {
  if (hi - lo == 1) return Convert(args[lo], out);
  const size_t mid = lo + (hi - lo) / 2;
  out->kind = kind;
  out->children.push_back(std::make_unique<expr::CondNode>());
  out->children.push_back(std::make_unique<expr::CondNode>());
  Status s = ConvertJunction(kind, args, lo, mid, out->children[0].get());
  if (s.ok()) s = ConvertJunction(kind, args, mid, hi, out->children[1].get());
  return s;
}

void Negate(expr::CondNode* node) {
  auto inner = std::make_unique<expr::CondNode>(std::move(*node));
  *node = expr::CondNode();
  node->kind = expr::CondNode::Kind::kNot;
  node->children.push_back(std::move(inner));
}

Status Convert(const Expr& e, expr::CondNode* out) {
  using K = expr::CondNode::Kind;
  switch (e.kind) {
    case Expr::Kind::kCompare:
      if (e.args.size() != 2) return Unsupported(e);
      out->kind = K::kCompare;
      out->op = ToExprOp(e.op);
      return ConvertOperands(e.args, out);
    case Expr::Kind::kBetween:
      if (e.args.size() != 3) return Unsupported(e);
      out->kind = K::kBetween;
      return ConvertOperands(e.args, out);
    case Expr::Kind::kIn:
      if (e.args.size() < 2) return Unsupported(e);
      out->kind = K::kIn;
      return ConvertOperands(e.args, out);
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr:
      if (e.args.empty()) return Unsupported(e);
      return ConvertJunction(e.kind == Expr::Kind::kAnd ? K::kAnd : K::kOr, e.args, 0,
                             e.args.size(), out);
    case Expr::Kind::kNot: {
      if (e.args.size() != 1) return Unsupported(e);
      out->kind = K::kNot;
      out->children.push_back(std::make_unique<expr::CondNode>());
      return Convert(e.args[0], out->children[0].get());
    }
    case Expr::Kind::kIs: {
      if (e.args.size() != 1) return Unsupported(e);
      out->operands.resize(1);
      Status s = ConvertOperand(e.args[0], &out->operands[0]);
      if (!s.ok()) return s;
      if (e.name == "MISSING") {
        out->kind = e.negated ? K::kExists : K::kNotExists;
        return Status::OK();
      }
      const char* code = IsTypeCode(e.name);
      if (code == nullptr) return Unsupported(e);
      out->kind = K::kType;
      expr::Operand type;
      type.kind = expr::Operand::Kind::kValue;
      type.value = Value::MakeS(code);
      out->operands.push_back(std::move(type));
      if (e.negated) Negate(out);
      return Status::OK();
    }
    case Expr::Kind::kCall: {
      static const std::pair<const char*, K> kKinds[] = {{"begins_with", K::kBeginsWith},
                                                         {"contains", K::kContains},
                                                         {"attribute_type", K::kType},
                                                         {"attribute_exists", K::kExists},
                                                         {"attribute_not_exists", K::kNotExists}};
      for (const auto& [name, kind] : kKinds) {
        if (e.name == name && e.args.size() == Arity(e.name)) {
          out->kind = kind;
          return ConvertOperands(e.args, out);
        }
      }
      return Unsupported(e);
    }
    default:
      return Unsupported(e);
  }
}

}  // namespace

std::string CheckWhere(const Expr& where) {
  Checker c;
  c.Bool(where, "WHERE clause must contain an expression that resolves to a boolean");
  return c.error;
}

Status ToCondition(const Expr& where, std::shared_ptr<const expr::Condition>* out) {
  auto c = std::make_shared<expr::Condition>();
  Status s = Convert(where, &c->root);
  if (!s.ok()) return s;
  *out = std::move(c);
  return Status::OK();
}

}  // namespace basalt::server::partiql

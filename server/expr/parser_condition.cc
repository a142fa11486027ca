// The condition grammar of the expression parser (parser_internal.h):
// OR / AND / NOT, comparisons, BETWEEN, IN, functions, and the checks of
// condition functions.
#include <utility>

#include "server/expr/parser_internal.h"

namespace basalt::server::expr::parse_detail {

Status Parser::ParseConditionText(CondNode* out) {
  std::unique_ptr<CondNode> node;
  bool wrapped = false;
  if (!ParseOr(&node, &wrapped) || !At(Tok::kEnd)) return Fail();
  *out = std::move(*node);
  return Finish();
}

void Parser::NoteOrderedOperand(const std::string& name, const Operand& op) {
  if (op.kind != Operand::Kind::kValue || !defined_) return;
  const table::ValueType t = op.value.type();
  if (t == table::ValueType::kS || t == table::ValueType::kN || t == table::ValueType::kB) return;
  NoteOperandType(name, TypeName(t));
}

void Parser::NoteDistinct(const std::string& name, const Operand& a, const Operand& b) {
  if (a.kind == Operand::Kind::kPath && b.kind == Operand::Kind::kPath && a.path == b.path) {
    Note(kDistinct,
         "The first operand must be distinct from the remaining operands for this operator or "
         "function; operator: " +
             name + ", first operand: " + PathListString(a.path));
  }
}

void Parser::CheckConditionFunction(Operand* call) {
  const std::string& f = call->func;
  size_t want = 0;
  if (f == "attribute_exists" || f == "attribute_not_exists" || f == "size") {
    want = 1;
  } else if (f == "attribute_type" || f == "begins_with" || f == "contains") {
    want = 2;
  } else if (f == "if_not_exists" || f == "list_append") {
    Note(kUnknownFunction, "The function is not allowed in a condition expression; function: " + f);
    return;
  } else {
    Note(kUnknownFunction, "Invalid function name; function: " + f);
    return;
  }
  // A boolean function is not an operand: nested inside another call, it is misused.
  for (const Operand& a : call->args) {
    if (a.kind == Operand::Kind::kFunc) NoteMisused(a);
  }
  if (call->args.size() != want) {
    NoteArity(f, call->args.size());
    return;
  }
  if (want == 2) NoteDistinct(f, call->args[0], call->args[1]);
  bool known = false;
  if (f == "attribute_exists" || f == "attribute_not_exists") {
    if (call->args[0].kind != Operand::Kind::kPath) {
      Note(kFunctionType,
           "Operator or function requires a document path; operator or function: " + f);
    }
  } else if (f == "begins_with") {
    for (const Operand& a : call->args) {
      const char* t = StaticType(a, &known);
      if (t != nullptr && std::string_view(t) != "S" && std::string_view(t) != "B") {
        NoteOperandType(f, t);
        break;
      }
    }
  } else if (f == "attribute_type") {
    const Operand& a = call->args[1];
    const char* t = StaticType(a, &known);
    if (!known || std::string_view(t) != "S") {
      NoteOperandType(f, t != nullptr ? t : "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}");
    } else {
      static const char* kTypes[] = {"S", "N", "B", "NULL", "SS", "BOOL", "L", "BS", "NS", "M"};
      bool ok = false;
      for (const char* k : kTypes) ok = ok || a.value.s() == k;
      if (!ok) {
        Note(kFunctionType, "Invalid attribute type name found; type: " + a.value.s() +
                                ", valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}");
      }
    }
  } else if (f == "size") {
    const char* t = StaticType(call->args[0], &known);
    if (t != nullptr && (std::string_view(t) == "N" || std::string_view(t) == "BOOL" ||
                         std::string_view(t) == "NULL")) {
      NoteOperandType(f, t);
    }
    // size() is an operand: give it its final form now.
    Operand arg = std::move(call->args[0]);
    call->args.clear();
    call->args.push_back(std::move(arg));
    call->kind = Operand::Kind::kSize;
  }
}

Parser::NodePtr Parser::Binary(CondNode::Kind kind, NodePtr a, NodePtr b) {
  auto n = std::make_unique<CondNode>();
  n->kind = kind;
  n->children.push_back(std::move(a));
  n->children.push_back(std::move(b));
  return n;
}

bool Parser::ParseOr(NodePtr* out, bool* wrapped) {
  if (!ParseAnd(out, wrapped)) return false;
  while (AtKeyword("OR")) {
    Next();
    NodePtr rhs;
    bool w = false;
    if (!ParseAnd(&rhs, &w)) return false;
    ++operators_;
    *out = Binary(CondNode::Kind::kOr, std::move(*out), std::move(rhs));
    *wrapped = false;
  }
  return true;
}

bool Parser::ParseAnd(NodePtr* out, bool* wrapped) {
  if (!ParseNot(out, wrapped)) return false;
  while (AtKeyword("AND")) {
    Next();
    NodePtr rhs;
    bool w = false;
    if (!ParseNot(&rhs, &w)) return false;
    ++operators_;
    *out = Binary(CondNode::Kind::kAnd, std::move(*out), std::move(rhs));
    *wrapped = false;
  }
  return true;
}

bool Parser::ParseNot(NodePtr* out, bool* wrapped) {
  NestingGuard guard(&nesting_);
  if (!guard.ok()) return false;
  if (AtKeyword("NOT")) {
    Next();
    NodePtr inner;
    bool w = false;
    if (!ParseNot(&inner, &w)) return false;
    ++operators_;
    *out = std::make_unique<CondNode>();
    (*out)->kind = CondNode::Kind::kNot;
    (*out)->children.push_back(std::move(inner));
    *wrapped = false;
    return true;
  }
  return ParsePrimary(out, wrapped);
}

bool Parser::ParsePrimary(NodePtr* out, bool* wrapped) {
  *wrapped = false;
  if (At(Tok::kLParen)) {
    // Either a parenthesized condition or a comparison whose first operand
    // is parenthesized: try the former, backtrack to the latter.
    State saved = Save();
    Next();
    bool inner_wrapped = false;
    NodePtr inner;
    if (ParseOr(&inner, &inner_wrapped) && Accept(Tok::kRParen)) {
      if (inner_wrapped) Note(kParens, "The expression has redundant parentheses;");
      *out = std::move(inner);
      *wrapped = true;
      return true;
    }
    Restore(std::move(saved));
  }
  return ParseAtom(out);
}

bool Parser::ParseAtom(NodePtr* out) {
  auto node = std::make_unique<CondNode>();
  Operand a;
  if (!ParseOperand(&a)) return false;
  const Tok k = Peek().kind;
  if (k == Tok::kEq || k == Tok::kNe || k == Tok::kLt || k == Tok::kLe || k == Tok::kGt ||
      k == Tok::kGe) {
    Next();
    static const CompareOp kOps[] = {CompareOp::kEq, CompareOp::kNe, CompareOp::kLt,
                                     CompareOp::kLe, CompareOp::kGt, CompareOp::kGe};
    node->kind = CondNode::Kind::kCompare;
    node->op = kOps[static_cast<int>(k) - static_cast<int>(Tok::kEq)];
    Operand b;
    if (!ParseOperand(&b)) return false;
    ++operators_;
    NoteMisused(a);
    NoteMisused(b);
    if (node->op != CompareOp::kEq && node->op != CompareOp::kNe) {
      NoteOrderedOperand(CompareOpText(node->op), a);
      NoteOrderedOperand(CompareOpText(node->op), b);
    }
    NoteDistinct(CompareOpText(node->op), a, b);
    node->operands.push_back(std::move(a));
    node->operands.push_back(std::move(b));
  } else if (AtKeyword("BETWEEN")) {
    Next();
    Operand lo, hi;
    if (!ParseOperand(&lo)) return false;
    if (!AtKeyword("AND")) return false;
    Next();
    if (!ParseOperand(&hi)) return false;
    ++operators_;
    NoteMisused(a);
    NoteMisused(lo);
    NoteMisused(hi);
    NoteOrderedOperand("BETWEEN", a);
    NoteOrderedOperand("BETWEEN", lo);
    NoteOrderedOperand("BETWEEN", hi);
    if (lo.kind == Operand::Kind::kValue && hi.kind == Operand::Kind::kValue) {
      const Value& x = lo.value;
      const Value& y = hi.value;
      if (x.type() != y.type()) {
        Note(kFunctionType,
             "The BETWEEN operator requires same data type for lower and upper bounds; lower "
             "bound operand: AttributeValue: " +
                 AttrValueString(x) +
                 ", upper bound operand: AttributeValue: " + AttrValueString(y));
      } else if (IsScalarKeyType(x) && CompareScalar(x, y) > 0) {
        Note(kFunctionType,
             "The BETWEEN operator requires upper bound to be greater than or equal to lower "
             "bound; lower bound operand: AttributeValue: " +
                 AttrValueString(x) +
                 ", upper bound operand: AttributeValue: " + AttrValueString(y));
      }
    }
    node->kind = CondNode::Kind::kBetween;
    node->operands.push_back(std::move(a));
    node->operands.push_back(std::move(lo));
    node->operands.push_back(std::move(hi));
  } else if (AtKeyword("IN")) {
    Next();
    if (!Accept(Tok::kLParen)) return false;
    node->kind = CondNode::Kind::kIn;
    NoteMisused(a);
    node->operands.push_back(std::move(a));
    do {
      Operand c;
      if (!ParseOperand(&c)) return false;
      NoteMisused(c);
      node->operands.push_back(std::move(c));
    } while (Accept(Tok::kComma));
    if (!Accept(Tok::kRParen)) return false;
    ++operators_;
    if (node->operands.size() - 1 > kMaxInOperands) {
      Note(kInCount, "Too many operands for IN operator; number of operands: " +
                         std::to_string(node->operands.size() - 1));
    }
  } else if (a.kind == Operand::Kind::kFunc || a.kind == Operand::Kind::kSize) {
    if (a.kind == Operand::Kind::kSize) {
      Note(kMisusedFunction,
           "The function is not allowed to be used this way in an expression; function: size");
    } else if (IsBooleanFunction(a.func) && a.args.size() >= 1) {
      static const std::pair<const char*, CondNode::Kind> kKinds[] = {
          {"attribute_exists", CondNode::Kind::kExists},
          {"attribute_not_exists", CondNode::Kind::kNotExists},
          {"attribute_type", CondNode::Kind::kType},
          {"begins_with", CondNode::Kind::kBeginsWith},
          {"contains", CondNode::Kind::kContains},
      };
      for (const auto& [name, kind] : kKinds) {
        if (a.func == name) node->kind = kind;
      }
      node->operands = std::move(a.args);
    }
  } else {
    Touch();
    return false;
  }
  *out = std::move(node);
  return true;
}

}  // namespace basalt::server::expr::parse_detail

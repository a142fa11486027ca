// The update grammar of the expression parser (parser_internal.h): SET,
// REMOVE, ADD and DELETE clauses, SET values and their functions, ADD /
// DELETE operands.
#include <utility>

#include "server/expr/parser_internal.h"

namespace basalt::server::expr::parse_detail {

Status Parser::ParseUpdateText(UpdatePlan* out) {
  std::vector<Path> paths;
  bool seen[4] = {false, false, false, false};
  do {
    const Token& t = Peek();
    int clause = -1;
    if (t.kind == Tok::kIdent) {
      static const char* kClauses[] = {"SET", "REMOVE", "ADD", "DELETE"};
      for (int i = 0; i < 4; ++i) {
        if (EqualsIgnoreCase(t.text, kClauses[i])) clause = i;
      }
    }
    if (clause < 0) return Fail();
    Next();
    if (seen[clause]) {
      static const char* kUpper[] = {"SET", "REMOVE", "ADD", "DELETE"};
      Note(kSection, std::string("The \"") + kUpper[clause] +
                         "\" section can only be used once in an update expression;");
    }
    seen[clause] = true;
    do {
      UpdateAction a;
      a.kind = static_cast<UpdateAction::Kind>(clause);
      if (!ParsePath(&a.path)) return Fail();
      if (a.kind == UpdateAction::Kind::kSet) {
        if (!Accept(Tok::kEq)) return Fail();
        if (!ParseSetValue(&a.value)) return Fail();
      } else if (a.kind != UpdateAction::Kind::kRemove) {
        if (!At(Tok::kValue)) return Fail();
        a.value = ResolveValue(Next().text);
        CheckAddDeleteOperand(a.kind == UpdateAction::Kind::kAdd ? "ADD" : "DELETE", a.value);
      }
      paths.push_back(a.path);
      out->actions.push_back(std::move(a));
    } while (Accept(Tok::kComma));
  } while (!At(Tok::kEnd));
  NoteOverlaps(paths);
  return Finish();
}

void Parser::CheckUpdateFunction(Operand* call) {
  const std::string& f = call->func;
  if (f == "if_not_exists") {
    call->kind = Operand::Kind::kIfNotExists;
  } else if (f == "list_append") {
    call->kind = Operand::Kind::kListAppend;
  } else {
    Note(kUnknownFunction, "Invalid function name; function: " + f);
    return;
  }
  if (call->args.size() != 2) {
    NoteArity(f, call->args.size());
    return;
  }
  bool known = false;
  if (call->kind == Operand::Kind::kIfNotExists) {
    if (call->args[0].kind != Operand::Kind::kPath) {
      Note(kFunctionType,
           "Operator or function requires a document path; operator or function: " + f);
    }
  } else {
    // list_append(list_append(..), ..) parses, but DynamoDB refuses it (its
    // observed answer): "The function is not allowed to be used this way in
    // an expression; function: list_append". if_not_exists may be nested in
    // either function (and in itself).
    for (const Operand& a : call->args) {
      if (a.kind == Operand::Kind::kListAppend) {
        Note(kMisusedFunction,
             "The function is not allowed to be used this way in an expression; function: " + f);
      }
    }
    for (const Operand& a : call->args) {
      const char* t = StaticType(a, &known);
      if (known && std::string_view(t) != "L") {
        NoteOperandType(f, t);
        break;
      }
    }
  }
}

bool Parser::ParseSetValue(Operand* out) {
  if (At(Tok::kLParen)) {
    State saved = Save();
    Next();
    if (ParseSetArith(out) && Accept(Tok::kRParen)) return true;
    Restore(std::move(saved));
    *out = Operand();
  }
  return ParseSetArith(out);
}

bool Parser::ParseSetArith(Operand* out) {
  Operand a;
  if (!ParseUpdateOperand(&a)) return false;
  if (At(Tok::kPlus) || At(Tok::kMinus)) {
    const bool plus = Next().kind == Tok::kPlus;
    Operand b;
    if (!ParseUpdateOperand(&b)) return false;
    ++operators_;
    bool known = false;
    for (const Operand* x : {&a, &b}) {
      const char* t = StaticType(*x, &known);
      if (known && std::string_view(t) != "N") {
        NoteOperandType(plus ? "+" : "-", t);
        break;
      }
    }
    out->kind = plus ? Operand::Kind::kPlus : Operand::Kind::kMinus;
    out->args.push_back(std::move(a));
    out->args.push_back(std::move(b));
    return true;
  }
  *out = std::move(a);
  return true;
}

bool Parser::ParseUpdateOperand(Operand* out) {
  NestingGuard guard(&nesting_);
  if (!guard.ok()) return false;
  if (Accept(Tok::kLParen)) {
    if (!ParseUpdateOperand(out)) return false;
    return Accept(Tok::kRParen);
  }
  if (At(Tok::kValue)) {
    *out = ResolveValue(Next().text);
    return true;
  }
  if (Peek().kind == Tok::kIdent && PeekAt(1).kind == Tok::kLParen && !IsKeyword(Peek().text)) {
    return ParseCall(out);
  }
  out->kind = Operand::Kind::kPath;
  return ParsePath(&out->path);
}

void Parser::CheckAddDeleteOperand(const char* op, const Operand& v) {
  if (!defined_) return;
  const table::ValueType t = v.value.type();
  const bool is_set =
      t == table::ValueType::kSS || t == table::ValueType::kNS || t == table::ValueType::kBS;
  if (is_set || (t == table::ValueType::kN && std::string_view(op) == "ADD")) return;
  Note(kOperandType, std::string("Incorrect operand type for operator or function; operator: ") +
                         op + ", operand type: " + LongTypeName(t));
}

}  // namespace basalt::server::expr::parse_detail

// Recursive-descent parsers for condition, update and projection expressions.
//
// DynamoDB reports a syntax error before anything else, and among the other
// errors a fixed priority that does not follow their position in the text
// (the order is observed behaviour of DynamoDB). So the parser fails fast on
// syntax but only *notes* semantic problems in slots, and the first non-empty
// slot in priority order wins once the parse succeeded.
//
// Syntax errors follow PEG semantics: alternatives are tried with
// backtracking, and the error names the furthest token any alternative reached.
//
// This file: the parser's core (tokens, error slots, paths, operands,
// function checks, projections) and the public entry points of expr.h; the
// grammars are in parser_condition.cc and parser_update.cc.
#include <cctype>
#include <utility>

#include "engine/base/base64.h"
#include "server/expr/parser_internal.h"

namespace basalt::server::expr::parse_detail {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// DynamoDB's long type names used for ADD/DELETE operands.
const char* LongTypeName(table::ValueType t) {
  switch (t) {
    case table::ValueType::kS:
      return "STRING";
    case table::ValueType::kN:
      return "NUMBER";
    case table::ValueType::kB:
      return "BINARY";
    case table::ValueType::kNull:
      return "NULL";
    case table::ValueType::kBool:
      return "BOOLEAN";
    case table::ValueType::kL:
      return "LIST";
    case table::ValueType::kM:
      return "MAP";
    default:
      return TypeName(t);
  }
}

// "{N:1}" / "{S:a}" as in DynamoDB's BETWEEN messages.
std::string AttrValueString(const Value& v) {
  std::string s = "{";
  s += TypeName(v.type());
  s += ":";
  switch (v.type()) {
    case table::ValueType::kS:
      s += v.s();
      break;
    case table::ValueType::kN:
      s += v.n().ToString();
      break;
    case table::ValueType::kB:
      s += Base64Encode(v.b());
      break;
    case table::ValueType::kBool:
      s += v.boolean() ? "true" : "false";
      break;
    case table::ValueType::kNull:
      s += "true";
      break;
    default:
      s += table::DebugString(v);
  }
  s += "}";
  return s;
}

const char* CompareOpText(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "=";
    case CompareOp::kNe:
      return "<>";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
  }
  return "?";
}

bool IsBooleanFunction(std::string_view f) {
  return f == "attribute_exists" || f == "attribute_not_exists" || f == "attribute_type" ||
         f == "begins_with" || f == "contains";
}

Status Parser::ParseProjectionText(std::vector<Path>* out) {
  do {
    Path path;
    if (!ParsePath(&path)) return Fail();
    out->push_back(std::move(path));
  } while (Accept(Tok::kComma));
  if (!At(Tok::kEnd)) return Fail();
  NoteOverlaps(*out);
  return Finish();
}

const Token& Parser::PeekAt(size_t k) const {
  return tokens_[pos_ + k < tokens_.size() ? pos_ + k : tokens_.size() - 1];
}

bool Parser::At(Tok k) {
  if (Peek().kind == k) return true;
  Touch();
  return false;
}

bool Parser::Accept(Tok k) {
  if (!At(k)) return false;
  ++pos_;
  return true;
}

void Parser::Touch() {
  if (pos_ > furthest_) furthest_ = pos_;
}

bool Parser::AtKeyword(std::string_view kw) {
  if (Peek().kind == Tok::kIdent && EqualsIgnoreCase(Peek().text, kw)) return true;
  Touch();
  return false;
}

bool Parser::IsKeyword(std::string_view word) const {
  static const char* kCond[] = {"AND", "OR", "NOT", "BETWEEN", "IN"};
  static const char* kUpdate[] = {"SET", "REMOVE", "ADD", "DELETE"};
  if (mode_ == Mode::kCondition) {
    for (const char* k : kCond) {
      if (EqualsIgnoreCase(word, k)) return true;
    }
  } else if (mode_ == Mode::kUpdate) {
    for (const char* k : kUpdate) {
      if (EqualsIgnoreCase(word, k)) return true;
    }
  }
  return false;
}

void Parser::Restore(State s) {
  pos_ = s.pos;
  errors_ = std::move(s.errors);
  p_->used_names = std::move(s.used_names);
  p_->used_values = std::move(s.used_values);
  operators_ = s.operators;
}

void Parser::Note(Slot slot, std::string msg) {
  if (errors_[slot].empty()) errors_[slot] = std::move(msg);
}

Status Parser::Fail() {
  Touch();
  return Status::InvalidArgument(SyntaxError(text_, tokens_, furthest_));
}

Status Parser::Finish() {
  if (operators_ > kMaxOperators) {
    return Status::InvalidArgument("The expression contains too many operators; operator count: " +
                                   std::to_string(operators_));
  }
  static constexpr Slot kCondOrder[] = {
      kParens,       kUnknownFunction, kMisusedFunction, kReserved, kAttrName,
      kOperandCount, kDistinct,        kFunctionType,    kInCount,  kDepth};
  static constexpr Slot kUpdateOrder[] = {
      kReserved, kUnknownFunction, kMisusedFunction, kSection,      kAttrName, kOverlap,
      kConflict, kOperandType,     kOperandCount,    kFunctionType, kDepth};
  static constexpr Slot kProjOrder[] = {kReserved, kAttrName, kOverlap, kConflict, kDepth};
  auto report = [&](const auto& order) -> Status {
    for (Slot s : order) {
      if (!errors_[s].empty()) return Status::InvalidArgument(errors_[s]);
    }
    return Status::OK();
  };
  switch (mode_) {
    case Mode::kCondition:
      return report(kCondOrder);
    case Mode::kUpdate:
      return report(kUpdateOrder);
    case Mode::kProjection:
      return report(kProjOrder);
  }
  return Status::OK();
}

std::string Parser::ResolveName(std::string_view ph) {
  std::string key(ph);
  if (p_->names != nullptr) {
    auto it = p_->names->find(key);
    if (it != p_->names->end()) {
      p_->used_names.insert(key);
      return it->second;
    }
  }
  Note(kAttrName,
       "An expression attribute name used in the document path is not defined; attribute name: " +
           key);
  return key;
}

Operand Parser::ResolveValue(std::string_view ph) {
  Operand op;
  op.kind = Operand::Kind::kValue;
  std::string key(ph);
  if (p_->values != nullptr) {
    auto it = p_->values->find(key);
    if (it != p_->values->end()) {
      p_->used_values.insert(key);
      op.value = it->second;
      return op;
    }
  }
  Note(kAttrName,
       "An expression attribute value used in expression is not defined; attribute value: " + key);
  defined_ = false;
  return op;
}

bool Parser::ParsePathName(Path* path) {
  const Token& t = Peek();
  if (t.kind == Tok::kName) {
    if (t.text.size() == 1) return (Touch(), false);
    Next();
    path->push_back(PathElement{ResolveName(t.text)});
    return true;
  }
  if (t.kind == Tok::kIdent && !IsKeyword(t.text)) {
    Next();
    if (IsReservedWord(t.text)) {
      Note(kReserved,
           "Attribute name is a reserved keyword; reserved keyword: " + std::string(t.text));
    }
    path->push_back(PathElement{std::string(t.text)});
    return true;
  }
  Touch();
  return false;
}

bool Parser::ParsePath(Path* path) {
  if (!ParsePathName(path)) return false;
  while (true) {
    if (Accept(Tok::kDot)) {
      if (!ParsePathName(path)) return false;
    } else if (Accept(Tok::kLBracket)) {
      if (!At(Tok::kNumber)) return false;
      std::string_view digits = Peek().text;
      uint64_t v = 0;
      for (char c : digits) {
        v = std::min<uint64_t>(v * 10 + static_cast<uint64_t>(c - '0'), uint64_t{1} << 40);
      }
      if (v > INT32_MAX) {
        // DynamoDB's answer for an index beyond a 32-bit signed integer.
        Note(kDepth,
             "List index is not within the allowable range; index: [" + std::string(digits) + "]");
        v = UINT32_MAX;
      }
      Next();
      if (!Accept(Tok::kRBracket)) return false;
      PathElement e;
      e.is_index = true;
      e.index = static_cast<uint32_t>(v);
      path->push_back(std::move(e));
    } else {
      break;
    }
  }
  if (path->size() > kMaxPathDepth) {
    Note(kDepth, "The document path has too many nesting levels; nesting levels: " +
                     std::to_string(path->size()));
  }
  return true;
}

void Parser::NoteOverlaps(const std::vector<Path>& paths) {
  bool overlap = false;
  std::string msg = CheckPathOverlaps(paths, &overlap);
  if (msg.empty()) return;
  Note(overlap ? kOverlap : kConflict, std::move(msg));
}

bool Parser::ParseOperand(Operand* out, bool* wrapped) {
  NestingGuard guard(&nesting_);
  if (!guard.ok()) return false;
  if (wrapped != nullptr) *wrapped = false;
  if (Accept(Tok::kLParen)) {
    bool inner_wrapped = false;
    if (!ParseOperand(out, &inner_wrapped)) return false;
    if (!Accept(Tok::kRParen)) return false;
    if (inner_wrapped && mode_ == Mode::kCondition) {
      Note(kParens, "The expression has redundant parentheses;");
    }
    if (wrapped != nullptr) *wrapped = true;
    return true;
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

bool Parser::ParseCall(Operand* out) {
  out->kind = Operand::Kind::kFunc;
  out->func = std::string(Next().text);
  Next();  // '('
  do {
    Operand arg;
    if (mode_ == Mode::kUpdate) {
      if (!ParseUpdateOperand(&arg)) return false;
    } else if (!ParseOperand(&arg)) {
      return false;
    }
    out->args.push_back(std::move(arg));
  } while (Accept(Tok::kComma));
  if (!Accept(Tok::kRParen)) return false;
  ++operators_;
  if (mode_ == Mode::kCondition) {
    CheckConditionFunction(out);
  } else {
    CheckUpdateFunction(out);
  }
  return true;
}

const char* Parser::StaticType(const Operand& op, bool* known_value) {
  *known_value = false;
  if (op.kind == Operand::Kind::kValue) {
    *known_value = true;
    return TypeName(op.value.type());
  }
  if (op.kind == Operand::Kind::kSize) return "N";
  return nullptr;
}

void Parser::NoteArity(const std::string& name, size_t n) {
  Note(mode_ == Mode::kCondition ? kOperandCount : kFunctionType,
       "Incorrect number of operands for operator or function; operator or function: " + name +
           ", number of operands: " + std::to_string(n));
}

void Parser::NoteOperandType(const std::string& name, std::string_view type) {
  Note(kFunctionType, "Incorrect operand type for operator or function; operator or function: " +
                          name + ", operand type: " + std::string(type));
}

void Parser::NoteMisused(const Operand& op) {
  if (op.kind == Operand::Kind::kFunc && IsBooleanFunction(op.func)) {
    Note(kMisusedFunction,
         "The function is not allowed to be used this way in an expression; function: " + op.func);
  }
}

}  // namespace basalt::server::expr::parse_detail

namespace basalt::server::expr {
namespace {

using parse_detail::Mode;
using parse_detail::Parser;

Status Prefix(std::string_view param, const Status& s) {
  if (s.ok()) return s;
  return Status::InvalidArgument("Invalid " + std::string(param) + ": " + std::string(s.message()));
}

Status CheckText(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument("The expression can not be empty;");
  if (text.size() > kMaxExpressionSize) {
    return Status::InvalidArgument(
        "Expression size has exceeded the maximum allowed size; expression size: " +
        std::to_string(text.size()));
  }
  return Status::OK();
}

}  // namespace
Status ParseCondition(std::string_view text, std::string_view param, Placeholders* p,
                      std::shared_ptr<const Condition>* out) {
  Status s = CheckText(text);
  auto c = std::make_shared<Condition>();
  if (s.ok()) s = Parser(text, Mode::kCondition, p).ParseConditionText(&c->root);
  if (!s.ok()) return Prefix(param, s);
  *out = std::move(c);
  return Status::OK();
}

Status ParseUpdate(std::string_view text, Placeholders* p, std::shared_ptr<const UpdatePlan>* out) {
  Status s = CheckText(text);
  auto plan = std::make_shared<UpdatePlan>();
  if (s.ok()) s = Parser(text, Mode::kUpdate, p).ParseUpdateText(plan.get());
  if (!s.ok()) return Prefix("UpdateExpression", s);
  *out = std::move(plan);
  return Status::OK();
}

Status ParseProjection(std::string_view text, Placeholders* p, std::vector<Path>* out) {
  out->clear();
  Status s = CheckText(text);
  if (s.ok()) s = Parser(text, Mode::kProjection, p).ParseProjectionText(out);
  return Prefix("ProjectionExpression", s);
}

}  // namespace basalt::server::expr

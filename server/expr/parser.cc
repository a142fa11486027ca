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
#include <array>
#include <cctype>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "server/expr/ast.h"
#include "server/expr/lexer.h"

namespace basalt::server::expr {
namespace {

enum class Mode { kCondition, kUpdate, kProjection };

// Semantic error slots, in reporting priority order per mode (see Order()).
enum Slot {
  kParens,
  kUnknownFunction,
  kMisusedFunction,
  kReserved,
  kSection,
  kAttrName,  // undefined #name or :value (one slot: first one in the text)
  kOverlap,
  kConflict,
  kOperandType,  // ADD / DELETE operand types
  kOperandCount,
  kDistinct,
  kFunctionType,
  kDepth,
  kInCount,
  kNumSlots,
};

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

std::string Base64(std::string_view in) {
  static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kChars[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kChars[(v >> 18) & 63];
    out += kChars[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kChars[(v >> 18) & 63];
    out += kChars[(v >> 12) & 63];
    out += kChars[(v >> 6) & 63];
    out += '=';
  }
  return out;
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
      s += Base64(v.b());
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

class Parser {
 public:
  Parser(std::string_view text, Mode mode, Placeholders* p)
      : text_(text), mode_(mode), p_(p), tokens_(Tokenize(text)) {}

  // Condition: the whole text.
  Status ParseConditionText(CondNode* out) {
    std::unique_ptr<CondNode> node;
    bool wrapped = false;
    if (!ParseOr(&node, &wrapped) || !At(Tok::kEnd)) return Fail();
    *out = std::move(*node);
    return Finish();
  }

  Status ParseUpdateText(UpdatePlan* out) {
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

  Status ParseProjectionText(std::vector<Path>* out) {
    do {
      Path path;
      if (!ParsePath(&path)) return Fail();
      out->push_back(std::move(path));
    } while (Accept(Tok::kComma));
    if (!At(Tok::kEnd)) return Fail();
    NoteOverlaps(*out);
    return Finish();
  }

 private:
  struct State {
    size_t pos;
    std::array<std::string, kNumSlots> errors;
    std::set<std::string> used_names, used_values;
    int operators;
  };

  // ---- tokens ----
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& PeekAt(size_t k) const {
    return tokens_[pos_ + k < tokens_.size() ? pos_ + k : tokens_.size() - 1];
  }
  bool At(Tok k) {
    if (Peek().kind == k) return true;
    Touch();
    return false;
  }
  bool Accept(Tok k) {
    if (!At(k)) return false;
    ++pos_;
    return true;
  }
  const Token& Next() { return tokens_[pos_++]; }
  // Records how far the parse got, for PEG-style error positions.
  void Touch() {
    if (pos_ > furthest_) furthest_ = pos_;
  }
  bool AtKeyword(std::string_view kw) {
    if (Peek().kind == Tok::kIdent && EqualsIgnoreCase(Peek().text, kw)) return true;
    Touch();
    return false;
  }
  bool IsKeyword(std::string_view word) const {
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

  State Save() const { return State{pos_, errors_, p_->used_names, p_->used_values, operators_}; }
  void Restore(State s) {
    pos_ = s.pos;
    errors_ = std::move(s.errors);
    p_->used_names = std::move(s.used_names);
    p_->used_values = std::move(s.used_values);
    operators_ = s.operators;
  }

  void Note(Slot slot, std::string msg) {
    if (errors_[slot].empty()) errors_[slot] = std::move(msg);
  }

  Status Fail() {
    Touch();
    return Status::InvalidArgument(SyntaxError(text_, tokens_, furthest_));
  }

  Status Finish() {
    if (operators_ > kMaxOperators) {
      return Status::InvalidArgument(
          "The expression contains too many operators; operator count: " +
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

  // ---- placeholders and paths ----
  std::string ResolveName(std::string_view ph) {
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

  Operand ResolveValue(std::string_view ph) {
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
    Note(
        kAttrName,
        "An expression attribute value used in expression is not defined; attribute value: " + key);
    defined_ = false;
    return op;
  }

  bool ParsePathName(Path* path) {
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

  bool ParsePath(Path* path) {
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
          Note(kDepth, "List index is not within the allowable range; index: [" +
                           std::string(digits) + "]");
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

  void NoteOverlaps(const std::vector<Path>& paths) {
    bool overlap = false;
    std::string msg = CheckPathOverlaps(paths, &overlap);
    if (msg.empty()) return;
    Note(overlap ? kOverlap : kConflict, std::move(msg));
  }

  // Bounds the parser's recursion, so no input can exhaust the thread's
  // stack: deeper than kMaxNesting levels (parentheses, NOT, calls) is a
  // syntax error. No valid expression comes near it: one of at most 4 KB
  // with at most 300 operators, and no redundant parentheses.
  static constexpr int kMaxNesting = 1000;
  class NestingGuard {
   public:
    explicit NestingGuard(int* depth) : depth_(depth) { ++*depth_; }
    ~NestingGuard() { --*depth_; }
    bool ok() const { return *depth_ <= kMaxNesting; }

   private:
    int* depth_;
  };

  // ---- operands ----

  // operand := '(' operand ')' | :value | name '(' args ')' | path
  bool ParseOperand(Operand* out, bool* wrapped = nullptr) {
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

  bool ParseCall(Operand* out) {
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

  // The type an operand is known to have at parse time, or nullptr.
  static const char* StaticType(const Operand& op, bool* known_value) {
    *known_value = false;
    if (op.kind == Operand::Kind::kValue) {
      *known_value = true;
      return TypeName(op.value.type());
    }
    if (op.kind == Operand::Kind::kSize) return "N";
    return nullptr;
  }

  void NoteArity(const std::string& name, size_t n) {
    Note(mode_ == Mode::kCondition ? kOperandCount : kFunctionType,
         "Incorrect number of operands for operator or function; operator or function: " + name +
             ", number of operands: " + std::to_string(n));
  }

  void NoteOperandType(const std::string& name, std::string_view type) {
    Note(kFunctionType, "Incorrect operand type for operator or function; operator or function: " +
                            name + ", operand type: " + std::string(type));
  }

  // <, <=, >, >= and BETWEEN order strings, numbers and binaries only: a
  // constant of another type is an error (DynamoDB's answer), while an
  // attribute of another type just makes the comparison false.
  void NoteOrderedOperand(const std::string& name, const Operand& op) {
    if (op.kind != Operand::Kind::kValue || !defined_) return;
    const table::ValueType t = op.value.type();
    if (t == table::ValueType::kS || t == table::ValueType::kN || t == table::ValueType::kB) return;
    NoteOperandType(name, TypeName(t));
  }

  void NoteDistinct(const std::string& name, const Operand& a, const Operand& b) {
    if (a.kind == Operand::Kind::kPath && b.kind == Operand::Kind::kPath && a.path == b.path) {
      Note(kDistinct,
           "The first operand must be distinct from the remaining operands for this operator or "
           "function; operator: " +
               name + ", first operand: " + PathListString(a.path));
    }
  }

  void CheckConditionFunction(Operand* call) {
    const std::string& f = call->func;
    size_t want = 0;
    if (f == "attribute_exists" || f == "attribute_not_exists" || f == "size") {
      want = 1;
    } else if (f == "attribute_type" || f == "begins_with" || f == "contains") {
      want = 2;
    } else if (f == "if_not_exists" || f == "list_append") {
      Note(kUnknownFunction,
           "The function is not allowed in a condition expression; function: " + f);
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

  void CheckUpdateFunction(Operand* call) {
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

  void NoteMisused(const Operand& op) {
    if (op.kind == Operand::Kind::kFunc && IsBooleanFunction(op.func)) {
      Note(
          kMisusedFunction,
          "The function is not allowed to be used this way in an expression; function: " + op.func);
    }
  }

  // ---- conditions ----
  using NodePtr = std::unique_ptr<CondNode>;

  static NodePtr Binary(CondNode::Kind kind, NodePtr a, NodePtr b) {
    auto n = std::make_unique<CondNode>();
    n->kind = kind;
    n->children.push_back(std::move(a));
    n->children.push_back(std::move(b));
    return n;
  }

  bool ParseOr(NodePtr* out, bool* wrapped) {
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

  bool ParseAnd(NodePtr* out, bool* wrapped) {
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

  bool ParseNot(NodePtr* out, bool* wrapped) {
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

  bool ParsePrimary(NodePtr* out, bool* wrapped) {
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

  bool ParseAtom(NodePtr* out) {
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

  // ---- update values ----

  // set_value := '(' value ')' | value ; value := operand (('+'|'-') operand)?
  bool ParseSetValue(Operand* out) {
    if (At(Tok::kLParen)) {
      State saved = Save();
      Next();
      if (ParseSetArith(out) && Accept(Tok::kRParen)) return true;
      Restore(std::move(saved));
      *out = Operand();
    }
    return ParseSetArith(out);
  }

  bool ParseSetArith(Operand* out) {
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

  // operand := '(' operand ')' | :value | function '(' args ')' | path
  bool ParseUpdateOperand(Operand* out) {
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

  void CheckAddDeleteOperand(const char* op, const Operand& v) {
    if (!defined_) return;
    const table::ValueType t = v.value.type();
    const bool is_set =
        t == table::ValueType::kSS || t == table::ValueType::kNS || t == table::ValueType::kBS;
    if (is_set || (t == table::ValueType::kN && std::string_view(op) == "ADD")) return;
    Note(kOperandType, std::string("Incorrect operand type for operator or function; operator: ") +
                           op + ", operand type: " + LongTypeName(t));
  }

  std::string_view text_;
  Mode mode_;
  Placeholders* p_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  size_t furthest_ = 0;
  int operators_ = 0;
  bool defined_ = true;  // false after an undefined :value (its Operand is a dummy)
  int nesting_ = 0;      // recursion depth of the parse (NestingGuard)
  std::array<std::string, kNumSlots> errors_;
};

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

// Internal to the expression parser (parser.cc: the parser's core, paths,
// operands, function checks and projections; parser_condition.cc: the
// condition grammar; parser_update.cc: the update grammar). Not part of the
// public API (expr.h).
#pragma once

#include <array>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "server/expr/ast.h"
#include "server/expr/lexer.h"

namespace basalt::server::expr::parse_detail {

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

bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// DynamoDB's long type names used for ADD/DELETE operands.
const char* LongTypeName(table::ValueType t);
std::string Base64(std::string_view in);
// "{N:1}" / "{S:a}" as in DynamoDB's BETWEEN messages.
std::string AttrValueString(const Value& v);
const char* CompareOpText(CompareOp op);
bool IsBooleanFunction(std::string_view f);

// One parse of one expression text. Syntax errors fail fast (Fail); semantic
// problems are noted in slots (Note) and reported by Finish in the mode's
// priority order.
class Parser {
 public:
  Parser(std::string_view text, Mode mode, Placeholders* p)
      : text_(text), mode_(mode), p_(p), tokens_(Tokenize(text)) {}

  // Condition: the whole text.
  Status ParseConditionText(CondNode* out);

  Status ParseUpdateText(UpdatePlan* out);

  Status ParseProjectionText(std::vector<Path>* out);

 private:
  struct State {
    size_t pos;
    std::array<std::string, kNumSlots> errors;
    std::set<std::string> used_names, used_values;
    int operators;
  };

  // ---- tokens ----
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& PeekAt(size_t k) const;
  bool At(Tok k);
  bool Accept(Tok k);
  const Token& Next() { return tokens_[pos_++]; }
  // Records how far the parse got, for PEG-style error positions.
  void Touch();
  bool AtKeyword(std::string_view kw);
  bool IsKeyword(std::string_view word) const;

  State Save() const { return State{pos_, errors_, p_->used_names, p_->used_values, operators_}; }
  void Restore(State s);

  void Note(Slot slot, std::string msg);

  Status Fail();

  Status Finish();

  // ---- placeholders and paths ----
  std::string ResolveName(std::string_view ph);

  Operand ResolveValue(std::string_view ph);

  bool ParsePathName(Path* path);

  bool ParsePath(Path* path);

  void NoteOverlaps(const std::vector<Path>& paths);

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
  bool ParseOperand(Operand* out, bool* wrapped = nullptr);

  bool ParseCall(Operand* out);

  // The type an operand is known to have at parse time, or nullptr.
  static const char* StaticType(const Operand& op, bool* known_value);

  void NoteArity(const std::string& name, size_t n);

  void NoteOperandType(const std::string& name, std::string_view type);

  // <, <=, >, >= and BETWEEN order strings, numbers and binaries only: a
  // constant of another type is an error (DynamoDB's answer), while an
  // attribute of another type just makes the comparison false.
  void NoteOrderedOperand(const std::string& name, const Operand& op);

  void NoteDistinct(const std::string& name, const Operand& a, const Operand& b);

  void CheckConditionFunction(Operand* call);

  void CheckUpdateFunction(Operand* call);

  void NoteMisused(const Operand& op);

  // ---- conditions ----
  using NodePtr = std::unique_ptr<CondNode>;

  static NodePtr Binary(CondNode::Kind kind, NodePtr a, NodePtr b);

  bool ParseOr(NodePtr* out, bool* wrapped);

  bool ParseAnd(NodePtr* out, bool* wrapped);

  bool ParseNot(NodePtr* out, bool* wrapped);

  bool ParsePrimary(NodePtr* out, bool* wrapped);

  bool ParseAtom(NodePtr* out);

  // ---- update values ----

  // set_value := '(' value ')' | value ; value := operand (('+'|'-') operand)?
  bool ParseSetValue(Operand* out);

  bool ParseSetArith(Operand* out);

  // operand := '(' operand ')' | :value | function '(' args ')' | path
  bool ParseUpdateOperand(Operand* out);

  void CheckAddDeleteOperand(const char* op, const Operand& v);

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

}  // namespace basalt::server::expr::parse_detail

// Internal: the PartiQL parser's Parser class, shared by parser.cc (the
// statement level, the token and error helpers, Parse()) and parser_expr.cc
// (expressions and literals). Not part of the public API (partiql.h); only
// those two files include it.
//
// Thread safety: a Parser holds the state of one parse; Parse() makes one per
// call and nothing else shares it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/partiql/lexer.h"
#include "server/partiql/partiql.h"

namespace basalt::server::partiql {

class Parser {
 public:
  Parser(std::vector<Token> tokens, const std::vector<table::Value>& params)
      : tokens_(std::move(tokens)), params_(params) {}

  Status Run(Statement* out);

 private:
  // ---- tokens ----
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& PeekAt(size_t k) const {
    return tokens_[pos_ + k < tokens_.size() ? pos_ + k : tokens_.size() - 1];
  }
  const Token& Next();
  bool At(Tok k) const { return Peek().kind == k; }
  bool Accept(Tok k);
  static bool IsKw(const Token& t, std::string_view kw);
  bool AtKw(std::string_view kw) const { return IsKw(Peek(), kw); }
  bool AcceptKw(std::string_view kw);
  bool AtOp(std::string_view op) const { return At(Tok::kOp) && Peek().text == op; }
  static bool IsName(const Token& t);

  // ---- errors ----
  bool Fail(std::string message);
  bool Syntax(std::string_view detail);
  void Note(std::string message);
  bool UnexpectedTerm(const Token& t);
  bool RightHandSide();
  bool Expect(Tok k, std::string_view name);

  // Bounds recursion: every nested expression enters one level.
  class Depth {
   public:
    explicit Depth(Parser* p) : p_(p) { ++p_->depth_; }
    ~Depth() { --p_->depth_; }
    bool ok() {
      if (p_->depth_ <= kMaxNestingDepth) return true;
      return p_->Syntax("Statement nesting exceeds the supported depth");
    }

   private:
    Parser* p_;
  };

  // ---- statements (parser.cc) ----
  bool ParseStatement(Statement* st);
  bool End();
  bool ParseTarget(Statement* st);
  bool RefuseAlias();
  bool ParseSelect(Statement* st);
  bool ParseWhere(Statement* st);
  bool ParseInsert(Statement* st);
  bool ParseUpdate(Statement* st);
  bool ParseDelete(Statement* st);
  bool ParseReturning(Statement::Returning* out);
  bool ParseLvalue(expr::Path* path);

  // ---- expressions (parser_expr.cc) ----
  bool ParseExpr(Expr* out);
  bool ParseAnd(Expr* out);
  bool ParseNot(Expr* out);
  static bool CompareOpOf(const Token& t, CompareOp* op);
  bool ParsePredicate(Expr* out);
  bool ParseIn(Expr left, Expr* out);
  bool ParseTypeName(std::string* out);
  void NoteOperator(std::string_view op);
  bool ParseAdditive(Expr* out);
  bool ParseUnary(Expr* out);
  bool NumberLiteral(const std::string& text, Expr* out);
  bool Parameter(Expr* out);
  bool ParsePrimary(Expr* out);
  bool ParseIdent(Expr* out);
  bool ParseCall(Expr* out);
  bool ParseParens(Expr* out);
  static void MakeList(std::vector<Expr> elements, Expr* out);
  bool ParseList(Expr* out);
  bool ParseStruct(Expr* out, bool item_level);
  bool ParseBag(Expr* out);
  bool ParsePathRest(expr::Path* path);

  std::vector<Token> tokens_;
  const std::vector<table::Value>& params_;
  size_t pos_ = 0;
  size_t next_param_ = 0;
  int depth_ = 0;
  bool in_update_ = false;   // parsing a SET right-hand side
  bool item_level_ = false;  // the next primary is INSERT's item
  std::string lit_path_ = "root";
  std::string error_;  // the syntax error that stopped the parse
  std::string note_;   // the first other problem
};

}  // namespace basalt::server::partiql

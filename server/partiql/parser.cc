// Recursive-descent parser for DynamoDB's PartiQL statements
// (docs/partiql.md has the grammar), in three files: parser.h declares the
// Parser class; this file holds the statement level (SELECT, INSERT, UPDATE,
// DELETE, RETURNING, update targets), the token and error helpers and
// Parse(); parser_expr.cc holds the expressions and literals.
//
// Errors come in three tiers, reported in this order, as DynamoDB does:
//   1. syntax: the parse stops at the first one ("Statement wasn't well
//      formed, can't be processed: <detail>"; a few statement shapes DynamoDB
//      refuses outright, like a table alias, stop it too);
//   2. the parameter count, known once the whole text is read;
//   3. everything else (literal values, operand kinds, function use, update
//      paths): the parser notes the first one and goes on.
// The syntax details follow the PartiQL reference parser, whose messages
// DynamoDB passes on: "Unexpected term" where an expression should start,
// "Unexpected keyword" / "Unexpected operator" for a keyword or an operator
// there, "Missing right-hand side expression of infix operator" for an
// operator at the end, "Unexpected token after expression" for text left over.
#include "server/partiql/parser.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/utf8.h"
#include "server/partiql/internal.h"
#include "server/partiql/lexer.h"

namespace basalt::server::partiql {
namespace {

using table::ValueType;

// The name a projected path answers under (its last name and any list
// indexes after it: "z" for m.z, "k[1]" for m.k[1]).
std::string ProjectionName(const expr::Path& path) {
  size_t last = 0;
  for (size_t i = 0; i < path.size(); ++i) {
    if (!path[i].is_index) last = i;
  }
  std::string name = path.empty() ? "" : path[last].name;
  for (size_t i = last + 1; i < path.size(); ++i) name += "[" + std::to_string(path[i].index) + "]";
  return name;
}

}  // namespace

Status Parser::Run(Statement* out) {
  if (!ParseStatement(out)) {
    return Status::InvalidArgument(error_.empty() ? std::string(kMalformed) : error_);
  }
  if (next_param_ != params_.size()) {
    return Status::InvalidArgument("Number of parameters in request and statement don't match.");
  }
  if (!note_.empty()) return Status::InvalidArgument(note_);
  return Status::OK();
}

// ---- tokens ----

const Token& Parser::Next() {
  const Token& t = tokens_[pos_];
  if (pos_ + 1 < tokens_.size()) ++pos_;
  return t;
}

bool Parser::Accept(Tok k) {
  if (!At(k)) return false;
  Next();
  return true;
}

bool Parser::IsKw(const Token& t, std::string_view kw) {
  return t.kind == Tok::kIdent && EqualsIgnoreCase(t.text, kw);
}

bool Parser::AcceptKw(std::string_view kw) {
  if (!AtKw(kw)) return false;
  Next();
  return true;
}

// A bare identifier that is not reserved, or a quoted identifier.
bool Parser::IsName(const Token& t) {
  return t.kind == Tok::kQuoted || (t.kind == Tok::kIdent && !IsKeyword(t.text));
}

// ---- errors ----

bool Parser::Fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
  return false;
}

bool Parser::Syntax(std::string_view detail) {
  return Fail(std::string(kMalformed) + std::string(detail));
}

void Parser::Note(std::string message) {
  if (note_.empty()) note_ = std::move(message);
}

// What the reference parser says when `t` cannot start an expression.
bool Parser::UnexpectedTerm(const Token& t) {
  if (t.kind == Tok::kOp) return Syntax("Unexpected operator");
  if (t.kind == Tok::kIdent && IsKeyword(t.text)) {
    static constexpr std::string_view kInfix[] = {"and", "or", "is", "like", "in", "between"};
    for (std::string_view k : kInfix) {
      if (EqualsIgnoreCase(t.text, k)) return Syntax("Unexpected operator");
    }
    return Syntax("Unexpected keyword");
  }
  return Syntax("Unexpected term");
}

// An infix operator just consumed: the statement must not end here.
bool Parser::RightHandSide() {
  if (At(Tok::kEnd)) return Syntax("Missing right-hand side expression of infix operator");
  return true;
}

bool Parser::Expect(Tok k, std::string_view name) {
  if (Accept(k)) return true;
  return Syntax("Expected " + std::string(name));
}

// ---- statements ----

bool Parser::ParseStatement(Statement* st) {
  if (AtKw("select")) {
    if (!ParseSelect(st)) return false;
  } else if (AtKw("insert")) {
    if (!ParseInsert(st)) return false;
  } else if (AtKw("update")) {
    if (!ParseUpdate(st)) return false;
  } else if (AtKw("delete")) {
    if (!ParseDelete(st)) return false;
  } else if (AtKw("exists") && PeekAt(1).kind == Tok::kLParen) {
    Next();
    Next();
    if (!AtKw("select")) return UnexpectedTerm(Peek());
    if (!ParseSelect(st)) return false;
    if (!Expect(Tok::kRParen, "RIGHT_PAREN")) return false;
    st->exists = true;
  } else {
    // Any other statement is an expression, which DynamoDB refuses once
    // it parses.
    Expr e;
    if (!ParseExpr(&e) || !End()) return false;
    return Fail(std::string("Unsupported operation: ") + NodeName(e));
  }
  return End();
}

bool Parser::End() {
  if (Accept(Tok::kSemicolon)) {
    if (!At(Tok::kEnd)) {
      return Syntax("Unexpected token after semicolon. (Only one query is allowed.)");
    }
    return true;
  }
  if (!At(Tok::kEnd)) return Syntax("Unexpected token after expression");
  return true;
}

// A DML target: a name, optionally dotted (which DynamoDB refuses).
bool Parser::ParseTarget(Statement* st) {
  if (!IsName(Peek())) return Syntax("Expected identifier for simple path");
  st->table = Next().text;
  if (At(Tok::kDot) || At(Tok::kLBracket)) {
    expr::Path rest;
    if (!ParsePathRest(&rest)) return false;
    Note("FROM clause may only contain a single table name in data manipulation statements");
  }
  return true;
}

bool Parser::RefuseAlias() {
  if (AtKw("as") || (Peek().kind == Tok::kIdent && !IsKeyword(Peek().text)) ||
      Peek().kind == Tok::kQuoted) {
    return Fail("Aliasing is not supported");
  }
  return true;
}

bool Parser::ParseSelect(Statement* st) {
  st->kind = Statement::Kind::kSelect;
  Next();  // SELECT
  if (AtKw("value") || AtKw("pivot")) {
    return Fail("Select projection doesn't support value or pivot keywords");
  }
  std::vector<std::string> names;
  bool star = false, other = false;
  do {
    if (Accept(Tok::kStar)) {
      star = true;
      continue;
    }
    Expr e;
    if (!ParseExpr(&e)) return false;
    if (!RefuseAlias()) return false;
    other = true;
    if (e.kind != Expr::Kind::kPath) {
      Note(std::string("Unsupported operation: ") + NodeName(e));
      continue;
    }
    const std::string name = ProjectionName(e.path);
    for (const std::string& n : names) {
      if (n == name) Note("Duplicate identifiers in select clause: " + name);
    }
    names.push_back(name);
    st->projection.push_back(std::move(e.path));
  } while (Accept(Tok::kComma));
  if (star && other) {
    Note("Other attributes should not be present in the projection when '*' is used.");
  }
  st->select_all = star && !other;
  if (!AcceptKw("from")) return Syntax("Expected FROM after SELECT list");
  // FROM "table" [. "index"]
  const Token& src = Peek();
  if (!IsName(src)) {
    if (src.kind == Tok::kIdent || src.kind == Tok::kOp || src.kind == Tok::kEnd ||
        src.kind == Tok::kSemicolon || src.kind == Tok::kRParen || src.kind == Tok::kComma) {
      return UnexpectedTerm(src);
    }
    return Fail("Unexpected from source");
  }
  st->table = Next().text;
  if (Accept(Tok::kDot)) {
    if (!IsName(Peek())) return Syntax("Invalid path dot component");
    st->index = Next().text;
    if (At(Tok::kDot)) return Fail("A path may contain at most 2 components in the FROM clause");
  }
  if (At(Tok::kLBracket)) return Fail("Unexpected from source");
  if (!RefuseAlias()) return false;
  if (At(Tok::kComma)) return Fail("Only select from a single table or index is supported.");
  if (AcceptKw("where")) {
    if (!ParseWhere(st)) return false;
  }
  if (AtKw("order") && IsKw(PeekAt(1), "by")) {
    Next();
    Next();
    Expr key;
    if (!ParseAdditive(&key)) return false;
    if (key.kind != Expr::Kind::kPath || key.path.size() != 1) {
      Note(std::string("Argument to ORDER BY must be of type VariableReference. Type: ") +
           NodeName(key));
    } else {
      st->order_by = std::move(key.path);
    }
    if (AcceptKw("desc")) {
      st->order_desc = true;
    } else {
      AcceptKw("asc");
    }
    if (st->where == nullptr) {
      Note("Must have WHERE clause in the statement when using ORDER BY clause.");
    }
  }
  if (AtKw("limit")) return Fail("Unsupported clause: LIMIT");
  return true;
}

bool Parser::ParseWhere(Statement* st) {
  auto where = std::make_shared<Expr>();
  if (!ParseExpr(where.get())) return false;
  std::string msg = CheckWhere(*where);
  if (!msg.empty()) Note(std::move(msg));
  st->where = std::move(where);
  return true;
}

bool Parser::ParseInsert(Statement* st) {
  st->kind = Statement::Kind::kInsert;
  Next();  // INSERT
  if (!AtKw("into")) return Syntax("Unexpected keyword");
  Next();
  if (!ParseTarget(st)) return false;
  if (!AcceptKw("value")) {
    // INSERT INTO t <expression>: PartiQL's multi-item form.
    const std::string before = note_;
    Expr e;
    if (!ParseExpr(&e)) return false;
    note_ = before;
    Note(
        "Unsupported operation: Inserting multiple items in a single statement is not supported, "
        "use \"INSERT INTO tableName VALUE item\" instead");
    return true;
  }
  item_level_ = true;
  Expr value;
  if (!ParseExpr(&value)) return false;
  item_level_ = false;
  if (value.kind == Expr::Kind::kValue && value.value.type() == ValueType::kM) {
    st->item = value.value.m();
  } else {
    Note(
        "Unsupported format in item expression. Please use struct format {...} to express item "
        "values for insert statement.");
  }
  if (AtKw("at")) {
    Next();
    Expr position;
    if (!ParseExpr(&position)) return false;
    Note("AT is not supported in insert statements.");
  }
  if (AtKw("returning")) {
    Statement::Returning ignored;
    if (!ParseReturning(&ignored)) return false;
    Note("RETURNING is not supported in INSERT");
  }
  return true;
}

bool Parser::ParseUpdate(Statement* st) {
  st->kind = Statement::Kind::kUpdate;
  Next();  // UPDATE
  if (!ParseTarget(st)) return false;
  if (!RefuseAlias()) return false;
  auto plan = std::make_shared<expr::UpdatePlan>();
  std::vector<expr::Path> paths;
  bool any = false;
  while (AtKw("set") || AtKw("remove")) {
    any = true;
    if (AcceptKw("remove")) {
      expr::UpdateAction a;
      a.kind = expr::UpdateAction::Kind::kRemove;
      if (!ParseLvalue(&a.path)) return false;
      paths.push_back(a.path);
      plan->actions.push_back(std::move(a));
      continue;
    }
    Next();  // SET
    do {
      expr::Path path;
      if (!ParseLvalue(&path)) return false;
      if (!AtOp("=")) return Syntax("Expected '='");
      Next();
      if (!RightHandSide()) return false;
      in_update_ = true;
      Expr value;
      const bool ok = ParseExpr(&value);
      in_update_ = false;
      if (!ok) return false;
      expr::UpdateAction a;
      std::string msg = SetAction(path, value, &a);
      if (!msg.empty()) Note(std::move(msg));
      paths.push_back(path);
      plan->actions.push_back(std::move(a));
    } while (Accept(Tok::kComma));
  }
  if (!any) return Syntax("Expected data manipulation");
  bool overlap = false;
  std::string msg = expr::CheckPathOverlaps(paths, &overlap);
  if (!msg.empty()) Note(std::move(msg));
  st->update = std::move(plan);
  if (AcceptKw("where")) {
    if (!ParseWhere(st)) return false;
  }
  if (AtKw("returning")) return ParseReturning(&st->returning);
  return true;
}

bool Parser::ParseDelete(Statement* st) {
  st->kind = Statement::Kind::kDelete;
  Next();  // DELETE
  if (!AcceptKw("from")) return Syntax("Expected FROM after DELETE");
  if (!ParseTarget(st)) return false;
  if (!RefuseAlias()) return false;
  if (AcceptKw("where")) {
    if (!ParseWhere(st)) return false;
  }
  if (AtKw("returning")) {
    if (!ParseReturning(&st->returning)) return false;
    if (st->returning != Statement::Returning::kAllOld) {
      static constexpr std::string_view kText[] = {"", "ALL OLD *", "MODIFIED OLD *", "ALL NEW *",
                                                   "MODIFIED NEW *"};
      Note("Invalid returning clause: RETURNING " +
           std::string(kText[static_cast<int>(st->returning)]) +
           ". Only RETURNING ALL OLD * is allowed in DELETE statements.");
    }
  }
  return true;
}

// RETURNING (ALL | MODIFIED) (OLD | NEW) *
bool Parser::ParseReturning(Statement::Returning* out) {
  Next();  // RETURNING
  bool all = false;
  if (AcceptKw("all")) {
    all = true;
  } else if (!AcceptKw("modified")) {
    return UnexpectedTerm(Peek());
  }
  bool old = false;
  if (AcceptKw("old")) {
    old = true;
  } else if (!AcceptKw("new")) {
    return UnexpectedTerm(Peek());
  }
  if (!Accept(Tok::kStar)) {
    return Fail("Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause");
  }
  if (At(Tok::kComma)) {
    return Fail("Invalid syntax with multiple returning elements in RETURNING clause");
  }
  using R = Statement::Returning;
  *out = all ? (old ? R::kAllOld : R::kAllNew) : (old ? R::kModifiedOld : R::kModifiedNew);
  return true;
}

// The target of SET or REMOVE: name { .name | [index] | ['key'] }.
bool Parser::ParseLvalue(expr::Path* path) {
  if (!IsName(Peek())) return Syntax("Expected identifier for simple path");
  path->push_back(expr::PathElement{Next().text});
  return ParsePathRest(path);
}

namespace {

// Characters as DynamoDB counts a statement's length (UTF-8 code points).
}  // namespace

const char* NodeName(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kPath:
      return e.path.size() == 1 ? "Id" : "Path";
    case Expr::Kind::kValue:
      return "Lit";
    case Expr::Kind::kList:
      return "List";
    case Expr::Kind::kCompare:
      switch (e.op) {
        case CompareOp::kEq:
          return "Eq";
        case CompareOp::kNe:
          return "Ne";
        case CompareOp::kLt:
          return "Lt";
        case CompareOp::kLe:
          return "Lte";
        case CompareOp::kGt:
          return "Gt";
        case CompareOp::kGe:
          return "Gte";
      }
      return "Eq";
    case Expr::Kind::kBetween:
      return "Between";
    case Expr::Kind::kIn:
      return "InCollection";
    case Expr::Kind::kAnd:
      return "And";
    case Expr::Kind::kOr:
      return "Or";
    case Expr::Kind::kNot:
      return "Not";
    case Expr::Kind::kIs:
      return "IsType";
    case Expr::Kind::kCall:
      return "Call";
    case Expr::Kind::kArith:
      return e.minus ? "Minus" : "Plus";
  }
  return "Lit";
}

Status Parse(std::string_view text, const std::vector<table::Value>& parameters, Statement* out) {
  if (Utf8Length(text) > kMaxStatementLength) {
    return Status::InvalidArgument("Member must have length less than or equal to 8192");
  }
  std::vector<Token> tokens;
  if (!Tokenize(text, &tokens)) return Status::InvalidArgument(kMalformed);
  Statement st;
  Status s = Parser(std::move(tokens), parameters).Run(&st);
  if (!s.ok()) return s;
  *out = std::move(st);
  return Status::OK();
}

}  // namespace basalt::server::partiql

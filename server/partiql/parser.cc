// Recursive-descent parser for DynamoDB's PartiQL statements
// (docs/partiql.md has the grammar).
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
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "server/partiql/internal.h"
#include "server/partiql/lexer.h"

namespace basalt::server::partiql {
namespace {

using table::Value;
using table::ValueType;

constexpr std::string_view kSupportedIsTypes =
    "[MISSING, NULL, BOOLEAN, BLOB, STRING, NUMERIC, STRUCT, TUPLE, LIST]";

// PartiQL's type names (after IS), upper case; two-word names joined by a space.
bool IsTypeName(const std::string& upper) {
  // clang-format off
  static constexpr std::string_view kNames[] = {
      "MISSING", "NULL", "BOOL", "BOOLEAN", "SMALLINT", "INT2", "INTEGER2", "INT4", "INTEGER4",
      "INT8", "INTEGER8", "INT", "INTEGER", "BIGINT", "FLOAT", "REAL", "DOUBLE PRECISION",
      "DECIMAL", "DEC", "NUMERIC", "TIMESTAMP", "CHAR", "CHARACTER", "VARCHAR",
      "CHARACTER VARYING", "STRING", "SYMBOL", "CLOB", "BLOB", "STRUCT", "TUPLE", "LIST", "SEXP",
      "BAG", "DATE", "TIME", "ANY",
  };
  // clang-format on
  for (std::string_view n : kNames) {
    if (upper == n) return true;
  }
  return false;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string ChildPath(const std::string& parent, const std::string& key) {
  return parent + "." + key;
}
std::string ChildPath(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

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

class Parser {
 public:
  Parser(std::vector<Token> tokens, const std::vector<Value>& params)
      : tokens_(std::move(tokens)), params_(params) {}

  Status Run(Statement* out) {
    if (!ParseStatement(out)) {
      return Status::InvalidArgument(error_.empty() ? std::string(kMalformed) : error_);
    }
    if (next_param_ != params_.size()) {
      return Status::InvalidArgument("Number of parameters in request and statement don't match.");
    }
    if (!note_.empty()) return Status::InvalidArgument(note_);
    return Status::OK();
  }

 private:
  // ---- tokens ----
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& PeekAt(size_t k) const {
    return tokens_[pos_ + k < tokens_.size() ? pos_ + k : tokens_.size() - 1];
  }
  const Token& Next() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  bool At(Tok k) const { return Peek().kind == k; }
  bool Accept(Tok k) {
    if (!At(k)) return false;
    Next();
    return true;
  }
  static bool IsKw(const Token& t, std::string_view kw) {
    return t.kind == Tok::kIdent && EqualsIgnoreCase(t.text, kw);
  }
  bool AtKw(std::string_view kw) const { return IsKw(Peek(), kw); }
  bool AcceptKw(std::string_view kw) {
    if (!AtKw(kw)) return false;
    Next();
    return true;
  }
  bool AtOp(std::string_view op) const { return At(Tok::kOp) && Peek().text == op; }
  // A bare identifier that is not reserved, or a quoted identifier.
  static bool IsName(const Token& t) {
    return t.kind == Tok::kQuoted || (t.kind == Tok::kIdent && !IsKeyword(t.text));
  }

  // ---- errors ----
  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }
  bool Syntax(std::string_view detail) {
    return Fail(std::string(kMalformed) + std::string(detail));
  }
  void Note(std::string message) {
    if (note_.empty()) note_ = std::move(message);
  }
  // What the reference parser says when `t` cannot start an expression.
  bool UnexpectedTerm(const Token& t) {
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
  bool RightHandSide() {
    if (At(Tok::kEnd)) return Syntax("Missing right-hand side expression of infix operator");
    return true;
  }
  bool Expect(Tok k, std::string_view name) {
    if (Accept(k)) return true;
    return Syntax("Expected " + std::string(name));
  }

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

  // ---- statements ----
  bool ParseStatement(Statement* st) {
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

  bool End() {
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
  bool ParseTarget(Statement* st) {
    if (!IsName(Peek())) return Syntax("Expected identifier for simple path");
    st->table = Next().text;
    if (At(Tok::kDot) || At(Tok::kLBracket)) {
      expr::Path rest;
      if (!ParsePathRest(&rest)) return false;
      Note("FROM clause may only contain a single table name in data manipulation statements");
    }
    return true;
  }

  bool RefuseAlias() {
    if (AtKw("as") || (Peek().kind == Tok::kIdent && !IsKeyword(Peek().text)) ||
        Peek().kind == Tok::kQuoted) {
      return Fail("Aliasing is not supported");
    }
    return true;
  }

  bool ParseSelect(Statement* st) {
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

  bool ParseWhere(Statement* st) {
    auto where = std::make_shared<Expr>();
    if (!ParseExpr(where.get())) return false;
    std::string msg = CheckWhere(*where);
    if (!msg.empty()) Note(std::move(msg));
    st->where = std::move(where);
    return true;
  }

  bool ParseInsert(Statement* st) {
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

  bool ParseUpdate(Statement* st) {
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

  bool ParseDelete(Statement* st) {
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
  bool ParseReturning(Statement::Returning* out) {
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
  bool ParseLvalue(expr::Path* path) {
    if (!IsName(Peek())) return Syntax("Expected identifier for simple path");
    path->push_back(expr::PathElement{Next().text});
    return ParsePathRest(path);
  }

  // ---- expressions ----

  // expr := and { OR and }
  bool ParseExpr(Expr* out) {
    Depth depth(this);
    if (!depth.ok()) return false;
    Expr first;
    if (!ParseAnd(&first)) return false;
    if (!AtKw("or")) {
      *out = std::move(first);
      return true;
    }
    Expr node;
    node.kind = Expr::Kind::kOr;
    node.args.push_back(std::move(first));
    while (AcceptKw("or")) {
      if (!RightHandSide()) return false;
      Expr next;
      if (!ParseAnd(&next)) return false;
      node.args.push_back(std::move(next));
    }
    *out = std::move(node);
    return true;
  }

  // and := not { AND not }
  bool ParseAnd(Expr* out) {
    Expr first;
    if (!ParseNot(&first)) return false;
    if (!AtKw("and")) {
      *out = std::move(first);
      return true;
    }
    Expr node;
    node.kind = Expr::Kind::kAnd;
    node.args.push_back(std::move(first));
    while (AcceptKw("and")) {
      if (!RightHandSide()) return false;
      Expr next;
      if (!ParseNot(&next)) return false;
      node.args.push_back(std::move(next));
    }
    *out = std::move(node);
    return true;
  }

  // not := NOT not | predicate
  bool ParseNot(Expr* out) {
    if (!AtKw("not")) return ParsePredicate(out);
    Next();
    Depth depth(this);
    if (!depth.ok()) return false;
    Expr inner;
    if (!ParseNot(&inner)) return false;
    out->kind = Expr::Kind::kNot;
    out->args.clear();
    out->args.push_back(std::move(inner));
    return true;
  }

  static bool CompareOpOf(const Token& t, CompareOp* op) {
    if (t.kind != Tok::kOp) return false;
    static const std::pair<std::string_view, CompareOp> kOps[] = {
        {"=", CompareOp::kEq}, {"<>", CompareOp::kNe}, {"!=", CompareOp::kNe},
        {"<", CompareOp::kLt}, {"<=", CompareOp::kLe}, {">", CompareOp::kGt},
        {">=", CompareOp::kGe}};
    for (const auto& [text, o] : kOps) {
      if (t.text == text) {
        *op = o;
        return true;
      }
    }
    return false;
  }

  // predicate := additive [ cmp additive | [NOT] BETWEEN additive AND additive
  //                       | [NOT] IN in_list | [NOT] LIKE additive | IS [NOT] type ]
  bool ParsePredicate(Expr* out) {
    Expr left;
    if (!ParseAdditive(&left)) return false;
    CompareOp op;
    if (CompareOpOf(Peek(), &op)) {
      Next();
      if (!RightHandSide()) return false;
      Expr right;
      if (!ParseAdditive(&right)) return false;
      out->kind = Expr::Kind::kCompare;
      out->op = op;
      out->args.clear();
      out->args.push_back(std::move(left));
      out->args.push_back(std::move(right));
      return true;
    }
    bool negate = false;
    if (AtKw("not") &&
        (IsKw(PeekAt(1), "between") || IsKw(PeekAt(1), "in") || IsKw(PeekAt(1), "like"))) {
      Next();
      negate = true;
    }
    Expr node;
    if (AcceptKw("between")) {
      if (!RightHandSide()) return false;
      Expr lo, hi;
      if (!ParseAdditive(&lo)) return false;
      if (!AcceptKw("and")) return Syntax("Expected KEYWORD and");
      if (At(Tok::kEnd) || At(Tok::kSemicolon)) return Syntax("Expected expression after AND");
      if (!ParseAdditive(&hi)) return false;
      node.kind = Expr::Kind::kBetween;
      node.args.push_back(std::move(left));
      node.args.push_back(std::move(lo));
      node.args.push_back(std::move(hi));
    } else if (AcceptKw("in")) {
      if (!RightHandSide()) return false;
      if (!ParseIn(std::move(left), &node)) return false;
    } else if (AcceptKw("like")) {
      if (!RightHandSide()) return false;
      Expr pattern;
      if (!ParseAdditive(&pattern)) return false;
      if (AcceptKw("escape")) {
        Expr escape;
        if (!ParseAdditive(&escape)) return false;
      }
      Note("Unsupported operator in Condition Expression. Operator: LIKE");
      node = std::move(left);
    } else if (!negate && AcceptKw("is")) {
      node.kind = Expr::Kind::kIs;
      node.negated = AcceptKw("not");
      if (!ParseTypeName(&node.name)) return false;
      if (left.kind != Expr::Kind::kPath && left.kind != Expr::Kind::kValue) {
        Note("The left hand side argument to IS must be a Variable Reference, Literal, or Path");
      }
      node.args.push_back(std::move(left));
    } else {
      *out = std::move(left);
      return true;
    }
    if (negate) {
      out->kind = Expr::Kind::kNot;
      out->args.clear();
      out->args.push_back(std::move(node));
    } else {
      *out = std::move(node);
    }
    return true;
  }

  // in_list := '(' expr {, expr} ')' | '[' ... ']' (a list literal) | additive
  bool ParseIn(Expr left, Expr* out) {
    out->kind = Expr::Kind::kIn;
    out->args.clear();
    out->args.push_back(std::move(left));
    bool seq = true;
    if (Accept(Tok::kLParen)) {
      Depth depth(this);
      if (!depth.ok()) return false;
      do {
        Expr e;
        if (!ParseExpr(&e)) return false;
        out->args.push_back(std::move(e));
      } while (Accept(Tok::kComma));
      if (!Expect(Tok::kRParen, "RIGHT_PAREN")) return false;
    } else {
      Expr rhs;
      if (!ParseAdditive(&rhs)) return false;
      if (rhs.kind == Expr::Kind::kList) {
        for (Expr& e : rhs.args) out->args.push_back(std::move(e));
      } else if (rhs.kind == Expr::Kind::kValue && rhs.value.type() == ValueType::kL) {
        for (const Value& v : rhs.value.l()) {
          Expr e;
          e.value = v;
          out->args.push_back(std::move(e));
        }
      } else {
        seq = false;
      }
    }
    if (!seq || out->args.size() < 2 || out->args[0].kind != Expr::Kind::kPath) {
      Note(
          "IN operator must have a left hand argument of type Variable Reference and right hand "
          "argument of type Seq with at least one member");
    }
    return true;
  }

  // A type name after IS [NOT]: one of PartiQL's, with optional (n, ...) parameters.
  bool ParseTypeName(std::string* out) {
    const Token& t = Peek();
    if (t.kind != Tok::kIdent) return Syntax("Expected type name");
    std::string name = Upper(t.text);
    if ((name == "DOUBLE" && IsKw(PeekAt(1), "precision")) ||
        (name == "CHARACTER" && IsKw(PeekAt(1), "varying"))) {
      Next();
      name += " " + Upper(Peek().text);
    }
    if (!IsTypeName(name)) return Syntax("Expected type name");
    Next();
    if (Accept(Tok::kLParen)) {
      do {
        if (!Accept(Tok::kNumber))
          return Syntax("Type parameter must be an unsigned integer literal");
      } while (Accept(Tok::kComma));
      if (!Expect(Tok::kRParen, "RIGHT_PAREN")) return false;
    }
    if (name == "BOOL") name = "BOOLEAN";
    static constexpr std::string_view kSupported[] = {
        "MISSING", "NULL", "BOOLEAN", "BLOB", "STRING", "NUMERIC", "STRUCT", "TUPLE", "LIST"};
    bool supported = false;
    for (std::string_view s : kSupported) supported = supported || name == s;
    if (!supported) {
      Note("Unsupported data type for IS operator: " + name + ". Supported data types are " +
           std::string(kSupportedIsTypes));
    }
    *out = std::move(name);
    return true;
  }

  void NoteOperator(std::string_view op) {
    Note(std::string(in_update_ ? "Unsupported operator in Update Expression. Operator: "
                                : "Unsupported operator in Condition Expression. Operator: ") +
         std::string(op));
  }

  // additive := unary { (+ | - | * | / | % | ||) unary }; only + and - are DynamoDB's.
  bool ParseAdditive(Expr* out) {
    if (!ParseUnary(out)) return false;
    while (AtOp("+") || AtOp("-") || AtOp("/") || AtOp("%") || AtOp("||") || At(Tok::kStar)) {
      const std::string op = Next().text;
      if (!RightHandSide()) return false;
      Expr right;
      if (!ParseUnary(&right)) return false;
      if (op != "+" && op != "-") {
        NoteOperator(op);
        continue;
      }
      Expr node;
      node.kind = Expr::Kind::kArith;
      node.minus = op == "-";
      node.args.push_back(std::move(*out));
      node.args.push_back(std::move(right));
      *out = std::move(node);
    }
    return true;
  }

  // unary := (+ | -) unary | primary; a sign applies to number literals only.
  bool ParseUnary(Expr* out) {
    if (!(AtOp("-") || AtOp("+"))) return ParsePrimary(out);
    const bool minus = Next().text == "-";
    Depth depth(this);
    if (!depth.ok()) return false;
    if (!ParseUnary(out)) return false;
    if (out->kind == Expr::Kind::kValue && out->value.type() == ValueType::kN) {
      if (minus) out->value = Value::MakeN(out->value.n().Negate());
    } else {
      NoteOperator(minus ? "-" : "+");
    }
    return true;
  }

  // A number literal at `path` (its position inside the value).
  bool NumberLiteral(const std::string& text, Expr* out) {
    Value v;
    Status s = Value::ParseN(text, &v);
    if (!s.ok()) {
      // Text the number reader cannot convert at all (an exponent or scale
      // beyond 32 bits) is a syntax error without detail.
      if (s.message().starts_with(table::kNumberNotNumericMessage)) return Syntax("");
      Note(std::string(s.message()) + " under " + lit_path_);
    }
    out->kind = Expr::Kind::kValue;
    out->value = std::move(v);
    return true;
  }

  bool Parameter(Expr* out) {
    out->kind = Expr::Kind::kValue;
    const size_t i = next_param_++;
    out->value = i < params_.size() ? params_[i] : Value::MakeNull();
    return true;
  }

  // primary := literal | ? | ( expr [, expr ...] ) | [ list ] | { struct }
  //          | << bag >> | function ( args ) | path
  bool ParsePrimary(Expr* out) {
    const bool item_level = item_level_;
    item_level_ = false;
    *out = Expr();
    const Token& t = Peek();
    switch (t.kind) {
      case Tok::kNumber:
        return NumberLiteral(Next().text, out);
      case Tok::kString:
        out->value = Value::MakeS(Next().text);
        return true;
      case Tok::kQuestion:
        Next();
        return Parameter(out);
      case Tok::kQuoted:
        out->kind = Expr::Kind::kPath;
        out->path.push_back(expr::PathElement{Next().text});
        return ParsePathRest(&out->path);
      case Tok::kIdent:
        return ParseIdent(out);
      case Tok::kLParen:
        return ParseParens(out);
      case Tok::kLBracket:
        return ParseList(out);
      case Tok::kLBrace:
        return ParseStruct(out, item_level);
      case Tok::kLBag:
        return ParseBag(out);
      default:
        return UnexpectedTerm(t);
    }
  }

  bool ParseIdent(Expr* out) {
    const Token& t = Peek();
    const std::string word = Lower(t.text);
    if (word == "true" || word == "false") {
      Next();
      out->value = Value::MakeBool(word == "true");
      return true;
    }
    if (word == "null") {
      Next();
      out->value = Value::MakeNull();
      return true;
    }
    if (word == "not") return ParseNot(out);  // NOT as an operand: refused by the checks
    if (word == "missing") {
      Next();
      Note("MISSING must be compared using IS operator");
      return true;
    }
    if (PeekAt(1).kind == Tok::kLParen && (!IsKeyword(t.text) || IsFunctionKeyword(t.text))) {
      return ParseCall(out);
    }
    if (IsKeyword(t.text)) return UnexpectedTerm(t);
    out->kind = Expr::Kind::kPath;
    out->path.push_back(expr::PathElement{Next().text});
    return ParsePathRest(&out->path);
  }

  bool ParseCall(Expr* out) {
    out->kind = Expr::Kind::kCall;
    out->name = Lower(Next().text);
    Next();  // (
    Depth depth(this);
    if (!depth.ok()) return false;
    if (Accept(Tok::kRParen)) return true;
    do {
      Expr arg;
      if (!ParseExpr(&arg)) return false;
      out->args.push_back(std::move(arg));
    } while (Accept(Tok::kComma));
    return Expect(Tok::kRParen, "RIGHT_PAREN");
  }

  // ( expr ) groups; ( a, b, ... ) is a list.
  bool ParseParens(Expr* out) {
    Next();  // (
    if (At(Tok::kRParen)) return Syntax("Expression group cannot be empty");
    Expr first;
    if (!ParseExpr(&first)) return false;
    if (!At(Tok::kComma)) {
      if (!Expect(Tok::kRParen, "RIGHT_PAREN")) return false;
      *out = std::move(first);
      return true;
    }
    std::vector<Expr> elements;
    elements.push_back(std::move(first));
    while (Accept(Tok::kComma)) {
      Expr e;
      if (!ParseExpr(&e)) return false;
      elements.push_back(std::move(e));
    }
    if (!Expect(Tok::kRParen, "RIGHT_PAREN")) return false;
    MakeList(std::move(elements), out);
    return true;
  }

  // A list of constants is an L value; one with paths stays a kList node.
  static void MakeList(std::vector<Expr> elements, Expr* out) {
    bool constant = true;
    for (const Expr& e : elements) constant = constant && e.kind == Expr::Kind::kValue;
    if (!constant) {
      out->kind = Expr::Kind::kList;
      out->args = std::move(elements);
      return;
    }
    Value::List l;
    l.reserve(elements.size());
    for (Expr& e : elements) l.push_back(std::move(e.value));
    out->kind = Expr::Kind::kValue;
    out->value = Value::MakeL(std::move(l));
  }

  bool ParseList(Expr* out) {
    Next();  // [
    std::vector<Expr> elements;
    if (!Accept(Tok::kRBracket)) {
      const std::string parent = lit_path_;
      do {
        lit_path_ = ChildPath(parent, elements.size());
        Expr e;
        const bool ok = ParseExpr(&e);
        lit_path_ = parent;
        if (!ok) return false;
        elements.push_back(std::move(e));
      } while (Accept(Tok::kComma));
      if (!Expect(Tok::kRBracket, "RIGHT_BRACKET")) return false;
    }
    MakeList(std::move(elements), out);
    return true;
  }

  // { 'key' : value, ... }: keys are strings (literals or parameters). At the
  // item level (INSERT ... VALUE) the attribute values are at "root".
  bool ParseStruct(Expr* out, bool item_level) {
    Next();  // {
    std::vector<table::AttributeMap::Entry> entries;
    const std::string parent = lit_path_;
    if (!Accept(Tok::kRBrace)) {
      do {
        Expr key;
        if (!ParseExpr(&key)) return false;
        if (!Expect(Tok::kColon, "COLON")) return false;
        std::string name;
        if (key.kind == Expr::Kind::kValue && key.value.type() == ValueType::kS) {
          name = key.value.s();
        } else {
          Note(std::string("Tuple keys must be of type String. Actual type: ") +
               (key.kind == Expr::Kind::kValue ? table::ValueTypeName(key.value.type())
                                               : NodeName(key)) +
               " under " + parent);
        }
        lit_path_ = item_level ? parent : ChildPath(parent, name);
        Expr value;
        const bool ok = ParseExpr(&value);
        const std::string here = lit_path_;
        lit_path_ = parent;
        if (!ok) return false;
        for (const auto& e : entries) {
          if (e.first == name) Note("Duplicate keys in tuple. Key: " + name + " under " + parent);
        }
        if (value.kind != Expr::Kind::kValue) {
          Note(std::string("Unsupported data type: ") + NodeName(value) + " under key " + here);
        }
        entries.emplace_back(std::move(name), std::move(value.value));
      } while (Accept(Tok::kComma));
      if (!Expect(Tok::kRBrace, "RIGHT_CURLY")) return false;
    }
    out->kind = Expr::Kind::kValue;
    out->value = Value::MakeM(table::AttributeMap::FromUnsorted(std::move(entries)));
    return true;
  }

  // << v, ... >>: a set of strings (SS), numbers (NS) or, from parameters
  // only, binaries (BS).
  bool ParseBag(Expr* out) {
    Next();  // <<
    std::vector<Expr> elements;
    if (!Accept(Tok::kRBag)) {
      do {
        Expr e;
        if (!ParseExpr(&e)) return false;
        elements.push_back(std::move(e));
      } while (Accept(Tok::kComma));
      if (!Expect(Tok::kRBag, "RIGHT_DOUBLE_ANGLE_BRACKET")) return false;
    }
    out->kind = Expr::Kind::kValue;
    if (elements.empty()) {
      Note("Empty bags are not supported");
      return true;
    }
    const auto elem_type = [](const Expr& e) {
      return e.kind == Expr::Kind::kValue ? e.value.type() : ValueType::kNull;
    };
    const ValueType type = elem_type(elements[0]);
    bool ok = type == ValueType::kS || type == ValueType::kN || type == ValueType::kB;
    for (const Expr& e : elements) ok = ok && elem_type(e) == type;
    if (!ok) {
      Note(
          "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags");
      return true;
    }
    if (type == ValueType::kN) {
      Value::NumberSet ns;
      for (const Expr& e : elements) ns.push_back(e.value.n());
      out->value = Value::MakeNS(std::move(ns));
    } else {
      Value::StringSet ss;
      for (const Expr& e : elements) ss.push_back(e.value.bytes());
      out->value =
          type == ValueType::kS ? Value::MakeSS(std::move(ss)) : Value::MakeBS(std::move(ss));
    }
    return true;
  }

  // path_rest := { . name | [ index ] | [ 'key' ] }
  bool ParsePathRest(expr::Path* path) {
    while (true) {
      if (Accept(Tok::kDot)) {
        const Token& t = Peek();
        if (t.kind == Tok::kStar)
          return Fail("Unpivot path component like a.*.b are not supported");
        if (!IsName(t)) return Syntax("Invalid path dot component");
        path->push_back(expr::PathElement{Next().text});
      } else if (Accept(Tok::kLBracket)) {
        if (At(Tok::kStar)) return Fail("Wildcard path component like a[*].b are not supported");
        Depth depth(this);
        if (!depth.ok()) return false;
        Expr e;
        if (!ParseExpr(&e)) return false;
        if (!Expect(Tok::kRBracket, "RIGHT_BRACKET")) return false;
        expr::PathElement elem;
        if (e.kind == Expr::Kind::kValue && e.value.type() == ValueType::kS) {
          elem.name = e.value.s();
        } else if (e.kind == Expr::Kind::kValue && e.value.type() == ValueType::kN) {
          int64_t index = -1;
          if (!e.value.n().ToInt64(&index) || index < 0 || index > UINT32_MAX) {
            Note("List index is not within the allowable range; index: [" + e.value.n().ToString() +
                 "]");
          } else {
            elem.is_index = true;
            elem.index = static_cast<uint32_t>(index);
          }
        } else {
          Note("Unexpected path component");
        }
        path->push_back(std::move(elem));
      } else {
        break;
      }
    }
    for (const expr::PathElement& e : *path) {
      if (!e.is_index && e.name.empty()) Note("Path component cannot be an empty string");
    }
    if (path->size() > expr::kMaxPathDepth) {
      Note("The document path has too many nesting levels; nesting levels: " +
           std::to_string(path->size()));
    }
    return true;
  }

  std::vector<Token> tokens_;
  const std::vector<Value>& params_;
  size_t pos_ = 0;
  size_t next_param_ = 0;
  int depth_ = 0;
  bool in_update_ = false;   // parsing a SET right-hand side
  bool item_level_ = false;  // the next primary is INSERT's item
  std::string lit_path_ = "root";
  std::string error_;  // the syntax error that stopped the parse
  std::string note_;   // the first other problem
};

// Characters as DynamoDB counts a statement's length (UTF-8 code points).
size_t CodePoints(std::string_view text) {
  size_t n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

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
  if (CodePoints(text) > kMaxStatementLength) {
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

// The PartiQL parser's expressions and literals (the Parser methods from
// ParseExpr down: predicates, arithmetic, calls, paths, list, struct and bag
// literals, parameters). parser.h declares the class; parser.cc holds the
// statement level and describes the error tiers these methods follow.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/partiql/internal.h"
#include "server/partiql/lexer.h"
#include "server/partiql/parser.h"

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

}  // namespace

// ---- expressions ----

// expr := and { OR and }
bool Parser::ParseExpr(Expr* out) {
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
bool Parser::ParseAnd(Expr* out) {
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
bool Parser::ParseNot(Expr* out) {
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

bool Parser::CompareOpOf(const Token& t, CompareOp* op) {
  if (t.kind != Tok::kOp) return false;
  static const std::pair<std::string_view, CompareOp> kOps[] = {
      {"=", CompareOp::kEq},  {"<>", CompareOp::kNe}, {"!=", CompareOp::kNe}, {"<", CompareOp::kLt},
      {"<=", CompareOp::kLe}, {">", CompareOp::kGt},  {">=", CompareOp::kGe}};
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
bool Parser::ParsePredicate(Expr* out) {
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
bool Parser::ParseIn(Expr left, Expr* out) {
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
bool Parser::ParseTypeName(std::string* out) {
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

void Parser::NoteOperator(std::string_view op) {
  Note(std::string(in_update_ ? "Unsupported operator in Update Expression. Operator: "
                              : "Unsupported operator in Condition Expression. Operator: ") +
       std::string(op));
}

// additive := unary { (+ | - | * | / | % | ||) unary }; only + and - are DynamoDB's.
bool Parser::ParseAdditive(Expr* out) {
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
bool Parser::ParseUnary(Expr* out) {
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
bool Parser::NumberLiteral(const std::string& text, Expr* out) {
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

bool Parser::Parameter(Expr* out) {
  out->kind = Expr::Kind::kValue;
  const size_t i = next_param_++;
  out->value = i < params_.size() ? params_[i] : Value::MakeNull();
  return true;
}

// primary := literal | ? | ( expr [, expr ...] ) | [ list ] | { struct }
//          | << bag >> | function ( args ) | path
bool Parser::ParsePrimary(Expr* out) {
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

bool Parser::ParseIdent(Expr* out) {
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

bool Parser::ParseCall(Expr* out) {
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
bool Parser::ParseParens(Expr* out) {
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
void Parser::MakeList(std::vector<Expr> elements, Expr* out) {
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

bool Parser::ParseList(Expr* out) {
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
bool Parser::ParseStruct(Expr* out, bool item_level) {
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
bool Parser::ParseBag(Expr* out) {
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
    Note("Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags");
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
bool Parser::ParsePathRest(expr::Path* path) {
  while (true) {
    if (Accept(Tok::kDot)) {
      const Token& t = Peek();
      if (t.kind == Tok::kStar) return Fail("Unpivot path component like a.*.b are not supported");
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

}  // namespace basalt::server::partiql

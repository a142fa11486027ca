// The PartiQL tokenizer and keyword table.
#include "server/partiql/lexer.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <string>

namespace basalt::server::partiql {
namespace {

bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}
bool IsIdentPart(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// SQL-92's reserved words (ISO/IEC 9075:1992, 5.2 <reserved word>) and the
// words PartiQL reserves besides them (the PartiQL specification's keywords:
// MISSING, PIVOT, UNPIVOT, LIMIT, TUPLE, REMOVE, INDEX, LET, the type names
// and DynamoDB's RETURNING clause). Sorted, lower case, for binary search.
// clang-format off
constexpr std::string_view kKeywords[] = {
    "absolute", "action", "add", "all", "allocate", "alter", "and", "any", "are", "as", "asc",
    "assertion", "at", "authorization", "avg", "bag", "begin", "between", "bit", "bit_length",
    "blob", "bool", "boolean", "both", "by", "cascade", "cascaded", "case", "cast", "catalog",
    "char", "char_length", "character", "character_length", "check", "clob", "close", "coalesce",
    "collate", "collation", "column", "commit", "conflict", "connect", "connection", "constraint",
    "constraints", "continue", "convert", "corresponding", "count", "create", "cross", "current",
    "current_date", "current_time", "current_timestamp", "current_user", "cursor", "date", "day",
    "deallocate", "dec", "decimal", "declare", "default", "deferrable", "deferred", "delete",
    "desc", "describe", "descriptor", "diagnostics", "disconnect", "distinct", "do", "domain",
    "double", "drop", "else", "end", "escape", "except", "exception", "exec", "execute", "exists",
    "external", "extract", "false", "fetch", "first", "float", "for", "foreign", "found", "from",
    "full", "get", "global", "go", "goto", "grant", "group", "having", "hour", "identity",
    "immediate", "in", "index", "indicator", "initially", "inner", "input", "insensitive",
    "insert", "int", "integer", "intersect", "interval", "into", "is", "isolation", "join", "key",
    "language", "last", "leading", "left", "let", "level", "like", "limit", "list", "local",
    "lower", "match", "max", "min", "minute", "missing", "module", "month", "names", "national",
    "natural", "nchar", "next", "no", "not", "nothing", "null", "nullif", "numeric",
    "octet_length", "of", "on", "only", "open", "option", "or", "order", "outer", "output",
    "overlaps", "pad", "partial", "pivot", "position", "precision", "prepare", "preserve",
    "primary", "prior", "privileges", "procedure", "public", "read", "real", "references",
    "relative", "remove", "restrict", "returning", "revoke", "right", "rollback", "rows", "schema",
    "scroll", "second", "section", "select", "session", "session_user", "set", "sexp", "size",
    "smallint", "some", "space", "sql", "sqlcode", "sqlerror", "sqlstate", "string", "struct",
    "substring", "sum", "symbol", "system_user", "table", "temporary", "then", "time", "timestamp",
    "timezone_hour", "timezone_minute", "to", "trailing", "transaction", "translate",
    "translation", "trim", "true", "tuple", "union", "unique", "unknown", "unpivot", "update",
    "upper", "usage", "user", "using", "value", "values", "varchar", "varying", "view", "when",
    "whenever", "where", "with", "work", "write", "year", "zone",
};
// clang-format on
static_assert(std::is_sorted(std::begin(kKeywords), std::end(kKeywords)));

}  // namespace

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool IsKeyword(std::string_view word) {
  if (word.empty() || word.size() > 20) return false;
  const std::string w = Lower(word);
  return std::binary_search(std::begin(kKeywords), std::end(kKeywords), std::string_view(w));
}

bool IsFunctionKeyword(std::string_view word) {
  static constexpr std::string_view kWords[] = {
      "exists",     "size",  "count", "avg",     "max",          "min",
      "sum",        "upper", "lower", "nullif",  "coalesce",     "char_length",
      "bit_length", "cast",  "trim",  "extract", "octet_length", "character_length",
      "substring"};
  for (std::string_view k : kWords) {
    if (EqualsIgnoreCase(word, k)) return true;
  }
  return false;
}

bool Tokenize(std::string_view text, std::vector<Token>* out) {
  out->clear();
  size_t i = 0;
  const size_t n = text.size();
  auto push = [&](Tok kind, std::string t, size_t pos) {
    out->push_back(Token{kind, std::move(t), pos});
  };
  while (i < n) {
    const char c = text[i];
    if (IsSpace(c)) {
      ++i;
      continue;
    }
    if (c == '-' && i + 1 < n && text[i + 1] == '-') {
      while (i < n && text[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && text[i + 1] == '*') {
      const size_t end = text.find("*/", i + 2);
      if (end == std::string_view::npos) return false;
      i = end + 2;
      continue;
    }
    const size_t start = i;
    if (IsIdentStart(c)) {
      while (i < n && IsIdentPart(text[i])) ++i;
      push(Tok::kIdent, std::string(text.substr(start, i - start)), start);
      continue;
    }
    if (IsDigit(c) || (c == '.' && i + 1 < n && IsDigit(text[i + 1]))) {
      while (i < n && IsDigit(text[i])) ++i;
      if (i < n && text[i] == '.') {
        ++i;
        while (i < n && IsDigit(text[i])) ++i;
      }
      if (i < n && (text[i] == 'e' || text[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (text[j] == '+' || text[j] == '-')) ++j;
        if (j < n && IsDigit(text[j])) {
          while (j < n && IsDigit(text[j])) ++j;
          i = j;
        }
      }
      push(Tok::kNumber, std::string(text.substr(start, i - start)), start);
      continue;
    }
    if (c == '\'' || c == '"') {
      std::string value;
      ++i;
      bool closed = false;
      while (i < n) {
        if (text[i] == c) {
          if (i + 1 < n && text[i + 1] == c) {
            value += c;
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        value += text[i++];
      }
      if (!closed) return false;
      push(c == '\'' ? Tok::kString : Tok::kQuoted, std::move(value), start);
      continue;
    }
    auto next_is = [&](char d) { return i + 1 < n && text[i + 1] == d; };
    switch (c) {
      case '?':
        push(Tok::kQuestion, "?", start);
        ++i;
        continue;
      case '(':
        push(Tok::kLParen, "(", start);
        ++i;
        continue;
      case ')':
        push(Tok::kRParen, ")", start);
        ++i;
        continue;
      case '[':
        push(Tok::kLBracket, "[", start);
        ++i;
        continue;
      case ']':
        push(Tok::kRBracket, "]", start);
        ++i;
        continue;
      case '{':
        push(Tok::kLBrace, "{", start);
        ++i;
        continue;
      case '}':
        push(Tok::kRBrace, "}", start);
        ++i;
        continue;
      case ',':
        push(Tok::kComma, ",", start);
        ++i;
        continue;
      case '.':
        push(Tok::kDot, ".", start);
        ++i;
        continue;
      case ':':
        push(Tok::kColon, ":", start);
        ++i;
        continue;
      case ';':
        push(Tok::kSemicolon, ";", start);
        ++i;
        continue;
      case '*':
        push(Tok::kStar, "*", start);
        ++i;
        continue;
      case '=':
      case '+':
      case '-':
      case '/':
      case '%':
        push(Tok::kOp, std::string(1, c), start);
        ++i;
        continue;
      case '|':
        if (!next_is('|')) return false;
        push(Tok::kOp, "||", start);
        i += 2;
        continue;
      case '!':
        if (!next_is('=')) return false;
        push(Tok::kOp, "!=", start);
        i += 2;
        continue;
      case '<':
        if (next_is('<')) {
          push(Tok::kLBag, "<<", start);
          i += 2;
        } else if (next_is('>') || next_is('=')) {
          push(Tok::kOp, std::string(text.substr(i, 2)), start);
          i += 2;
        } else {
          push(Tok::kOp, "<", start);
          ++i;
        }
        continue;
      case '>':
        if (next_is('>')) {
          push(Tok::kRBag, ">>", start);
          i += 2;
        } else if (next_is('=')) {
          push(Tok::kOp, ">=", start);
          i += 2;
        } else {
          push(Tok::kOp, ">", start);
          ++i;
        }
        continue;
      default:
        return false;
    }
  }
  push(Tok::kEnd, "", n);
  return true;
}

}  // namespace basalt::server::partiql

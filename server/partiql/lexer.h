// Internal: the PartiQL tokenizer. Not part of the public API (partiql.h).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace basalt::server::partiql {

enum class Tok {
  kIdent,      // bare identifier [A-Za-z_$][A-Za-z0-9_$]* (also keywords)
  kQuoted,     // "quoted identifier" ("" escapes a quote); text unquoted
  kString,     // 'string literal' ('' escapes a quote); text unquoted
  kNumber,     // 12, 1.5, .5, 1e10, 1.5E-3 (no sign)
  kQuestion,   // ?
  kLParen,     // (
  kRParen,     // )
  kLBracket,   // [
  kRBracket,   // ]
  kLBrace,     // {
  kRBrace,     // }
  kLBag,       // <<
  kRBag,       // >>
  kComma,      // ,
  kDot,        // .
  kColon,      // :
  kSemicolon,  // ;
  kStar,       // *
  kOp,         // = <> != < <= > >= + - / % ||  (text: the operator; != as written)
  kEnd,
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // identifier/literal text (unescaped), operator text
  size_t pos = 0;    // byte offset in the statement
};

// Splits `text` into tokens ending with kEnd. Skips whitespace, `-- ...`
// line comments and `/* ... */` block comments. Returns false (and leaves
// *out unspecified) on anything it cannot read: an unterminated string,
// quoted identifier or block comment, or a character outside the grammar
// (#, `, ~, a non-ASCII byte outside quotes, ...).
bool Tokenize(std::string_view text, std::vector<Token>* out);

// True for the words the PartiQL lexer reserves (SQL-92's reserved words and
// PartiQL's own), compared ignoring case. A reserved word is not an
// identifier unless double-quoted.
bool IsKeyword(std::string_view word);

// Keywords that name a function when '(' follows (size, exists, ...).
bool IsFunctionKeyword(std::string_view word);

// Lower-case ASCII copy.
std::string Lower(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace basalt::server::partiql

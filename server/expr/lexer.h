// Internal: the tokenizer shared by every expression grammar.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace basalt::server::expr {

enum class Tok {
  kIdent,   // [A-Za-z][A-Za-z0-9_]*  (names, keywords, function names)
  kName,    // #[A-Za-z0-9_]*
  kValue,   // :[A-Za-z0-9_]*
  kNumber,  // [0-9]+ (list indexes)
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kDot,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kPlus,
  kMinus,
  kOther,  // any other character (or "_" starting a word): always a syntax error
  kEnd,
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string_view text;  // points into the expression
  size_t pos = 0;         // byte offset of text in the expression
  size_t end = 0;         // byte offset just past the text the token spans (see "_" below)
};

// Splits `text` into tokens; the last one is kEnd. Whitespace is space, tab,
// CR and LF. Never fails: unknown characters become kOther tokens. A word
// may not start with "_" (only "#" and ":" placeholders may): "_123" is a
// kOther token whose text is "_" and which spans the whole word, so that
// DynamoDB's answer to "SET _123 = :v" comes out: Syntax error; token: "_",
// near: "SET _123" (observed behaviour of DynamoDB).
std::vector<Token> Tokenize(std::string_view text);

// DynamoDB's syntax error text for token i (unprefixed):
//   Syntax error; token: "<tok>", near: "<previous token .. this token>"
// with <EOF> as the token at the end.
std::string SyntaxError(std::string_view text, const std::vector<Token>& tokens, size_t i);

}  // namespace basalt::server::expr

#include "server/expr/lexer.h"

namespace basalt::server::expr {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWord(char c) { return IsAlpha(c) || IsDigit(c) || c == '_'; }

}  // namespace

std::vector<Token> Tokenize(std::string_view text) {
  std::vector<Token> out;
  size_t i = 0;
  const size_t n = text.size();
  while (true) {
    while (i < n && IsSpace(text[i])) ++i;
    if (i >= n) break;
    const size_t start = i;
    const char c = text[i];
    Tok kind = Tok::kOther;
    size_t shown = 0;  // > 0: only the first `shown` bytes are the token's text
    if (c == '_') {
      while (i < n && IsWord(text[i])) ++i;
      shown = 1;
    } else if (IsAlpha(c)) {
      while (i < n && IsWord(text[i])) ++i;
      kind = Tok::kIdent;
    } else if (IsDigit(c)) {
      while (i < n && IsDigit(text[i])) ++i;
      kind = Tok::kNumber;
    } else if (c == '#' || c == ':') {
      ++i;
      while (i < n && IsWord(text[i])) ++i;
      kind = c == '#' ? Tok::kName : Tok::kValue;
    } else {
      ++i;
      const char next = i < n ? text[i] : '\0';
      switch (c) {
        case '(':
          kind = Tok::kLParen;
          break;
        case ')':
          kind = Tok::kRParen;
          break;
        case '[':
          kind = Tok::kLBracket;
          break;
        case ']':
          kind = Tok::kRBracket;
          break;
        case ',':
          kind = Tok::kComma;
          break;
        case '.':
          kind = Tok::kDot;
          break;
        case '=':
          kind = Tok::kEq;
          break;
        case '+':
          kind = Tok::kPlus;
          break;
        case '-':
          kind = Tok::kMinus;
          break;
        case '<':
          if (next == '=') {
            kind = Tok::kLe, ++i;
          } else if (next == '>') {
            kind = Tok::kNe, ++i;
          } else {
            kind = Tok::kLt;
          }
          break;
        case '>':
          if (next == '=') {
            kind = Tok::kGe, ++i;
          } else {
            kind = Tok::kGt;
          }
          break;
        default:
          // One whole UTF-8 character, so the message never splits one.
          while (i < n && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
          kind = Tok::kOther;
      }
    }
    out.push_back(Token{kind, text.substr(start, shown > 0 ? shown : i - start), start, i});
  }
  out.push_back(Token{Tok::kEnd, std::string_view(), n, n});
  return out;
}

std::string SyntaxError(std::string_view text, const std::vector<Token>& tokens, size_t i) {
  const Token& t = tokens[i];
  std::string msg = "Syntax error; token: \"";
  size_t near_begin = i > 0 ? tokens[i - 1].pos : t.pos;
  size_t near_end;
  if (t.kind == Tok::kEnd) {
    msg += "<EOF>";
    near_end = i > 0 ? tokens[i - 1].end : 0;
  } else {
    msg += t.text;
    near_end = t.end;
  }
  msg += "\", near: \"";
  msg += text.substr(near_begin, near_end - near_begin);
  msg += "\"";
  return msg;
}

}  // namespace basalt::server::expr

#include "server/export/ion_text.h"

#include <fmt/format.h>

#include <cstdint>

#include "engine/base/base64.h"
#include "server/export/attribute_json.h"

namespace basalt::server::exports {

using table::Decimal;
using table::Item;
using table::Value;
using table::ValueType;

namespace {

bool IdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}
bool IdentChar(char c) { return IdentStart(c) || (c >= '0' && c <= '9'); }

void AppendEscaped(std::string_view s, char quote, std::string* out) {
  out->push_back(quote);
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20 || u == 0x7f) {
      fmt::format_to(std::back_inserter(*out), "\\x{:02x}", u);
    } else {
      out->push_back(c);
    }
  }
  out->push_back(quote);
}

// Ion decimal text of d: coefficient without trailing zeros, "d" exponent.
void AppendDecimal(const Decimal& d, std::string* out) {
  if (d.IsZero()) {
    *out += "0.";
    return;
  }
  if (d.IsNegative()) out->push_back('-');
  int n = d.num_digits();
  while (n > 1 && d.digit(n - 1) == 0) n--;
  for (int i = 0; i < n; i++) out->push_back(static_cast<char>('0' + d.digit(i)));
  const int exp = d.exponent() - (n - 1);
  if (exp == 0) {
    out->push_back('.');
  } else {
    fmt::format_to(std::back_inserter(*out), "d{}", exp);
  }
}

void AppendBlob(std::string_view bytes, std::string* out) {
  *out += "{{";
  *out += Base64Encode(bytes);
  *out += "}}";
}

}  // namespace

void AppendIonFieldName(std::string_view name, std::string* out) {
  bool ident = !name.empty() && IdentStart(name[0]) && name[0] != '$';
  for (char c : name) ident = ident && IdentChar(c);
  ident = ident && name != "null" && name != "true" && name != "false" && name != "nan";
  if (ident) {
    *out += name;
  } else {
    AppendEscaped(name, '\'', out);
  }
}

void AppendIonValue(const Value& v, std::string* out) {
  switch (v.type()) {
    case ValueType::kS:
      AppendEscaped(v.s(), '"', out);
      return;
    case ValueType::kN:
      AppendDecimal(v.n(), out);
      return;
    case ValueType::kB:
      AppendBlob(v.b(), out);
      return;
    case ValueType::kBool:
      *out += v.boolean() ? "true" : "false";
      return;
    case ValueType::kNull:
      *out += "null";
      return;
    case ValueType::kL: {
      out->push_back('[');
      bool first = true;
      for (const Value& e : v.l()) {
        if (!first) out->push_back(',');
        first = false;
        AppendIonValue(e, out);
      }
      out->push_back(']');
      return;
    }
    case ValueType::kM:
      AppendIonStruct(v.m(), out);
      return;
    case ValueType::kSS:
    case ValueType::kBS: {
      const bool binary = v.type() == ValueType::kBS;
      *out += binary ? "$dynamodb_BS::[" : "$dynamodb_SS::[";
      bool first = true;
      for (const std::string& e : binary ? v.bs() : v.ss()) {
        if (!first) out->push_back(',');
        first = false;
        if (binary) {
          AppendBlob(e, out);
        } else {
          AppendEscaped(e, '"', out);
        }
      }
      out->push_back(']');
      return;
    }
    case ValueType::kNS: {
      *out += "$dynamodb_NS::[";
      bool first = true;
      for (const Decimal& d : v.ns()) {
        if (!first) out->push_back(',');
        first = false;
        AppendDecimal(d, out);
      }
      out->push_back(']');
      return;
    }
  }
}

void AppendIonStruct(const Item& item, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const auto& [name, value] : item) {
    if (!first) out->push_back(',');
    first = false;
    AppendIonFieldName(name, out);
    out->push_back(':');
    AppendIonValue(value, out);
  }
  out->push_back('}');
}

// ---- reader ----

namespace {

class Parser {
 public:
  explicit Parser(std::string_view t) : t_(t) {}

  Status All(std::vector<IonValue>* out) {
    while (true) {
      if (Status s = SkipSpace(); !s.ok()) return s;
      if (pos_ >= t_.size()) return Status::OK();
      IonValue v;
      if (Status s = Parse(&v, 0); !s.ok()) return s;
      if (v.kind == IonValue::Kind::kSymbol && v.annotations.empty() && v.text == "$ion_1_0") {
        continue;  // the version marker
      }
      out->push_back(std::move(v));
    }
  }

 private:
  static constexpr int kMaxDepth = 100;

  Status Err(std::string_view what) const {
    return Status::InvalidArgument(fmt::format("Ion syntax error at offset {}: {}", pos_, what));
  }
  bool AtEnd() const { return pos_ >= t_.size(); }
  char Peek(size_t ahead = 0) const { return pos_ + ahead < t_.size() ? t_[pos_ + ahead] : '\0'; }

  Status SkipSpace() {
    while (!AtEnd()) {
      const char c = t_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
        pos_++;
      } else if (c == '/' && Peek(1) == '/') {
        while (!AtEnd() && t_[pos_] != '\n') pos_++;
      } else if (c == '/' && Peek(1) == '*') {
        const size_t end = t_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) return Err("unterminated comment");
        pos_ = end + 2;
      } else {
        break;
      }
    }
    return Status::OK();
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }

  Status Hex(int digits, uint32_t* cp) {
    *cp = 0;
    for (int i = 0; i < digits; i++) {
      const char c = Peek();
      int v = -1;
      if (c >= '0' && c <= '9') v = c - '0';
      if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
      if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
      if (v < 0) return Err("bad hex escape");
      *cp = *cp * 16 + static_cast<uint32_t>(v);
      pos_++;
    }
    return Status::OK();
  }

  // Reads up to the closing `quote` (pos_ just after the opening one);
  // `triple`: a ''' long string.
  Status QuotedText(char quote, bool triple, std::string* out) {
    while (true) {
      if (AtEnd()) return Err("unterminated string");
      const char c = t_[pos_];
      if (triple ? (c == '\'' && Peek(1) == '\'' && Peek(2) == '\'') : c == quote) {
        pos_ += triple ? 3 : 1;
        return Status::OK();
      }
      if (!triple && (c == '\n' || c == '\r')) return Err("newline in a short string");
      pos_++;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (AtEnd()) return Err("unterminated escape");
      const char e = t_[pos_++];
      uint32_t cp = 0;
      switch (e) {
        case 'n':
          out->push_back('\n');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case '0':
          out->push_back('\0');
          break;
        case 'a':
          out->push_back('\a');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'v':
          out->push_back('\v');
          break;
        case '"':
        case '\'':
        case '\\':
        case '/':
        case '?':
          out->push_back(e);
          break;
        case '\n':
          break;  // line continuation
        case 'x':
          if (Status s = Hex(2, &cp); !s.ok()) return s;
          AppendUtf8(cp, out);
          break;
        case 'u':
          if (Status s = Hex(4, &cp); !s.ok()) return s;
          if (cp >= 0xd800 && cp < 0xdc00 && Peek() == '\\' && Peek(1) == 'u') {
            pos_ += 2;
            uint32_t lo = 0;
            if (Status s = Hex(4, &lo); !s.ok()) return s;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          AppendUtf8(cp, out);
          break;
        case 'U':
          if (Status s = Hex(8, &cp); !s.ok()) return s;
          AppendUtf8(cp, out);
          break;
        default:
          return Err("unknown escape");
      }
    }
  }

  // A symbol or string used as a field name or annotation.
  Status Name(std::string* out, bool* is_symbol_token) {
    *is_symbol_token = true;
    if (Peek() == '\'' && !(Peek(1) == '\'' && Peek(2) == '\'')) {
      pos_++;
      return QuotedText('\'', false, out);
    }
    if (Peek() == '"') {
      pos_++;
      *is_symbol_token = false;
      return QuotedText('"', false, out);
    }
    if (!IdentStart(Peek())) return Err("expected a field name");
    while (!AtEnd() && IdentChar(t_[pos_])) out->push_back(t_[pos_++]);
    return Status::OK();
  }

  Status Number(IonValue* v) {
    v->kind = IonValue::Kind::kNumber;
    const size_t start = pos_;
    while (!AtEnd()) {
      const char c = t_[pos_];
      if ((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == '_' || c == 'd' ||
          c == 'D' || c == 'e' || c == 'E' || c == 'x' || c == 'X' || (c >= 'a' && c <= 'f') ||
          (c >= 'A' && c <= 'F')) {
        pos_++;
      } else {
        break;
      }
    }
    std::string_view raw = t_.substr(start, pos_ - start);
    if (raw.find_first_of("xX") != std::string_view::npos) {
      // A hex int: small enough values only.
      bool neg = raw.starts_with('-');
      std::string digits;
      for (char c : raw.substr(neg ? 3 : 2)) {
        if (c != '_') digits.push_back(c);
      }
      if (digits.empty() || digits.size() > 15) return Err("unsupported hex integer");
      const uint64_t n = std::stoull(digits, nullptr, 16);
      v->text = (neg ? "-" : "") + std::to_string(n);
      return Status::OK();
    }
    for (char c : raw) {
      if (c == '_') continue;
      v->text.push_back(c == 'd' || c == 'D' ? 'E' : c);
    }
    if (v->text.empty() || v->text == "-") return Err("bad number");
    return Status::OK();
  }

  Status Parse(IonValue* v, int depth) {
    if (depth > kMaxDepth) return Err("nested too deeply");
    if (Status s = SkipSpace(); !s.ok()) return s;
    if (AtEnd()) return Err("expected a value");
    // Annotations: symbol '::' ...
    while (true) {
      const size_t save = pos_;
      if (IdentStart(Peek()) || (Peek() == '\'' && Peek(1) != '\'')) {
        std::string name;
        bool sym = false;
        if (Status s = Name(&name, &sym); !s.ok()) return s;
        if (Status s = SkipSpace(); !s.ok()) return s;
        if (Peek() == ':' && Peek(1) == ':') {
          pos_ += 2;
          v->annotations.push_back(std::move(name));
          if (Status s = SkipSpace(); !s.ok()) return s;
          continue;
        }
      }
      pos_ = save;
      break;
    }
    const char c = Peek();
    if (c == '{' && Peek(1) == '{') {
      pos_ += 2;
      const size_t end = t_.find("}}", pos_);
      if (end == std::string_view::npos) return Err("unterminated blob");
      std::string b64;
      for (char x : t_.substr(pos_, end - pos_)) {
        if (x != ' ' && x != '\t' && x != '\n' && x != '\r') b64.push_back(x);
      }
      pos_ = end + 2;
      if (b64.starts_with('"') || b64.starts_with('\'')) return Err("clobs are not supported");
      v->kind = IonValue::Kind::kBlob;
      if (!Base64Decode(b64, &v->text)) return Err("bad base64 in blob");
      return Status::OK();
    }
    if (c == '{') {
      pos_++;
      v->kind = IonValue::Kind::kStruct;
      while (true) {
        if (Status s = SkipSpace(); !s.ok()) return s;
        if (Peek() == '}') {
          pos_++;
          return Status::OK();
        }
        std::string name;
        bool sym = false;
        if (Peek() == '\'' && Peek(1) == '\'' && Peek(2) == '\'') {
          pos_ += 3;
          if (Status s = QuotedText('\'', true, &name); !s.ok()) return s;
        } else if (Status s = Name(&name, &sym); !s.ok()) {
          return s;
        }
        if (Status s = SkipSpace(); !s.ok()) return s;
        if (Peek() != ':') return Err("expected ':' after a field name");
        pos_++;
        IonValue field;
        if (Status s = Parse(&field, depth + 1); !s.ok()) return s;
        v->fields.push_back(IonField{std::move(name), std::move(field)});
        if (Status s = SkipSpace(); !s.ok()) return s;
        if (Peek() == ',') {
          pos_++;
        } else if (Peek() != '}') {
          return Err("expected ',' or '}' in a struct");
        }
      }
    }
    if (c == '[' || c == '(') {
      const char close = c == '[' ? ']' : ')';
      pos_++;
      v->kind = c == '[' ? IonValue::Kind::kList : IonValue::Kind::kSexp;
      while (true) {
        if (Status s = SkipSpace(); !s.ok()) return s;
        if (Peek() == close) {
          pos_++;
          return Status::OK();
        }
        IonValue e;
        if (Status s = Parse(&e, depth + 1); !s.ok()) return s;
        v->elements.push_back(std::move(e));
        if (Status s = SkipSpace(); !s.ok()) return s;
        if (c == '[') {
          if (Peek() == ',') {
            pos_++;
          } else if (Peek() != ']') {
            return Err("expected ',' or ']' in a list");
          }
        }
      }
    }
    if (c == '"') {
      pos_++;
      v->kind = IonValue::Kind::kString;
      return QuotedText('"', false, &v->text);
    }
    if (c == '\'' && Peek(1) == '\'' && Peek(2) == '\'') {
      // Long strings; adjacent ones concatenate.
      v->kind = IonValue::Kind::kString;
      while (Peek() == '\'' && Peek(1) == '\'' && Peek(2) == '\'') {
        pos_ += 3;
        if (Status s = QuotedText('\'', true, &v->text); !s.ok()) return s;
        if (Status s = SkipSpace(); !s.ok()) return s;
      }
      return Status::OK();
    }
    if (c == '\'') {
      pos_++;
      v->kind = IonValue::Kind::kSymbol;
      return QuotedText('\'', false, &v->text);
    }
    if ((c >= '0' && c <= '9') || (c == '-' && Peek(1) >= '0' && Peek(1) <= '9')) {
      // A timestamp starts with four digits and '-' or 'T'.
      if (c != '-' && pos_ + 4 < t_.size() && (t_[pos_ + 4] == '-' || t_[pos_ + 4] == 'T') &&
          t_.substr(pos_, 4).find_first_not_of("0123456789") == std::string_view::npos) {
        return Err("timestamps are not supported");
      }
      return Number(v);
    }
    if (IdentStart(c)) {
      std::string word;
      while (!AtEnd() && (IdentChar(t_[pos_]) || t_[pos_] == '.')) word.push_back(t_[pos_++]);
      if (word == "null" || word.starts_with("null.")) {
        v->kind = IonValue::Kind::kNull;
      } else if (word == "true" || word == "false") {
        v->kind = IonValue::Kind::kBool;
        v->boolean = word == "true";
      } else if (word == "nan") {
        return Err("nan is not a DynamoDB number");
      } else {
        if (word.find('.') != std::string::npos) return Err("bad symbol");
        v->kind = IonValue::Kind::kSymbol;
        v->text = std::move(word);
      }
      return Status::OK();
    }
    if (c == '+' && t_.substr(pos_, 4) == "+inf") return Err("+inf is not a DynamoDB number");
    return Err("unexpected character");
  }

  std::string_view t_;
  size_t pos_ = 0;
};

}  // namespace

Status ParseIon(std::string_view text, std::vector<IonValue>* out) {
  Parser p(text);
  return p.All(out);
}

Status IonToValue(const IonValue& v, Value* out) {
  using K = IonValue::Kind;
  auto set_kind = [&]() -> std::string_view {
    for (const std::string& a : v.annotations) {
      if (a == "$dynamodb_SS" || a == "$dynamodb_NS" || a == "$dynamodb_BS") return a;
    }
    return {};
  };
  switch (v.kind) {
    case K::kNull:
      *out = Value::MakeNull();
      return Status::OK();
    case K::kBool:
      *out = Value::MakeBool(v.boolean);
      return Status::OK();
    case K::kNumber:
      return Value::ParseN(v.text, out);
    case K::kString:
    case K::kSymbol:
      *out = Value::MakeS(v.text);
      return Status::OK();
    case K::kBlob:
      *out = Value::MakeB(v.text);
      return Status::OK();
    case K::kSexp:
      return Status::InvalidArgument("an Ion s-expression has no DynamoDB type");
    case K::kStruct: {
      Item m;
      if (Status s = IonToItem(v, &m); !s.ok()) return s;
      *out = Value::MakeM(std::move(m));
      return Status::OK();
    }
    case K::kList:
      break;
  }
  const std::string_view set = set_kind();
  if (set.empty()) {
    Value::List list;
    list.reserve(v.elements.size());
    for (const IonValue& e : v.elements) {
      Value x;
      if (Status s = IonToValue(e, &x); !s.ok()) return s;
      list.push_back(std::move(x));
    }
    *out = Value::MakeL(std::move(list));
    return Status::OK();
  }
  if (set == "$dynamodb_NS") {
    Value::NumberSet ns;
    for (const IonValue& e : v.elements) {
      if (e.kind != K::kNumber) return Status::InvalidArgument("$dynamodb_NS holds a non-number");
      Decimal d;
      if (Status s = Decimal::Parse(e.text, &d); !s.ok()) return s;
      ns.push_back(std::move(d));
    }
    *out = Value::MakeNS(std::move(ns));
    return Status::OK();
  }
  const bool binary = set == "$dynamodb_BS";
  Value::StringSet ss;
  for (const IonValue& e : v.elements) {
    if (binary ? e.kind != K::kBlob : (e.kind != K::kString && e.kind != K::kSymbol)) {
      return Status::InvalidArgument(std::string(set) + " holds an element of another type");
    }
    ss.push_back(e.text);
  }
  *out = binary ? Value::MakeBS(std::move(ss)) : Value::MakeSS(std::move(ss));
  return Status::OK();
}

Status IonToItem(const IonValue& v, Item* out) {
  if (v.kind != IonValue::Kind::kStruct) return Status::InvalidArgument("expected an Ion struct");
  std::vector<Item::Entry> entries;
  entries.reserve(v.fields.size());
  for (const auto& [name, field] : v.fields) {
    Value x;
    if (Status s = IonToValue(field, &x); !s.ok()) return s;
    entries.emplace_back(name, std::move(x));
  }
  *out = Item::FromUnsorted(std::move(entries));
  return Status::OK();
}

}  // namespace basalt::server::exports

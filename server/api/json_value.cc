#include "server/api/json_value.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "server/api/errors.h"
#include "server/expr/expr.h"

namespace basalt::server::api {

namespace json = boost::json;

namespace {

// A double that came from a decimal literal (a fraction or an exponent:
// 1.5, 1e2) rather than from an integer literal too long for 64 bits, which
// Boost.JSON also reads as a double (>= 2^64, or infinite beyond DBL_MAX).
// 1e999999 (infinite) cannot be told from a 1,000-digit integer; it counts as
// out of range.
bool IsDecimalLiteral(double d) { return std::isfinite(d) && std::fabs(d) < 0x1p63; }

// The JSON kind as DynamoDB's (Jackson-based) messages name it: DynamoDB calls
// an integer NUMBER_VALUE and a number with a fraction DECIMAL_VALUE
// ("DECIMAL_VALUE cannot be converted to String", recorded by dynalite's
// tests of DynamoDB's SerializationException texts).
const char* KindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return "STRING_VALUE";
    case json::kind::int64:
    case json::kind::uint64:
      return "NUMBER_VALUE";
    case json::kind::double_:
      return IsDecimalLiteral(v.get_double()) ? "DECIMAL_VALUE" : "NUMBER_VALUE";
    case json::kind::bool_:
      return v.get_bool() ? "TRUE_VALUE" : "FALSE_VALUE";
    case json::kind::array:
      return "START_ARRAY";
    case json::kind::object:
      return "START_OBJECT";
    case json::kind::null:
      return "VALUE_NULL";
  }
  return "UNKNOWN";
}

[[noreturn]] void WrongType(const json::value& v, const char* want) {
  throw SerializationError(fmt::format("{} cannot be converted to {}", KindName(v), want));
}

std::string Str(const json::value& v) {
  if (!v.is_string()) WrongType(v, "String");
  const json::string& s = v.get_string();
  return std::string(s.data(), s.size());
}

const json::array& Arr(const json::value& v) {
  if (!v.is_array()) WrongType(v, "List");
  return v.get_array();
}

Value ParseNumber(std::string_view text) {
  Value out;
  Status s = Value::ParseN(text, &out);
  if (!s.ok()) throw ValidationError(ValidUtf8(s.message()));
  return out;
}

// The length of a UTF-8 sequence by its first byte (1 for a byte that cannot
// start one, which ValidUtf8 then replaces).
size_t Utf8SequenceLength(unsigned char c) {
  if (c < 0xC2) return 1;
  if (c < 0xE0) return 2;
  if (c < 0xF0) return 3;
  if (c < 0xF5) return 4;
  return 1;
}

// The length of UTF-8 text in UTF-16 units, as Java's String.length():
// characters above U+FFFF count twice.
size_t Utf16Length(std::string_view s) {
  size_t n = 0;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c & 0xC0) != 0x80) n += c >= 0xF0 ? 2 : 1;
  }
  return n;
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string Base64Decode(std::string_view in) {
  static const std::array<int8_t, 256> table = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    for (int i = 0; i < 64; i++) t[static_cast<uint8_t>(kB64[i])] = static_cast<int8_t>(i);
    return t;
  }();
  // DynamoDB counts the length in Java characters (UTF-16 units), not bytes.
  const size_t length = Utf16Length(in);
  if (length % 4 != 0) {
    throw SerializationError(fmt::format(
        "Base64 encoded length is expected a multiple of 4 bytes but found: {}", length));
  }
  // The character at `at`, whole (all its bytes), for the message: a lone
  // byte of a multi-byte character would make the error body invalid UTF-8.
  auto bad_character = [in](size_t at) {
    const size_t n =
        std::min(Utf8SequenceLength(static_cast<unsigned char>(in[at])), in.size() - at);
    return SerializationError("Invalid Base64 character: '" + ValidUtf8(in.substr(at, n)) + "'");
  };
  std::string out;
  out.reserve(in.size() / 4 * 3);
  // Every byte before the first bad one is an ASCII alphabet or pad
  // character, so the groups of 4 bytes are groups of 4 characters up to it.
  // A non-ASCII text whose byte length is not a multiple of 4 fails at its
  // first non-ASCII character, before any read past its end.
  for (size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; j++) {
      if (i + j >= in.size()) throw bad_character(in.size() - 1);  // not reached (see above)
      char c = in[i + j];
      if (c == '=' && i + 4 == in.size() && j >= 2) {
        v[j] = 0;
        pad++;
        continue;
      }
      if (pad > 0 || table[static_cast<uint8_t>(c)] < 0) throw bad_character(i + j);
      v[j] = table[static_cast<uint8_t>(c)];
    }
    uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>(n >> 16);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

Value ParseValue(const json::value& jv) {
  if (!jv.is_object()) WrongType(jv, "AttributeValue");
  const json::object& o = jv.get_object();
  const json::value* found = nullptr;
  std::string_view tag;
  for (const auto& kv : o) {
    if (kv.value().is_null()) continue;  // SDKs may send absent members as null
    std::string_view k(kv.key().data(), kv.key().size());
    if (k != "S" && k != "N" && k != "B" && k != "BOOL" && k != "NULL" && k != "L" && k != "M" &&
        k != "SS" && k != "NS" && k != "BS") {
      continue;  // unknown members are ignored, as DynamoDB does
    }
    if (found != nullptr) {
      throw ValidationError(
          "Supplied AttributeValue has more than one datatypes set, must contain exactly one of "
          "the supported datatypes");
    }
    found = &kv.value();
    tag = k;
  }
  if (found == nullptr) {
    throw ValidationError(
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
  }
  const json::value& v = *found;
  if (tag == "S") return Value::MakeS(Str(v));
  if (tag == "N") return ParseNumber(Str(v));
  if (tag == "B") return Value::MakeB(Base64Decode(Str(v)));
  if (tag == "BOOL") {
    if (!v.is_bool()) WrongType(v, "Boolean");
    return Value::MakeBool(v.get_bool());
  }
  if (tag == "NULL") {
    if (!v.is_bool()) WrongType(v, "Boolean");
    if (!v.get_bool()) {
      throw ValidationError(
          "One or more parameter values were invalid: Null attribute value types must have the "
          "value of true");
    }
    return Value::MakeNull();
  }
  if (tag == "L") {
    Value::List l;
    for (const json::value& e : Arr(v)) l.push_back(ParseValue(e));
    return Value::MakeL(std::move(l));
  }
  if (tag == "M") return Value::MakeM(ParseItem(v, "M"));
  if (tag == "SS" || tag == "BS") {
    Value::StringSet ss;
    for (const json::value& e : Arr(v)) {
      ss.push_back(tag == "SS" ? Str(e) : Base64Decode(Str(e)));
    }
    return tag == "SS" ? Value::MakeSS(std::move(ss)) : Value::MakeBS(std::move(ss));
  }
  // NS
  Value::NumberSet ns;
  for (const json::value& e : Arr(v)) ns.push_back(ParseNumber(Str(e)).n());
  return Value::MakeNS(std::move(ns));
}

Item ParseItem(const json::value& v, std::string_view member) {
  if (!v.is_object()) WrongType(v, "Map");
  std::vector<Item::Entry> entries;
  entries.reserve(v.get_object().size());
  // An item's attribute names, and the keys of the maps in its values, obey
  // DynamoDB's name limits (expr::CheckAttributeName): DynamoDB refuses a too
  // long name at any depth and an empty one at the top of an item (its
  // observed answers). An empty key of a nested map is left alone (nothing
  // shows DynamoDB refusing it), and so are the names of a Key, which the key
  // schema checks.
  const bool item = member == "Item";
  const bool check = item || member == "M";
  for (const auto& kv : v.get_object()) {
    std::string_view name(kv.key().data(), kv.key().size());
    if (check && (item || !name.empty())) {
      Status s = expr::CheckAttributeName(name);
      if (!s.ok()) throw ValidationError(ValidUtf8(s.message()));
    }
    entries.emplace_back(std::string(name), ParseValue(kv.value()));
  }
  return Item::FromUnsorted(std::move(entries));
}

json::value ValueToJson(const Value& v) {
  json::object o;
  switch (v.type()) {
    case table::ValueType::kS:
      o["S"] = v.s();
      break;
    case table::ValueType::kN:
      o["N"] = v.n().ToString();
      break;
    case table::ValueType::kB:
      o["B"] = Base64Encode(v.b());
      break;
    case table::ValueType::kBool:
      o["BOOL"] = v.boolean();
      break;
    case table::ValueType::kNull:
      o["NULL"] = true;
      break;
    case table::ValueType::kL: {
      json::array a;
      a.reserve(v.l().size());
      for (const Value& e : v.l()) a.push_back(ValueToJson(e));
      o["L"] = std::move(a);
      break;
    }
    case table::ValueType::kM:
      o["M"] = ItemToJson(v.m());
      break;
    case table::ValueType::kSS: {
      json::array a;
      for (const std::string& s : v.ss()) a.emplace_back(s);
      o["SS"] = std::move(a);
      break;
    }
    case table::ValueType::kNS: {
      json::array a;
      for (const auto& d : v.ns()) a.emplace_back(d.ToString());
      o["NS"] = std::move(a);
      break;
    }
    case table::ValueType::kBS: {
      json::array a;
      for (const std::string& s : v.bs()) a.emplace_back(Base64Encode(s));
      o["BS"] = std::move(a);
      break;
    }
  }
  return o;
}

json::object ItemToJson(const Item& item) {
  json::object o;
  o.reserve(item.size());
  for (const auto& [name, value] : item) o[name] = ValueToJson(value);
  return o;
}

std::optional<std::string> GetString(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  return Str(it->value());
}

std::optional<int64_t> GetInt(const json::object& o, std::string_view key, IntType type) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  if (type == IntType::kByName) {
    // The members DynamoDB's model declares Long (ProvisionedThroughput's);
    // Limit, Segment, TotalSegments and the others are Integer.
    type = key == "ReadCapacityUnits" || key == "WriteCapacityUnits" ? IntType::kLong
                                                                     : IntType::kInteger;
  }
  const bool is_long = type == IntType::kLong;
  const char* name = is_long ? "Long" : "Integer";
  const int64_t lo = is_long ? INT64_MIN : INT32_MIN;
  const int64_t hi = is_long ? INT64_MAX : INT32_MAX;
  const json::value& v = it->value();
  // Only an integer literal within the type's range: a decimal literal or an
  // integer out of range is refused, never rounded or clamped (a Limit of
  // 1.5, 2^63 or 1e999999 is an error, as DynamoDB's typed model has it).
  if (v.is_int64() && v.get_int64() >= lo && v.get_int64() <= hi) return v.get_int64();
  if (v.is_int64() || v.is_uint64() || v.is_double()) {
    throw SerializationError(fmt::format("{} cannot be converted to {}", KindName(v), name));
  }
  WrongType(v, name);
}

std::optional<bool> GetBool(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  if (!it->value().is_bool()) WrongType(it->value(), "Boolean");
  return it->value().get_bool();
}

const json::object* GetObject(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return nullptr;
  if (!it->value().is_object()) WrongType(it->value(), "Map");
  return &it->value().get_object();
}

const json::array* GetArray(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return nullptr;
  if (!it->value().is_array()) WrongType(it->value(), "List");
  return &it->value().get_array();
}

const json::object& AsObject(const json::value& v) {
  if (!v.is_object()) WrongType(v, "Structure");
  return v.get_object();
}

const std::string AsString(const json::value& v) { return Str(v); }

std::optional<std::map<std::string, std::string>> GetNameMap(const json::object& o,
                                                             std::string_view key) {
  const json::object* m = GetObject(o, key);
  if (m == nullptr) return std::nullopt;
  std::map<std::string, std::string> out;
  for (const auto& kv : *m) out[std::string(kv.key())] = Str(kv.value());
  return out;
}

std::optional<std::map<std::string, Value>> GetValueMap(const json::object& o,
                                                        std::string_view key) {
  const json::object* m = GetObject(o, key);
  if (m == nullptr) return std::nullopt;
  std::map<std::string, Value> out;
  for (const auto& kv : *m) out[std::string(kv.key())] = ParseValue(kv.value());
  return out;
}

std::string RequireTableName(const json::object& req) {
  auto name = GetString(req, "TableName");
  if (!name) {
    throw ValidationError(
        "The parameter 'TableName' is required but was not present in the request");
  }
  if (name->size() < 3 || name->size() > 255) {
    throw ValidationError(
        "TableName must be at least 3 characters long and at most 255 characters long");
  }
  for (char c : *name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      throw ValidationError(
          "1 validation error detected: Value " + Quote(*name) +
          " at 'tableName' failed to satisfy constraint: Member must satisfy regular expression "
          "pattern: [a-zA-Z0-9_.-]+");
    }
  }
  return *name;
}

std::string Quote(std::string_view s) { return fmt::format("'{}'", ValidUtf8(s)); }

std::string ValidUtf8(std::string_view s) {
  // Length of the valid sequence at s[i], or 0 (RFC 3629: no overlong forms,
  // no surrogates, nothing above U+10FFFF).
  auto valid_at = [s](size_t i) -> size_t {
    const auto b = [s](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    if (c < 0x80) return 1;
    const size_t n = Utf8SequenceLength(c);
    if (n == 1 || i + n > s.size()) return 0;
    for (size_t k = 1; k < n; k++) {
      if ((b(i + k) & 0xC0) != 0x80) return 0;
    }
    const unsigned char c1 = b(i + 1);
    if (c == 0xE0 && c1 < 0xA0) return 0;   // overlong
    if (c == 0xED && c1 >= 0xA0) return 0;  // surrogate
    if (c == 0xF0 && c1 < 0x90) return 0;   // overlong
    if (c == 0xF4 && c1 >= 0x90) return 0;  // above U+10FFFF
    return n;
  };
  size_t i = 0;
  size_t n = 0;
  while (i < s.size() && (n = valid_at(i)) != 0) i += n;
  if (i == s.size()) return std::string(s);
  std::string out(s.substr(0, i));
  while (i < s.size()) {
    n = valid_at(i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      i++;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace basalt::server::api

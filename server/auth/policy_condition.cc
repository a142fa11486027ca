// The Condition element of a policy statement: operators, their values, and
// how a condition is decided against a request (policy_internal.h).
//
// AWS references (IAM User Guide):
//   operators
//   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
//   several keys/values, negated operators
//               https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
//   set operators (ForAllValues / ForAnyValue)
//               https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
#include <arpa/inet.h>
#include <sys/socket.h>

#include <boost/json/value.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>

#include "engine/base/base64.h"
#include "server/auth/policy_internal.h"

namespace basalt::server::auth::internal {

namespace {

namespace json = boost::json;

struct OpInfo {
  std::string_view name;
  Op op;
  bool negated;
};

constexpr OpInfo kOps[] = {
    {"StringEquals", Op::kStringEquals, false},
    {"StringNotEquals", Op::kStringEquals, true},
    {"StringEqualsIgnoreCase", Op::kStringEqualsIgnoreCase, false},
    {"StringNotEqualsIgnoreCase", Op::kStringEqualsIgnoreCase, true},
    {"StringLike", Op::kStringLike, false},
    {"StringNotLike", Op::kStringLike, true},
    {"NumericEquals", Op::kNumericEquals, false},
    {"NumericNotEquals", Op::kNumericEquals, true},
    {"NumericLessThan", Op::kNumericLessThan, false},
    {"NumericLessThanEquals", Op::kNumericLessThanEquals, false},
    {"NumericGreaterThan", Op::kNumericGreaterThan, false},
    {"NumericGreaterThanEquals", Op::kNumericGreaterThanEquals, false},
    {"DateEquals", Op::kDateEquals, false},
    {"DateNotEquals", Op::kDateEquals, true},
    {"DateLessThan", Op::kDateLessThan, false},
    {"DateLessThanEquals", Op::kDateLessThanEquals, false},
    {"DateGreaterThan", Op::kDateGreaterThan, false},
    {"DateGreaterThanEquals", Op::kDateGreaterThanEquals, false},
    {"Bool", Op::kBool, false},
    {"BinaryEquals", Op::kBinaryEquals, false},
    {"IpAddress", Op::kIpAddress, false},
    {"NotIpAddress", Op::kIpAddress, true},
    {"ArnEquals", Op::kArnLike, false},
    {"ArnLike", Op::kArnLike, false},
    {"ArnNotEquals", Op::kArnLike, true},
    {"ArnNotLike", Op::kArnLike, true},
    {"Null", Op::kNull, false},
};

bool IsNumericOp(Op op) { return op >= Op::kNumericEquals && op <= Op::kNumericGreaterThanEquals; }
bool IsDateOp(Op op) { return op >= Op::kDateEquals && op <= Op::kDateGreaterThanEquals; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool ParseNumber(std::string_view s, double* out) {
  if (s.empty()) return false;
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// Dates: epoch seconds ("1700000000") or ISO 8601 ("2024-05-01",
// "2024-05-01T12:00Z", "2024-05-01T12:00:00.250+02:00"); no zone means UTC.
bool ParseDate(std::string_view s, int64_t* ms) {
  if (s.empty()) return false;
  size_t digits_from = (s[0] == '-') ? 1 : 0;
  if (s.size() > digits_from &&
      s.find_first_not_of("0123456789", digits_from) == std::string_view::npos) {
    if (s.size() - digits_from > 14) return false;
    int64_t secs = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), secs);
    if (ec != std::errc() || ptr != s.data() + s.size()) return false;
    *ms = secs * 1000;
    return true;
  }
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, frac_ms = 0, offset = 0;
  if (!Digits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d)) {
    return false;
  }
  size_t pos = 10;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ')) {
    pos++;
    if (!Digits(s, pos, 2, &h) || pos + 2 >= s.size() || s[pos + 2] != ':' ||
        !Digits(s, pos + 3, 2, &mi)) {
      return false;
    }
    pos += 5;
    if (pos < s.size() && s[pos] == ':') {
      if (!Digits(s, pos + 1, 2, &sec)) return false;
      pos += 3;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        pos++;
        size_t start = pos;
        int scale = 100;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          frac_ms += (s[pos] - '0') * scale;
          scale /= 10;
          pos++;
        }
        if (pos == start) return false;
      }
    }
    if (h > 23 || mi > 59 || sec > 59) return false;
  }
  if (pos < s.size()) {
    if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
      pos++;
    } else if (s[pos] == '+' || s[pos] == '-') {
      const int sign = s[pos] == '-' ? -1 : 1;
      int oh = 0, om = 0;
      if (!Digits(s, pos + 1, 2, &oh)) return false;
      pos += 3;
      if (pos < s.size() && s[pos] == ':') pos++;
      if (pos < s.size()) {
        if (!Digits(s, pos, 2, &om)) return false;
        pos += 2;
      }
      if (oh > 23 || om > 59) return false;
      offset = sign * (oh * 3600 + om * 60);
    }
    if (pos != s.size()) return false;
  }
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return false;
  const int64_t days = sys_days(ymd).time_since_epoch().count();
  *ms = (days * 86400 + h * 3600 + mi * 60 + sec - offset) * 1000 + frac_ms;
  return true;
}

// An address ("192.0.2.7", "2001:db8::1") into family and bytes.
bool ParseAddress(std::string_view s, int* family, unsigned char* addr) {
  char buf[64];
  if (s.empty() || s.size() >= sizeof(buf)) return false;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  if (s.find(':') == std::string_view::npos) {
    *family = AF_INET;
    return inet_pton(AF_INET, buf, addr) == 1;
  }
  *family = AF_INET6;
  return inet_pton(AF_INET6, buf, addr) == 1;
}

bool ParseCidr(std::string_view s, Cidr* out) {
  const size_t slash = s.find('/');
  if (!ParseAddress(s.substr(0, slash), &out->family, out->addr)) return false;
  const int max = out->family == AF_INET ? 32 : 128;
  out->prefix = max;
  if (slash != std::string_view::npos) {
    const std::string_view p = s.substr(slash + 1);
    int v = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (p.empty() || ec != std::errc() || ptr != p.data() + p.size() || v < 0 || v > max) {
      return false;
    }
    out->prefix = v;
  }
  return true;
}

bool CidrContains(const Cidr& c, int family, const unsigned char* addr) {
  unsigned char mapped[4];
  if (family == AF_INET6 && c.family == AF_INET) {
    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) against an IPv4 range.
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(addr, kMapped, 12) != 0) return false;
    std::memcpy(mapped, addr + 12, 4);
    addr = mapped;
    family = AF_INET;
  }
  if (family != c.family) return false;
  const int full = c.prefix / 8;
  if (std::memcmp(addr, c.addr, static_cast<size_t>(full)) != 0) return false;
  const int rest = c.prefix % 8;
  if (rest == 0) return true;
  const unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (addr[full] & mask) == (c.addr[full] & mask);
}

// A condition value as text: strings as they are; numbers and booleans as
// JSON writes them (IAM accepts "Bool": {"aws:SecureTransport": false}).
bool ValueText(const json::value& v, std::string* out) {
  if (v.is_string()) {
    *out = std::string(v.get_string());
  } else if (v.is_bool()) {
    *out = v.get_bool() ? "true" : "false";
  } else if (v.is_int64()) {
    *out = std::to_string(v.get_int64());
  } else if (v.is_uint64()) {
    *out = std::to_string(v.get_uint64());
  } else if (v.is_double()) {
    char buf[64];
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v.get_double());
    if (ec != std::errc()) return false;
    out->assign(buf, ptr);
  } else {
    return false;
  }
  return true;
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string ParseValue(const Condition& c, const std::string& text, bool variables,
                       ConditionValue* out) {
  const std::string where = c.op_name + " value " + Quote(text) + " of " + Quote(c.key);
  switch (c.op) {
    case Op::kStringEquals:
    case Op::kStringEqualsIgnoreCase:
    case Op::kStringLike:
    case Op::kArnLike:
    case Op::kBool: {
      const bool wildcards = c.op == Op::kStringLike || c.op == Op::kArnLike;
      std::string err = ParseTemplate(text, variables, wildcards, &out->tmpl);
      if (!err.empty()) return c.op_name + ": " + err;
      if (c.op == Op::kBool && !out->tmpl.has_variables && !EqualsIgnoreCase(text, "true") &&
          !EqualsIgnoreCase(text, "false")) {
        return where + " must be \"true\" or \"false\"";
      }
      return {};
    }
    case Op::kBinaryEquals:
      if (!Base64Decode(text, &out->bytes, /*require_padding=*/false))
        return where + " is not base64";
      return {};
    case Op::kIpAddress:
      if (!ParseCidr(text, &out->cidr)) {
        return where +
               " is not an IP address or CIDR range (\"203.0.113.0/24\", \"2001:db8::/32\")";
      }
      return {};
    case Op::kNull:
      if (EqualsIgnoreCase(text, "true")) {
        out->null = true;
      } else if (EqualsIgnoreCase(text, "false")) {
        out->null = false;
      } else {
        return where + " must be \"true\" or \"false\"";
      }
      return {};
    default:
      break;
  }
  if (IsNumericOp(c.op)) {
    if (!ParseNumber(text, &out->number)) return where + " is not a number";
    return {};
  }
  if (!ParseDate(text, &out->time_ms)) {
    return where + " is not a date (ISO 8601 such as \"2024-05-01T12:00:00Z\", or epoch seconds)";
  }
  return {};
}

// x against y for a Numeric or Date operator (given that family's four
// operators; anything else in the family is GreaterThanEquals, negated ones
// having been turned into their positive form).
template <typename T>
bool Ordered(Op op, Op eq, Op lt, Op le, Op gt, T x, T y) {
  if (op == eq) return x == y;
  if (op == lt) return x < y;
  if (op == le) return x <= y;
  if (op == gt) return x > y;
  return x >= y;
}

// One request value against one condition's values (ORed), as the operator
// says, before negation.
bool ValueMatches(const Condition& c, const std::string& v, const RequestView& req) {
  std::string text_scratch;
  Glob glob_scratch;
  if (IsNumericOp(c.op)) {
    double x;
    if (!ParseNumber(v, &x)) return false;
    for (const ConditionValue& cv : c.values) {
      if (Ordered(c.op, Op::kNumericEquals, Op::kNumericLessThan, Op::kNumericLessThanEquals,
                  Op::kNumericGreaterThan, x, cv.number)) {
        return true;
      }
    }
    return false;
  }
  if (IsDateOp(c.op)) {
    int64_t x;
    if (!ParseDate(v, &x)) return false;
    for (const ConditionValue& cv : c.values) {
      if (Ordered(c.op, Op::kDateEquals, Op::kDateLessThan, Op::kDateLessThanEquals,
                  Op::kDateGreaterThan, x, cv.time_ms)) {
        return true;
      }
    }
    return false;
  }
  if (c.op == Op::kIpAddress) {
    int family;
    unsigned char addr[16];
    if (!ParseAddress(v, &family, addr)) return false;
    for (const ConditionValue& cv : c.values) {
      if (CidrContains(cv.cidr, family, addr)) return true;
    }
    return false;
  }
  for (const ConditionValue& cv : c.values) {
    switch (c.op) {
      case Op::kStringEquals: {
        const std::string* t = TextFor(cv.tmpl, req, &text_scratch);
        if (t != nullptr && *t == v) return true;
        break;
      }
      case Op::kStringEqualsIgnoreCase:
      case Op::kBool: {
        const std::string* t = TextFor(cv.tmpl, req, &text_scratch);
        if (t != nullptr && EqualsIgnoreCase(*t, v)) return true;
        break;
      }
      case Op::kStringLike: {
        const Glob* g = GlobFor(cv.tmpl, req, &glob_scratch);
        if (g != nullptr && GlobMatch(*g, v, false)) return true;
        break;
      }
      case Op::kArnLike: {
        const Glob* g = GlobFor(cv.tmpl, req, &glob_scratch);
        if (g != nullptr && ArnMatch(*g, v)) return true;
        break;
      }
      case Op::kBinaryEquals:
        if (cv.bytes == v) return true;
        break;
      default:
        break;
    }
  }
  return false;
}

}  // namespace

std::string ParseConditions(const json::value& v, bool variables, std::vector<Condition>* out) {
  if (!v.is_object()) return "Condition must be an object of {operator: {key: value(s)}}";
  for (const auto& [op_key, block] : v.get_object()) {
    const std::string_view full(op_key.data(), op_key.size());
    std::string_view name = full;
    SetQualifier set = SetQualifier::kNone;
    if (name.starts_with("ForAllValues:")) {
      set = SetQualifier::kForAllValues;
      name.remove_prefix(13);
    } else if (name.starts_with("ForAnyValue:")) {
      set = SetQualifier::kForAnyValue;
      name.remove_prefix(12);
    }
    bool if_exists = false;
    if (name.ends_with("IfExists")) {
      if_exists = true;
      name.remove_suffix(8);
    }
    const OpInfo* info = nullptr;
    for (const OpInfo& o : kOps) {
      if (o.name == name) info = &o;
    }
    if (info == nullptr) return "unknown condition operator " + Quote(full);
    if (info->op == Op::kNull && (if_exists || set != SetQualifier::kNone)) {
      return "condition operator " + Quote(full) +
             ": Null takes neither the IfExists suffix nor a set prefix";
    }
    if (!block.is_object() || block.get_object().empty()) {
      return "condition operator " + Quote(full) +
             " must map condition keys to values, e.g. {\"aws:username\": \"alice\"}";
    }
    for (const auto& [key, values] : block.get_object()) {
      Condition c;
      c.op_name = std::string(full);
      c.op = info->op;
      c.negated = info->negated;
      c.set = set;
      c.if_exists = if_exists;
      c.key.assign(key.data(), key.size());
      for (char& ch : c.key) {
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
      }
      const size_t colon = c.key.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == c.key.size()) {
        return c.op_name + ": condition key " + Quote(std::string_view(key.data(), key.size())) +
               " is not of the form \"prefix:name\" (e.g. \"dynamodb:LeadingKeys\")";
      }
      const size_t n = values.is_array() ? values.get_array().size() : 1;
      if (n == 0) return c.op_name + ": condition key " + Quote(c.key) + " has no values";
      for (size_t i = 0; i < n; i++) {
        const json::value& item = values.is_array() ? values.get_array()[i] : values;
        std::string text;
        if (!ValueText(item, &text)) {
          return c.op_name + ": the values of condition key " + Quote(c.key) +
                 " must be strings (or numbers or booleans), one or an array";
        }
        ConditionValue cv;
        std::string err = ParseValue(c, text, variables, &cv);
        if (!err.empty()) return err;
        c.values.push_back(std::move(cv));
      }
      out->push_back(std::move(c));
    }
  }
  return {};
}

// Absent keys: "If the key that you specify in a policy condition is not
// present in the request context, the values do not match and the condition is
// false. If the policy condition requires that the key is not matched, such as
// StringNotLike or ArnNotLike, and the right key is not present, the condition
// is true" (operators page), except ...IfExists (true when absent) and Null.
// Set operators: ForAllValues is true when every request value matches (also
// when there are none); ForAnyValue is true when at least one does (false when
// there are none) (single-vs-multivalued page).
// A multivalued key without a set operator (AWS says to use one): the
// condition matches when any value matches, and a negated operator is the
// complement of its positive form, i.e. true when no value matches (the NOR
// of the multiple-values page). A key present with no values counts as absent.
bool EvalCondition(const Condition& c, const RequestView& req) {
  const std::optional<std::span<const std::string>> values = req.Lookup(c.key);
  const bool absent = !values || values->empty();
  if (c.op == Op::kNull) {
    for (const ConditionValue& cv : c.values) {
      if (cv.null == absent) return true;
    }
    return false;
  }
  if (absent) {
    if (c.if_exists) return true;
    switch (c.set) {
      case SetQualifier::kForAllValues:
        return true;
      case SetQualifier::kForAnyValue:
        return false;
      case SetQualifier::kNone:
        return c.negated;
    }
  }
  switch (c.set) {
    case SetQualifier::kNone: {
      bool any = false;
      for (const std::string& v : *values) {
        if (ValueMatches(c, v, req)) {
          any = true;
          break;
        }
      }
      return c.negated ? !any : any;
    }
    case SetQualifier::kForAllValues:
      for (const std::string& v : *values) {
        if (ValueMatches(c, v, req) == c.negated) return false;
      }
      return true;
    case SetQualifier::kForAnyValue:
      for (const std::string& v : *values) {
        if (ValueMatches(c, v, req) != c.negated) return true;
      }
      return false;
  }
  return false;
}

}  // namespace basalt::server::auth::internal

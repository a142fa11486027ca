#include "engine/table/value.h"

#include <algorithm>
#include <cstdio>

#include "engine/base/base64.h"

namespace basalt::table {

namespace {

// DynamoDB's prefix for most item validation messages.
Status InvalidParameter(std::string_view detail) {
  std::string msg = "One or more parameter values were invalid: ";
  msg.append(detail);
  return Status::InvalidArgument(msg);
}

// "[a, b, c]" in the given order; `fmt` renders one element.
template <typename T, typename F>
std::string Collection(const std::vector<T>& elems, F fmt) {
  std::string out = "[";
  for (size_t i = 0; i < elems.size(); i++) {
    if (i > 0) out.append(", ");
    out.append(fmt(elems[i]));
  }
  out.push_back(']');
  return out;
}

// Pointers to the elements of a set, sorted by the set's order.
std::vector<const std::string*> SortedStrings(const Value::StringSet& set) {
  std::vector<const std::string*> p;
  p.reserve(set.size());
  for (const auto& s : set) p.push_back(&s);
  std::sort(p.begin(), p.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
  return p;
}
std::vector<const Decimal*> SortedNumbers(const Value::NumberSet& set) {
  std::vector<const Decimal*> p;
  p.reserve(set.size());
  for (const auto& d : set) p.push_back(&d);
  std::sort(p.begin(), p.end(),
            [](const Decimal* a, const Decimal* b) { return a->Compare(*b) < 0; });
  return p;
}

bool HasDuplicateStrings(const Value::StringSet& set) {
  auto p = SortedStrings(set);
  for (size_t i = 1; i < p.size(); i++) {
    if (*p[i - 1] == *p[i]) return true;
  }
  return false;
}
bool HasDuplicateNumbers(const Value::NumberSet& set) {
  auto p = SortedNumbers(set);
  for (size_t i = 1; i < p.size(); i++) {
    if (p[i - 1]->Compare(*p[i]) == 0) return true;
  }
  return false;
}

bool StringSetsEqual(const Value::StringSet& a, const Value::StringSet& b) {
  if (a.size() != b.size()) return false;
  if (a == b) return true;  // common case: same order
  auto pa = SortedStrings(a);
  auto pb = SortedStrings(b);
  for (size_t i = 0; i < pa.size(); i++) {
    if (*pa[i] != *pb[i]) return false;
  }
  return true;
}
bool NumberSetsEqual(const Value::NumberSet& a, const Value::NumberSet& b) {
  if (a.size() != b.size()) return false;
  auto pa = SortedNumbers(a);
  auto pb = SortedNumbers(b);
  for (size_t i = 0; i < pa.size(); i++) {
    if (pa[i]->Compare(*pb[i]) != 0) return false;
  }
  return true;
}

void AppendQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out->append(buf);
    } else {
      out->push_back(c);  // UTF-8 passes through
    }
  }
  out->push_back('"');
}

void AppendHex(std::string_view b, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->append("<");
  out->append(std::to_string(b.size()));
  out->append(" bytes");
  if (!b.empty()) out->push_back(' ');
  for (char c : b) {
    out->push_back(kHex[static_cast<unsigned char>(c) >> 4]);
    out->push_back(kHex[static_cast<unsigned char>(c) & 15]);
  }
  out->append(">");
}

void AppendDebug(const Value& v, std::string* out);

void AppendDebugMap(const AttributeMap& m, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const auto& [name, val] : m) {
    if (!first) out->push_back(',');
    first = false;
    AppendQuoted(name, out);
    out->push_back(':');
    AppendDebug(val, out);
  }
  out->push_back('}');
}

void AppendDebug(const Value& v, std::string* out) {
  out->append("{\"");
  out->append(ValueTypeName(v.type()));
  out->append("\":");
  switch (v.type()) {
    case ValueType::kS:
      AppendQuoted(v.s(), out);
      break;
    case ValueType::kN:
      AppendQuoted(v.n().ToString(), out);
      break;
    case ValueType::kB:
      AppendHex(v.b(), out);
      break;
    case ValueType::kBool:
      out->append(v.boolean() ? "true" : "false");
      break;
    case ValueType::kNull:
      out->append("true");
      break;
    case ValueType::kL: {
      out->push_back('[');
      for (size_t i = 0; i < v.l().size(); i++) {
        if (i > 0) out->push_back(',');
        AppendDebug(v.l()[i], out);
      }
      out->push_back(']');
      break;
    }
    case ValueType::kM:
      AppendDebugMap(v.m(), out);
      break;
    case ValueType::kSS:
    case ValueType::kBS: {
      const auto& set = v.type() == ValueType::kSS ? v.ss() : v.bs();
      out->push_back('[');
      for (size_t i = 0; i < set.size(); i++) {
        if (i > 0) out->push_back(',');
        if (v.type() == ValueType::kSS) {
          AppendQuoted(set[i], out);
        } else {
          AppendHex(set[i], out);
        }
      }
      out->push_back(']');
      break;
    }
    case ValueType::kNS: {
      out->push_back('[');
      for (size_t i = 0; i < v.ns().size(); i++) {
        if (i > 0) out->push_back(',');
        AppendQuoted(v.ns()[i].ToString(), out);
      }
      out->push_back(']');
      break;
    }
  }
  out->push_back('}');
}

}  // namespace

const char* ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kS:
      return "S";
    case ValueType::kN:
      return "N";
    case ValueType::kB:
      return "B";
    case ValueType::kBool:
      return "BOOL";
    case ValueType::kNull:
      return "NULL";
    case ValueType::kL:
      return "L";
    case ValueType::kM:
      return "M";
    case ValueType::kSS:
      return "SS";
    case ValueType::kNS:
      return "NS";
    case ValueType::kBS:
      return "BS";
  }
  return "?";
}

// ---- AttributeMap ----

AttributeMap AttributeMap::FromUnsorted(std::vector<Entry> entries) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.first < b.first; });
  AttributeMap m;
  m.entries_.reserve(entries.size());
  for (auto& e : entries) {
    if (!m.entries_.empty() && m.entries_.back().first == e.first) {
      m.entries_.back().second = std::move(e.second);  // last one wins
    } else {
      m.entries_.push_back(std::move(e));
    }
  }
  return m;
}

AttributeMap::const_iterator AttributeMap::LowerBound(std::string_view name) const {
  return std::lower_bound(entries_.begin(), entries_.end(), name,
                          [](const Entry& e, std::string_view n) { return e.first < n; });
}

const Value* AttributeMap::Find(std::string_view name) const {
  auto it = LowerBound(name);
  return it != entries_.end() && it->first == name ? &it->second : nullptr;
}

Value* AttributeMap::Find(std::string_view name) {
  return const_cast<Value*>(static_cast<const AttributeMap*>(this)->Find(name));
}

Value& AttributeMap::Set(std::string name, Value value) {
  auto pos = entries_.begin() + (LowerBound(name) - entries_.cbegin());
  if (pos != entries_.end() && pos->first == name) {
    pos->second = std::move(value);
    return pos->second;
  }
  return entries_.emplace(pos, std::move(name), std::move(value))->second;
}

bool AttributeMap::Erase(std::string_view name) {
  auto pos = entries_.begin() + (LowerBound(name) - entries_.cbegin());
  if (pos == entries_.end() || pos->first != name) return false;
  entries_.erase(pos);
  return true;
}

bool AttributeMap::AppendSorted(std::string name, Value value) {
  if (!entries_.empty() && !(entries_.back().first < name)) return false;
  entries_.emplace_back(std::move(name), std::move(value));
  return true;
}

bool operator==(const AttributeMap& a, const AttributeMap& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    if (a.entries_[i].first != b.entries_[i].first) return false;
    if (a.entries_[i].second != b.entries_[i].second) return false;
  }
  return true;
}

// ---- Value ----

Status Value::ParseN(std::string_view text, Value* out) {
  Decimal d;
  Status s = Decimal::Parse(text, &d);
  if (!s.ok()) return s;
  *out = MakeN(std::move(d));
  return Status::OK();
}

const std::string& Value::bytes() const {
  const std::string* p = std::get_if<std::string>(&v_);
  if (p == nullptr) __builtin_trap();
  return *p;
}

bool operator==(const Value& a, const Value& b) {
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case ValueType::kS:
    case ValueType::kB:
      return a.bytes() == b.bytes();
    case ValueType::kN:
      return a.n().Compare(b.n()) == 0;
    case ValueType::kBool:
      return a.boolean() == b.boolean();
    case ValueType::kNull:
      return true;
    case ValueType::kL:
      return a.l() == b.l();
    case ValueType::kM:
      return a.m() == b.m();
    case ValueType::kSS:
      return StringSetsEqual(a.ss(), b.ss());
    case ValueType::kBS:
      return StringSetsEqual(a.bs(), b.bs());
    case ValueType::kNS:
      return NumberSetsEqual(a.ns(), b.ns());
  }
  return false;
}

// ---- validation ----

Status ValidateValue(const Value& v, int level) {
  if (level > kMaxNestingDepth) {
    return Status::InvalidArgument(Status::SubCode::kNestingTooDeep, kNestingTooDeepMessage);
  }
  switch (v.type()) {
    case ValueType::kL:
      for (const Value& e : v.l()) {
        Status s = ValidateValue(e, level + 1);
        if (!s.ok()) return s;
      }
      return Status::OK();
    case ValueType::kM:
      for (const auto& [name, e] : v.m()) {
        Status s = ValidateValue(e, level + 1);
        if (!s.ok()) return s;
      }
      return Status::OK();
    case ValueType::kSS:
      if (v.ss().empty()) {
        return InvalidParameter("An string set  may not be empty");
      }
      if (HasDuplicateStrings(v.ss())) {
        std::string msg = "Input collection ";
        msg.append(Collection(v.ss(), [](const std::string& s) { return s; }));
        msg.append(" contains duplicates.");
        return InvalidParameter(msg);
      }
      return Status::OK();
    case ValueType::kNS:
      if (v.ns().empty()) {
        return InvalidParameter("An number set  may not be empty");
      }
      if (HasDuplicateNumbers(v.ns())) {
        return Status::InvalidArgument("Input collection contains duplicates");
      }
      return Status::OK();
    case ValueType::kBS:
      if (v.bs().empty()) {
        return InvalidParameter("Binary sets should not be empty");
      }
      if (HasDuplicateStrings(v.bs())) {
        std::string msg = "Input collection ";
        msg.append(Collection(v.bs(), [](const std::string& s) { return Base64Encode(s); }));
        msg.append("of type BS contains duplicates.");
        return InvalidParameter(msg);
      }
      return Status::OK();
    default:
      return Status::OK();
  }
}

Status ValidateItem(const Item& item) {
  for (const auto& [name, v] : item) {
    Status s = ValidateValue(v, 1);
    if (!s.ok()) return s;
  }
  if (ItemSize(item) > kMaxItemSize) {
    return Status::InvalidArgument(Status::SubCode::kItemTooLarge, kItemTooLargeMessage);
  }
  return Status::OK();
}

void CanonicalizeValue(Value* v) {
  switch (v->type()) {
    case ValueType::kL:
      for (Value& e : *v->mutable_l()) CanonicalizeValue(&e);
      break;
    case ValueType::kM:
      for (auto& [name, e] : *v->mutable_m()) CanonicalizeValue(&e);
      break;
    case ValueType::kSS:
      std::sort(v->mutable_ss()->begin(), v->mutable_ss()->end());
      break;
    case ValueType::kBS:
      std::sort(v->mutable_bs()->begin(), v->mutable_bs()->end());
      break;
    case ValueType::kNS:
      std::stable_sort(v->mutable_ns()->begin(), v->mutable_ns()->end(),
                       [](const Decimal& a, const Decimal& b) { return a.Compare(b) < 0; });
      break;
    default:
      break;
  }
}

void CanonicalizeItem(Item* item) {
  for (auto& [name, v] : *item) CanonicalizeValue(&v);
}

// ---- sizes ----

size_t ValueSize(const Value& v) {
  switch (v.type()) {
    case ValueType::kS:
    case ValueType::kB:
      return v.bytes().size();
    case ValueType::kN:
      return v.n().SizeInBytes();
    case ValueType::kBool:
    case ValueType::kNull:
      return 1;
    case ValueType::kL: {
      size_t n = 3;
      for (const Value& e : v.l()) n += 1 + ValueSize(e);
      return n;
    }
    case ValueType::kM: {
      size_t n = 3;
      for (const auto& [name, e] : v.m()) n += 1 + name.size() + ValueSize(e);
      return n;
    }
    case ValueType::kSS:
    case ValueType::kBS: {
      size_t n = 0;
      for (const auto& s : v.type() == ValueType::kSS ? v.ss() : v.bs()) n += s.size();
      return n;
    }
    case ValueType::kNS: {
      size_t n = 0;
      for (const auto& d : v.ns()) n += d.SizeInBytes();
      return n;
    }
  }
  return 0;
}

size_t ItemSize(const Item& item) {
  size_t n = 0;
  for (const auto& [name, v] : item) n += name.size() + ValueSize(v);
  return n;
}

std::string DebugString(const Value& v) {
  std::string out;
  AppendDebug(v, &out);
  return out;
}

std::string DebugString(const Item& item) {
  std::string out;
  AppendDebugMap(item, &out);
  return out;
}

}  // namespace basalt::table

#include "engine/table/item_codec.h"

#include <utility>

#include "engine/base/coding.h"

namespace basalt::table {

namespace {

// ---- encoding ----

// Reserves one byte for the varint32 byte length of what follows; returns its
// position for EndLength().
size_t BeginLength(std::string* dst) {
  dst->push_back('\0');
  return dst->size() - 1;
}

// Writes the length of the bytes after `mark` + 1 into the slot reserved at
// `mark`, widening it when the length needs more than one varint byte.
void EndLength(std::string* dst, size_t mark) {
  const size_t len = dst->size() - mark - 1;
  char buf[10];
  const size_t n = EncodeVarint64(buf, len) - buf;
  if (n > 1) dst->insert(mark + 1, n - 1, '\0');
  dst->replace(mark, n, buf, n);
}

void EncodeValue(const Value& v, std::string* dst) {
  dst->push_back(static_cast<char>(v.type()));
  switch (v.type()) {
    case ValueType::kS:
    case ValueType::kB:
      PutLengthPrefixed(dst, v.bytes());
      break;
    case ValueType::kN:
      v.n().EncodeCompact(dst);
      break;
    case ValueType::kBool:
      dst->push_back(v.boolean() ? 1 : 0);
      break;
    case ValueType::kNull:
      break;
    case ValueType::kL: {
      const size_t mark = BeginLength(dst);
      PutVarint32(dst, static_cast<uint32_t>(v.l().size()));
      for (const Value& e : v.l()) EncodeValue(e, dst);
      EndLength(dst, mark);
      break;
    }
    case ValueType::kM: {
      const size_t mark = BeginLength(dst);
      PutVarint32(dst, static_cast<uint32_t>(v.m().size()));
      for (const auto& [name, e] : v.m()) {
        PutLengthPrefixed(dst, name);
        EncodeValue(e, dst);
      }
      EndLength(dst, mark);
      break;
    }
    case ValueType::kSS:
    case ValueType::kBS: {
      const auto& set = v.type() == ValueType::kSS ? v.ss() : v.bs();
      const size_t mark = BeginLength(dst);
      PutVarint32(dst, static_cast<uint32_t>(set.size()));
      for (const auto& s : set) PutLengthPrefixed(dst, s);
      EndLength(dst, mark);
      break;
    }
    case ValueType::kNS: {
      const size_t mark = BeginLength(dst);
      PutVarint32(dst, static_cast<uint32_t>(v.ns().size()));
      for (const auto& d : v.ns()) d.EncodeCompact(dst);
      EndLength(dst, mark);
      break;
    }
  }
}

// ---- decoding ----

Status Corrupt(std::string_view what) { return Status::Corruption("item", what); }

// Smallest encoding of one element of a composite, to bound counts by bytes
// before anything is allocated for them.
size_t MinElementSize(ValueType t) {
  switch (t) {
    case ValueType::kM:
      return 2;  // empty name (1) + NULL (1)
    default:
      return 1;  // L: NULL; SS/BS: empty string; NS: zero
  }
}

}  // namespace

const char* ValueView::Read(std::string_view* in, int level, ValueView* v) {
  if (level > kMaxNestingDepth) return "value nested deeper than 32 levels";
  if (in->empty()) return "truncated value";
  const auto t = static_cast<uint8_t>((*in)[0]);
  if (t == 0 || t > kMaxValueType) return "unknown value type";
  in->remove_prefix(1);
  v->type_ = static_cast<ValueType>(t);
  v->level_ = level;
  v->count_ = 0;
  v->payload_ = {};
  std::string_view* payload = &v->payload_;
  switch (v->type_) {
    case ValueType::kS:
    case ValueType::kB:
      if (!GetLengthPrefixed(in, payload)) return "truncated string or binary";
      return nullptr;
    case ValueType::kN: {
      const std::string_view before = *in;
      Decimal d;
      if (!Decimal::DecodeCompact(in, &d)) return "malformed number";
      *payload = before.substr(0, before.size() - in->size());
      return nullptr;
    }
    case ValueType::kBool:
      if (in->empty()) return "truncated boolean";
      if (static_cast<uint8_t>((*in)[0]) > 1) return "malformed boolean";
      *payload = in->substr(0, 1);
      in->remove_prefix(1);
      return nullptr;
    case ValueType::kNull:
      return nullptr;
    default:
      break;
  }
  // L, M, SS, NS, BS: varint32 byte length, then count and elements.
  std::string_view body;
  if (!GetLengthPrefixed(in, &body)) return "truncated list, map or set";
  uint32_t n;
  if (!GetVarint32(&body, &n)) return "malformed element count";
  if (n > body.size() / MinElementSize(v->type_)) return "element count exceeds its bytes";
  v->count_ = n;
  *payload = body;
  return nullptr;
}

bool ValueCursor::Fail(std::string_view what) {
  status_ = Corrupt(what);
  rest_ = {};
  remaining_ = 0;
  return false;
}

bool ValueCursor::Next() {
  if (!status_.ok()) return false;
  if (remaining_ == 0) {
    if (!rest_.empty()) return Fail("bytes left after the last element");
    return false;
  }
  std::string_view name;
  if (named_) {
    if (!GetLengthPrefixed(&rest_, &name)) return Fail("truncated attribute name");
    if (started_ && !(name_ < name)) return Fail("attribute names not strictly ascending");
  }
  ValueView v;
  if (const char* err = ValueView::Read(&rest_, level_, &v)) return Fail(err);
  value_ = v;
  name_ = name;
  started_ = true;
  remaining_--;
  return true;
}

Status ValueView::GetNumber(Decimal* out) const {
  std::string_view p = payload_;
  if (type_ != ValueType::kN || !Decimal::DecodeCompact(&p, out) || !p.empty()) {
    return Corrupt("malformed number");
  }
  return Status::OK();
}

ValueCursor ValueView::Elements() const {
  if (type_ != ValueType::kL && type_ != ValueType::kM) return ValueCursor();
  return ValueCursor(payload_, count_, type_ == ValueType::kM, level_ + 1);
}

Status ValueView::ToValue(Value* out) const {
  switch (type_) {
    case ValueType::kS:
      *out = Value::MakeS(std::string(payload_));
      return Status::OK();
    case ValueType::kB:
      *out = Value::MakeB(std::string(payload_));
      return Status::OK();
    case ValueType::kN: {
      Decimal d;
      Status s = GetNumber(&d);
      if (!s.ok()) return s;
      *out = Value::MakeN(d);
      return Status::OK();
    }
    case ValueType::kBool:
      *out = Value::MakeBool(payload_[0] != 0);
      return Status::OK();
    case ValueType::kNull:
      *out = Value::MakeNull();
      return Status::OK();
    case ValueType::kL: {
      Value::List list;
      list.reserve(count_);
      ValueCursor c = Elements();
      while (c.Next()) {
        Value e;
        Status s = c.value().ToValue(&e);
        if (!s.ok()) return s;
        list.push_back(std::move(e));
      }
      if (!c.status().ok()) return c.status();
      *out = Value::MakeL(std::move(list));
      return Status::OK();
    }
    case ValueType::kM: {
      Value::Map map;
      map.reserve(count_);
      ValueCursor c = Elements();
      while (c.Next()) {
        Value e;
        Status s = c.value().ToValue(&e);
        if (!s.ok()) return s;
        // The cursor checked that names ascend strictly.
        map.AppendSorted(std::string(c.name()), std::move(e));
      }
      if (!c.status().ok()) return c.status();
      *out = Value::MakeM(std::move(map));
      return Status::OK();
    }
    case ValueType::kSS:
    case ValueType::kBS: {
      Value::StringSet set;
      set.reserve(count_);
      std::string_view body = payload_;
      for (uint32_t i = 0; i < count_; i++) {
        std::string_view s;
        if (!GetLengthPrefixed(&body, &s)) return Corrupt("truncated set element");
        set.emplace_back(s);
      }
      if (!body.empty()) return Corrupt("bytes left after the last set element");
      *out =
          type_ == ValueType::kSS ? Value::MakeSS(std::move(set)) : Value::MakeBS(std::move(set));
      return Status::OK();
    }
    case ValueType::kNS: {
      Value::NumberSet set;
      set.reserve(count_);
      std::string_view body = payload_;
      for (uint32_t i = 0; i < count_; i++) {
        Decimal d;
        if (!Decimal::DecodeCompact(&body, &d)) return Corrupt("malformed number in set");
        set.push_back(d);
      }
      if (!body.empty()) return Corrupt("bytes left after the last set element");
      *out = Value::MakeNS(std::move(set));
      return Status::OK();
    }
  }
  return Corrupt("unknown value type");
}

namespace {

// Finds name among the entries of a cursor over names in ascending order
// (map members and item attributes are encoded sorted by name).
Status FindByName(ValueCursor c, std::string_view name, ValueView* out) {
  while (c.Next()) {
    const int cmp = c.name().compare(name);
    if (cmp == 0) {
      *out = c.value();
      return Status::OK();
    }
    if (cmp > 0) return Status::NotFound(name);
  }
  if (!c.status().ok()) return c.status();
  return Status::NotFound(name);
}

}  // namespace

Status ValueView::FindMember(std::string_view name, ValueView* out) const {
  if (type_ != ValueType::kM) return Status::NotFound("not a map");
  return FindByName(Elements(), name, out);
}

Status ValueView::ElementAt(uint32_t index, ValueView* out) const {
  if (type_ != ValueType::kL) return Status::NotFound("not a list");
  if (index >= count_) return Status::NotFound("list index out of range");
  ValueCursor c = Elements();
  for (uint32_t i = 0; i <= index; i++) {
    if (!c.Next()) return c.status().ok() ? Corrupt("list shorter than its count") : c.status();
  }
  *out = c.value();
  return Status::OK();
}

// ---- ItemView ----

Status ItemView::Open(std::string_view data, ItemView* view) {
  if (data.empty()) return Corrupt("empty encoding");
  if (static_cast<uint8_t>(data[0]) != kItemFormatVersion) {
    return Corrupt("unknown item format version " + std::to_string(static_cast<uint8_t>(data[0])));
  }
  data.remove_prefix(1);
  uint32_t count;
  if (!GetVarint32(&data, &count)) return Corrupt("malformed attribute count");
  if (count > data.size() / 2) return Corrupt("attribute count exceeds its bytes");
  view->count_ = count;
  view->body_ = data;
  return Status::OK();
}

ValueCursor ItemView::Attributes() const { return ValueCursor(body_, count_, true, 1); }

Status ItemView::Find(std::string_view name, ValueView* out) const {
  return FindByName(Attributes(), name, out);
}

Status ItemView::GetAttribute(std::string_view name, Value* out) const {
  ValueView v;
  Status s = Find(name, &v);
  if (!s.ok()) return s;
  return v.ToValue(out);
}

Status ItemView::ToItem(Item* item) const {
  item->clear();
  item->reserve(count_);
  ValueCursor c = Attributes();
  while (c.Next()) {
    Value v;
    Status s = c.value().ToValue(&v);
    if (!s.ok()) return s;
    item->AppendSorted(std::string(c.name()), std::move(v));
  }
  return c.status();
}

// ---- whole items ----

void EncodeItem(const Item& item, std::string* dst) {
  dst->push_back(static_cast<char>(kItemFormatVersion));
  PutVarint32(dst, static_cast<uint32_t>(item.size()));
  for (const auto& [name, v] : item) {
    PutLengthPrefixed(dst, name);
    EncodeValue(v, dst);
  }
}

Status DecodeItem(std::string_view data, Item* item) {
  ItemView view;
  Status s = ItemView::Open(data, &view);
  if (!s.ok()) return s;
  return view.ToItem(item);
}

}  // namespace basalt::table

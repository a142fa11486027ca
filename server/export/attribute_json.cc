#include "server/export/attribute_json.h"

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>
#include <utility>
#include <vector>

#include "engine/base/base64.h"

namespace basalt::server::exports {

namespace json = boost::json;
using table::Decimal;
using table::Item;
using table::Value;
using table::ValueType;

namespace {

json::array StringsJson(const std::vector<std::string>& v, bool binary) {
  json::array a;
  a.reserve(v.size());
  for (const std::string& s : v) a.emplace_back(binary ? Base64Encode(s) : s);
  return a;
}

Status Bad(std::string_view what) { return Status::InvalidArgument(what); }

Status ParseNumber(const json::value& v, Decimal* out) {
  if (!v.is_string()) return Bad("a number must be a JSON string");
  const json::string& s = v.get_string();
  return Decimal::Parse(std::string_view(s.data(), s.size()), out);
}

Status ParseBytes(const json::value& v, std::string* out) {
  if (!v.is_string()) return Bad("a binary value must be a base64 JSON string");
  const json::string& s = v.get_string();
  if (!Base64Decode(std::string_view(s.data(), s.size()), out)) return Bad("invalid base64");
  return Status::OK();
}

const json::array* ArrayOf(const json::value& v) { return v.is_array() ? &v.get_array() : nullptr; }
}  // namespace

json::value ValueToDynamoJson(const Value& v) {
  switch (v.type()) {
    case ValueType::kS:
      return json::object{{"S", v.s()}};
    case ValueType::kN:
      return json::object{{"N", v.n().ToString()}};
    case ValueType::kB:
      return json::object{{"B", Base64Encode(v.b())}};
    case ValueType::kBool:
      return json::object{{"BOOL", v.boolean()}};
    case ValueType::kNull:
      return json::object{{"NULL", true}};
    case ValueType::kL: {
      json::array a;
      a.reserve(v.l().size());
      for (const Value& e : v.l()) a.push_back(ValueToDynamoJson(e));
      return json::object{{"L", std::move(a)}};
    }
    case ValueType::kM:
      return json::object{{"M", ItemToDynamoJson(v.m())}};
    case ValueType::kSS:
      return json::object{{"SS", StringsJson(v.ss(), false)}};
    case ValueType::kNS: {
      json::array a;
      a.reserve(v.ns().size());
      for (const Decimal& d : v.ns()) a.emplace_back(d.ToString());
      return json::object{{"NS", std::move(a)}};
    }
    case ValueType::kBS:
      return json::object{{"BS", StringsJson(v.bs(), true)}};
  }
  return json::object{{"NULL", true}};
}

json::object ItemToDynamoJson(const Item& item) {
  json::object o;
  o.reserve(item.size());
  for (const auto& [name, value] : item) o.emplace(name, ValueToDynamoJson(value));
  return o;
}

Status ValueFromDynamoJson(const json::value& jv, Value* out) {
  if (!jv.is_object()) return Bad("an attribute value must be a JSON object");
  const json::object& o = jv.get_object();
  if (o.size() != 1) return Bad("an attribute value must have exactly one type member");
  const auto& [key, v] = *o.begin();
  const std::string_view type(key.data(), key.size());
  if (type == "S") {
    if (!v.is_string()) return Bad("S must be a JSON string");
    *out = Value::MakeS(std::string(v.get_string()));
  } else if (type == "N") {
    Decimal d;
    if (Status s = ParseNumber(v, &d); !s.ok()) return s;
    *out = Value::MakeN(std::move(d));
  } else if (type == "B") {
    std::string b;
    if (Status s = ParseBytes(v, &b); !s.ok()) return s;
    *out = Value::MakeB(std::move(b));
  } else if (type == "BOOL") {
    if (!v.is_bool()) return Bad("BOOL must be true or false");
    *out = Value::MakeBool(v.get_bool());
  } else if (type == "NULL") {
    if (!v.is_bool() || !v.get_bool()) return Bad("NULL must be true");
    *out = Value::MakeNull();
  } else if (type == "L") {
    const json::array* a = ArrayOf(v);
    if (a == nullptr) return Bad("L must be a JSON array");
    Value::List list;
    list.reserve(a->size());
    for (const json::value& e : *a) {
      Value x;
      if (Status s = ValueFromDynamoJson(e, &x); !s.ok()) return s;
      list.push_back(std::move(x));
    }
    *out = Value::MakeL(std::move(list));
  } else if (type == "M") {
    Item m;
    if (Status s = ItemFromDynamoJson(v, &m); !s.ok()) return s;
    *out = Value::MakeM(std::move(m));
  } else if (type == "SS" || type == "BS") {
    const json::array* a = ArrayOf(v);
    if (a == nullptr) return Bad("a set must be a JSON array");
    Value::StringSet set;
    set.reserve(a->size());
    for (const json::value& e : *a) {
      if (type == "SS") {
        if (!e.is_string()) return Bad("SS elements must be JSON strings");
        set.emplace_back(e.get_string());
      } else {
        std::string b;
        if (Status s = ParseBytes(e, &b); !s.ok()) return s;
        set.push_back(std::move(b));
      }
    }
    *out = type == "SS" ? Value::MakeSS(std::move(set)) : Value::MakeBS(std::move(set));
  } else if (type == "NS") {
    const json::array* a = ArrayOf(v);
    if (a == nullptr) return Bad("NS must be a JSON array");
    Value::NumberSet set;
    set.reserve(a->size());
    for (const json::value& e : *a) {
      Decimal d;
      if (Status s = ParseNumber(e, &d); !s.ok()) return s;
      set.push_back(std::move(d));
    }
    *out = Value::MakeNS(std::move(set));
  } else {
    return Bad("unknown attribute value type " + std::string(type));
  }
  return Status::OK();
}

Status ItemFromDynamoJson(const json::value& jv, Item* out) {
  if (!jv.is_object()) return Bad("an item must be a JSON object");
  std::vector<Item::Entry> entries;
  entries.reserve(jv.get_object().size());
  for (const auto& [name, v] : jv.get_object()) {
    Value x;
    if (Status s = ValueFromDynamoJson(v, &x); !s.ok()) return s;
    entries.emplace_back(std::string(name), std::move(x));
  }
  *out = Item::FromUnsorted(std::move(entries));
  return Status::OK();
}

}  // namespace basalt::server::exports

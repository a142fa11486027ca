#include "engine/table/item_key.h"

#include <utility>
#include <vector>

#include "engine/table/key_codec.h"

namespace basalt::table {

namespace {

constexpr std::string_view kInvalidPrefix = "One or more parameter values were invalid: ";

Status CheckKeySize(const TableDef& def, const KeyAttribute& attr, const Value& v) {
  const size_t size = ValueSize(v);
  if (&attr == &def.partition_key) {
    if (size > kMaxPartitionKeyBytes) {
      // The missing space in "limit of2048" is DynamoDB's.
      return Status::InvalidArgument(
          "One or more parameter values were invalid: Size of hashkey has exceeded the maximum "
          "size limit of2048 bytes");
    }
  } else if (size > kMaxSortKeyBytes) {
    return Status::InvalidArgument(
        "One or more parameter values were invalid: Aggregated size of all range keys has "
        "exceeded the size limit of 1024 bytes");
  }
  return Status::OK();
}

Status InvalidKey(std::string_view message) {
  std::string m(kInvalidPrefix);
  m.append(message);
  return Status::InvalidArgument(Status::SubCode::kItemKeyInvalid, m);
}

Status Encode(const TableDef& def, const Item& key_source, ItemKey* out) {
  const Value* pk = key_source.Find(def.partition_key.name);
  const Value* sk = def.sort_key ? key_source.Find(def.sort_key->name) : nullptr;
  out->encoded.clear();
  Status s = EncodeItemKey(*pk, sk, &out->encoded);
  if (!s.ok()) return s;
  out->hash = PartitionHash(*pk);
  return Status::OK();
}

}  // namespace

bool IsEmptyKeyValue(const Value& v) {
  return (v.type() == ValueType::kS || v.type() == ValueType::kB) && v.bytes().empty();
}

Status EmptyKeyError(std::string_view name, ValueType type) {
  std::string m(
      "One or more parameter values are not valid. The AttributeValue for a key attribute "
      "cannot contain an empty ");
  m.append(type == ValueType::kB ? "binary" : "string");
  m.append(" value. Key: ");
  m.append(name);
  return Status::InvalidArgument(m);
}

Status ValidateItemKey(const TableDef& def, const Item& item) {
  for (const KeyAttribute* a : def.KeyAttributes()) {
    const Value* v = item.Find(a->name);
    if (v == nullptr) return InvalidKey("Missing the key " + a->name + " in the item");
    if (v->type() != a->type) {
      return InvalidKey("Type mismatch for key " + a->name + " expected: " +
                        ValueTypeName(a->type) + " actual: " + ValueTypeName(v->type()));
    }
    if (IsEmptyKeyValue(*v)) return EmptyKeyError(a->name, v->type());
    Status s = CheckKeySize(def, *a, *v);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status ValidateKeyOnly(const TableDef& def, const Item& key) {
  const auto attrs = def.KeyAttributes();
  const auto mismatch = [] {
    return Status::InvalidArgument(Status::SubCode::kKeySchemaMismatch, kKeySchemaMismatchMessage);
  };
  if (key.size() != attrs.size()) return mismatch();
  for (const KeyAttribute* a : attrs) {
    const Value* v = key.Find(a->name);
    if (v == nullptr || v->type() != a->type) return mismatch();
    if (IsEmptyKeyValue(*v)) return EmptyKeyError(a->name, v->type());
    Status s = CheckKeySize(def, *a, *v);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Item ExtractKey(const TableDef& def, const Item& item) {
  std::vector<std::pair<std::string, Value>> entries;
  for (const KeyAttribute* a : def.KeyAttributes()) {
    if (const Value* v = item.Find(a->name)) entries.emplace_back(a->name, *v);
  }
  return AttributeMap::FromUnsorted(std::move(entries));
}

Status LocateKey(const TableDef& def, const Item& key, ItemKey* out) {
  Status s = ValidateKeyOnly(def, key);
  if (!s.ok()) return s;
  s = Encode(def, key, out);
  if (!s.ok()) return s;
  out->attributes = key;
  return Status::OK();
}

Status LocateItem(const TableDef& def, const Item& item, ItemKey* out) {
  Status s = ValidateItemKey(def, item);
  if (!s.ok()) return s;
  s = Encode(def, item, out);
  if (!s.ok()) return s;
  out->attributes = ExtractKey(def, item);
  return Status::OK();
}

}  // namespace basalt::table

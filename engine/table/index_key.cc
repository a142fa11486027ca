#include "engine/table/index_key.h"

#include <utility>

#include "engine/base/checksum.h"
#include "engine/base/coding.h"
#include "engine/table/item_key.h"

namespace basalt::table {

namespace {

// DynamoDB's messages for an index key attribute that cannot be indexed.
Status TypeMismatch(const IndexDef& ix, const KeyAttribute& k, ValueType actual) {
  return Status::InvalidArgument(
      Status::SubCode::kIndexKeyInvalid,
      "One or more parameter values were invalid: Type mismatch for Index Key " + k.name +
          " Expected: " + ValueTypeName(k.type) + " Actual: " + ValueTypeName(actual) +
          " IndexName: " + ix.name);
}

Status EmptyValue(const IndexDef& ix, const KeyAttribute& k, IndexKeyCheck check) {
  const char* what = k.type == ValueType::kB ? "binary" : "string";
  if (check == IndexKeyCheck::kUpdate) {
    return Status::InvalidArgument(
        Status::SubCode::kIndexKeyInvalid,
        std::string("One or more parameter values are not valid. The update expression attempted "
                    "to update a secondary index key to a value that is not supported. The "
                    "AttributeValue for a key attribute cannot contain an empty ") +
            what + " value.");
  }
  return Status::InvalidArgument(
      Status::SubCode::kIndexKeyInvalid,
      std::string("One or more parameter values are not valid. A value specified for a secondary "
                  "index key is not supported. The AttributeValue for a key attribute cannot "
                  "contain an empty ") +
          what + " value. IndexName: " + ix.name + ", IndexKey: " + k.name);
}

// The table key size texts (DynamoDB answers index keys with the same ones;
// "of2048" without a space is its spelling).
Status TooLarge(bool partition) {
  return Status::InvalidArgument(
      Status::SubCode::kIndexKeyInvalid,
      partition ? "One or more parameter values were invalid: Size of hashkey has exceeded the "
                  "maximum size limit of2048 bytes"
                : "One or more parameter values were invalid: Aggregated size of all range keys "
                  "has exceeded the size limit of 1024 bytes");
}

// Checks one index key attribute of `item`: *v = the value, nullptr when
// absent (then the item has no entry).
Status CheckKey(const IndexDef& ix, const KeyAttribute& k, bool partition, const Item& item,
                IndexKeyCheck check, const Value** v) {
  *v = item.Find(k.name);
  if (*v == nullptr) return Status::OK();
  if ((*v)->type() != k.type) return TypeMismatch(ix, k, (*v)->type());
  if (IsEmptyKeyValue(**v)) return EmptyValue(ix, k, check);
  if (ValueSize(**v) > (partition ? kMaxPartitionKeyBytes : kMaxSortKeyBytes)) {
    return TooLarge(partition);
  }
  return Status::OK();
}

// The index key values of `item` in KeySchema order (pk then sk), all
// checked; *present = false when one is absent.
Status IndexKeyValues(const IndexDef& ix, const Item& item, IndexKeyCheck check,
                      std::vector<const Value*>* values, bool* present) {
  values->clear();
  *present = true;
  Status first;
  for (const auto* keys : {&ix.partition_key, &ix.sort_key}) {
    for (const KeyAttribute& k : *keys) {
      const Value* v = nullptr;
      Status s = CheckKey(ix, k, keys == &ix.partition_key, item, check, &v);
      if (!s.ok() && first.ok()) first = s;
      if (v == nullptr) *present = false;
      values->push_back(v);
    }
  }
  // Every key attribute the item has must hold a valid key value, even when
  // another is missing and the item has no entry: DynamoDB checks each
  // attribute against its definition (observed behaviour of DynamoDB,
  // "Type mismatch for Index Key" per attribute).
  return first;
}

Status AppendTableKey(const TableDef& def, const Item& item, std::string* key) {
  const Value* pk = item.Find(def.partition_key.name);
  const Value* sk = def.sort_key ? item.Find(def.sort_key->name) : nullptr;
  if (pk == nullptr || (def.sort_key && sk == nullptr)) {
    return Status::InvalidArgument(kKeySchemaMismatchMessage);
  }
  Status s = EncodeKeyPart(*pk, key);
  if (s.ok() && sk != nullptr) s = EncodeKeyPart(*sk, key);
  return s;
}

// BE64(h) | parts of `values`: the first pk_count are the partition key.
Status EncodeEntryPrefix(const std::vector<const Value*>& values, size_t pk_count, std::string* key,
                         uint64_t* hash) {
  std::string pk_parts;
  for (size_t i = 0; i < pk_count; i++) {
    Status s = EncodeKeyPart(*values[i], &pk_parts);
    if (!s.ok()) return s;
  }
  *hash = Hash64(pk_parts, kPartitionHashSeed);
  key->clear();
  PutBigEndian64(key, *hash);
  key->append(pk_parts);
  for (size_t i = pk_count; i < values.size(); i++) {
    Status s = EncodeKeyPart(*values[i], key);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace

Item ProjectForIndex(const TableDef& def, const IndexDef& ix, const Item& item) {
  if (ix.projection == ProjectionType::kAll) return item;
  std::vector<std::pair<std::string, Value>> entries;
  auto copy = [&](const std::string& name) {
    if (const Value* v = item.Find(name)) entries.emplace_back(name, *v);
  };
  for (const KeyAttribute* k : def.KeyAttributes()) copy(k->name);
  for (const auto* keys : {&ix.partition_key, &ix.sort_key}) {
    for (const KeyAttribute& k : *keys) copy(k.name);
  }
  if (ix.projection == ProjectionType::kInclude) {
    for (const std::string& n : ix.non_key_attributes) copy(n);
  }
  // FromUnsorted keeps one of each name (an index key may be a table key).
  return AttributeMap::FromUnsorted(std::move(entries));
}

Item IndexEntryKeyAttributes(const TableDef& def, const IndexDef& ix, const Item& item) {
  IndexDef keys_only = ix;
  keys_only.projection = ProjectionType::kKeysOnly;
  return ProjectForIndex(def, keys_only, item);
}

Status MakeIndexEntry(const TableDef& def, const IndexDef& ix, const Item& item, IndexEntry* out,
                      bool* present) {
  std::vector<const Value*> values;
  Status s = IndexKeyValues(ix, item, IndexKeyCheck::kPut, &values, present);
  if (!s.ok() || !*present) return s;
  s = EncodeEntryPrefix(values, ix.partition_key.size(), &out->key, &out->hash);
  if (s.ok()) s = AppendTableKey(def, item, &out->key);
  if (!s.ok()) return s;
  out->projected = ProjectForIndex(def, ix, item);
  return Status::OK();
}

Status CheckIndexKeyType(const TableDef& def, std::string_view name, ValueType actual) {
  for (const IndexDef& ix : def.indexes) {
    for (const auto* keys : {&ix.partition_key, &ix.sort_key}) {
      for (const KeyAttribute& k : *keys) {
        if (k.name == name && k.type != actual) return TypeMismatch(ix, k, actual);
      }
    }
  }
  return Status::OK();
}

Status ValidateIndexKeys(const TableDef& def, const Item& item, IndexKeyCheck check) {
  std::vector<const Value*> values;
  // Global indexes first: where a GSI and an LSI share a key attribute,
  // DynamoDB names the GSI in its error (observed).
  for (const bool global : {true, false}) {
    for (const IndexDef& ix : def.indexes) {
      if (ix.global() != global) continue;
      bool present;
      Status s = IndexKeyValues(ix, item, check, &values, &present);
      if (!s.ok()) return s;
    }
  }
  return Status::OK();
}

Status EncodeIndexEntryKey(const TableDef& def, const IndexDef& ix, const Item& keys,
                           std::string* key, uint64_t* hash) {
  std::vector<const Value*> values;
  bool present;
  Status s = IndexKeyValues(ix, keys, IndexKeyCheck::kPut, &values, &present);
  if (!s.ok()) return s;
  if (!present) return Status::InvalidArgument(kKeySchemaMismatchMessage);
  s = EncodeEntryPrefix(values, ix.partition_key.size(), key, hash);
  return s.ok() ? AppendTableKey(def, keys, key) : s;
}

Status EncodeIndexPartitionPrefix(const std::vector<Value>& pk_values, std::string* prefix,
                                  uint64_t* hash) {
  std::vector<const Value*> values;
  for (const Value& v : pk_values) values.push_back(&v);
  return EncodeEntryPrefix(values, values.size(), prefix, hash);
}

}  // namespace basalt::table

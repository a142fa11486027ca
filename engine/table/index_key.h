// Index entries: what an item contributes to a secondary index, as pure
// functions of the table's and the index's definitions (the write path
// stages them; the backfill and the verifier compute them the same way).
//
// An item has an entry in an index when it has every one of the index's key
// attributes (indexes are sparse). The entry (docs/format/key.md, "Index
// entries"):
//   key   = BE64(h) | part(ipk1) .. part(ipkN) | part(isk1) .. part(iskM)
//           | part(table pk) [| part(table sk)]
//   h     = XXH3-64 of part(ipk1)..part(ipkN) with kPartitionHashSeed — for
//           a one-attribute partition key exactly PartitionHash(value), so an
//           LSI (whose partition key is the table's) places each item
//           collection at the hash the table does
//   value = EncodeItem(projection): the table's key attributes, the index's
//           key attributes, and the non-key attributes the projection names
//           (INCLUDE) or all of them (ALL)
// Key parts are self-delimiting (key_codec.h), so entries sort by index
// partition key, then index sort key attribute by attribute, then the
// table's key: items with equal index keys come in table key order — the
// order Query and Scan return them in, stable across pages.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/table/key_codec.h"
#include "engine/table/schema.h"
#include "engine/table/value.h"

namespace basalt::table {

struct IndexEntry {
  std::string key;
  uint64_t hash = 0;
  Item projected;
};

// The entry `item` has in `ix` into *out, *present = true; or *present =
// false (nothing else set) when the item lacks one of the index's key
// attributes. Each key attribute the item has (whether or not the others are
// there) must be a valid key value: of the type
// the index declares, not an empty S/B, within the key size limits (2048
// bytes for a partition key attribute, 1024 for a sort key attribute) —
// else InvalidArgument, sub-code kIndexKeyInvalid, with DynamoDB's messages:
//   "One or more parameter values were invalid: Type mismatch for Index Key
//    <attr> Expected: <T> Actual: <T> IndexName: <index>"
//   "One or more parameter values are not valid. A value specified for a
//    secondary index key is not supported. The AttributeValue for a key
//    attribute cannot contain an empty string value. IndexName: <index>,
//    IndexKey: <attr>" (binary: "empty binary value")
//   and the table's key size texts.
Status MakeIndexEntry(const TableDef& def, const IndexDef& ix, const Item& item, IndexEntry* out,
                      bool* present);

// Which write checks an item: DynamoDB words an empty index key value
// differently for an item given whole (PutItem, batch and transaction puts)
// and for one computed by an update expression.
enum class IndexKeyCheck { kPut, kUpdate };

// Checks the index key attributes `item` has against every index of `def`
// (the errors of MakeIndexEntry) without building entries: what the server
// runs before a write so that DynamoDB's error comes before any condition.
Status ValidateIndexKeys(const TableDef& def, const Item& item,
                         IndexKeyCheck check = IndexKeyCheck::kPut);

// The type-mismatch error (as above) when a value of type `actual` for
// attribute `name` is not what an index keyed on it declares (the first such
// index in definition order, as ValidateIndexKeys names); OK otherwise. For a
// type known before the item is read (an update's constant).
Status CheckIndexKeyType(const TableDef& def, std::string_view name, ValueType actual);

// The projection of `item` into `ix` (table keys, index keys, projected
// non-key attributes) — the entry's value, decoded.
Item ProjectForIndex(const TableDef& def, const IndexDef& ix, const Item& item);

// The attributes that identify an entry: the index's key attributes and the
// table's (DynamoDB's LastEvaluatedKey of an index page).
Item IndexEntryKeyAttributes(const TableDef& def, const IndexDef& ix, const Item& item);

// The entry key and hash of an entry identified by `keys` (index and table
// key attributes, e.g. an ExclusiveStartKey). InvalidArgument if one is
// missing or of the wrong type.
Status EncodeIndexEntryKey(const TableDef& def, const IndexDef& ix, const Item& keys,
                           std::string* key, uint64_t* hash);

// The hash and key prefix of index partition key values (in KeySchema
// order): BE64(h) | part(v1) .. part(vN).
Status EncodeIndexPartitionPrefix(const std::vector<Value>& pk_values, std::string* prefix,
                                  uint64_t* hash);

}  // namespace basalt::table

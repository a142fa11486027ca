// Item keys: validating the key attributes of a request against a table's key
// schema and encoding them once (ItemKey), with DynamoDB's messages.
//
// Errors (Status::InvalidArgument with DynamoDB's ValidationException texts):
//   ValidateItemKey (the key attributes of a whole item, PutItem's wording):
//     "One or more parameter values were invalid: Missing the key <name> in the
//     item" / "...Type mismatch for key <name> expected: S actual: N"
//     (sub-code kItemKeyInvalid for both); "One or more parameter values are
//     not valid. The AttributeValue for a key attribute cannot contain an
//     empty string value. Key: <name>"; the 2048 / 1024 byte key size limits.
//   ValidateKeyOnly (a Key parameter of GetItem/DeleteItem/UpdateItem):
//     exactly the key attributes; missing, extra or mistyped ->
//     kKeySchemaMismatchMessage (sub-code kKeySchemaMismatch); empty S/B and
//     the size limits as above.
// DynamoDB words an empty key value "are not valid." (not "were invalid:")
// for PutItem as for Key parameters, as the service answers.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base/status.h"
#include "engine/table/schema.h"
#include "engine/table/value.h"

namespace basalt::table {

inline constexpr size_t kMaxPartitionKeyBytes = 2048;
inline constexpr size_t kMaxSortKeyBytes = 1024;

// DynamoDB's message texts (ValidationException).
inline constexpr std::string_view kKeySchemaMismatchMessage =
    "The provided key element does not match the schema";
inline constexpr std::string_view kDuplicateKeysMessage =
    "Provided list of item keys contains duplicates";

// A validated item key of one table, encoded once.
struct ItemKey {
  std::string encoded;  // EncodeItemKey(pk, sk): the item's LSM key
  uint64_t hash = 0;    // PartitionHash(pk): routes to a partition
  Item attributes;      // exactly the key attributes
};

Status ValidateItemKey(const TableDef& def, const Item& item);
Status ValidateKeyOnly(const TableDef& def, const Item& key);
// The key attributes `item` has (all of them after ValidateItemKey).
Item ExtractKey(const TableDef& def, const Item& item);
// ValidateKeyOnly(key), then encodes it into *out.
Status LocateKey(const TableDef& def, const Item& key, ItemKey* out);
// ValidateItemKey(item), then extracts and encodes its key into *out.
Status LocateItem(const TableDef& def, const Item& item, ItemKey* out);
// True for an S or B value of zero length (not allowed in keys).
bool IsEmptyKeyValue(const Value& v);
// DynamoDB's error for an empty key value of attribute `name` ("... empty
// string value ..." or, for type kB, "... empty binary value ...").
Status EmptyKeyError(std::string_view name, ValueType type);

}  // namespace basalt::table

#include "engine/table/item_collection.h"

#include <algorithm>
#include <string>

#include "engine/table/index_key.h"
#include "engine/table/key_codec.h"

namespace basalt::table {

bool HasLocalIndex(const TableDef& def) {
  return std::any_of(def.indexes.begin(), def.indexes.end(),
                     [](const IndexDef& ix) { return !ix.global(); });
}

Status ItemCollectionBytes(lsm::DB* db, const TableDef& def, const PartitionSet& parts,
                           const Value& pk, uint64_t* bytes) {
  *bytes = 0;
  // The table's items of pk share hash(pk) | part(pk); so do an LSI's
  // entries (its partition key is the table's), under the index's hash.
  std::string prefix;
  Status s = EncodePartitionPrefix(pk, &prefix);
  if (!s.ok()) return s;
  uint64_t part = 0;
  s = db->GetApproximateRangeSize(parts.table().Route(PartitionHash(pk)).tree, prefix,
                                  PrefixSuccessor(prefix), &part);
  if (!s.ok()) return s;
  *bytes += part;
  for (const IndexDef& ix : def.indexes) {
    if (ix.global()) continue;
    const PartitionSet::IndexParts* index = parts.index(ix.id);
    if (index == nullptr) continue;
    std::string index_prefix;
    uint64_t hash = 0;
    s = EncodeIndexPartitionPrefix({pk}, &index_prefix, &hash);
    if (!s.ok()) return s;
    s = db->GetApproximateRangeSize(index->map->Route(hash).tree, index_prefix,
                                    PrefixSuccessor(index_prefix), &part);
    if (!s.ok()) return s;
    *bytes += part;
  }
  return Status::OK();
}

std::array<double, 2> SizeEstimateRangeGB(uint64_t bytes) {
  const double lower = static_cast<double>(bytes >> 30);
  return {lower, lower + 1};
}

}  // namespace basalt::table

// Storage formats of snapshots and of the point-in-time history
// (docs/format/snapshots.md): the snapshot record kept in the system tree,
// the names of the trees, and the history's keys and values.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/base/status.h"
#include "engine/table/snapshots.h"
#include "engine/table/value.h"

namespace basalt::table {

// System-record key of a snapshot: "snapshot:<id>".
inline constexpr std::string_view kSnapshotKeyPrefix = "snapshot:";
std::string SnapshotKey(std::string_view id);

// Valid snapshot id: 1-64 characters of [A-Za-z0-9._-].
bool ValidSnapshotId(std::string_view id);

// The record: format version, the info's fields, then an XXH3-64 of all of
// it. DecodeSnapshotRecord: Corruption for a damaged or unknown record.
void EncodeSnapshotRecord(const TableSnapshotInfo& info, std::string* dst);
Status DecodeSnapshotRecord(std::string_view data, TableSnapshotInfo* info);

// The trees of snapshot `id`: "snap/<id>/i<index_id>.p<partition_id>"
// (index_id 0: the table's own partitions). Parse: false for other names.
std::string SnapshotTreeName(std::string_view id, uint32_t index_id, uint32_t partition_id);
bool ParseSnapshotTreeName(std::string_view name, std::string* id, uint32_t* index_id,
                           uint32_t* partition_id);
// True for names of the "snap/" family (the table store freezes those trees:
// lsm::Options::frozen_trees).
inline bool IsSnapshotTreeName(std::string_view name) { return name.substr(0, 5) == "snap/"; }

// Point-in-time history. Segment `segment` of table `table_id` is the tree
// "h<table_id>.<segment>"; it holds the changes committed after base
// snapshot PitrBaseId(table_id, segment) was taken and before the next base.
std::string HistoryTreeName(uint64_t table_id, uint64_t segment);
bool ParseHistoryTreeName(std::string_view name, uint64_t* table_id, uint64_t* segment);
// "pitr-<table_id>-<segment>"; a snapshot id (ValidSnapshotId).
std::string PitrBaseId(uint64_t table_id, uint64_t segment);
bool ParsePitrBaseId(std::string_view id, uint64_t* table_id, uint64_t* segment);

// A change's stamp: commit time in ms << kStampShift | a counter, strictly
// increasing per table (StampClock). StampTimeMs recovers the ms.
inline constexpr int kStampShift = 12;
inline uint64_t StampTimeMs(uint64_t stamp) { return stamp >> kStampShift; }
// The largest stamp of millisecond `ms`.
inline uint64_t LastStampOf(uint64_t ms) {
  return (ms << kStampShift) | ((uint64_t{1} << kStampShift) - 1);
}

// History key: BE64(stamp) BE32(n), n the change's position among the
// table's changes of one commit (a transaction's changes share its stamp).
std::string HistoryKey(uint64_t stamp, uint32_t n);
bool ParseHistoryKey(std::string_view key, uint64_t* stamp);
// History value: 'P' + EncodeItem(new item), or 'D' + EncodeItem(key).
std::string HistoryPutValue(std::string_view encoded_item);
std::string HistoryDeleteValue(const Item& key);
// *new_item nullopt for a deletion (then *key is the deleted key; for a put
// *key is left empty: the item holds its key).
Status DecodeHistoryValue(std::string_view value, Item* key, std::optional<Item>* new_item);

}  // namespace basalt::table

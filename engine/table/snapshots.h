// Table snapshots and point-in-time history: what DynamoDB's backups,
// point-in-time recovery and exports are built on (docs/backup.md, "Online
// backups and point-in-time recovery").
//
// A snapshot is a consistent copy of one table at one instant: its definition
// and every partition of the table and of its indexes, taken under the
// table's commit lock (no write straddles it) as clones of the table's LSM
// trees (lsm::DB::CloneTrees: the SSTables are shared, not copied). It lives
// in the node's DB under its own trees and a record in the system tree, so it
// survives restarts, later compactions of the table and DeleteTable, and is
// checked like every SSTable (block checksums) when it is restored.
//
// Point-in-time history (PITR). While a table's TableDef::pitr.enabled is set,
// every committed change of one of its items also writes a change record (the
// item's key and its new image, or a deletion) in the same WriteBatch into the
// table's history; the history is cut into segments at periodic base
// snapshots. Restoring to time T clones the newest base at or before T and
// replays the changes after it up to T. Space and reclamation: docs/backup.md.
//
// These types are plain data; the operations are TableStore methods
// (table_store.h, "Snapshots and point-in-time recovery").
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/table/schema.h"
#include "engine/table/value.h"

namespace basalt::table {

struct TableSnapshotInfo {
  // Unique among the node's snapshots; 1-64 characters of [A-Za-z0-9._-].
  std::string id;
  // The source table's name and id, and its definition (with the partition
  // list and the approximate statistics) at the instant of the snapshot.
  std::string table;
  uint64_t table_id = 0;
  TableDef def;
  // The instant it is consistent at (ms since the Unix epoch).
  uint64_t created_ms = 0;
  // Approximate bytes of the table's data it holds (the LSM's file sizes).
  uint64_t size_bytes = 0;
  // Opaque to the table layer: what the caller stored with it (the server's
  // backup metadata: name, type, expiry), returned as given.
  std::string meta;
};

// Point-in-time recovery of one table, as DescribeContinuousBackups shows it.
struct PitrStatus {
  bool enabled = false;
  uint32_t recovery_period_days = 0;
  // The restorable window [earliest_ms, latest_ms] (ms since the Unix
  // epoch); both 0 when disabled.
  uint64_t earliest_ms = 0;
  uint64_t latest_ms = 0;
};

// One committed change of an item, from the point-in-time history.
struct TableChange {
  uint64_t time_ms = 0;  // when it committed (ms since the Unix epoch)
  Item key;              // the item's key attributes
  // The item after the change; nullopt = deleted.
  std::optional<Item> new_item;
};

}  // namespace basalt::table

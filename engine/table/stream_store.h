// StreamStore: DynamoDB Streams of every table — the stream trees, sequence
// numbers, shards and the retention (trim) thread. The contract the server
// codes against is TableStore's stream calls (table_store.h, "Streams");
// design in docs/table.md "Streams", record format docs/format/stream.md,
// layout of a stream tree in stream.h.
//
// Who calls what:
//   - TableStore::Open: Load per table; CreateTable/AlterTable:
//     StageSpecChange (with the table's commit lock exclusive);
//     SplitPartition: OnSplit (commit lock exclusive); DeleteTable: Drop.
//   - The write path: StageRecord for every change of an item of a table
//     whose stream is enabled, into the same WriteBatch as the item (commit
//     lock shared), then FinishRecords once the Write returned.
//   - Readers: List, Describe, ReadShard, ShardBounds.
//   - Retention: Trim / TrimAll, and the background thread (StartTrimming).
//
// Thread safety: every method may be called concurrently; the per-table state
// (TableStreams) has its own locks, documented there.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/lsm/db.h"
#include "engine/table/background_loop.h"
#include "engine/table/schema.h"
#include "engine/table/stream.h"

namespace basalt::table {

struct TableRuntime;

// The stream state of one table (a member of its TableRuntime).
//
// Locks: the table's commit lock (TableRuntime::commit_mu) is held SHARED by
// every writer from taking a sequence to the end of its lsm Write, and
// EXCLUSIVE by whoever changes the shard map (stream enabled/disabled,
// partition split), so a shard is never closed while a write to it is in
// flight. `mu` guards all members below (short critical sections, never held
// across I/O).
struct TableStreams {
  mutable std::mutex mu;
  std::mutex trim_mu;            // serialises retention passes of this table
  std::optional<uint32_t> tree;  // lsm tree "s<table_id>", once a stream was enabled
  uint64_t next_seq = 1;
  std::set<uint64_t> in_flight;  // sequences taken whose Write has not returned
  std::map<uint32_t, StreamMeta> streams;
  std::map<uint64_t, ShardMeta> shards;
  uint32_t current = 0;  // index of the enabled stream, 0 = none

  // Lowest sequence whose commit may still be pending: every record below it
  // is committed (or its write failed). REQUIRES mu.
  uint64_t VisibleBound() const { return in_flight.empty() ? next_seq : *in_flight.begin(); }
};

// A stream record staged into a write attempt's batch; its sequence is in
// flight until FinishRecords.
struct StagedRecord {
  TableStreams* streams;
  uint64_t seq;
  uint64_t shard_no;
};

// NotFound (kStreamNotFound) "Requested resource not found: Stream: <label> not found".
Status StreamNotFound(const std::string& label);

class StreamStore {
 public:
  struct Options {
    // Records older than this are trimmed.
    uint64_t retention_ms = uint64_t{24} * 3600 * 1000;
    // Pause between two background trim passes; 0 = no background thread.
    uint32_t trim_interval_ms = 60000;
    // Clock of record stamps and trimming, ms since the epoch; unset = system clock.
    std::function<uint64_t()> now_ms;
  };

  StreamStore(lsm::DB* db, Options options);
  ~StreamStore() { StopTrimming(); }
  StreamStore(const StreamStore&) = delete;
  StreamStore& operator=(const StreamStore&) = delete;

  uint64_t NowMs() const;

  // ---- lifecycle of a table's streams ----
  // Open: reads the stream tree (if the table has one) into rt->streams;
  // re-derives shard metadata a crash lost after a split (closes shards of
  // vanished partitions, opens shards for new ones).
  Status Load(TableRuntime* rt, std::optional<lsm::TreeId> tree,
              const std::vector<PartitionDef>& parts);
  // Applies a change of the stream setting from `before` to *after (fills an
  // empty label from the clock) to the stream metadata: creates the tree if
  // needed, stages the metadata into *batch, and sets *apply to install it
  // once the batch committed. REQUIRES rt's commit lock exclusive.
  Status StageSpecChange(TableRuntime* rt, const StreamSpec& before, StreamSpec* after,
                         const std::vector<PartitionDef>& parts, lsm::WriteBatch* batch,
                         std::function<void()>* apply);
  // After a split of `parent` into left/right: closes the parent's shard and
  // opens the children's (one synced write; Load re-derives it if lost).
  // REQUIRES rt's commit lock exclusive.
  void OnSplit(TableRuntime* rt, const PartitionDef& parent, const PartitionDef& left,
               const PartitionDef& right);
  // DeleteTable: drops the stream tree (its files go with it).
  Status Drop(TableRuntime* rt);

  // ---- the write path ----
  // If the table's stream is enabled: takes a sequence (now in flight) and
  // adds the record of a change of an item in partition `partition_id` to
  // *batch. The shard follows the partition this attempt routed to, so an
  // attempt re-routed after a split stages a new record. REQUIRES rt's commit
  // lock shared until FinishRecords.
  void StageRecord(TableRuntime* rt, uint32_t partition_id, const Item& keys,
                   const std::optional<Item>& old, const std::optional<Item>& next, bool by_ttl,
                   uint64_t now_ms, lsm::WriteBatch* batch, std::vector<StagedRecord>* staged);
  // After the attempt's Write returned: the sequences leave the in-flight set
  // (a failed attempt's sequences are never used).
  static void FinishRecords(std::vector<StagedRecord>* staged, bool committed);

  // ---- reads (contracts in table_store.h) ----
  void List(const std::string& table, const TableRuntime& rt, std::vector<StreamInfo>* out) const;
  Status Describe(const std::string& table, const TableRuntime& rt, const std::string& label,
                  StreamInfo* info, std::vector<ShardInfo>* shards) const;
  Status ReadShard(TableRuntime* rt, const std::string& label, const std::string& shard_id,
                   uint64_t from_sequence, size_t limit, size_t max_bytes,
                   std::vector<StreamRecord>* out, uint64_t* next_sequence, bool* shard_end);
  Status ShardBounds(const TableRuntime& rt, const std::string& label, const std::string& shard_id,
                     uint64_t* trim_horizon, uint64_t* latest) const;

  // ---- retention ----
  // One pass over one table: deletes records older than the retention,
  // oldest first per shard, raising trim horizons; removes old streams whose
  // records are all gone. Adds to *trimmed.
  Status Trim(TableRuntime* rt, uint64_t* trimmed);
  // Trim over each table; a table dropped meanwhile is not an error. Returns
  // the first other error (the others are still trimmed).
  Status TrimAll(const std::vector<std::shared_ptr<TableRuntime>>& tables, uint64_t* trimmed);
  // Starts the background thread (when trim_interval_ms != 0): every
  // interval, TrimAll(tables()).
  void StartTrimming(std::function<std::vector<std::shared_ptr<TableRuntime>>()> tables);
  void StopTrimming() { trim_loop_.Stop(); }

 private:
  Status FindShard(const TableRuntime& rt, const std::string& label, const std::string& shard_id,
                   uint64_t* shard_no) const;

  lsm::DB* const db_;
  const Options options_;
  BackgroundLoop trim_loop_;
};

}  // namespace basalt::table

// Statistics the LSM engine reports (DB::GetTreeStats, DB::GetCacheStats).
// Public header: includes nothing of the engine's internals. Counters are
// in memory only and count since DB::Open.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace basalt::lsm {

// Per-level shape of one tree, for stats and tests.
// Compaction counters are per tree and in memory only (since Open).
struct LevelStats {
  int files = 0;
  uint64_t bytes = 0;
  int compactions = 0;                       // compactions whose output went into this level
  uint64_t bytes_read_by_compaction = 0;     // input bytes of those compactions (both levels)
  uint64_t bytes_written_by_compaction = 0;  // bytes they wrote into this level
  int files_moved_in = 0;  // files moved into this level without a rewrite (trivial moves)
};

struct TreeStats {
  std::vector<LevelStats> levels;  // one entry per level, L0 first
  uint64_t memtable_bytes = 0;
  uint64_t immutable_memtables = 0;
  const char* compaction_policy = "";  // the policy's name: "leveled" or "tiered"
  // What compaction must still rewrite (the policy's estimate, RocksDB's
  // "estimated pending compaction bytes").
  uint64_t pending_compaction_bytes = 0;
  // Compaction byte-rate budget (Options::compaction_rate_bytes_per_second;
  // 0: unlimited) and the time compactions spent waiting for it, DB-wide.
  uint64_t db_compaction_rate_limit = 0;
  uint64_t db_compaction_rate_wait_micros = 0;
  // Memory of the tree's block index (Options::use_block_index; 0 when off):
  // the inner nodes of the current version plus the leaves of its files
  // (leaves of files shared with a split sibling count in both trees).
  uint64_t block_index_bytes = 0;
  // DB-wide (all trees) since Open: bytes of user batches written, of L0
  // files flushed, and of compaction outputs; write_amplification is
  // (flushed + compaction written) / user bytes, 0 before any write.
  uint64_t db_user_bytes_written = 0;
  uint64_t db_bytes_flushed = 0;
  uint64_t db_bytes_compacted_written = 0;
  double db_write_amplification = 0;
};

// The block cache (Options::block_cache_size). Each counter is exact; a
// snapshot of them is not atomic across counters.
struct BlockCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t inserts = 0;
  uint64_t evictions = 0;  // removed to make room (not when a file is erased or replaced)
  size_t usage = 0;        // bytes charged now by cached blocks
  size_t capacity = 0;
  size_t entries = 0;
  // Bytes of memory held outside the cache but charged to its budget
  // (Options::charge_table_metadata: open tables' filters and indexes).
  size_t reserved = 0;
};

// The row cache (Options::row_cache_size; docs/row_cache.md). Each counter
// is exact; a snapshot of them is not atomic across counters.
struct RowCacheStats {
  uint64_t hits = 0;           // point lookups answered (value or absent)
  uint64_t misses = 0;         // point lookups that went to the LSM
  uint64_t range_hits = 0;     // LookupRange calls answered
  uint64_t range_misses = 0;   // LookupRange calls that went to the LSM
  uint64_t fills = 0;          // entries inserted (by Fill and FillRange)
  uint64_t fills_refused = 0;  // Fill/FillRange calls refused: a write raced the read
  uint64_t fills_skipped = 0;  // Fill/FillRange calls skipped: too large, or no room
  uint64_t invalidations = 0;  // entries erased and gap links cut by writes
  uint64_t evictions = 0;      // entries evicted to make room
  size_t usage = 0;            // bytes charged now
  size_t capacity = 0;
  size_t entries = 0;
};

// DB-wide counters (all trees) since Open, for monitoring (DB::GetDbStats).
// Each counter is exact; a snapshot of them is not atomic across counters.
struct DbStats {
  uint64_t flushes = 0;
  uint64_t compactions = 0;
  uint64_t compaction_bytes_read = 0;
  uint64_t compaction_bytes_written = 0;
  uint64_t bytes_flushed = 0;
  uint64_t user_bytes_written = 0;
  double write_amplification = 0;  // as TreeStats::db_write_amplification
  // Writes that had to wait for room (a slowdown delay, an immutable memtable
  // still being flushed, or too many L0 files / pending compaction bytes),
  // counted once per wait of a group leader, and the time those waits took.
  uint64_t write_stalls = 0;
  uint64_t write_stall_micros = 0;
  // The WAL: bytes appended (framed records), fdatasyncs of group commits,
  // group commits (one WAL append each) and the Write calls they carried
  // (a WriteAsync batch that the commit queue combined with others counts as
  // part of one Write call; async_batches / async_writes tell how many).
  uint64_t wal_bytes = 0;
  uint64_t wal_syncs = 0;
  uint64_t wal_group_commits = 0;
  uint64_t wal_group_writers = 0;
  uint64_t async_batches = 0;  // WriteAsync batches submitted
  uint64_t async_writes = 0;   // the Write calls that carried them
};

// Counters of the DB's caches (all trees), since Open. A disabled cache
// reports capacity 0 and no activity.
struct CacheStats {
  BlockCacheStats block;  // Options::block_cache_size
  RowCacheStats row;      // Options::row_cache_size
};

}  // namespace basalt::lsm

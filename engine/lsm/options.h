// Options of the LSM engine. Each knob says what it trades and its default.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "engine/lsm/sstable/table.h"

namespace basalt::io {
class Env;
}

namespace basalt::lsm {

// When an acknowledged write is durable. Printed by every tool that opens a DB.
enum class Durability {
  // fdatasync before a write returns (group commit shares one sync among the
  // writers waiting at that moment). Survives kill -9 and power loss. Default.
  kSync,
  // Writes return after the OS has the bytes; a background thread syncs every
  // periodic_sync_interval_ms. Survives kill -9; power loss may lose the last interval.
  kPeriodic,
  // Never sync the WAL except at Close. Survives kill -9 (the page cache
  // outlives the process); power loss may lose anything not yet flushed.
  kNone,
};
const char* DurabilityName(Durability d);

// How a tree's SSTables are compacted (engine/lsm/compaction/*_policy.h).
enum class CompactionStyle {
  // L0 -> L1 -> ... -> L6, each level level_size_multiplier times larger.
  // Bounded space and read amplification, write amplification ~multiplier
  // per level. Default.
  kLeveled,
  // L0 runs plus one sorted run in L1: all of L0 and L1 merge once L0 has
  // level0_compaction_trigger files. Lowest read amplification; write
  // amplification grows with the tree's size. For small trees.
  kTiered,
};

struct Options {
  // I/O implementation. Default (nullptr): io::Env::Default() (io_uring, or pread/pwrite).
  io::Env* env = nullptr;
  // Create the directory and an empty DB when missing. Default: true.
  bool create_if_missing = true;
  // Fail Open if a DB already exists. Default: false.
  bool error_if_exists = false;

  // Default durability of writes (WriteOptions::sync overrides per write). Default: kSync.
  Durability durability = Durability::kSync;
  // Sync interval for Durability::kPeriodic. Default: 100 ms.
  uint32_t periodic_sync_interval_ms = 100;

  // Size at which a tree's memtable becomes immutable and is flushed to an L0
  // SSTable. Larger: fewer, bigger L0 files, more memory, longer recovery. Default: 64 MiB.
  size_t write_buffer_size = 64 << 20;
  // A WAL segment is closed (and synced) once it passes this size. Default: 64 MiB.
  uint64_t wal_segment_size = 64 << 20;
  // When the WAL segments kept for unflushed data pass this size, the trees
  // holding the oldest segment are flushed, so a rarely written tree cannot
  // pin the WAL forever. 0: 4 x write_buffer_size. Default: 0.
  uint64_t max_total_wal_size = 0;

  // SSTable block size, restart interval, bloom bits per key, LZ4 on/off.
  // table.block_cache is ignored: the DB sets it from block_cache_size.
  TableOptions table;
  // Byte budget of the block cache of parsed data blocks, one cache shared by
  // every tree's SSTables (engine/lsm/cache/block_cache.h). Filters and index
  // blocks are pinned per open table and not counted. Default: 64 MiB; 0 disables.
  size_t block_cache_size = 64 << 20;
  // Point reads find their block through an in-memory B+tree over every
  // live SSTable's data blocks (engine/lsm/index/block_index.h,
  // docs/block_index.md): one descent per level instead of a search over the
  // level's files and then the chosen file's index block. Costs memory (the
  // separator keys decoded whole, about (key size + 28) bytes per data block)
  // and a small build per new version. false: the per-file path, kept to
  // compare. Results are identical either way. Default: true.
  bool use_block_index = true;

  // Compaction of L0 into L1 starts at this many L0 files. Default: 4.
  int level0_compaction_trigger = 4;
  // Writes to a tree are delayed by 1 ms each at this many L0 files. Default: 8.
  int level0_slowdown_trigger = 8;
  // Writes to a tree wait for compaction at this many L0 files. Default: 12.
  int level0_stop_trigger = 12;
  // Target size of one SSTable written by compaction. Default: 64 MiB.
  uint64_t target_file_size = 64 << 20;
  // Target size of L1; each deeper level is level_size_multiplier times larger. Default: 256 MiB.
  uint64_t max_bytes_for_level_base = 256 << 20;
  int level_size_multiplier = 10;
  // Compaction policy. Default: kLeveled.
  CompactionStyle compaction_style = CompactionStyle::kLeveled;
  // Turn background compaction off (tests of flush alone; L0 then grows). Default: false.
  bool disable_compaction = false;
};

struct WriteOptions {
  // true: durable before return; false: not synced by this write. Unset: per Options::durability.
  std::optional<bool> sync;
};

class Snapshot;

struct ReadOptions {
  // Read as of this snapshot (from DB::GetSnapshot). Default: the latest state.
  const Snapshot* snapshot = nullptr;
  // Iterators only: keys in [lower_bound, upper_bound) (intersected with the
  // tree's own range). Unset: unbounded.
  std::optional<std::string> lower_bound;
  std::optional<std::string> upper_bound;
};

}  // namespace basalt::lsm

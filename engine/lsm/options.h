// Options of the LSM engine. Each knob says what it trades and its default.
// Public header: includes nothing of the engine's internals.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/lsm/table_options.h"

namespace basalt {
class KeyRing;  // engine/base/encryption.h
}
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

// Which reads charge files for read-triggered compaction
// (Options::read_triggered_compaction).
enum class ReadCompaction {
  kOff,
  // Iterator seeks, and every 1 MiB an iterator steps over. An iterator
  // merges every sorted run its position lies in, whatever the bloom filters
  // say, so overlapping runs cost seeks and scans the most. Point reads are
  // not charged: a Get stops at the newest file holding its key and bloom
  // filters skip the others, so overlap costs it little, and charging Gets
  // makes a read-while-write workload compact what the writer keeps
  // flushing (measured: docs/benchmarks.md, "Read-triggered compaction").
  kSeeks,
  // kSeeks plus every Get (not MultiGet), as LevelDB does.
  kAllReads,
};

// Which file of a level >= 1 a leveled compaction pushes down.
enum class LeveledFilePick {
  // The file with the least overlapping bytes below per byte of its own
  // (RocksDB's kMinOverlappingRatio). Least write amplification; measured
  // at 10M keys it also left ~8% more bytes on disk and seeks ~15% slower
  // (docs/benchmarks.md). Default.
  kMinOverlappingRatio,
  // The next file after the last one compacted from the level (LevelDB's
  // compact pointer).
  kRoundRobin,
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
  // After an I/O error of a write, a flush, a compaction or the manifest (a
  // full disk: ENOSPC; EIO) the DB refuses writes with that error, and the
  // next write (or Flush, CompactAll) first tries to recover — at once after
  // a new failure, then at most once per this interval while it fails: the
  // damaged WAL tail is cut off and a new WAL started, a damaged manifest is
  // rewritten, the error cleared. Reads are served throughout. Corruption is
  // never recovered from (reopen). 0: every write attempts it. Default: 1000 ms.
  uint32_t error_recovery_interval_ms = 1000;

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
  TableOptions table;
  // Byte budget of the block cache of parsed data blocks, one cache shared by
  // every tree's SSTables (engine/lsm/cache/block_cache.h). Filters and index
  // blocks are pinned per open table; see charge_table_metadata. Default:
  // 64 MiB; 0 disables.
  size_t block_cache_size = 64 << 20;
  // Charge what each open table pins (its filter and index blocks, its
  // block index leaves) to block_cache_size, so the cache's blocks shrink as
  // the tables' metadata grows and the two together stay within the budget
  // (the blocks keep at least an eighth of it; RocksDB's
  // cache_index_and_filter_blocks with the blocks pinned, and its cache
  // reservations). Without it the metadata is on top of the budget: about
  // 60 MiB per GiB of table data with 16-byte keys, 100-byte values and 4
  // KiB blocks, 42 MiB at 10M keys (docs/benchmarks.md, "Table metadata
  // charged to the cache").
  // No effect with block_cache_size 0. Default: true.
  bool charge_table_metadata = true;
  // Point reads find their block through an in-memory B+tree over every
  // live SSTable's data blocks (engine/lsm/index/block_index.h,
  // docs/block_index.md): one descent per level instead of a search over the
  // level's files and then the chosen file's index block. Costs memory (the
  // separator keys decoded whole, about (key size + 28) bytes per data block)
  // and a small build per new version. false: the per-file path, kept to
  // compare. Results are identical either way. Default: true.
  bool use_block_index = true;
  // Byte budget of the row cache: hot rows (and known-absent keys) of every
  // tree in an in-memory B+tree per tree, kept exact under writes
  // (engine/lsm/cache/row_cache.h, docs/row_cache.md). A hit skips the
  // memtables, the version's files and the block cache, and DB::GetRange
  // serves short ranges from it; reads with a snapshot bypass it. Costs: the
  // memory, and on every write a cache lock and a B+tree probe per key (to
  // invalidate). Pays off for skewed reads of keys much smaller than their
  // blocks; for uniform reads over data far larger than the budget, give the
  // bytes to block_cache_size instead. Default: 0 (off).
  size_t row_cache_size = 0;
  // Open SSTables with O_DIRECT (Env::NewDirectRandomAccessFile): reads
  // bypass the OS page cache, so the block cache above is the only cache of
  // table data (size it accordingly; with block_cache_size 0 every data block
  // read goes to the device). Gives stable, cold-cache read measurements and
  // keeps the page cache for others; costs an aligned bounce-buffer copy per
  // unaligned read (docs/io.md). The WAL, manifest and table writes stay
  // buffered. Open fails with InvalidArgument when the DB directory's file
  // system refuses O_DIRECT (no silent fallback). Default: false.
  bool use_direct_reads = false;
  // Read-ahead for compaction inputs: each input table is read in windows of
  // this many bytes (one I/O per window instead of one per block). Blocks a
  // compaction reads are never inserted into the block cache (they are about
  // to become garbage); blocks already cached are used. 0: no read-ahead.
  // Default: 2 MiB.
  size_t compaction_readahead_size = 2 << 20;

  // Compaction of L0 into L1 starts at this many L0 files. Every L0 -> L1
  // merge rewrites the L1 files under it (with random keys, all of L1), so
  // more files per merge means fewer rewrites of L1, for more sorted runs in
  // L0 for reads to look through (bloom filters spare point reads most of
  // them; seeks pay, and read-triggered compaction answers that). 4 (LevelDB's
  // and RocksDB's default) wrote 1.78 / 2.48 times the data in db_bench's
  // fillrandom / overwrite at 10M keys, 6 writes 1.48 / 1.94
  // (docs/benchmarks.md). Default: 6.
  int level0_compaction_trigger = 6;
  // Writes to a tree are delayed by 1 ms each at this many L0 files. Default: 12.
  int level0_slowdown_trigger = 12;
  // Writes to a tree wait for compaction at this many L0 files. Default: 18.
  int level0_stop_trigger = 18;
  // Target size of one SSTable written by compaction. Default: 64 MiB.
  uint64_t target_file_size = 64 << 20;
  // Target size of L1; each deeper level is level_size_multiplier times larger. Default: 256 MiB.
  uint64_t max_bytes_for_level_base = 256 << 20;
  int level_size_multiplier = 10;
  // Background compaction threads. Compactions of different trees (the table
  // layer's partitions) run in parallel; one tree runs one compaction at a
  // time. Default: 1.
  int max_background_compactions = 1;
  // Byte-rate budget of compaction: bytes written by compactions per second,
  // shared by all compaction threads (compaction/rate_limiter.h). Lower:
  // smoother foreground latency, but L0 may fill up and trigger the write
  // slowdown/stop below. 0: unlimited. Default: 0.
  uint64_t compaction_rate_bytes_per_second = 0;
  // Writes to a tree are delayed by 1 ms each once its pending compaction
  // bytes (CompactionPolicy::PendingCompactionBytes: what compaction must
  // still rewrite) pass the soft limit, and wait for compaction at the hard
  // limit, so a write rate above compaction's speed cannot grow the tree's
  // backlog (and read amplification) without bound. 0 disables a limit.
  // Defaults: 64 GiB / 256 GiB (RocksDB's).
  uint64_t soft_pending_compaction_bytes_limit = uint64_t{64} << 30;
  uint64_t hard_pending_compaction_bytes_limit = uint64_t{256} << 30;
  // Compaction policy. Default: kLeveled.
  CompactionStyle compaction_style = CompactionStyle::kLeveled;
  // kLeveled: which file of a level >= 1 goes down. Default: kMinOverlappingRatio.
  LeveledFilePick leveled_file_pick = LeveledFilePick::kMinOverlappingRatio;
  // kLeveled: read-triggered compaction (LevelDB's "seek compaction"; see
  // ReadCompaction). A file gets a budget of max(100, its size / 16 KiB)
  // charges; a charged read is one whose key lies in the key ranges of two
  // or more table files (in the levels it searched), and it charges the
  // first of them. A file whose budget runs out is compacted into the next
  // level when no size-triggered compaction is due (with every L0 file, when
  // it is in L0). Read-heavy phases then leave fewer sorted runs for seeks
  // and scans to merge, at the cost of the writes that compaction makes.
  // Bloom filters do not stop the charge: the range decides, as in LevelDB.
  // Ignored by kTiered. Default: kSeeks.
  ReadCompaction read_triggered_compaction = ReadCompaction::kSeeks;
  // Turn background compaction off (tests of flush alone; L0 then grows). Default: false.
  bool disable_compaction = false;
  // Read-only trees: a tree whose name this returns true for refuses writes
  // (InvalidArgument kTreeFrozen) and is never compacted, so it keeps exactly
  // the files it was made with (a clone from DB::CloneTrees sharing another
  // tree's SSTables costs no space until that tree rewrites them). Like
  // RocksDB's per-column-family options it is not stored in the DB: give the
  // same predicate at every open. Unset: no tree is frozen.
  std::function<bool(std::string_view tree_name)> frozen_trees;

  // Encryption at rest (engine/base/encryption.h, docs/security.md): with a
  // key ring, every WAL segment, manifest and SSTable the DB writes is
  // encrypted with AES-256-GCM under the ring's highest key id (format
  // version 2 of each); files encrypted with any key id of the ring, and
  // plain files, are read. Without one (nullptr), new files are plain and an
  // encrypted file makes Open fail with InvalidArgument naming it. Costs one
  // AES-GCM pass per WAL record and per block written or read from disk (the
  // block cache holds plaintext). Default: nullptr (off).
  std::shared_ptr<const KeyRing> encryption_keys;
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
  // Iterators only: read-ahead in each SSTable (TableReadOptions). Unset:
  // adaptive — after 2 sequential block reads in a table, windows of 16 KiB
  // doubling up to 256 KiB; a jump resets it. 0: off. N > 0: fixed windows of
  // N bytes (a long scan you know will run far). Default: unset (adaptive).
  std::optional<size_t> readahead_size;
  // Iterators and MultiGet: insert the data blocks this read brings in into
  // the block cache (false for one-off scans that would evict the working
  // set; blocks already cached are still used). Get always fills the cache
  // for now. Default: true.
  bool fill_cache = true;
};

}  // namespace basalt::lsm

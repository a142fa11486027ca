// The storage engines basalt_db_bench drives: one Backend per engine, all
// configured from the same BackendConfig (see bench_flags.cc for the flags).
//
// A backend states in Describe() exactly what it was given and where it
// differs (LevelDB has no LZ4, no row cache, no direct reads, no MultiGet), so
// the header of every run is honest about the settings.
//
// Errors: every call that can fail returns false (or GetResult::kError) and
// fills *err; the harness stops the run, as LevelDB's db_bench does.
// Thread safety: Put/Delete/Get/MultiGet/GetRange/NewCursor may be called from
// many threads at once; Open/Close/Settle only while no other call runs. A Cursor is used by
// one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace basalt::bench {

struct BackendConfig {
  std::string dir;                  // the DB directory (created by Open)
  uint64_t cache_size = 0;          // block cache bytes
  uint64_t row_cache_size = 0;      // row cache bytes (0: off; LevelDB has none)
  bool cache_stats = false;         // collect cache hit/miss counters (RocksDB: statistics)
  int bloom_bits = 10;              // bloom filter bits per key (0: none)
  bool compression = true;          // lz4 (or the backend's nearest: see Describe)
  uint64_t write_buffer_size = 0;   // memtable bytes
  uint64_t block_size = 4096;       // data block bytes (uncompressed target)
  bool sync = false;                // default durability: fsync every write
  bool use_direct_reads = false;    // table files read with O_DIRECT (where the engine can)
  int64_t readahead_size = -1;      // iterator read-ahead: -1 engine default, 0 off, N bytes
  std::string encryption_key_file;  // Basalt: encryption at rest with this key file ("": off)
  std::string read_compaction;      // Basalt: read_triggered_compaction off|seeks|all
  bool charge_metadata = true;      // Basalt: Options::charge_table_metadata
  bool round_robin_pick = false;    // Basalt: LeveledFilePick::kRoundRobin (default: min overlap)
};

class Cursor {
 public:
  virtual ~Cursor() = default;
  virtual void SeekToFirst() = 0;
  virtual void Seek(std::string_view target) = 0;
  virtual bool Valid() const = 0;
  // REQUIRES: Valid().
  virtual void Next() = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // Empty when the cursor saw no error.
  virtual std::string Error() const = 0;
};

enum class GetResult { kFound, kNotFound, kError };

// Cumulative cache counters since Open; a backend fills what it can count.
struct CacheCounters {
  std::optional<uint64_t> block_hits, block_misses;  // data blocks
  std::optional<uint64_t> row_hits, row_misses;      // point reads answered by the row cache
  std::optional<uint64_t> range_hits, range_misses;  // short ranges answered by the row cache
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* Name() const = 0;
  // Header lines: version and the effective settings, including what the
  // backend cannot match and what it uses instead.
  virtual std::vector<std::string> Describe() const = 0;

  // Opens or creates the DB in config.dir.
  virtual bool Open(std::string* err) = 0;
  // Closes the DB (waits for background work). No-op when not open.
  virtual void Close() = 0;

  // sync: fsync (fdatasync) before returning; false: no sync for this write.
  virtual bool Put(std::string_view key, std::string_view value, bool sync, std::string* err) = 0;
  virtual bool Delete(std::string_view key, bool sync, std::string* err) = 0;
  virtual GetResult Get(std::string_view key, std::string* value, std::string* err) = 0;
  // Looks up every key, as one batch where the engine has a batched read
  // (Describe says how): sets values and results (one per key). false (and
  // *err) if any key's lookup failed.
  virtual bool MultiGet(const std::vector<std::string_view>& keys, std::vector<std::string>* values,
                        std::vector<GetResult>* results, std::string* err) = 0;
  virtual std::unique_ptr<Cursor> NewCursor() = 0;
  // Replaces *out with the first n (key, value) pairs with key >= start.
  // Default: a cursor (Seek + Next); Basalt overrides it with DB::GetRange.
  virtual bool GetRange(std::string_view start, size_t n,
                        std::vector<std::pair<std::string, std::string>>* out, std::string* err);
  // How GetRange reads (for the header).
  virtual std::string GetRangeMethod() const { return "iterator: Seek + Next"; }

  // Writes the memtable to disk and waits until no flush or compaction is
  // running or pending.
  virtual bool Settle(std::string* err) = 0;
  // How Settle does that (for the header).
  virtual std::string SettleMethod() const = 0;

  // A full compaction: flushes the memtable and merges every table into the
  // bottom level, so that no overwritten version or needless tombstone is
  // left (the "compact" benchmark: space amplification). Waits.
  virtual bool CompactFull(std::string* err) = 0;
  // How CompactFull does that (for the header).
  virtual std::string CompactFullMethod() const = 0;

  // Bytes written to table files (flush + compaction output) since Open, or
  // nullopt when the backend cannot tell. WAL bytes are not included.
  virtual std::optional<uint64_t> TableBytesWritten() = 0;
  // Where TableBytesWritten comes from (for the header).
  virtual std::string WriteAmpSource() const = 0;
  // Non-empty: a warning that the backend's own counters disagree with what
  // the harness measured (checked after each benchmark).
  virtual std::string CrossCheck() { return {}; }
  // The backend's own statistics text (--stats=1).
  virtual std::string StatsText() = 0;
  // Cache counters (--cache_stats=1); empty fields where the backend cannot tell.
  virtual CacheCounters GetCacheCounters() { return {}; }
};

// Factories; each exists only when that backend is compiled in
// (BASALT_DB_BENCH_ROCKSDB, BASALT_DB_BENCH_LEVELDB).
std::unique_ptr<Backend> NewBasaltBackend(const BackendConfig& config);
std::unique_ptr<Backend> NewRocksDBBackend(const BackendConfig& config);
std::unique_ptr<Backend> NewLevelDBBackend(const BackendConfig& config);

}  // namespace basalt::bench

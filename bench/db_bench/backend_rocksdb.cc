// basalt_db_bench backend for RocksDB (Debian librocksdb-dev), default column
// family, block-based tables. Built only when CMake finds the library
// (BASALT_DB_BENCH_ROCKSDB).
//
// Write amplification: an EventListener sums TableFileCreationInfo::file_size
// of every table file created by a flush or a compaction (exact bytes).
// Settle: RocksDB 7.8 has no DB::WaitForCompact, so Settle flushes and then
// polls the pending/running flush and compaction properties until all are 0.

#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/version.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "bench/db_bench/backend.h"
#include "bench/db_bench/machine.h"

namespace basalt::bench {
namespace {

#ifdef BASALT_DB_BENCH_BASELINES
constexpr const char* kBuild =
    "release build of Debian's source package, scripts/build-baselines.sh";
#else
constexpr const char* kBuild = "Debian's librocksdb package: assert-enabled Debian build";
#endif

class TableBytesListener : public rocksdb::EventListener {
 public:
  const char* Name() const override { return "basalt_db_bench.TableBytesListener"; }
  void OnTableFileCreated(const rocksdb::TableFileCreationInfo& info) override {
    if (!info.status.ok()) return;
    if (info.reason == rocksdb::TableFileCreationReason::kFlush ||
        info.reason == rocksdb::TableFileCreationReason::kCompaction) {
      bytes_.fetch_add(info.file_size, std::memory_order_relaxed);
    }
  }
  uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  void Reset() { bytes_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> bytes_{0};
};

class RocksDBCursor : public Cursor {
 public:
  explicit RocksDBCursor(rocksdb::Iterator* it) : it_(it) {}
  void SeekToFirst() override { it_->SeekToFirst(); }
  void Seek(std::string_view target) override {
    it_->Seek(rocksdb::Slice(target.data(), target.size()));
  }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  std::string_view key() const override {
    rocksdb::Slice k = it_->key();
    return {k.data(), k.size()};
  }
  std::string_view value() const override {
    rocksdb::Slice v = it_->value();
    return {v.data(), v.size()};
  }
  std::string Error() const override {
    rocksdb::Status s = it_->status();
    return s.ok() ? std::string() : s.ToString();
  }

 private:
  std::unique_ptr<rocksdb::Iterator> it_;
};

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

class RocksDBBackend : public Backend {
 public:
  explicit RocksDBBackend(const BackendConfig& config)
      : config_(config), listener_(std::make_shared<TableBytesListener>()) {
    options_.create_if_missing = true;
    options_.write_buffer_size = config.write_buffer_size;
    options_.compression = config.compression ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
    table_options_.block_cache = rocksdb::NewLRUCache(config.cache_size);
    if (config.bloom_bits > 0) {
      table_options_.filter_policy.reset(rocksdb::NewBloomFilterPolicy(config.bloom_bits));
    }
    table_options_.block_size = config.block_size;
    options_.use_direct_reads = config.use_direct_reads;
    if (config.readahead_size == 0) {
      table_options_.max_auto_readahead_size = 0;  // no implicit read-ahead either
    } else if (config.readahead_size > 0) {
      read_options_.readahead_size = static_cast<size_t>(config.readahead_size);
    }
    options_.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options_));
    options_.listeners.push_back(listener_);
    if (config.row_cache_size > 0) options_.row_cache = rocksdb::NewLRUCache(config.row_cache_size);
    if (config.cache_stats) {
      options_.statistics = rocksdb::CreateDBStatistics();
      options_.statistics->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
    }
  }
  ~RocksDBBackend() override { Close(); }

  const char* Name() const override { return "rocksdb"; }

  std::vector<std::string> Describe() const override {
    const rocksdb::Options& o = options_;
    const rocksdb::BlockBasedTableOptions& t = table_options_;
    return {
        fmt::format("rocksdb {}.{}.{} ({}), block-based table format_version {}", ROCKSDB_MAJOR,
                    ROCKSDB_MINOR, ROCKSDB_PATCH, kBuild, t.format_version),
        "  library: " + DescribeLibrary(reinterpret_cast<const void*>(&rocksdb::DestroyDB)),
        fmt::format("  compression: {}", config_.compression
                                             ? "kLZ4Compression (stored raw if it saves < 1/8)"
                                             : "kNoCompression"),
        fmt::format("  cache: LRU block cache {} MiB (index and filter blocks held by the table "
                    "readers, outside the cache: cache_index_and_filter_blocks={})",
                    config_.cache_size >> 20, t.cache_index_and_filter_blocks),
        config_.row_cache_size > 0
            ? fmt::format("  row cache: options.row_cache = NewLRUCache({} MiB): point Get only "
                          "(iterators, so readrange, do not use it)",
                          config_.row_cache_size >> 20)
            : std::string("  row cache: off"),
        config_.cache_stats ? std::string("  statistics: on for --cache_stats (tickers only, "
                                          "kExceptHistogramOrTimers)")
                            : std::string("  statistics: off"),
        fmt::format("  bloom: NewBloomFilterPolicy({}) (full filter); block size {} B; write "
                    "buffer {} MiB x max_write_buffer_number {}",
                    config_.bloom_bits, t.block_size, o.write_buffer_size >> 20,
                    o.max_write_buffer_number),
        "  durability: WAL on; WriteOptions::sync=false for non-sync writes, true (fsync of the "
        "WAL) for sync writes",
        fmt::format(
            "  reads: use_direct_reads={}; iterator read-ahead {}; MultiGet: the batched "
            "DB::MultiGet(num_keys, keys, values, statuses) (this Debian build has no "
            "liburing, so its block reads are preads, not io_uring)",
            o.use_direct_reads,
            config_.readahead_size < 0
                ? fmt::format("auto (initial {} KiB, max {} KiB, after {} reads)",
                              t.initial_auto_readahead_size >> 10, t.max_auto_readahead_size >> 10,
                              t.num_file_reads_for_auto_readahead)
            : config_.readahead_size == 0
                ? std::string("off (max_auto_readahead_size=0)")
                : fmt::format("ReadOptions::readahead_size={}", config_.readahead_size)),
        fmt::format("  shape (RocksDB defaults): L0 compaction/slowdown/stop at {}/{}/{} files, "
                    "target file {} MiB, L1 {} MiB, x{} per level, dynamic level bytes {}, "
                    "max_background_jobs {}",
                    o.level0_file_num_compaction_trigger, o.level0_slowdown_writes_trigger,
                    o.level0_stop_writes_trigger, o.target_file_size_base >> 20,
                    o.max_bytes_for_level_base >> 20, o.max_bytes_for_level_multiplier,
                    o.level_compaction_dynamic_level_bytes, o.max_background_jobs),
    };
  }

  bool Open(std::string* err) override {
    listener_->Reset();
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options_, config_.dir, &db);
    if (!s.ok()) {
      *err = s.ToString();
      return false;
    }
    db_.reset(db);
    return true;
  }

  void Close() override {
    if (db_) {
      db_->Close().PermitUncheckedError();
      db_.reset();
    }
  }

  bool Put(std::string_view key, std::string_view value, bool sync, std::string* err) override {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    rocksdb::Status s = db_->Put(wo, ToSlice(key), ToSlice(value));
    if (!s.ok()) *err = s.ToString();
    return s.ok();
  }

  bool Delete(std::string_view key, bool sync, std::string* err) override {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    rocksdb::Status s = db_->Delete(wo, ToSlice(key));
    if (!s.ok()) *err = s.ToString();
    return s.ok();
  }

  GetResult Get(std::string_view key, std::string* value, std::string* err) override {
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ToSlice(key), value);
    if (s.ok()) return GetResult::kFound;
    if (s.IsNotFound()) return GetResult::kNotFound;
    *err = s.ToString();
    return GetResult::kError;
  }

  bool MultiGet(const std::vector<std::string_view>& keys, std::vector<std::string>* values,
                std::vector<GetResult>* results, std::string* err) override {
    const size_t n = keys.size();
    std::vector<rocksdb::Slice> slices(n);
    for (size_t i = 0; i < n; i++) slices[i] = ToSlice(keys[i]);
    std::vector<rocksdb::PinnableSlice> pinned(n);
    std::vector<rocksdb::Status> statuses(n);
    db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), n, slices.data(),
                  pinned.data(), statuses.data());
    values->resize(n);
    results->resize(n);
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
      if (statuses[i].ok()) {
        (*values)[i].assign(pinned[i].data(), pinned[i].size());
        (*results)[i] = GetResult::kFound;
      } else if (statuses[i].IsNotFound()) {
        (*results)[i] = GetResult::kNotFound;
      } else {
        (*results)[i] = GetResult::kError;
        if (ok) *err = statuses[i].ToString();
        ok = false;
      }
    }
    return ok;
  }

  std::unique_ptr<Cursor> NewCursor() override {
    return std::make_unique<RocksDBCursor>(db_->NewIterator(read_options_));
  }

  bool Settle(std::string* err) override {
    rocksdb::Status s = db_->Flush(rocksdb::FlushOptions());
    if (!s.ok()) {
      *err = s.ToString();
      return false;
    }
    const std::string props[] = {
        rocksdb::DB::Properties::kMemTableFlushPending,
        rocksdb::DB::Properties::kNumRunningFlushes,
        rocksdb::DB::Properties::kCompactionPending,
        rocksdb::DB::Properties::kNumRunningCompactions,
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::hours(1);
    for (;;) {
      bool busy = false;
      for (const std::string& p : props) {
        uint64_t v = 0;
        if (!db_->GetIntProperty(p, &v)) {
          *err = "GetIntProperty(" + p + ") failed";
          return false;
        }
        busy |= v != 0;
      }
      if (!busy) return true;
      if (std::chrono::steady_clock::now() > deadline) {
        *err = "flushes/compactions still pending after 1 hour";
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  std::string SettleMethod() const override {
    return "DB::Flush + poll rocksdb.mem-table-flush-pending, num-running-flushes, "
           "compaction-pending, num-running-compactions until all 0 (7.8 has no WaitForCompact)";
  }

  bool CompactFull(std::string* err) override {
    rocksdb::Status s = db_->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr);
    if (!s.ok()) *err = s.ToString();
    return s.ok();
  }
  std::string CompactFullMethod() const override {
    return "DB::CompactRange(default CompactRangeOptions, whole key range) (flushes first)";
  }

  std::optional<uint64_t> TableBytesWritten() override { return listener_->bytes(); }
  std::string WriteAmpSource() const override {
    return "EventListener::OnTableFileCreated file_size, reasons kFlush + kCompaction";
  }

  std::string StatsText() override {
    std::string s;
    db_->GetProperty("rocksdb.stats", &s);
    return s;
  }

  CacheCounters GetCacheCounters() override {
    CacheCounters c;
    if (!options_.statistics) return c;
    const rocksdb::Statistics& st = *options_.statistics;
    c.block_hits = st.getTickerCount(rocksdb::BLOCK_CACHE_DATA_HIT);
    c.block_misses = st.getTickerCount(rocksdb::BLOCK_CACHE_DATA_MISS);
    if (options_.row_cache) {
      c.row_hits = st.getTickerCount(rocksdb::ROW_CACHE_HIT);
      c.row_misses = st.getTickerCount(rocksdb::ROW_CACHE_MISS);
    }
    return c;
  }

 private:
  BackendConfig config_;
  std::shared_ptr<TableBytesListener> listener_;
  rocksdb::Options options_;
  rocksdb::BlockBasedTableOptions table_options_;
  rocksdb::ReadOptions read_options_;  // for cursors (read-ahead)
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace

std::unique_ptr<Backend> NewRocksDBBackend(const BackendConfig& config) {
  return std::make_unique<RocksDBBackend>(config);
}

}  // namespace basalt::bench

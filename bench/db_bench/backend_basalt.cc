// basalt_db_bench backend for Basalt's own engine (engine/lsm/db.h), on the
// default tree.
//
// Write amplification comes from the engine's counters in DB::DebugString()
// (flushed_bytes + compaction_written). A thin Env wrapper independently
// counts the bytes appended to *.sst files; CrossCheck() warns when the two
// disagree, so a wrong engine counter cannot go unnoticed.

#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <string>

#include "bench/db_bench/backend.h"
#include "engine/base/encryption.h"
#include "engine/io/env.h"
#include "engine/lsm/db.h"
#include "engine/lsm/options.h"

namespace basalt::bench {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Counts bytes written to SSTables (*.sst); forwards everything.
class TableByteCountingEnv : public io::EnvWrapper {
 public:
  TableByteCountingEnv() : io::EnvWrapper(io::Env::Default()) {}

  Status NewWritableFile(const std::string& p, std::unique_ptr<io::WritableFile>* r) override {
    return Wrap(p, target()->NewWritableFile(p, r), r);
  }
  Status NewAppendableFile(const std::string& p, std::unique_ptr<io::WritableFile>* r) override {
    return Wrap(p, target()->NewAppendableFile(p, r), r);
  }
  uint64_t table_bytes() const { return table_bytes_.load(std::memory_order_relaxed); }
  void Reset() { table_bytes_.store(0, std::memory_order_relaxed); }

 private:
  class File : public io::WritableFile {
   public:
    File(std::unique_ptr<io::WritableFile> base, std::atomic<uint64_t>* bytes)
        : base_(std::move(base)), bytes_(bytes) {}
    Status Append(std::string_view data) override {
      bytes_->fetch_add(data.size(), std::memory_order_relaxed);
      return base_->Append(data);
    }
    Status WriteAt(uint64_t offset, std::string_view data) override {
      bytes_->fetch_add(data.size(), std::memory_order_relaxed);
      return base_->WriteAt(offset, data);
    }
    Status Sync() override { return base_->Sync(); }
    Status Close() override { return base_->Close(); }
    uint64_t Size() const override { return base_->Size(); }

   private:
    std::unique_ptr<io::WritableFile> base_;
    std::atomic<uint64_t>* bytes_;
  };

  Status Wrap(const std::string& path, Status s, std::unique_ptr<io::WritableFile>* r) {
    if (s.ok() && EndsWith(path, ".sst")) *r = std::make_unique<File>(std::move(*r), &table_bytes_);
    return s;
  }

  std::atomic<uint64_t> table_bytes_{0};
};

// Reads "name=<number>" out of DB::DebugString(); nullopt if absent.
std::optional<uint64_t> Counter(const std::string& text, std::string_view name) {
  const std::string needle = std::string(name) + "=";
  size_t pos = 0;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == ' ' || text[pos - 1] == '\n') {
      return std::strtoull(text.c_str() + pos + needle.size(), nullptr, 10);
    }
    pos += needle.size();
  }
  return std::nullopt;
}

class BasaltCursor : public Cursor {
 public:
  explicit BasaltCursor(std::unique_ptr<lsm::Iterator> it) : it_(std::move(it)) {}
  void SeekToFirst() override { it_->SeekToFirst(); }
  void Seek(std::string_view target) override { it_->Seek(target); }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  std::string_view key() const override { return it_->key(); }
  std::string_view value() const override { return it_->value(); }
  std::string Error() const override {
    Status s = it_->status();
    return s.ok() ? std::string() : s.ToString();
  }

 private:
  std::unique_ptr<lsm::Iterator> it_;
};

class BasaltBackend : public Backend {
 public:
  explicit BasaltBackend(const BackendConfig& config) : config_(config) {
    options_.env = &env_;
    // Per-write syncs are requested explicitly by every write (WriteOptions::sync);
    // the default only matters for writes that do not say.
    options_.durability = config.sync ? lsm::Durability::kSync : lsm::Durability::kNone;
    options_.write_buffer_size = config.write_buffer_size;
    options_.table.block_size = config.block_size;
    options_.table.bloom_bits_per_key = config.bloom_bits;
    options_.table.compression = config.compression;
    options_.block_cache_size = config.cache_size;
    options_.charge_table_metadata = config.charge_metadata;
    options_.row_cache_size = config.row_cache_size;
    options_.use_direct_reads = config.use_direct_reads;
    if (config.round_robin_pick) options_.leveled_file_pick = lsm::LeveledFilePick::kRoundRobin;
    if (config.read_compaction == "off") {
      options_.read_triggered_compaction = lsm::ReadCompaction::kOff;
    } else if (config.read_compaction == "all") {
      options_.read_triggered_compaction = lsm::ReadCompaction::kAllReads;
    }  // else the default, kSeeks
    if (config.readahead_size >= 0) {
      read_options_.readahead_size = static_cast<size_t>(config.readahead_size);
    }
    if (!config.encryption_key_file.empty()) {
      key_status_ = KeyRing::Load(config.encryption_key_file, &options_.encryption_keys);
    }
  }
  ~BasaltBackend() override { Close(); }

  const char* Name() const override { return "basalt"; }

  std::vector<std::string> Describe() const override {
    const lsm::Options& o = options_;
    return {
        fmt::format("basalt {}: I/O env {}", BASALT_DB_BENCH_VERSION, io::Env::Default()->Name()),
        fmt::format("  compression: {}",
                    o.table.compression ? "lz4 per block (stored raw if it saves < 1/8)" : "none"),
        o.block_cache_size > 0
            ? fmt::format("  cache: {} MiB CLOCK block cache (16 shards) of uncompressed "
                          "data blocks; index and filter blocks pinned per table, {}",
                          o.block_cache_size >> 20,
                          o.charge_table_metadata
                              ? "charged to the cache with the block index leaves (the "
                                "blocks keep >= 1/8)"
                              : "not counted (--charge_metadata=0)")
            : std::string("  cache: off (--cache_size=0): data block reads go through the OS "
                          "page cache; index and filter blocks pinned per table"),
        o.row_cache_size > 0
            ? fmt::format("  row cache: {} MiB, B+tree per tree, CLOCK eviction, exact under "
                          "writes; serves Get and DB::GetRange (readrange)",
                          o.row_cache_size >> 20)
            : std::string("  row cache: off"),
        fmt::format("  bloom: {} bits/key; block size {} B; write buffer {} MiB",
                    o.table.bloom_bits_per_key, o.table.block_size, o.write_buffer_size >> 20),
        fmt::format("  reads: direct reads {}; iterator read-ahead {}; compaction read-ahead "
                    "{} KiB (no cache fill); MultiGet: DB::MultiGet, each level's block reads "
                    "as one MultiReadFiles batch ({})",
                    o.use_direct_reads ? "on (O_DIRECT table files: the block cache is the only "
                                         "cache of table data)"
                                       : "off (buffered: the OS page cache also caches)",
                    read_options_.readahead_size
                        ? (*read_options_.readahead_size == 0
                               ? std::string("off")
                               : fmt::format("fixed {} B", *read_options_.readahead_size))
                        : std::string("adaptive 16..256 KiB after 2 sequential block reads"),
                    o.compaction_readahead_size >> 10,
                    io::Env::Default()->Name() == "io_uring" ? "io_uring: one submission per level"
                                                             : "posix: preads one by one"),
        fmt::format(
            "  durability: Options::durability={}; non-sync writes use WriteOptions::sync=false, "
            "sync writes WriteOptions::sync=true (fdatasync)",
            lsm::DurabilityName(o.durability)),
        o.encryption_keys
            ? fmt::format("  encryption: on, AES-256-GCM (OpenSSL EVP) of every WAL record and "
                          "table block, key id {} (--encryption_key_file)",
                          o.encryption_keys->current_id())
            : std::string("  encryption: off"),
        fmt::format(
            "  shape (engine defaults): L0 compaction/slowdown/stop at {}/{}/{} files, target "
            "file {} MiB, L1 {} MiB, x{} per level; level by score, file by {}; read-triggered "
            "compaction {}",
            o.level0_compaction_trigger, o.level0_slowdown_trigger, o.level0_stop_trigger,
            o.target_file_size >> 20, o.max_bytes_for_level_base >> 20, o.level_size_multiplier,
            o.leveled_file_pick == lsm::LeveledFilePick::kRoundRobin
                ? "round robin (--compaction_pick=round_robin)"
                : "min overlapping ratio",
            o.read_triggered_compaction == lsm::ReadCompaction::kOff ? "off (--read_compaction=off)"
            : o.read_triggered_compaction == lsm::ReadCompaction::kAllReads
                ? "on seeks and Gets (--read_compaction=all)"
                : "on seeks (the default)"),
    };
  }

  bool Open(std::string* err) override {
    if (!key_status_.ok()) {
      *err = key_status_.ToString();
      return false;
    }
    env_.Reset();
    Status s = lsm::DB::Open(options_, config_.dir, &db_);
    if (!s.ok()) *err = s.ToString();
    return s.ok();
  }

  void Close() override {
    if (db_) {
      db_->Close().PermitUnchecked();
      db_.reset();
    }
  }

  bool Put(std::string_view key, std::string_view value, bool sync, std::string* err) override {
    lsm::WriteOptions wo;
    wo.sync = sync;
    Status s = db_->Put(wo, lsm::kDefaultTree, key, value);
    if (!s.ok()) *err = s.ToString();
    return s.ok();
  }

  bool Delete(std::string_view key, bool sync, std::string* err) override {
    lsm::WriteOptions wo;
    wo.sync = sync;
    Status s = db_->Delete(wo, lsm::kDefaultTree, key);
    if (!s.ok()) *err = s.ToString();
    return s.ok();
  }

  GetResult Get(std::string_view key, std::string* value, std::string* err) override {
    Status s = db_->Get(lsm::ReadOptions(), lsm::kDefaultTree, key, value);
    if (s.ok()) return GetResult::kFound;
    if (s.IsNotFound()) return GetResult::kNotFound;
    *err = s.ToString();
    return GetResult::kError;
  }

  bool MultiGet(const std::vector<std::string_view>& keys, std::vector<std::string>* values,
                std::vector<GetResult>* results, std::string* err) override {
    std::vector<Status> statuses;
    db_->MultiGet(lsm::ReadOptions(), lsm::kDefaultTree, keys, values, &statuses);
    results->resize(keys.size());
    bool ok = true;
    for (size_t i = 0; i < keys.size(); i++) {
      const Status& s = statuses[i];
      if (s.ok()) {
        (*results)[i] = GetResult::kFound;
      } else if (s.IsNotFound()) {
        (*results)[i] = GetResult::kNotFound;
      } else {
        (*results)[i] = GetResult::kError;
        if (ok) *err = s.ToString();
        ok = false;
      }
    }
    return ok;
  }

  std::unique_ptr<Cursor> NewCursor() override {
    return std::make_unique<BasaltCursor>(db_->NewIterator(read_options_, lsm::kDefaultTree));
  }

  bool GetRange(std::string_view start, size_t n,
                std::vector<std::pair<std::string, std::string>>* out, std::string* err) override {
    Status s = db_->GetRange(lsm::ReadOptions(), lsm::kDefaultTree, start, {}, n, out);
    if (!s.ok()) *err = s.ToString();
    return s.ok();
  }
  std::string GetRangeMethod() const override {
    return "DB::GetRange(start, no end, n) (row cache when it covers the range, else iterator)";
  }

  bool Settle(std::string* err) override {
    Status s = db_->Flush(lsm::kDefaultTree);
    if (s.ok()) s = db_->CompactAll(lsm::kDefaultTree);
    if (!s.ok()) *err = s.ToString();
    return s.ok();
  }
  std::string SettleMethod() const override {
    return "DB::Flush(default tree) + DB::CompactAll (waits until no level needs compaction)";
  }

  bool CompactFull(std::string* err) override {
    Status s = db_->CompactFull(lsm::kDefaultTree);
    if (!s.ok()) *err = s.ToString();
    return s.ok();
  }
  std::string CompactFullMethod() const override {
    return "DB::CompactFull(default tree) (flush, then each level merged into the next one "
           "holding tables)";
  }

  std::optional<uint64_t> TableBytesWritten() override {
    const std::string text = db_->DebugString();
    auto flushed = Counter(text, "flushed_bytes");
    auto compacted = Counter(text, "compaction_written");
    if (!flushed || !compacted) return std::nullopt;
    return *flushed + *compacted;
  }
  std::string WriteAmpSource() const override {
    return "DB::DebugString() flushed_bytes + compaction_written (cross-checked against bytes "
           "appended to *.sst files, counted by an Env wrapper)";
  }

  std::string CrossCheck() override {
    auto engine = TableBytesWritten();
    const uint64_t measured = env_.table_bytes();
    if (!engine) return "basalt: DebugString() has no flushed_bytes/compaction_written counters";
    const double diff = static_cast<double>(*engine) - static_cast<double>(measured);
    if (std::abs(diff) > 0.005 * static_cast<double>(measured) + 4096) {
      return fmt::format(
          "basalt: engine counters say {} table bytes written since open, the Env saw {} bytes "
          "appended to *.sst files ({:+.2f}%)",
          *engine, measured, measured ? 100.0 * diff / static_cast<double>(measured) : 0.0);
    }
    return {};
  }

  std::string StatsText() override { return db_->DebugString(); }

  CacheCounters GetCacheCounters() override {
    const lsm::CacheStats st = db_->GetCacheStats();
    CacheCounters c;
    c.block_hits = st.block.hits;
    c.block_misses = st.block.misses;
    c.row_hits = st.row.hits;
    c.row_misses = st.row.misses;
    c.range_hits = st.row.range_hits;
    c.range_misses = st.row.range_misses;
    return c;
  }

 private:
  BackendConfig config_;
  TableByteCountingEnv env_;
  lsm::Options options_;
  Status key_status_;              // loading --encryption_key_file
  lsm::ReadOptions read_options_;  // for cursors (read-ahead)
  std::unique_ptr<lsm::DB> db_;
};

}  // namespace

std::unique_ptr<Backend> NewBasaltBackend(const BackendConfig& config) {
  return std::make_unique<BasaltBackend>(config);
}

}  // namespace basalt::bench

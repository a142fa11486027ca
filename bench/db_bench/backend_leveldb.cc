// basalt_db_bench backend for LevelDB (Debian libleveldb-dev). Built only when
// CMake finds the library (BASALT_DB_BENCH_LEVELDB).
//
// LevelDB has no LZ4: --compression=lz4 maps to kSnappyCompression, the
// nearest it has (fast, byte-oriented), and the header says so.
// LevelDB has no direct reads (--use_direct_reads is ignored: it reads tables
// through mmap or pread and the page cache), no read-ahead setting
// (--readahead_size is ignored) and no MultiGet (multireadrandom is a loop of
// Gets); the header says so.
// Write amplification: leveldb.stats reports whole megabytes only, so an Env
// wrapper counts the bytes appended to table files (*.ldb, *.sst) exactly.
// Settle: LevelDB has no public "wait for compactions"; see SettleMethod().

#include <fmt/format.h>
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/filter_policy.h>
#include <leveldb/options.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <thread>
#include <vector>

#include "bench/db_bench/backend.h"
#include "bench/db_bench/machine.h"

namespace basalt::bench {
namespace {

#ifdef BASALT_DB_BENCH_BASELINES
constexpr const char* kBuild =
    "release build of Debian's source package, scripts/build-baselines.sh";
#else
constexpr const char* kBuild = "Debian's libleveldb package: assert-enabled Debian build";
#endif

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Counts bytes appended to table files and how many are open for writing.
class TableByteCountingEnv : public leveldb::EnvWrapper {
 public:
  TableByteCountingEnv() : leveldb::EnvWrapper(leveldb::Env::Default()) {}

  leveldb::Status NewWritableFile(const std::string& f, leveldb::WritableFile** r) override {
    leveldb::Status s = target()->NewWritableFile(f, r);
    if (s.ok() && (EndsWith(f, ".ldb") || EndsWith(f, ".sst"))) *r = new File(*r, this);
    return s;
  }

  uint64_t table_bytes() const { return table_bytes_.load(std::memory_order_relaxed); }
  int open_table_writers() const { return open_writers_.load(std::memory_order_relaxed); }
  void Reset() { table_bytes_.store(0, std::memory_order_relaxed); }

 private:
  class File : public leveldb::WritableFile {
   public:
    File(leveldb::WritableFile* base, TableByteCountingEnv* env) : base_(base), env_(env) {
      env_->open_writers_.fetch_add(1, std::memory_order_relaxed);
    }
    ~File() override {
      delete base_;
      env_->open_writers_.fetch_sub(1, std::memory_order_relaxed);
    }
    leveldb::Status Append(const leveldb::Slice& data) override {
      env_->table_bytes_.fetch_add(data.size(), std::memory_order_relaxed);
      return base_->Append(data);
    }
    leveldb::Status Close() override { return base_->Close(); }
    leveldb::Status Flush() override { return base_->Flush(); }
    leveldb::Status Sync() override { return base_->Sync(); }

   private:
    leveldb::WritableFile* base_;
    TableByteCountingEnv* env_;
  };

  std::atomic<uint64_t> table_bytes_{0};
  std::atomic<int> open_writers_{0};
};

class LevelDBCursor : public Cursor {
 public:
  explicit LevelDBCursor(leveldb::Iterator* it) : it_(it) {}
  void SeekToFirst() override { it_->SeekToFirst(); }
  void Seek(std::string_view target) override {
    it_->Seek(leveldb::Slice(target.data(), target.size()));
  }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  std::string_view key() const override {
    leveldb::Slice k = it_->key();
    return {k.data(), k.size()};
  }
  std::string_view value() const override {
    leveldb::Slice v = it_->value();
    return {v.data(), v.size()};
  }
  std::string Error() const override {
    leveldb::Status s = it_->status();
    return s.ok() ? std::string() : s.ToString();
  }

 private:
  std::unique_ptr<leveldb::Iterator> it_;
};

leveldb::Slice ToSlice(std::string_view s) { return leveldb::Slice(s.data(), s.size()); }

// LevelDB's compaction score (the triggers its implementation notes describe
// under "Compactions"; VersionSet::Finalize computes it) from
// the leveldb.sstables listing: L0 files / 4; level L >= 1: bytes / (10^L MiB).
// A background compaction runs while the highest score is >= 1.
double MaxCompactionScore(const std::string& sstables) {
  constexpr int kNumLevels = 7;
  constexpr int kL0CompactionTrigger = 4;
  std::vector<double> bytes(kNumLevels, 0);
  std::vector<int> files(kNumLevels, 0);
  int level = -1;
  std::istringstream in(sstables);
  std::string line;
  while (std::getline(in, line)) {
    int l;
    if (std::sscanf(line.c_str(), "--- level %d ---", &l) == 1) {
      level = l;
      continue;
    }
    unsigned long long number, size;
    if (level >= 0 && level < kNumLevels &&
        std::sscanf(line.c_str(), " %llu:%llu[", &number, &size) == 2) {
      files[level]++;
      bytes[level] += static_cast<double>(size);
    }
  }
  double best = static_cast<double>(files[0]) / kL0CompactionTrigger;
  double max_bytes = 10.0 * 1048576.0;
  for (int l = 1; l < kNumLevels - 1; l++) {
    best = std::max(best, bytes[l] / max_bytes);
    max_bytes *= 10;
  }
  return best;
}

class LevelDBBackend : public Backend {
 public:
  explicit LevelDBBackend(const BackendConfig& config)
      : config_(config),
        cache_(leveldb::NewLRUCache(config.cache_size)),
        filter_(config.bloom_bits > 0 ? leveldb::NewBloomFilterPolicy(config.bloom_bits)
                                      : nullptr) {
    options_.create_if_missing = true;
    options_.env = &env_;
    options_.write_buffer_size = config.write_buffer_size;
    options_.block_cache = cache_.get();
    options_.filter_policy = filter_.get();
    options_.compression =
        config.compression ? leveldb::kSnappyCompression : leveldb::kNoCompression;
    options_.block_size = config.block_size;
  }
  ~LevelDBBackend() override { Close(); }

  const char* Name() const override { return "leveldb"; }

  std::vector<std::string> Describe() const override {
    const leveldb::Options& o = options_;
    return {
        fmt::format("leveldb {}.{} ({})", leveldb::kMajorVersion, leveldb::kMinorVersion, kBuild),
        "  library: " + DescribeLibrary(reinterpret_cast<const void*>(&leveldb::DestroyDB)),
        config_.compression
            ? "  compression: kSnappyCompression -- LevelDB has no LZ4; snappy is its only "
              "compressor (stored raw if it saves < 1/8)"
            : "  compression: kNoCompression",
        fmt::format("  cache: LRU block cache {} MiB (index and filter blocks held by the table "
                    "cache, outside the block cache)",
                    config_.cache_size >> 20),
        "  row cache: n/a (LevelDB has none; --row_cache_size is ignored)",
        fmt::format("  bloom: NewBloomFilterPolicy({}); block size {} B; write buffer {} MiB",
                    config_.bloom_bits, o.block_size, o.write_buffer_size >> 20),
        "  durability: WriteOptions::sync=false for non-sync writes, true (fsync of the log) for "
        "sync writes",
        fmt::format("  reads: {}; read-ahead: n/a (none of its own){}; MultiGet: n/a, "
                    "multireadrandom is a loop of Gets",
                    config_.use_direct_reads
                        ? "--use_direct_reads=1 IGNORED: LevelDB has no direct I/O (page cache "
                          "reads)"
                        : "buffered (page cache)",
                    config_.readahead_size >= 0 ? ", --readahead_size ignored" : ""),
        fmt::format("  shape (LevelDB defaults, not configurable): L0 compaction/slowdown/stop at "
                    "4/8/12 files, max_file_size {} MiB, L1 10 MiB, x10 per level; "
                    "max_open_files {}; 1 background thread; table files read through mmap",
                    o.max_file_size >> 20, o.max_open_files),
    };
  }

  bool Open(std::string* err) override {
    env_.Reset();
    leveldb::DB* db = nullptr;
    leveldb::Status s = leveldb::DB::Open(options_, config_.dir, &db);
    if (!s.ok()) {
      *err = s.ToString();
      return false;
    }
    db_.reset(db);
    return true;
  }

  void Close() override { db_.reset(); }

  bool Put(std::string_view key, std::string_view value, bool sync, std::string* err) override {
    leveldb::WriteOptions wo;
    wo.sync = sync;
    leveldb::Status s = db_->Put(wo, ToSlice(key), ToSlice(value));
    if (!s.ok()) *err = s.ToString();
    return s.ok();
  }

  bool Delete(std::string_view key, bool sync, std::string* err) override {
    leveldb::WriteOptions wo;
    wo.sync = sync;
    leveldb::Status s = db_->Delete(wo, ToSlice(key));
    if (!s.ok()) *err = s.ToString();
    return s.ok();
  }

  GetResult Get(std::string_view key, std::string* value, std::string* err) override {
    leveldb::Status s = db_->Get(leveldb::ReadOptions(), ToSlice(key), value);
    if (s.ok()) return GetResult::kFound;
    if (s.IsNotFound()) return GetResult::kNotFound;
    *err = s.ToString();
    return GetResult::kError;
  }

  bool MultiGet(const std::vector<std::string_view>& keys, std::vector<std::string>* values,
                std::vector<GetResult>* results, std::string* err) override {
    values->resize(keys.size());
    results->resize(keys.size());
    bool ok = true;
    for (size_t i = 0; i < keys.size(); i++) {  // no MultiGet in LevelDB
      std::string e;
      (*results)[i] = Get(keys[i], &(*values)[i], &e);
      if ((*results)[i] == GetResult::kError) {
        if (ok) *err = e;
        ok = false;
      }
    }
    return ok;
  }

  std::unique_ptr<Cursor> NewCursor() override {
    return std::make_unique<LevelDBCursor>(db_->NewIterator(leveldb::ReadOptions()));
  }

  bool Settle(std::string* err) override {
    // CompactRange first writes the memtable to a table file and waits; with a
    // range above every key ("\xff") it then compacts nothing.
    const leveldb::Slice beyond("\xff", 1);
    db_->CompactRange(&beyond, &beyond);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::hours(1);
    uint64_t last_bytes = env_.table_bytes();
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      std::string sstables;
      if (!db_->GetProperty("leveldb.sstables", &sstables)) {
        *err = "GetProperty(leveldb.sstables) failed";
        return false;
      }
      const uint64_t bytes = env_.table_bytes();
      if (MaxCompactionScore(sstables) < 1.0 && env_.open_table_writers() == 0 &&
          bytes == last_bytes) {
        return true;
      }
      last_bytes = bytes;
      if (std::chrono::steady_clock::now() > deadline) {
        *err = "compactions still running after 1 hour";
        return false;
      }
    }
  }
  std::string SettleMethod() const override {
    return "DB::CompactRange on an empty range above every key (flushes the memtable only), "
           "then poll every 100 ms until the compaction score computed from leveldb.sstables "
           "is < 1, no table file is open for writing and none grew in the last 100 ms";
  }

  bool CompactFull(std::string* /*err*/) override {
    db_->CompactRange(nullptr, nullptr);  // reports no error
    return true;
  }
  std::string CompactFullMethod() const override {
    return "DB::CompactRange(nullptr, nullptr) (flushes first; returns no status)";
  }

  std::optional<uint64_t> TableBytesWritten() override { return env_.table_bytes(); }
  std::string WriteAmpSource() const override {
    return "bytes appended to table files (*.ldb), counted by an Env wrapper (leveldb.stats "
           "reports whole MB only)";
  }

  std::string StatsText() override {
    std::string s;
    db_->GetProperty("leveldb.stats", &s);
    return s;
  }

 private:
  BackendConfig config_;
  TableByteCountingEnv env_;
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  leveldb::Options options_;
  std::unique_ptr<leveldb::DB> db_;
};

}  // namespace

std::unique_ptr<Backend> NewLevelDBBackend(const BackendConfig& config) {
  return std::make_unique<LevelDBBackend>(config);
}

}  // namespace basalt::bench

// Micro-benchmarks of the write path through the WAL (engine/lsm/db.h):
//
//   BM_WalAppendGroupCommit  DB::Put with Durability::kSync: every Put returns
//                            after fdatasync; concurrent writers share a sync
//                            (group commit). threads:2 shows the sharing:
//                            puts_per_sync > 1 and more items/s than
//                            threads:1. (Two writers alternate as leader, so
//                            expect ~1.5 puts per sync, not 2.)
//   BM_WalAppendNoSync       the same with Durability::kNone: framing, the WAL
//                            write and the memtable insert, no sync.
//
// Each run opens a fresh DB in a unique temporary directory (removed after),
// writes 16-byte keys (distinct per thread) and 100-byte values to the
// default tree. Reported: items/s (all threads, real time) and p50_us/p99_us,
// the latency percentiles of single Puts across all threads, as RocksDB's
// microbenchmarks of basic DB operations do, and wal_syncs / puts_per_sync,
// counted by a thin Env wrapper around the default Env: how many writers one WAL
// sync served on average (the group size). The write buffer is large enough
// that no flush or compaction runs during a benchmark.
//
// Run: basalt_micro --benchmark_filter=Wal

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/io/env.h"
#include "engine/lsm/db.h"
#include "engine/lsm/options.h"

namespace basalt::lsm {
namespace {

// Counts Sync() calls on WAL segments (*.log); forwards everything.
class SyncCountingEnv : public io::EnvWrapper {
 public:
  SyncCountingEnv() : io::EnvWrapper(io::Env::Default()) {}

  Status NewWritableFile(const std::string& p, std::unique_ptr<io::WritableFile>* r) override {
    return Wrap(p, target()->NewWritableFile(p, r), r);
  }
  Status NewAppendableFile(const std::string& p, std::unique_ptr<io::WritableFile>* r) override {
    return Wrap(p, target()->NewAppendableFile(p, r), r);
  }
  uint64_t wal_syncs() const { return wal_syncs_.load(std::memory_order_relaxed); }
  void Reset() { wal_syncs_.store(0, std::memory_order_relaxed); }

 private:
  class File : public io::WritableFile {
   public:
    File(std::unique_ptr<io::WritableFile> f, std::atomic<uint64_t>* syncs)
        : f_(std::move(f)), syncs_(syncs) {}
    Status Append(std::string_view d) override { return f_->Append(d); }
    Status WriteAt(uint64_t o, std::string_view d) override { return f_->WriteAt(o, d); }
    Status Sync() override {
      syncs_->fetch_add(1, std::memory_order_relaxed);
      return f_->Sync();
    }
    Status Close() override { return f_->Close(); }
    uint64_t Size() const override { return f_->Size(); }

   private:
    std::unique_ptr<io::WritableFile> f_;
    std::atomic<uint64_t>* syncs_;
  };

  Status Wrap(const std::string& path, Status s, std::unique_ptr<io::WritableFile>* r) {
    if (s.ok() && path.size() >= 4 && path.compare(path.size() - 4, 4, ".log") == 0) {
      *r = std::make_unique<File>(std::move(*r), &wal_syncs_);
    }
    return s;
  }

  std::atomic<uint64_t> wal_syncs_{0};
};

// One DB shared by the threads of a run. In Google Benchmark every thread of
// a multi-threaded run calls SetUp, the body and TearDown on the same fixture
// object, so the setup and teardown below happen only in thread 0. That is
// race-free because the start and the end of the benchmark loop are barriers
// across the run's threads: no thread enters the loop before thread 0 has
// finished SetUp, and thread 0 leaves the loop only when all threads have.
// After its loop each thread hands in its latencies and no longer touches the
// DB; thread 0 waits for all hand-ins before it closes the DB.
class WalFixture : public benchmark::Fixture {
 public:
  explicit WalFixture(Durability durability) : durability_(durability) {}

  void SetUp(benchmark::State& state) override {
    if (state.thread_index() != 0) return;
    static std::atomic<int> counter{0};
    dir_ = (std::filesystem::temp_directory_path() /
            ("basalt_wal_bench_" + std::to_string(getpid()) + "_" + std::to_string(counter++)))
               .string();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    latencies_ns_.clear();
    handed_in_ = 0;
    // Created here, not at registration (static init), so that runs which
    // filter the WAL benchmarks out never touch the I/O layer.
    if (env_ == nullptr) env_ = std::make_unique<SyncCountingEnv>();
    Options options;
    options.env = env_.get();
    options.durability = durability_;
    options.write_buffer_size = 256 << 20;  // no flush during a run
    options.wal_segment_size = 256 << 20;
    Status s = DB::Open(options, dir_, &db_);
    if (!s.ok()) {
      db_.reset();
      state.SkipWithError(("DB::Open: " + s.ToString()).c_str());
    }
    env_->Reset();  // count the benchmark's syncs only, not Open's
  }

  void TearDown(benchmark::State& state) override {
    if (state.thread_index() != 0) return;
    if (db_ != nullptr) {
      Status s = db_->Close();
      if (!s.ok()) state.SkipWithError(("DB::Close: " + s.ToString()).c_str());
      db_.reset();
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

 protected:
  void RunPuts(benchmark::State& state) {
    const std::string value(100, 'v');
    std::vector<int64_t> lat;  // this thread's Put latencies, ns
    lat.reserve(static_cast<size_t>(state.max_iterations));
    char key[32];
    uint64_t i = 0;
    for (auto _ : state) {
      if (db_ == nullptr) {  // Open failed in thread 0 (visible after the start barrier)
        state.SkipWithError("no DB");
        break;
      }
      std::snprintf(key, sizeof(key), "%02d%014llu", state.thread_index() % 100,
                    static_cast<unsigned long long>(i++));
      const auto t0 = std::chrono::steady_clock::now();
      Status s = db_->Put(WriteOptions{}, kDefaultTree, std::string_view(key, 16), value);
      const auto t1 = std::chrono::steady_clock::now();
      if (!s.ok()) {
        state.SkipWithError(("Put: " + s.ToString()).c_str());
        break;
      }
      lat.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    }
    state.SetItemsProcessed(static_cast<int64_t>(lat.size()));
    state.SetBytesProcessed(static_cast<int64_t>(lat.size() * (16 + value.size())));

    // Hand in; from here on this thread does not touch db_.
    std::unique_lock<std::mutex> l(mu_);
    latencies_ns_.insert(latencies_ns_.end(), lat.begin(), lat.end());
    handed_in_++;
    cv_.notify_all();
    if (state.thread_index() != 0) return;
    cv_.wait(l, [&] { return handed_in_ == state.threads(); });
    // Only thread 0 sets these; per-thread counters are summed, so the
    // reported values are the all-thread percentiles.
    state.counters["p50_us"] = Percentile(0.50);
    state.counters["p99_us"] = Percentile(0.99);
    const uint64_t syncs = env_->wal_syncs();
    state.counters["wal_syncs"] = static_cast<double>(syncs);
    if (syncs > 0) {
      state.counters["puts_per_sync"] =
          static_cast<double>(latencies_ns_.size()) / static_cast<double>(syncs);
    }
    state.SetLabel(std::string("durability=") + DurabilityName(durability_) +
                   " key=16B value=100B threads=" + std::to_string(state.threads()));
  }

 private:
  // REQUIRES: mu_ held.
  double Percentile(double q) {
    if (latencies_ns_.empty()) return 0;
    const size_t k = std::min(latencies_ns_.size() - 1,
                              static_cast<size_t>(q * static_cast<double>(latencies_ns_.size())));
    std::nth_element(latencies_ns_.begin(), latencies_ns_.begin() + static_cast<ptrdiff_t>(k),
                     latencies_ns_.end());
    return static_cast<double>(latencies_ns_[k]) / 1000.0;
  }

  const Durability durability_;
  std::unique_ptr<SyncCountingEnv> env_;  // outlives every DB opened with it
  std::string dir_;
  std::unique_ptr<DB> db_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int64_t> latencies_ns_;  // all threads, guarded by mu_
  int handed_in_ = 0;                  // guarded by mu_
};

class SyncWal : public WalFixture {
 public:
  SyncWal() : WalFixture(Durability::kSync) {}
};

class NoSyncWal : public WalFixture {
 public:
  NoSyncWal() : WalFixture(Durability::kNone) {}
};

BENCHMARK_DEFINE_F(SyncWal, BM_WalAppendGroupCommit)(benchmark::State& state) { RunPuts(state); }
// Fixed per-thread iterations: one sync costs milliseconds, and a fixed count
// avoids Google Benchmark's repeated calibration runs (each a new DB).
BENCHMARK_REGISTER_F(SyncWal, BM_WalAppendGroupCommit)
    ->Iterations(1000)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_DEFINE_F(NoSyncWal, BM_WalAppendNoSync)(benchmark::State& state) { RunPuts(state); }
BENCHMARK_REGISTER_F(NoSyncWal, BM_WalAppendNoSync)
    ->Iterations(50000)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace basalt::lsm

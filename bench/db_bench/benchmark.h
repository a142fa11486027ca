// The benchmark driver of basalt_db_bench for one backend: runs the
// benchmarks named by --benchmarks, in order, against one Backend, and
// reports each (a human line and a TSV row; db_bench.cc prints the TSV
// header and the run's settings).
//
// The driver is split by responsibility, as RocksDB splits DBImpl over
// db_impl_*.cc:
//   benchmark.cc  dispatch (name -> workload, threads, fresh DB, settle),
//                 the thread runner, reporting
//   workloads.cc  LevelDB's db_bench workloads (fill*, read*, seek*, ...)
//   ycsb.cc       YCSB's core workloads A–F and their load phase (ycsb.h)
//
// Thread safety: Run is called once, from the main thread; it starts the
// workload threads of each benchmark and joins them before the next.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/db_bench/backend.h"
#include "bench/db_bench/histogram.h"
#include "bench/db_bench/workload.h"
#include "bench/db_bench/ycsb.h"
#include "engine/base/random.h"

namespace basalt::bench {

// Prints "basalt_db_bench: msg" on stderr (after flushing stdout) and exits 1.
[[noreturn]] void Die(const std::string& msg);
// The non-empty items of a comma-separated list.
std::vector<std::string> Split(const std::string& s);
// steady_clock, in nanoseconds.
uint64_t NowNanos();
// "12.3 MiB".
std::string Mib(double bytes);

// Key numbers the run may write: [0, num) plus room for the inserts of the
// ycsbd and ycsbe runs in --benchmarks (YCSB inserts new records after the
// loaded ones). Key numbers up to KeySpaceCapacity() - 1 must fit --key_size.
uint64_t KeySpaceCapacity();
// Operations per thread of ycsb[a-f]: --ycsb_ops, else --reads, else --num.
uint64_t YcsbOpsPerThread();

// Results of one operation type (YCSB rows).
struct OpStats {
  Histogram hist;
  uint64_t ops = 0;
  uint64_t bytes = 0;
};

// Per-thread results, merged after the threads joined.
struct Stats {
  Histogram hist;
  uint64_t ops = 0;
  uint64_t bytes = 0;          // user bytes moved (MB/s)
  uint64_t written_bytes = 0;  // user key+value bytes written (write amplification)
  uint64_t found = 0;
  uint64_t missing_present = 0;  // reads of present keys that found nothing: a bug
  uint64_t bad_values = 0;       // values of the wrong size: a bug
  uint64_t end_of_data = 0;      // readseq threads that reached the end
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  // YCSB workloads: per YcsbOp (index = its value); empty for the others.
  std::vector<OpStats> by_op;

  void Merge(const Stats& o);
};

struct ThreadState {
  ThreadState(int id, uint64_t seed);
  int tid;
  Random rnd;
  ValueGenerator values;
  Stats stats;
};

class Benchmark {
 public:
  // dir: the backend's DB directory (deleted first unless --use_existing_db=1).
  Benchmark(std::unique_ptr<Backend> db, std::string dir);

  // Opens the DB, runs every benchmark of --benchmarks, closes the DB. Dies
  // (exit 1) on any backend error.
  void Run();

 private:
  using Method = void (Benchmark::*)(ThreadState*);

  // ---- benchmark.cc: driver ----
  void Open();
  void PrintBackendHeader();
  uint64_t Reads() const;
  void RunOne(const std::string& name, int index);
  // Hit rates over one benchmark (its settle included), from the backend's counters.
  void PrintCacheStats(const std::string& name, const CacheCounters& a, const CacheCounters& b);
  Stats RunThreads(int n, Method method, int index);
  [[noreturn]] void Fail(const char* op, const std::string& err);
  void Report(const std::string& name, const Stats& s, bool writes, double settle_seconds,
              std::optional<uint64_t> tb_before, std::optional<uint64_t> tb_after);
  // The DB is empty now: every key number is known absent, inserts restart at --num.
  void ResetKeys(bool known);

  // The key of number k, --key_size bytes (workload.h).
  static void EncodeKey(uint64_t k, char* dst);

  // ---- workloads.cc: LevelDB's db_bench workloads ----
  void Write(ThreadState* ts, bool seq, uint64_t n, bool sync);
  // One Put of key number k with a fresh value, timed and counted.
  void TimedPut(ThreadState* ts, uint64_t k, bool sync);
  void FillSeq(ThreadState* ts);
  void FillRandom(ThreadState* ts);
  void Overwrite(ThreadState* ts);
  void FillSync(ThreadState* ts);
  void DeleteRandom(ThreadState* ts);
  // compact: one full compaction (Backend::CompactFull); Report computes the
  // space amplification from the DB size before and after it.
  void Compact(ThreadState* ts);
  // A key number per --read_distribution: uniform, or the shared zipfian.
  uint64_t RandomReadKey(ThreadState* ts) const;
  // Point reads of keys known to be present (uniform over the present ones),
  // or of uniform keys when the contents are unknown (--use_existing_db).
  // Zipfian: keys from the zipfian; those known present must be found.
  void ReadPresent(ThreadState* ts, uint64_t n);
  void ReadRandom(ThreadState* ts);
  void MultiReadRandom(ThreadState* ts);
  void ReadMissing(ThreadState* ts);
  void SeekRandom(ThreadState* ts);
  void ReadRange(ThreadState* ts);
  void ReadSeq(ThreadState* ts);
  void ReadWhileWriting(ThreadState* ts);

  // ---- ycsb.cc: YCSB's core workloads ----
  // ycsbload: every key number of [0, num) once, in KeyPermutation order,
  // split over the threads.
  void YcsbLoad(ThreadState* ts);
  // ycsb[a-f]: YcsbOpsPerThread() operations of ycsb_ (the workload being run).
  void YcsbRun(ThreadState* ts);
  // A request key per --ycsb_distribution, in [0, num).
  uint64_t YcsbRequestKey(ThreadState* ts) const;

  std::unique_ptr<Backend> db_;
  std::string dir_;
  KeySet keys_;
  int num_threads_ = 0;  // threads of the running benchmark
  int num_readers_ = 0;
  std::atomic<int> readers_done_{0};
  std::unique_ptr<ZipfianGenerator> zipf_;  // set when --read_distribution=zipfian
  Stats writer_stats_;
  uint64_t db_bytes_before_compact_ = 0;  // compact: du of the DB before the full compaction
  uint64_t peak_rss_ = 0;                 // the process's peak RSS so far (VmHWM before each reset)
  bool phase_peak_rss_ = false;  // VmHWM was reset at this benchmark's start (ResetPeakRss)
  // YCSB: the workload being run; the zipfian over [0, num) (request keys
  // when --ycsb_distribution=zipfian, the base of ycsbd's latest); the next
  // key number an insert takes (from --num up).
  const YcsbWorkload* ycsb_ = nullptr;
  std::unique_ptr<ZipfianGenerator> ycsb_zipf_;
  bool ycsb_zipfian_ = false;  // --ycsb_distribution=zipfian
  std::atomic<uint64_t> next_insert_{0};
};

}  // namespace basalt::bench

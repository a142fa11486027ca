// basalt_db_bench: LevelDB-style db_bench that drives Basalt, RocksDB and
// LevelDB with identical workloads and settings, printed at the top.
//
// Benchmarks (--benchmarks=comma list, run in that order):
//   fillseq          write --num entries in key order, fresh DB
//   fillrandom       write --num entries with uniformly random keys (repeats
//                    possible: about 63% of the key space ends up present), fresh DB
//   overwrite        write --num entries with random keys into the existing DB
//   readrandom       --reads point reads per thread of random keys that exist
//                    (the tool tracks which keys are present; a miss is an error);
//                    --read_distribution=zipfian: keys from a scrambled zipfian
//                    over [0, num) instead (absent ones count as not found)
//   multireadrandom  --reads keys per reader thread, looked up in batches of
//                    --multiget_batch random existing keys through the engine's
//                    MultiGet (LevelDB: a loop of Gets); an op is one key, the
//                    latency percentiles are per batch
//   readmissing      --reads point reads of absent keys (an existing key plus
//                    ".", as LevelDB does: the bloom filter's job)
//   seekrandom       --reads times: new iterator, Seek(random key), then
//                    --seek_nexts x Next (one op); keys per --read_distribution
//   readrange        --reads times: the first --seek_nexts keys >= a random key
//                    in one call (Basalt: DB::GetRange, served by the row cache
//                    when it covers the range; others: iterator); keys per
//                    --read_distribution
//   readseq          one iterator over the whole DB (capped at --reads entries)
//                    per thread; each Next is one op
//   readwhilewriting --threads readers do readrandom while one more thread
//                    writes random keys as fast as it can; reports the readers
//   deleterandom     delete --num random keys (repeats possible)
//   fillsync         write --num/100 random entries, fsync per write, fresh DB
//
// Fresh DB (fill*): the backend's directory is deleted and the DB recreated;
// the other benchmarks reuse the DB as the previous ones left it. Writes come
// from one thread; --threads applies to the read benchmarks.
// After every benchmark that writes, the backend settles: memtable flushed and
// no flush or compaction running or pending (time printed as "settle", not
// part of ops/s). Then the size on disk (du of the DB dir) is taken, and write
// amplification = table bytes written (flush + compaction) during the
// benchmark and its settle / user key+value bytes written by it (WAL excluded).
//
// Output per benchmark: one human line, then "TSV\t" + fixed columns:
//   backend benchmark num ops seconds ops_per_sec mb_per_sec p50_us p99_us
//   p999_us db_bytes write_amp read_dist row_cache_bytes
//   direct_reads readahead multiget_batch
//   (write_amp is NA where nothing was written; the read settings of the run:
//   direct reads 0/1; read-ahead -1 = engine default, 0 = off, else bytes;
//   keys per MultiGet). --cache_stats=1 adds a line of block and row cache
//   hit rates over the benchmark.
//
// Usage: basalt_db_bench [--backends=basalt,rocksdb,leveldb] [--num=N] ...
//        basalt_db_bench --help     (all flags with defaults)
// With several backends each one runs in its own child process (so resident
// memory is per backend), one after another.

#include <fmt/format.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <latch>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/db_bench/backend.h"
#include "bench/db_bench/flags.h"
#include "bench/db_bench/histogram.h"
#include "bench/db_bench/machine.h"
#include "bench/db_bench/workload.h"
#include "engine/base/random.h"

extern char** environ;

namespace basalt::bench {
namespace {

constexpr const char* kAllBenchmarks =
    "fillseq,fillrandom,overwrite,readrandom,multireadrandom,readmissing,seekrandom,readrange,"
    "readseq,"
    "readwhilewriting,deleterandom,fillsync";

std::string CompiledBackends() {
  std::string r = "basalt";
#ifdef BASALT_DB_BENCH_ROCKSDB
  r += ",rocksdb";
#endif
#ifdef BASALT_DB_BENCH_LEVELDB
  r += ",leveldb";
#endif
  return r;
}

BENCH_FLAG(std::string, kString, benchmarks, kAllBenchmarks,
           "comma-separated benchmarks, run in this order (see the list at the top)");
BENCH_FLAG(std::string, kString, backends, CompiledBackends(),
           "comma-separated backends; each runs in its own process, one after another");
BENCH_FLAG(int64_t, kInt, num, 1000000, "number of keys: key space [0, num); entries per fill");
BENCH_FLAG(int64_t, kInt, reads, -1, "ops per reader thread in read benchmarks (-1: --num)");
BENCH_FLAG(int64_t, kInt, threads, 1, "reader threads for the read benchmarks");
BENCH_FLAG(int64_t, kInt, key_size, 16, "key bytes: the key number, zero-padded decimal");
BENCH_FLAG(int64_t, kInt, value_size, 100, "value bytes");
BENCH_FLAG(double, kDouble, compression_ratio, 0.5,
           "values compress to about this fraction (LevelDB's RandomGenerator)");
BENCH_FLAG(int64_t, kBytes, cache_size, int64_t{64} << 20,
           "block cache bytes (every backend; 0: Basalt runs without one); K/M/G suffixes");
BENCH_FLAG(int64_t, kBytes, row_cache_size, 0,
           "row cache bytes, 0: off (Basalt: Options::row_cache_size; RocksDB: "
           "options.row_cache LRU, point gets only; LevelDB: none)");
BENCH_FLAG(std::string, kString, read_distribution, "uniform",
           "keys of readrandom, seekrandom, readrange: uniform, or zipfian (theta 0.99 over "
           "[0, num), scrambled by a hash so hot keys spread over the key space, as YCSB)");
BENCH_FLAG(bool, kBool, cache_stats, false,
           "1: print block/row cache hit rates per read benchmark (RocksDB: turns on "
           "statistics tickers, StatsLevel kExceptHistogramOrTimers)");
BENCH_FLAG(int64_t, kInt, bloom_bits, 10, "bloom filter bits per key (0: no filter)");
BENCH_FLAG(std::string, kString, compression, "lz4",
           "lz4 or none (LevelDB has no lz4: it gets snappy, and says so)");
BENCH_FLAG(int64_t, kBytes, write_buffer_size, int64_t{64} << 20, "memtable bytes");
BENCH_FLAG(int64_t, kBytes, block_size, 4096, "table data block bytes (before compression)");
BENCH_FLAG(bool, kBool, sync, false,
           "1: fsync every write of every benchmark; 0: only fillsync syncs");
BENCH_FLAG(bool, kBool, use_direct_reads, false,
           "1: read table files with O_DIRECT (Basalt: Options::use_direct_reads, RocksDB: "
           "Options::use_direct_reads; LevelDB: not supported, ignored and said so)");
BENCH_FLAG(int64_t, kInt, multiget_batch, 16, "keys per MultiGet call in multireadrandom");
BENCH_FLAG(std::string, kString, encryption_key_file, "",
           "Basalt: encrypt every WAL record and table block with AES-256-GCM under this key "
           "file (docs/security.md); empty: off. RocksDB and LevelDB ignore it");
BENCH_FLAG(int64_t, kInt, readahead_size, -1,
           "iterator read-ahead bytes: -1 engine default (Basalt and RocksDB: adaptive), 0 off, "
           "N fixed (LevelDB: ignored)");
BENCH_FLAG(std::string, kString, db, "",
           "parent directory; backend X uses <db>/X (default: <temp dir>/basalt_db_bench)");
BENCH_FLAG(bool, kBool, use_existing_db, false,
           "1: keep the existing DB, skip fill benchmarks (readrandom then reads random keys)");
BENCH_FLAG(int64_t, kInt, seed, 301, "random seed (keys and values)");
BENCH_FLAG(int64_t, kInt, seek_nexts, 10,
           "Next calls after each Seek in seekrandom; keys per readrange");
BENCH_FLAG(bool, kBool, histogram, false, "1: print the latency histogram of each benchmark");
BENCH_FLAG(bool, kBool, verify_settle, false,
           "1: after each settle wait 2 s more and warn if table files were still written");
BENCH_FLAG(bool, kBool, stats, false, "1: print the backend's own statistics after each benchmark");
BENCH_FLAG(bool, kBool, child, false, "internal: this process runs one backend for a parent");

void PrintHelp() {
  fmt::print("basalt_db_bench: db_bench for basalt, rocksdb and leveldb on identical settings.\n");
  fmt::print("benchmarks: {}\ncompiled backends: {}\nflags (--name=value):\n", kAllBenchmarks,
             CompiledBackends());
  PrintFlags("child");
}

// ---------------------------------------------------------------------------
// Small helpers.

[[noreturn]] void Die(const std::string& msg) {
  std::fflush(stdout);
  fmt::print(stderr, "basalt_db_bench: {}\n", msg);
  std::exit(1);
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> r;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) r.push_back(item);
  }
  return r;
}

uint64_t NowNanos() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

std::string Mib(double bytes) { return fmt::format("{:.1f} MiB", bytes / 1048576.0); }

// The key of number k, --key_size bytes (workload.h).
void EncodeKey(uint64_t k, char* dst) {
  bench::EncodeKey(k, static_cast<size_t>(FLAGS_key_size), dst);
}

// ---------------------------------------------------------------------------
// Per-thread results.

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

  void Merge(const Stats& o) {
    hist.Merge(o.hist);
    ops += o.ops;
    bytes += o.bytes;
    written_bytes += o.written_bytes;
    found += o.found;
    missing_present += o.missing_present;
    bad_values += o.bad_values;
    end_of_data += o.end_of_data;
    start_ns = start_ns == 0 ? o.start_ns : std::min(start_ns, o.start_ns);
    end_ns = std::max(end_ns, o.end_ns);
  }
};

struct ThreadState {
  ThreadState(int id, uint64_t seed)
      : tid(id),
        rnd(seed),
        values(seed, static_cast<size_t>(FLAGS_value_size), FLAGS_compression_ratio) {}
  int tid;
  Random rnd;
  ValueGenerator values;
  Stats stats;
};

// ---------------------------------------------------------------------------
// The benchmark driver for one backend.

class Benchmark {
 public:
  Benchmark(std::unique_ptr<Backend> db, std::string dir)
      : db_(std::move(db)), dir_(std::move(dir)), keys_(static_cast<uint64_t>(FLAGS_num)) {}

  void Run() {
    if (FLAGS_read_distribution == "zipfian") {
      zipf_ = std::make_unique<ZipfianGenerator>(static_cast<uint64_t>(FLAGS_num), 0.99);
    }
    PrintBackendHeader();
    if (!FLAGS_use_existing_db) std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(std::filesystem::path(dir_).parent_path());
    Open();
    keys_.Reset(/*known=*/!FLAGS_use_existing_db);

    int index = 0;
    for (const std::string& name : Split(FLAGS_benchmarks)) {
      RunOne(name, index++);
    }
    db_->Close();
    fmt::print("{}: done; DB left in {}\n", db_->Name(), dir_);
  }

 private:
  using Method = void (Benchmark::*)(ThreadState*);

  void Open() {
    std::string err;
    if (!db_->Open(&err)) Die(fmt::format("{}: open {}: {}", db_->Name(), dir_, err));
  }

  void PrintBackendHeader() {
    fmt::print("------------------------------------------------\n");
    for (const std::string& line : db_->Describe()) fmt::print("{}\n", line);
    fmt::print("  settle: {}\n", db_->SettleMethod());
    fmt::print("  readrange: {}\n", db_->GetRangeMethod());
    fmt::print("  write amplification from: {}\n", db_->WriteAmpSource());
    fmt::print("  DB directory: {}\n", dir_);
    fmt::print("------------------------------------------------\n");
    std::fflush(stdout);
  }

  uint64_t Reads() const {
    return static_cast<uint64_t>(FLAGS_reads < 0 ? FLAGS_num : FLAGS_reads);
  }

  void RunOne(const std::string& name, int index) {
    Method method = nullptr;
    bool fresh = false, writes = false;
    int threads = 1;
    const int readers = static_cast<int>(FLAGS_threads);
    if (name == "fillseq") {
      method = &Benchmark::FillSeq, fresh = writes = true;
    } else if (name == "fillrandom") {
      method = &Benchmark::FillRandom, fresh = writes = true;
    } else if (name == "overwrite") {
      method = &Benchmark::Overwrite, writes = true;
    } else if (name == "readrandom") {
      method = &Benchmark::ReadRandom, threads = readers;
    } else if (name == "multireadrandom") {
      method = &Benchmark::MultiReadRandom, threads = readers;
    } else if (name == "readmissing") {
      method = &Benchmark::ReadMissing, threads = readers;
    } else if (name == "seekrandom") {
      method = &Benchmark::SeekRandom, threads = readers;
    } else if (name == "readrange") {
      method = &Benchmark::ReadRange, threads = readers;
    } else if (name == "readseq") {
      method = &Benchmark::ReadSeq, threads = readers;
    } else if (name == "readwhilewriting") {
      method = &Benchmark::ReadWhileWriting, threads = readers + 1, writes = true;
    } else if (name == "deleterandom") {
      method = &Benchmark::DeleteRandom, writes = true;
    } else if (name == "fillsync") {
      method = &Benchmark::FillSync, fresh = writes = true;
    } else {
      fmt::print(stderr, "unknown benchmark '{}' (known: {})\n", name, kAllBenchmarks);
      return;
    }

    if (fresh) {
      if (FLAGS_use_existing_db) {
        fmt::print("{:<16} : skipped (--use_existing_db=1)\n", name);
        return;
      }
      db_->Close();
      std::filesystem::remove_all(dir_);
      Open();
      keys_.Reset(/*known=*/true);
    }

    std::string err;
    const std::optional<uint64_t> table_bytes_before = db_->TableBytesWritten();
    const CacheCounters cache_before = db_->GetCacheCounters();
    writer_stats_ = Stats();
    readers_done_.store(0);
    num_readers_ = threads - (name == "readwhilewriting" ? 1 : 0);
    Stats s = RunThreads(threads, method, index);

    double settle_seconds = -1;
    if (writes) {
      const uint64_t t0 = NowNanos();
      if (!db_->Settle(&err)) Die(fmt::format("{}: settle after {}: {}", db_->Name(), name, err));
      settle_seconds = static_cast<double>(NowNanos() - t0) / 1e9;
    }
    const std::optional<uint64_t> table_bytes_after = db_->TableBytesWritten();
    if (writes && FLAGS_verify_settle) {
      std::this_thread::sleep_for(std::chrono::seconds(2));
      const std::optional<uint64_t> later = db_->TableBytesWritten();
      if (later != table_bytes_after) {
        fmt::print("WARNING: {} {}: {} table bytes written in the 2 s after settle\n", db_->Name(),
                   name, later && table_bytes_after ? *later - *table_bytes_after : 0);
      }
    }
    Report(name, s, writes, settle_seconds, table_bytes_before, table_bytes_after);
    if (FLAGS_cache_stats) PrintCacheStats(name, cache_before, db_->GetCacheCounters());
  }

  // Hit rates over one benchmark (its settle included), from the backend's counters.
  void PrintCacheStats(const std::string& name, const CacheCounters& a, const CacheCounters& b) {
    auto rate = [](const char* what, const std::optional<uint64_t>& h0,
                   const std::optional<uint64_t>& m0, const std::optional<uint64_t>& h1,
                   const std::optional<uint64_t>& m1) {
      if (!h0 || !m0 || !h1 || !m1) return fmt::format("{} n/a", what);
      const uint64_t h = *h1 - *h0, m = *m1 - *m0;
      return fmt::format(
          "{} {:.1f}% ({} hits, {} misses)", what,
          h + m > 0 ? 100.0 * static_cast<double>(h) / static_cast<double>(h + m) : 0.0, h, m);
    };
    fmt::print("{:<16} : cache: {}; {}; {}\n", name,
               rate("block", a.block_hits, a.block_misses, b.block_hits, b.block_misses),
               rate("row", a.row_hits, a.row_misses, b.row_hits, b.row_misses),
               rate("row ranges", a.range_hits, a.range_misses, b.range_hits, b.range_misses));
    std::fflush(stdout);
  }

  Stats RunThreads(int n, Method method, int index) {
    std::vector<std::unique_ptr<ThreadState>> states;
    for (int i = 0; i < n; i++) {
      states.push_back(std::make_unique<ThreadState>(i, static_cast<uint64_t>(FLAGS_seed) +
                                                            1000 * static_cast<uint64_t>(index) +
                                                            static_cast<uint64_t>(i)));
    }
    std::latch start(n + 1);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; i++) {
      threads.emplace_back([&, i] {
        ThreadState* ts = states[i].get();
        start.arrive_and_wait();
        ts->stats.start_ns = NowNanos();
        (this->*method)(ts);
        ts->stats.end_ns = NowNanos();
      });
    }
    start.arrive_and_wait();
    for (auto& t : threads) t.join();
    Stats merged;
    for (auto& ts : states) {
      if (ts->tid >= num_readers_ && num_readers_ < n) {
        writer_stats_ = ts->stats;  // readwhilewriting's writer: reported apart
      } else {
        merged.Merge(ts->stats);
      }
    }
    return merged;
  }

  [[noreturn]] void Fail(const char* op, const std::string& err) {
    Die(fmt::format("{}: {} failed: {}", db_->Name(), op, err));
  }

  // ---- workloads ----

  void Write(ThreadState* ts, bool seq, uint64_t n, bool sync) {
    char key[64];
    std::string err;
    for (uint64_t i = 0; i < n; i++) {
      const uint64_t k = seq ? i : ts->rnd.Uniform(static_cast<uint64_t>(FLAGS_num));
      EncodeKey(k, key);
      std::string_view value = ts->values.Generate(static_cast<size_t>(FLAGS_value_size));
      const uint64_t t0 = NowNanos();
      if (!db_->Put(std::string_view(key, FLAGS_key_size), value, sync, &err)) Fail("put", err);
      ts->stats.hist.Add(NowNanos() - t0);
      keys_.Set(k);
      ts->stats.ops++;
      ts->stats.bytes += static_cast<uint64_t>(FLAGS_key_size) + value.size();
    }
    ts->stats.written_bytes = ts->stats.bytes;
  }

  void FillSeq(ThreadState* ts) { Write(ts, true, static_cast<uint64_t>(FLAGS_num), FLAGS_sync); }
  void FillRandom(ThreadState* ts) {
    Write(ts, false, static_cast<uint64_t>(FLAGS_num), FLAGS_sync);
  }
  void Overwrite(ThreadState* ts) {
    Write(ts, false, static_cast<uint64_t>(FLAGS_num), FLAGS_sync);
  }
  void FillSync(ThreadState* ts) {
    Write(ts, false, std::max<uint64_t>(1, static_cast<uint64_t>(FLAGS_num) / 100), true);
  }

  void DeleteRandom(ThreadState* ts) {
    char key[64];
    std::string err;
    for (uint64_t i = 0; i < static_cast<uint64_t>(FLAGS_num); i++) {
      const uint64_t k = ts->rnd.Uniform(static_cast<uint64_t>(FLAGS_num));
      EncodeKey(k, key);
      const uint64_t t0 = NowNanos();
      if (!db_->Delete(std::string_view(key, FLAGS_key_size), FLAGS_sync, &err)) {
        Fail("delete", err);
      }
      ts->stats.hist.Add(NowNanos() - t0);
      keys_.Clear(k);
      ts->stats.ops++;
      ts->stats.bytes += static_cast<uint64_t>(FLAGS_key_size);
    }
    ts->stats.written_bytes = ts->stats.bytes;
  }

  // A key number per --read_distribution: uniform, or the shared zipfian.
  uint64_t RandomReadKey(ThreadState* ts) const {
    return zipf_ ? zipf_->NextKey(&ts->rnd) : ts->rnd.Uniform(static_cast<uint64_t>(FLAGS_num));
  }

  // Point reads of keys known to be present (uniform over the present ones),
  // or of uniform keys when the contents are unknown (--use_existing_db).
  // Zipfian: keys from the zipfian; those known present must be found.
  void ReadPresent(ThreadState* ts, uint64_t n) {
    char key[64];
    std::string value, err;
    for (uint64_t i = 0; i < n; i++) {
      std::optional<uint64_t> k;
      bool expect;
      if (zipf_) {
        k = zipf_->NextKey(&ts->rnd);
        expect = keys_.known() && keys_.Test(*k);
      } else {
        if (keys_.known()) k = keys_.PickPresent(&ts->rnd);
        expect = k.has_value();
      }
      if (!k) k = ts->rnd.Uniform(static_cast<uint64_t>(FLAGS_num));
      EncodeKey(*k, key);
      const uint64_t t0 = NowNanos();
      const GetResult r = db_->Get(std::string_view(key, FLAGS_key_size), &value, &err);
      ts->stats.hist.Add(NowNanos() - t0);
      if (r == GetResult::kError) Fail("get", err);
      ts->stats.ops++;
      if (r == GetResult::kFound) {
        ts->stats.found++;
        ts->stats.bytes += static_cast<uint64_t>(FLAGS_key_size) + value.size();
        if (value.size() != static_cast<size_t>(FLAGS_value_size)) ts->stats.bad_values++;
      } else if (expect) {
        ts->stats.missing_present++;
      }
    }
  }

  void ReadRandom(ThreadState* ts) { ReadPresent(ts, Reads()); }

  // ReadPresent's keys, --multiget_batch at a time through MultiGet.
  void MultiReadRandom(ThreadState* ts) {
    const size_t batch = static_cast<size_t>(std::max<int64_t>(1, FLAGS_multiget_batch));
    std::vector<std::string> key_bufs(batch, std::string(static_cast<size_t>(FLAGS_key_size), '0'));
    std::vector<std::string_view> keys;
    std::vector<bool> expect(batch);
    std::vector<std::string> values;
    std::vector<GetResult> results;
    std::string err;
    const uint64_t total = Reads();
    for (uint64_t done = 0; done < total;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(batch, total - done));
      keys.clear();
      for (size_t j = 0; j < n; j++) {
        std::optional<uint64_t> k;
        if (keys_.known()) k = keys_.PickPresent(&ts->rnd);
        expect[j] = k.has_value();
        if (!k) k = ts->rnd.Uniform(static_cast<uint64_t>(FLAGS_num));
        EncodeKey(*k, key_bufs[j].data());
        keys.push_back(key_bufs[j]);
      }
      const uint64_t t0 = NowNanos();
      if (!db_->MultiGet(keys, &values, &results, &err)) Fail("multiget", err);
      ts->stats.hist.Add(NowNanos() - t0);
      for (size_t j = 0; j < n; j++) {
        ts->stats.ops++;
        if (results[j] == GetResult::kFound) {
          ts->stats.found++;
          ts->stats.bytes += static_cast<uint64_t>(FLAGS_key_size) + values[j].size();
          if (values[j].size() != static_cast<size_t>(FLAGS_value_size)) ts->stats.bad_values++;
        } else if (expect[j]) {
          ts->stats.missing_present++;
        }
      }
      done += n;
    }
  }

  void ReadMissing(ThreadState* ts) {
    char key[65];
    std::string value, err;
    for (uint64_t i = 0; i < Reads(); i++) {
      EncodeKey(ts->rnd.Uniform(static_cast<uint64_t>(FLAGS_num)), key);
      key[FLAGS_key_size] = '.';
      const uint64_t t0 = NowNanos();
      const GetResult r = db_->Get(std::string_view(key, FLAGS_key_size + 1), &value, &err);
      ts->stats.hist.Add(NowNanos() - t0);
      if (r == GetResult::kError) Fail("get", err);
      ts->stats.ops++;
      if (r == GetResult::kFound) ts->stats.found++;  // must stay 0
    }
  }

  void SeekRandom(ThreadState* ts) {
    char key[64];
    for (uint64_t i = 0; i < Reads(); i++) {
      const uint64_t k = RandomReadKey(ts);
      EncodeKey(k, key);
      const std::string_view target(key, FLAGS_key_size);
      const uint64_t t0 = NowNanos();
      std::unique_ptr<Cursor> c = db_->NewCursor();
      c->Seek(target);
      const bool found = c->Valid() && c->key() == target;
      for (int64_t j = 0; j < FLAGS_seek_nexts && c->Valid(); j++) {
        ts->stats.bytes += c->key().size() + c->value().size();
        c->Next();
      }
      std::string err = c->Error();
      c.reset();
      ts->stats.hist.Add(NowNanos() - t0);
      if (!err.empty()) Fail("iterator", err);
      if (found) {
        ts->stats.found++;
      } else if (keys_.known() && keys_.Test(k)) {
        ts->stats.missing_present++;
      }
      ts->stats.ops++;
    }
  }

  void ReadRange(ThreadState* ts) {
    char key[64];
    std::vector<std::pair<std::string, std::string>> rows;
    std::string err;
    const size_t n = static_cast<size_t>(std::max<int64_t>(1, FLAGS_seek_nexts));
    for (uint64_t i = 0; i < Reads(); i++) {
      const uint64_t k = RandomReadKey(ts);
      EncodeKey(k, key);
      const std::string_view start(key, FLAGS_key_size);
      const uint64_t t0 = NowNanos();
      if (!db_->GetRange(start, n, &rows, &err)) Fail("range", err);
      ts->stats.hist.Add(NowNanos() - t0);
      for (const auto& [rk, rv] : rows) {
        ts->stats.bytes += rk.size() + rv.size();
        if (rv.size() != static_cast<size_t>(FLAGS_value_size)) ts->stats.bad_values++;
      }
      if (!rows.empty() && rows[0].first == start) {
        ts->stats.found++;
      } else if (keys_.known() && keys_.Test(k)) {
        ts->stats.missing_present++;
      }
      ts->stats.ops++;
    }
  }

  void ReadSeq(ThreadState* ts) {
    std::unique_ptr<Cursor> c = db_->NewCursor();
    const uint64_t n = Reads();
    uint64_t t0 = NowNanos();
    c->SeekToFirst();
    while (c->Valid() && ts->stats.ops < n) {
      ts->stats.bytes += c->key().size() + c->value().size();
      if (c->value().size() != static_cast<size_t>(FLAGS_value_size)) ts->stats.bad_values++;
      c->Next();
      const uint64_t t1 = NowNanos();
      ts->stats.hist.Add(t1 - t0);
      t0 = t1;
      ts->stats.ops++;
    }
    ts->stats.found = ts->stats.ops;
    if (!c->Valid()) ts->stats.end_of_data = 1;
    const std::string err = c->Error();
    if (!err.empty()) Fail("iterator", err);
  }

  void ReadWhileWriting(ThreadState* ts) {
    if (ts->tid < num_readers_) {
      ReadPresent(ts, Reads());
      readers_done_.fetch_add(1);
      return;
    }
    // The writer: random overwrites until every reader is done.
    char key[64];
    std::string err;
    while (readers_done_.load(std::memory_order_relaxed) < num_readers_) {
      const uint64_t k = ts->rnd.Uniform(static_cast<uint64_t>(FLAGS_num));
      EncodeKey(k, key);
      std::string_view value = ts->values.Generate(static_cast<size_t>(FLAGS_value_size));
      const uint64_t t0 = NowNanos();
      if (!db_->Put(std::string_view(key, FLAGS_key_size), value, FLAGS_sync, &err)) {
        Fail("put", err);
      }
      ts->stats.hist.Add(NowNanos() - t0);
      keys_.Set(k);
      ts->stats.ops++;
      ts->stats.written_bytes += static_cast<uint64_t>(FLAGS_key_size) + value.size();
    }
  }

  // ---- reporting ----

  void Report(const std::string& name, const Stats& s, bool writes, double settle_seconds,
              std::optional<uint64_t> tb_before, std::optional<uint64_t> tb_after) {
    const double seconds = static_cast<double>(s.end_ns - s.start_ns) / 1e9;
    const double ops_per_sec = seconds > 0 ? static_cast<double>(s.ops) / seconds : 0;
    const double mb_per_sec = seconds > 0 ? static_cast<double>(s.bytes) / 1048576.0 / seconds : 0;
    const double p50 = s.hist.PercentileMicros(50), p99 = s.hist.PercentileMicros(99),
                 p999 = s.hist.PercentileMicros(99.9);
    uint64_t allocated, apparent;
    DiskUsage(dir_, &allocated, &apparent);

    const uint64_t user_written = writes ? s.written_bytes + writer_stats_.written_bytes : 0;
    std::optional<double> wamp;
    if (user_written > 0 && tb_before && tb_after) {
      wamp = static_cast<double>(*tb_after - *tb_before) / static_cast<double>(user_written);
    }

    std::string extra;
    if (name == "readrandom" || name == "readwhilewriting") {
      extra += fmt::format("; {} of {} found", s.found, s.ops);
    } else if (name == "multireadrandom") {
      extra += fmt::format("; {} of {} found; batches of {}, latency per batch", s.found, s.ops,
                           FLAGS_multiget_batch);
    } else if (name == "readmissing" || name == "seekrandom" || name == "readrange") {
      extra += fmt::format("; {} of {} found", s.found, s.ops);
    } else if (name == "readseq") {
      extra += fmt::format("; {} entries", s.ops);
    }
    if (name == "readwhilewriting") {
      const double ws = static_cast<double>(writer_stats_.end_ns - writer_stats_.start_ns) / 1e9;
      extra += fmt::format("; writer {:.0f} ops/s (p99 {:.1f} us)",
                           ws > 0 ? static_cast<double>(writer_stats_.ops) / ws : 0.0,
                           writer_stats_.hist.PercentileMicros(99));
    }
    if (keys_.known() && name != "readwhilewriting") {
      extra += fmt::format("; {} keys present", keys_.Count());
    }

    fmt::print(
        "{:<16} : {:>9.0f} ops/s {:>7.1f} MB/s  p50 {:>7.2f} p99 {:>8.2f} p99.9 {:>8.2f} us"
        " | db {} | w-amp {} | settle {} | rss {} (peak {}) | load {}{}\n",
        name, ops_per_sec, mb_per_sec, p50, p99, p999, Mib(static_cast<double>(allocated)),
        wamp ? fmt::format("{:.2f}", *wamp) : std::string("n/a"),
        settle_seconds >= 0 ? fmt::format("{:.1f} s", settle_seconds) : std::string("-"),
        Mib(static_cast<double>(ProcKb("/proc/self/status", "VmRSS"))),
        Mib(static_cast<double>(ProcKb("/proc/self/status", "VmHWM"))), LoadAverage(), extra);
    fmt::print(
        "TSV\t{}\t{}\t{}\t{}\t{:.3f}\t{:.0f}\t{:.2f}\t{:.2f}\t{:.2f}\t{:.2f}\t{}\t{}\t{}\t{}\t{}\t{"
        "}\t{}"
        "\n",
        db_->Name(), name, FLAGS_num, s.ops, seconds, ops_per_sec, mb_per_sec, p50, p99, p999,
        allocated, wamp ? fmt::format("{:.3f}", *wamp) : std::string("NA"), FLAGS_read_distribution,
        FLAGS_row_cache_size, FLAGS_use_direct_reads ? 1 : 0, FLAGS_readahead_size,
        FLAGS_multiget_batch);

    // Correctness checks: a storage researcher must be able to trust the numbers.
    if (s.missing_present > 0) {
      fmt::print(
          "WARNING: {} {}: {} reads of keys that were written and not deleted found "
          "nothing\n",
          db_->Name(), name, s.missing_present);
    }
    if (s.bad_values > 0) {
      fmt::print("WARNING: {} {}: {} values of the wrong size\n", db_->Name(), name, s.bad_values);
    }
    if (name == "readmissing" && s.found > 0) {
      fmt::print("WARNING: {} readmissing: {} absent keys were found\n", db_->Name(), s.found);
    }
    if (name == "readseq" && keys_.known() && s.end_of_data > 0) {
      const uint64_t expected = keys_.Count();
      const uint64_t per_thread =
          s.ops / static_cast<uint64_t>(std::max<int64_t>(1, FLAGS_threads));
      if (per_thread != expected) {
        fmt::print("WARNING: {} readseq: iterated {} entries, {} keys are present\n", db_->Name(),
                   per_thread, expected);
      }
    }
    const std::string cross = db_->CrossCheck();
    if (!cross.empty()) fmt::print("WARNING: {}\n", cross);
    if (FLAGS_histogram) fmt::print("Microseconds per op:\n{}\n", s.hist.ToString());
    if (FLAGS_stats) fmt::print("{}\n", db_->StatsText());
    std::fflush(stdout);
  }

  std::unique_ptr<Backend> db_;
  std::string dir_;
  KeySet keys_;
  int num_readers_ = 0;
  std::atomic<int> readers_done_{0};
  std::unique_ptr<ZipfianGenerator> zipf_;  // set when --read_distribution=zipfian
  Stats writer_stats_;
};

// ---------------------------------------------------------------------------
// Header and process orchestration.

BackendConfig MakeConfig(const std::string& dir) {
  BackendConfig c;
  c.dir = dir;
  c.cache_size = static_cast<uint64_t>(FLAGS_cache_size);
  c.row_cache_size = static_cast<uint64_t>(FLAGS_row_cache_size);
  c.cache_stats = FLAGS_cache_stats;
  c.bloom_bits = static_cast<int>(FLAGS_bloom_bits);
  c.compression = FLAGS_compression == "lz4";
  c.write_buffer_size = static_cast<uint64_t>(FLAGS_write_buffer_size);
  c.block_size = static_cast<uint64_t>(FLAGS_block_size);
  c.sync = FLAGS_sync;
  c.use_direct_reads = FLAGS_use_direct_reads;
  c.readahead_size = FLAGS_readahead_size;
  c.encryption_key_file = FLAGS_encryption_key_file;
  return c;
}

std::unique_ptr<Backend> NewBackend(const std::string& name, const BackendConfig& c) {
  if (name == "basalt") return NewBasaltBackend(c);
#ifdef BASALT_DB_BENCH_ROCKSDB
  if (name == "rocksdb") return NewRocksDBBackend(c);
#endif
#ifdef BASALT_DB_BENCH_LEVELDB
  if (name == "leveldb") return NewLevelDBBackend(c);
#endif
  return nullptr;
}

void PrintHeader(const std::string& command) {
  const double raw =
      static_cast<double>(FLAGS_key_size + FLAGS_value_size) * static_cast<double>(FLAGS_num);
  const double est = static_cast<double>(FLAGS_key_size) +
                     static_cast<double>(FLAGS_value_size) * FLAGS_compression_ratio;
  struct utsname u;
  uname(&u);
  char date[64];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S %Z", std::localtime(&now));
  fmt::print("basalt_db_bench {} ({})\n", BASALT_DB_BENCH_VERSION, date);
  fmt::print("command:      {}\n", command);
  fmt::print("machine:      {} x {}; RAM {}; {} {}; DB fs {}\n",
             std::thread::hardware_concurrency(), CpuModel(),
             Mib(static_cast<double>(ProcKb("/proc/meminfo", "MemTotal"))), u.sysname, u.release,
             FilesystemType(FLAGS_db));
  fmt::print("load average: {} (at start; also printed after every benchmark)\n", LoadAverage());
  fmt::print("backends:     {}\n", FLAGS_backends);
  fmt::print("benchmarks:   {}\n", FLAGS_benchmarks);
  fmt::print("keys:         {} bytes each (zero-padded decimal), key space [0, {})\n",
             FLAGS_key_size, FLAGS_num);
  fmt::print("values:       {} bytes each ({:.0f}% compressible: LevelDB's generator)\n",
             FLAGS_value_size, 100 * (1 - FLAGS_compression_ratio));
  fmt::print("entries:      {}; raw size {} ({} if compressed as generated)\n", FLAGS_num, Mib(raw),
             Mib(est * static_cast<double>(FLAGS_num)));
  fmt::print(
      "settings:     cache {}; row cache {}; bloom {} bits/key; compression {}; write buffer {}; "
      "block {} B (per backend below)\n",
      Mib(static_cast<double>(FLAGS_cache_size)),
      FLAGS_row_cache_size > 0 ? Mib(static_cast<double>(FLAGS_row_cache_size))
                               : std::string("off"),
      FLAGS_bloom_bits, FLAGS_compression, Mib(static_cast<double>(FLAGS_write_buffer_size)),
      FLAGS_block_size);
  fmt::print("read keys:    {} (readrandom, seekrandom, readrange)\n",
             FLAGS_read_distribution == "zipfian"
                 ? "zipfian, theta 0.99 over [0, num), scrambled (FNV-1a of the rank mod num)"
                 : "uniform");
  fmt::print("durability:   {}; fillsync: {} writes, fsync each; WAL on in all backends\n",
             FLAGS_sync ? "--sync=1: every write fsyncs" : "--sync=0: no fsync per write",
             std::max<int64_t>(1, FLAGS_num / 100));
  fmt::print("threads:      1 writer; {} reader(s) in read benchmarks, {} reads each\n",
             FLAGS_threads, FLAGS_reads < 0 ? FLAGS_num : FLAGS_reads);
  fmt::print(
      "reads:        direct reads {}; iterator read-ahead {}; multireadrandom batch {} keys "
      "(per backend below)\n",
      FLAGS_use_direct_reads ? "on (O_DIRECT table files)" : "off (buffered)",
      FLAGS_readahead_size < 0    ? std::string("engine default")
      : FLAGS_readahead_size == 0 ? std::string("off")
                                  : fmt::format("{} B", FLAGS_readahead_size),
      FLAGS_multiget_batch);
  fmt::print(
      "settle:       after each benchmark that writes: memtable flushed, then wait until no\n"
      "              flush/compaction runs or is pending (not in ops/s; printed as settle)\n");
  fmt::print("size:         db = du (allocated bytes) of the DB directory after that\n");
  fmt::print(
      "write amp:    table bytes written by flush + compaction during the benchmark and\n"
      "              its settle / user key+value bytes written (keys only for deletes);\n"
      "              WAL bytes excluded\n");
  fmt::print(
      "latency:      per op (steady_clock), all reader threads merged; seekrandom's op\n"
      "              = new iterator + Seek + {} Next\n",
      FLAGS_seek_nexts);
#ifndef NDEBUG
  fmt::print("WARNING:      assertions are enabled; build Release for benchmarks\n");
#endif
  fmt::print(
      "TSV\tbackend\tbenchmark\tnum\tops\tseconds\tops_per_sec\tmb_per_sec\tp50_us\tp99_us"
      "\tp999_us\tdb_bytes\twrite_amp\tread_dist\trow_cache_bytes\tdirect_reads\treadahead"
      "\tmultiget_batch\n");
  std::fflush(stdout);
}

int RunChild(const std::string& self, const std::vector<std::string>& args,
             const std::string& backend) {
  std::vector<std::string> child_args = {self};
  for (const std::string& a : args) {
    if (a.rfind("--backends=", 0) == 0 || a.rfind("--child=", 0) == 0) continue;
    child_args.push_back(a);
  }
  child_args.push_back("--backends=" + backend);
  child_args.push_back("--child=1");
  std::vector<char*> argv;
  for (std::string& a : child_args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  pid_t pid;
  if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) != 0) {
    Die("posix_spawn failed: " + std::string(std::strerror(errno)));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int Main(int argc, char** argv) {
  std::vector<std::string> args;
  std::string command = "basalt_db_bench";
  for (int i = 1; i < argc; i++) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      PrintHelp();
      return 0;
    }
    if (!ParseFlag(argv[i])) Die(fmt::format("invalid flag '{}' (see --help)", argv[i]));
    args.push_back(argv[i]);
    command += std::string(" ") + argv[i];
  }
  if (FLAGS_db.empty()) {
    FLAGS_db = (std::filesystem::temp_directory_path() / "basalt_db_bench").string();
  }
  if (FLAGS_num <= 0 || FLAGS_threads <= 0 || FLAGS_value_size < 0 || FLAGS_key_size <= 0 ||
      FLAGS_key_size > 32) {
    Die("need --num > 0, --threads > 0, 0 < --key_size <= 32, --value_size >= 0");
  }
  if (std::to_string(FLAGS_num - 1).size() > static_cast<size_t>(FLAGS_key_size)) {
    Die(fmt::format("--key_size={} cannot hold key numbers up to {}", FLAGS_key_size,
                    FLAGS_num - 1));
  }
  if (FLAGS_multiget_batch <= 0) Die("need --multiget_batch > 0");
  if (FLAGS_compression != "lz4" && FLAGS_compression != "none") {
    Die("--compression must be lz4 or none");
  }
  if (FLAGS_read_distribution != "uniform" && FLAGS_read_distribution != "zipfian") {
    Die("--read_distribution must be uniform or zipfian");
  }
  const std::vector<std::string> backends = Split(FLAGS_backends);
  const std::vector<std::string> compiled = Split(CompiledBackends());
  for (const std::string& b : backends) {
    if (std::find(compiled.begin(), compiled.end(), b) == compiled.end()) {
      Die(fmt::format("backend '{}' is not compiled in (compiled: {})", b, CompiledBackends()));
    }
  }
  if (backends.empty()) Die("no backend");

  if (!FLAGS_child) PrintHeader(command);
  if (backends.size() == 1) {
    const std::string dir = FLAGS_db + "/" + backends[0];
    Benchmark(NewBackend(backends[0], MakeConfig(dir)), dir).Run();
    return 0;
  }
  int failures = 0;
  for (const std::string& b : backends) {
    const int rc = RunChild(argv[0], args, b);
    if (rc != 0) {
      fmt::print("{}: exited with status {}\n", b, rc);
      failures++;
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

bool Backend::GetRange(std::string_view start, size_t n,
                       std::vector<std::pair<std::string, std::string>>* out, std::string* err) {
  out->clear();
  std::unique_ptr<Cursor> c = NewCursor();
  for (c->Seek(start); c->Valid() && out->size() < n; c->Next()) {
    out->emplace_back(std::string(c->key()), std::string(c->value()));
  }
  *err = c->Error();
  return err->empty();
}

}  // namespace basalt::bench

int main(int argc, char** argv) { return basalt::bench::Main(argc, argv); }

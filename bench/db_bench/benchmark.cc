// The driver: which benchmark runs how (threads, fresh DB, settle), the
// thread runner, and the report of each benchmark.

#include "bench/db_bench/benchmark.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <sstream>
#include <thread>

#include "bench/db_bench/bench_flags.h"
#include "bench/db_bench/machine.h"

namespace basalt::bench {

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

uint64_t YcsbOpsPerThread() {
  if (FLAGS_ycsb_ops >= 0) return static_cast<uint64_t>(FLAGS_ycsb_ops);
  return static_cast<uint64_t>(FLAGS_reads < 0 ? FLAGS_num : FLAGS_reads);
}

uint64_t KeySpaceCapacity() {
  // Every operation of an inserting run could be an insert: room for all.
  uint64_t room = 0;
  for (const std::string& name : Split(FLAGS_benchmarks)) {
    const YcsbWorkload* w = FindYcsbWorkload(name);
    if (w != nullptr && w->Inserts()) {
      room += YcsbOpsPerThread() * static_cast<uint64_t>(std::max<int64_t>(1, FLAGS_threads));
    }
  }
  return static_cast<uint64_t>(FLAGS_num) + room;
}

void Stats::Merge(const Stats& o) {
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
  if (by_op.size() < o.by_op.size()) by_op.resize(o.by_op.size());
  for (size_t i = 0; i < o.by_op.size(); i++) {
    by_op[i].hist.Merge(o.by_op[i].hist);
    by_op[i].ops += o.by_op[i].ops;
    by_op[i].bytes += o.by_op[i].bytes;
  }
}

ThreadState::ThreadState(int id, uint64_t seed)
    : tid(id),
      rnd(seed),
      values(seed, static_cast<size_t>(FLAGS_value_size), FLAGS_compression_ratio) {}

Benchmark::Benchmark(std::unique_ptr<Backend> db, std::string dir)
    : db_(std::move(db)), dir_(std::move(dir)), keys_(KeySpaceCapacity()) {}

void Benchmark::Run() {
  if (FLAGS_read_distribution == "zipfian") {
    zipf_ = std::make_unique<ZipfianGenerator>(static_cast<uint64_t>(FLAGS_num), 0.99);
  }
  bool ycsb = false, latest = false;
  for (const std::string& name : Split(FLAGS_benchmarks)) {
    const YcsbWorkload* w = FindYcsbWorkload(name);
    ycsb = ycsb || w != nullptr;
    latest = latest || (w != nullptr && w->latest);
  }
  ycsb_zipfian_ = FLAGS_ycsb_distribution == "zipfian";
  if ((ycsb && ycsb_zipfian_) || latest) {
    ycsb_zipf_ = std::make_unique<ZipfianGenerator>(static_cast<uint64_t>(FLAGS_num), 0.99);
  }
  PrintBackendHeader();
  if (!FLAGS_use_existing_db) std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(std::filesystem::path(dir_).parent_path());
  Open();
  ResetKeys(/*known=*/!FLAGS_use_existing_db);

  int index = 0;
  for (const std::string& name : Split(FLAGS_benchmarks)) {
    RunOne(name, index++);
  }
  db_->Close();
  fmt::print("{}: done; DB left in {}\n", db_->Name(), dir_);
}

void Benchmark::Open() {
  std::string err;
  if (!db_->Open(&err)) Die(fmt::format("{}: open {}: {}", db_->Name(), dir_, err));
}

void Benchmark::PrintBackendHeader() {
  fmt::print("------------------------------------------------\n");
  for (const std::string& line : db_->Describe()) fmt::print("{}\n", line);
  fmt::print("  settle: {}\n", db_->SettleMethod());
  fmt::print("  readrange: {}\n", db_->GetRangeMethod());
  fmt::print("  compact: {}\n", db_->CompactFullMethod());
  fmt::print("  write amplification from: {}\n", db_->WriteAmpSource());
  fmt::print("  DB directory: {}\n", dir_);
  fmt::print("------------------------------------------------\n");
  std::fflush(stdout);
}

uint64_t Benchmark::Reads() const {
  return static_cast<uint64_t>(FLAGS_reads < 0 ? FLAGS_num : FLAGS_reads);
}

void Benchmark::ResetKeys(bool known) {
  keys_.Reset(known);
  next_insert_.store(static_cast<uint64_t>(FLAGS_num));
}

void Benchmark::EncodeKey(uint64_t k, char* dst) {
  bench::EncodeKey(k, static_cast<size_t>(FLAGS_key_size), dst);
}

void Benchmark::RunOne(const std::string& name, int index) {
  // How each benchmark runs: kReaders = --threads threads; kReadersAndWriter
  // = --threads readers + one writer (reported apart); kSyncWriters =
  // --sync_threads writers.
  enum Threads { kOne, kReaders, kReadersAndWriter, kSyncWriters };
  struct Spec {
    const char* name;
    Method method;
    bool fresh;   // starts from an empty DB
    bool writes;  // settles afterwards; write amplification
    Threads threads;
  };
  static constexpr Spec kSpecs[] = {
      {"fillseq", &Benchmark::FillSeq, true, true, kOne},
      {"fillrandom", &Benchmark::FillRandom, true, true, kOne},
      {"overwrite", &Benchmark::Overwrite, false, true, kOne},
      {"readrandom", &Benchmark::ReadRandom, false, false, kReaders},
      {"multireadrandom", &Benchmark::MultiReadRandom, false, false, kReaders},
      {"readmissing", &Benchmark::ReadMissing, false, false, kReaders},
      {"seekrandom", &Benchmark::SeekRandom, false, false, kReaders},
      {"readrange", &Benchmark::ReadRange, false, false, kReaders},
      {"readseq", &Benchmark::ReadSeq, false, false, kReaders},
      {"readwhilewriting", &Benchmark::ReadWhileWriting, false, true, kReadersAndWriter},
      {"deleterandom", &Benchmark::DeleteRandom, false, true, kOne},
      {"fillsync", &Benchmark::FillSync, true, true, kSyncWriters},
      {"compact", &Benchmark::Compact, false, true, kOne},
      {"ycsbload", &Benchmark::YcsbLoad, true, true, kReaders},
  };
  Spec spec{};
  ycsb_ = FindYcsbWorkload(name);
  if (ycsb_ != nullptr) {
    spec = {ycsb_->name, &Benchmark::YcsbRun, false, ycsb_->Writes(), kReaders};
  } else {
    const auto it = std::find_if(std::begin(kSpecs), std::end(kSpecs),
                                 [&](const Spec& s) { return name == s.name; });
    if (it == std::end(kSpecs)) {
      fmt::print(stderr, "unknown benchmark '{}' (known: {},compact,{})\n", name, kAllBenchmarks,
                 kYcsbBenchmarks);
      return;
    }
    spec = *it;
  }
  const int readers = static_cast<int>(FLAGS_threads);
  int threads = 1;
  if (spec.threads == kReaders) threads = readers;
  if (spec.threads == kReadersAndWriter) threads = readers + 1;
  std::string row = name;
  if (spec.threads == kSyncWriters) {
    threads = static_cast<int>(FLAGS_sync_threads);
    if (threads > 1) row = fmt::format("{}.{}t", name, threads);
  }

  if (spec.fresh) {
    if (FLAGS_use_existing_db) {
      fmt::print("{:<16} : skipped (--use_existing_db=1)\n", name);
      return;
    }
    db_->Close();
    std::filesystem::remove_all(dir_);
    Open();
    ResetKeys(/*known=*/true);
  }
  if (ycsb_ != nullptr && keys_.known() && keys_.Count() == 0) {
    fmt::print("{:<16} : skipped (the DB is empty: run ycsbload first)\n", name);
    return;
  }

  // Peak RSS of this benchmark alone; the process peak is kept for the human line.
  peak_rss_ = std::max(peak_rss_, ProcKb("/proc/self/status", "VmHWM"));
  phase_peak_rss_ = ResetPeakRss();

  std::string err;
  const std::optional<uint64_t> table_bytes_before = db_->TableBytesWritten();
  const CacheCounters cache_before = db_->GetCacheCounters();
  writer_stats_ = Stats();
  readers_done_.store(0);
  num_threads_ = threads;
  num_readers_ = spec.threads == kReadersAndWriter ? readers : threads;
  Stats s = RunThreads(threads, spec.method, index);

  double settle_seconds = -1;
  if (spec.writes) {
    const uint64_t t0 = NowNanos();
    if (!db_->Settle(&err)) Die(fmt::format("{}: settle after {}: {}", db_->Name(), name, err));
    settle_seconds = static_cast<double>(NowNanos() - t0) / 1e9;
  }
  const std::optional<uint64_t> table_bytes_after = db_->TableBytesWritten();
  if (spec.writes && FLAGS_verify_settle) {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const std::optional<uint64_t> later = db_->TableBytesWritten();
    if (later != table_bytes_after) {
      fmt::print("WARNING: {} {}: {} table bytes written in the 2 s after settle\n", db_->Name(),
                 name, later && table_bytes_after ? *later - *table_bytes_after : 0);
    }
  }
  Report(row, s, spec.writes, settle_seconds, table_bytes_before, table_bytes_after);
  if (FLAGS_cache_stats) PrintCacheStats(row, cache_before, db_->GetCacheCounters());
}

void Benchmark::PrintCacheStats(const std::string& name, const CacheCounters& a,
                                const CacheCounters& b) {
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

Stats Benchmark::RunThreads(int n, Method method, int index) {
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

void Benchmark::Fail(const char* op, const std::string& err) {
  Die(fmt::format("{}: {} failed: {}", db_->Name(), op, err));
}

void Benchmark::Report(const std::string& name, const Stats& s, bool writes, double settle_seconds,
                       std::optional<uint64_t> tb_before, std::optional<uint64_t> tb_after) {
  const double seconds = static_cast<double>(s.end_ns - s.start_ns) / 1e9;
  const double ops_per_sec = seconds > 0 ? static_cast<double>(s.ops) / seconds : 0;
  const double mb_per_sec = seconds > 0 ? static_cast<double>(s.bytes) / 1048576.0 / seconds : 0;
  const double p50 = s.hist.PercentileMicros(50), p99 = s.hist.PercentileMicros(99),
               p999 = s.hist.PercentileMicros(99.9);
  uint64_t allocated, apparent;
  DiskUsage(dir_, &allocated, &apparent);
  const uint64_t rss = ProcKb("/proc/self/status", "VmRSS");
  const uint64_t hwm = ProcKb("/proc/self/status", "VmHWM");
  peak_rss_ = std::max(peak_rss_, hwm);

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
  // compact: space amplification = the DB's size as the benchmarks before
  // left it / its size with only live data, fully compacted.
  std::optional<double> space_amp;
  if (name == "compact" && allocated > 0) {
    space_amp = static_cast<double>(db_bytes_before_compact_) / static_cast<double>(allocated);
    extra += fmt::format("; space amp {:.3f} (db {} before the full compaction)", *space_amp,
                         Mib(static_cast<double>(db_bytes_before_compact_)));
  }
  if (ycsb_ != nullptr) {
    uint64_t lookups = 0;
    for (int op = 0; op < kYcsbOpCount && op < static_cast<int>(s.by_op.size()); op++) {
      if (ycsb_->proportion[op] == 0) continue;
      const OpStats& o = s.by_op[op];
      extra += fmt::format(
          "; {} {:.1f}% p99 {:.1f} us", YcsbOpName(static_cast<YcsbOp>(op)),
          s.ops > 0 ? 100.0 * static_cast<double>(o.ops) / static_cast<double>(s.ops) : 0.0,
          o.hist.PercentileMicros(99));
      if (op != static_cast<int>(YcsbOp::kUpdate) && op != static_cast<int>(YcsbOp::kInsert)) {
        lookups += o.ops;
      }
    }
    extra += fmt::format("; {} of {} reads/scans found their key", s.found, lookups);
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
      Mib(static_cast<double>(rss)), Mib(static_cast<double>(peak_rss_)), LoadAverage(), extra);
  // The request distribution of the row: YCSB rows name their own.
  const std::string dist = ycsb_ != nullptr && ycsb_->latest ? std::string("latest")
                           : name.rfind("ycsb", 0) == 0      ? FLAGS_ycsb_distribution
                                                             : FLAGS_read_distribution;
  const std::string phase_peak = phase_peak_rss_ ? std::to_string(hwm) : std::string("NA");
  auto tsv = [&](const std::string& bench, uint64_t ops, double opss, double mbs, double q50,
                 double q99, double q999, const std::string& wa) {
    fmt::print(
        "TSV\t{}\t{}\t{}\t{}\t{:.3f}\t{:.0f}\t{:.2f}\t{:.2f}\t{:.2f}\t{:.2f}\t{}\t{}\t{}\t{}\t{}\t{"
        "}"
        "\t{}\t{}\t{}\t{}\n",
        db_->Name(), bench, FLAGS_num, ops, seconds, opss, mbs, q50, q99, q999, allocated, wa, dist,
        FLAGS_row_cache_size, FLAGS_use_direct_reads ? 1 : 0, FLAGS_readahead_size,
        FLAGS_multiget_batch, rss, phase_peak,
        space_amp && bench == name ? fmt::format("{:.3f}", *space_amp) : std::string("NA"));
  };
  tsv(name, s.ops, ops_per_sec, mb_per_sec, p50, p99, p999,
      wamp ? fmt::format("{:.3f}", *wamp) : std::string("NA"));
  // YCSB: one more row per operation type of the mix, "<benchmark>.<op>";
  // ops/s is that type's share of the same wall time, write_amp NA.
  if (ycsb_ != nullptr) {
    for (int op = 0; op < kYcsbOpCount && op < static_cast<int>(s.by_op.size()); op++) {
      if (ycsb_->proportion[op] == 0) continue;
      const OpStats& o = s.by_op[op];
      tsv(name + "." + YcsbOpName(static_cast<YcsbOp>(op)), o.ops,
          seconds > 0 ? static_cast<double>(o.ops) / seconds : 0,
          seconds > 0 ? static_cast<double>(o.bytes) / 1048576.0 / seconds : 0,
          o.hist.PercentileMicros(50), o.hist.PercentileMicros(99), o.hist.PercentileMicros(99.9),
          "NA");
    }
  }

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
    const uint64_t per_thread = s.ops / static_cast<uint64_t>(std::max<int64_t>(1, FLAGS_threads));
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

}  // namespace basalt::bench

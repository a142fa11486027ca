// basalt_db_bench: LevelDB-style db_bench that drives Basalt, RocksDB and
// LevelDB with identical workloads and settings, printed at the top. This
// file is the orchestration: flags check, the run's header, one child
// process per backend. The workloads live in benchmark.h (driver),
// workloads.cc (LevelDB's) and ycsb.cc (YCSB's); the flags in bench_flags.cc.
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
//                    (--sync_threads writers share them)
// Not in the default list:
//   compact          one full compaction of the DB as the benchmarks before
//                    left it (Backend::CompactFull); space amplification =
//                    db size before / db size after (e.g.
//                    --benchmarks=fillrandom,overwrite,compact)
// YCSB (not in the default list; ycsb.h has the definitions):
//   ycsbload         fresh DB, then every key of [0, num) once, in a hashed
//                    order (YCSB's insertorder=hashed), by --threads threads
//   ycsba ... ycsbf  YCSB's core workloads A-F: --ycsb_ops operations per
//                    thread (default --reads) on --threads threads over the
//                    DB as it is (skipped when it is known empty: run
//                    ycsbload first); request keys per --ycsb_distribution
//                    (zipfian or uniform; ycsbd: latest)
//
// Fresh DB (fill*, ycsbload): the backend's directory is deleted and the DB
// recreated; the other benchmarks reuse the DB as the previous ones left it.
// Writes come from one thread (ycsb*: every thread reads and writes);
// --threads applies to the read benchmarks.
// After every benchmark that writes, the backend settles: memtable flushed and
// no flush or compaction running or pending (time printed as "settle", not
// part of ops/s). Then the size on disk (du of the DB dir) is taken, and write
// amplification = table bytes written (flush + compaction) during the
// benchmark and its settle / user key+value bytes written by it (WAL excluded).
//
// Output per benchmark: one human line, then "TSV\t" + fixed columns:
//   backend benchmark num ops seconds ops_per_sec mb_per_sec p50_us p99_us
//   p999_us db_bytes write_amp read_dist row_cache_bytes
//   direct_reads readahead multiget_batch rss_bytes phase_peak_rss_bytes
//   space_amp
//   (write_amp is NA where nothing was written; read_dist is the request
//   distribution of ycsb rows (latest for ycsbd); the read settings of the run:
//   direct reads 0/1; read-ahead -1 = engine default, 0 = off, else bytes;
//   keys per MultiGet; resident memory after the benchmark and its peak
//   during the benchmark, NA where the kernel cannot reset the peak;
//   space_amp: compact rows only, else NA).
//   ycsb[a-f] add one row per operation type of the mix, named
//   "<benchmark>.<op>" (op: read, update, insert, scan, rmw): its ops, its
//   ops/s over the same wall time, its latency percentiles, write_amp NA.
//   --cache_stats=1 adds a line of block and row cache hit rates over the
//   benchmark.
//
// Usage: basalt_db_bench [--backends=basalt,rocksdb,leveldb] [--num=N] ...
//        basalt_db_bench --help     (all flags with defaults)
// With several backends each one runs in its own child process (so resident
// memory is per backend), one after another.

#include <fmt/format.h>
#include <spawn.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/db_bench/backend.h"
#include "bench/db_bench/bench_flags.h"
#include "bench/db_bench/benchmark.h"
#include "bench/db_bench/flags.h"
#include "bench/db_bench/machine.h"
#include "bench/db_bench/ycsb.h"

extern char** environ;

namespace basalt::bench {
namespace {

void PrintHelp() {
  fmt::print("basalt_db_bench: db_bench for basalt, rocksdb and leveldb on identical settings.\n");
  fmt::print("benchmarks: {}\n", kAllBenchmarks);
  fmt::print(
      "not in the default list: compact (one full compaction; space amplification = db\n"
      "  size before / after), e.g. --benchmarks=fillrandom,overwrite,compact\n");
  fmt::print(
      "YCSB benchmarks (not in the default list): {}\n"
      "  ycsbload: fresh DB, --num records in a hashed order; ycsba..ycsbf: YCSB's core\n"
      "  workloads A-F on the DB as it is (A 50/50 read/update, B 95/5 read/update,\n"
      "  C read only, D 95/5 read latest/insert, E 95/5 scan 1..100/insert, F 50/50\n"
      "  read/read-modify-write); --ycsb_ops per thread, keys per --ycsb_distribution.\n"
      "  YCSB's order (D and E insert, E gets a fresh load):\n"
      "  --benchmarks=ycsbload,ycsba,ycsbb,ycsbc,ycsbf,ycsbd,ycsbload,ycsbe\n",
      kYcsbBenchmarks);
  fmt::print("compiled backends: {}\nflags (--name=value):\n", CompiledBackends());
  PrintFlags("child");
}

BackendConfig MakeConfig(const std::string& dir) {
  BackendConfig c;
  c.dir = dir;
  c.cache_size = static_cast<uint64_t>(FLAGS_cache_size);
  c.row_cache_size = static_cast<uint64_t>(FLAGS_row_cache_size);
  c.cache_stats = FLAGS_cache_stats;
  c.bloom_bits = static_cast<int>(FLAGS_bloom_bits);
  c.round_robin_pick = FLAGS_compaction_pick == "round_robin";
  c.read_compaction = FLAGS_read_compaction;
  c.charge_metadata = FLAGS_charge_metadata;
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
  fmt::print(
      "durability:   {}; fillsync: {} writes, fsync each, by {} writer thread(s); WAL on in all "
      "backends\n",
      FLAGS_sync ? "--sync=1: every write fsyncs" : "--sync=0: no fsync per write",
      std::max<int64_t>(1, FLAGS_num / 100), FLAGS_sync_threads);
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
      "space amp:    compact rows: db before a full compaction / db after it (the\n"
      "              backend's full compaction: see 'compact' per backend below)\n");
  fmt::print(
      "write amp:    table bytes written by flush + compaction during the benchmark and\n"
      "              its settle / user key+value bytes written (keys only for deletes);\n"
      "              WAL bytes excluded\n");
  fmt::print(
      "latency:      per op (steady_clock), all reader threads merged; seekrandom's op\n"
      "              = new iterator + Seek + {} Next\n",
      FLAGS_seek_nexts);
  fmt::print(
      "memory:       rss = VmRSS after the benchmark; peak = the process's VmHWM (human line)\n"
      "              or, in TSV, the peak during the benchmark alone (VmHWM reset at its start\n"
      "              through /proc/self/clear_refs)\n");
  bool ycsb = false;
  for (const std::string& name : Split(FLAGS_benchmarks)) {
    ycsb = ycsb || name == "ycsbload" || FindYcsbWorkload(name) != nullptr;
  }
  if (ycsb) {
    fmt::print(
        "ycsb:         ycsbload: fresh DB, keys [0, {}) once each in a hashed order, {} "
        "thread(s);\n"
        "              ycsb[a-f]: {} ops per thread, {} thread(s), every thread mixes reads and\n"
        "              writes; request keys {}; ycsbd reads: latest (zipfian rank from the\n"
        "              newest insert); inserts: key numbers from {} up; update = Put of a new\n"
        "              value; rmw = Get + Put, one latency; scan = GetRange(start, uniform\n"
        "              1..{}) (per backend: the readrange line); latency per op of any type,\n"
        "              and per type in the <benchmark>.<op> rows\n",
        FLAGS_num, FLAGS_threads, YcsbOpsPerThread(), FLAGS_threads,
        FLAGS_ycsb_distribution == "zipfian"
            ? "zipfian, theta 0.99 over [0, num), scrambled (FNV-1a of the rank mod num)"
            : "uniform over [0, num)",
        FLAGS_num, kYcsbMaxScanLength);
  }
#ifndef NDEBUG
  fmt::print("WARNING:      assertions are enabled; build Release for benchmarks\n");
#endif
  fmt::print(
      "TSV\tbackend\tbenchmark\tnum\tops\tseconds\tops_per_sec\tmb_per_sec\tp50_us\tp99_us"
      "\tp999_us\tdb_bytes\twrite_amp\tread_dist\trow_cache_bytes\tdirect_reads\treadahead"
      "\tmultiget_batch\trss_bytes\tphase_peak_rss_bytes\tspace_amp\n");
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
  if (FLAGS_sync_threads <= 0 || FLAGS_sync_threads > 1024) Die("need 0 < --sync_threads <= 1024");
  if (FLAGS_compaction_pick != "min_overlap" && FLAGS_compaction_pick != "round_robin") {
    Die("--compaction_pick must be min_overlap or round_robin");
  }
  if (FLAGS_read_compaction != "off" && FLAGS_read_compaction != "seeks" &&
      FLAGS_read_compaction != "all") {
    Die("--read_compaction must be off, seeks or all");
  }
  if (FLAGS_compression != "lz4" && FLAGS_compression != "none") {
    Die("--compression must be lz4 or none");
  }
  if (FLAGS_read_distribution != "uniform" && FLAGS_read_distribution != "zipfian") {
    Die("--read_distribution must be uniform or zipfian");
  }
  if (FLAGS_ycsb_distribution != "uniform" && FLAGS_ycsb_distribution != "zipfian") {
    Die("--ycsb_distribution must be uniform or zipfian");
  }
  if (FLAGS_ycsb_ops < -1) Die("need --ycsb_ops >= 0 (or -1: --reads)");
  if (std::to_string(KeySpaceCapacity() - 1).size() > static_cast<size_t>(FLAGS_key_size)) {
    Die(fmt::format("--key_size={} cannot hold the key numbers of ycsbd/ycsbe inserts (up to {})",
                    FLAGS_key_size, KeySpaceCapacity() - 1));
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
}  // namespace basalt::bench

int main(int argc, char** argv) { return basalt::bench::Main(argc, argv); }

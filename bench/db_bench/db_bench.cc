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
#include "bench/db_bench/histogram.h"
#include "engine/base/random.h"

extern char** environ;

namespace basalt::bench {
namespace {

// ---------------------------------------------------------------------------
// Flags. BENCH_FLAG(type, name, default, help) defines FLAGS_name; the help
// text is what --help prints.

enum class FlagType { kBool, kInt, kBytes, kDouble, kString };
struct FlagInfo {
  const char* name;
  FlagType type;
  void* ptr;
  const char* help;
};
std::vector<FlagInfo>& Flags() {
  static std::vector<FlagInfo> flags;
  return flags;
}
struct FlagRegistrar {
  FlagRegistrar(const char* name, FlagType type, void* ptr, const char* help) {
    Flags().push_back({name, type, ptr, help});
  }
};
#define BENCH_FLAG(ctype, ftype, name, value, help) \
  ctype FLAGS_##name = value;                       \
  FlagRegistrar flag_registrar_##name(#name, FlagType::ftype, &FLAGS_##name, help)

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

bool ParseFlag(const char* arg) {
  if (std::strncmp(arg, "--", 2) != 0) return false;
  const char* eq = std::strchr(arg, '=');
  if (eq == nullptr) return false;
  const std::string name(arg + 2, eq);
  const char* value = eq + 1;
  for (const FlagInfo& f : Flags()) {
    if (name != f.name) continue;
    char* end = nullptr;
    switch (f.type) {
      case FlagType::kBool:
        if (!std::strcmp(value, "1") || !std::strcmp(value, "true")) {
          *static_cast<bool*>(f.ptr) = true;
        } else if (!std::strcmp(value, "0") || !std::strcmp(value, "false")) {
          *static_cast<bool*>(f.ptr) = false;
        } else {
          return false;
        }
        return true;
      case FlagType::kInt:
      case FlagType::kBytes: {
        long long v = std::strtoll(value, &end, 10);
        if (end == value) return false;
        if (f.type == FlagType::kBytes && *end != '\0') {
          const char unit = static_cast<char>(*end | 0x20);
          if (unit == 'k')
            v <<= 10;
          else if (unit == 'm')
            v <<= 20;
          else if (unit == 'g')
            v <<= 30;
          else
            return false;
          end++;
          if (*end == 'i' || *end == 'I') end++;
          if (*end == 'b' || *end == 'B') end++;
        }
        if (*end != '\0') return false;
        *static_cast<int64_t*>(f.ptr) = v;
        return true;
      }
      case FlagType::kDouble:
        *static_cast<double*>(f.ptr) = std::strtod(value, &end);
        return end != value && *end == '\0';
      case FlagType::kString:
        *static_cast<std::string*>(f.ptr) = value;
        return true;
    }
  }
  return false;
}

void PrintHelp() {
  fmt::print("basalt_db_bench: db_bench for basalt, rocksdb and leveldb on identical settings.\n");
  fmt::print("benchmarks: {}\ncompiled backends: {}\nflags (--name=value):\n", kAllBenchmarks,
             CompiledBackends());
  for (const FlagInfo& f : Flags()) {
    if (std::strcmp(f.name, "child") == 0) continue;
    std::string def;
    switch (f.type) {
      case FlagType::kBool:
        def = std::to_string(static_cast<int>(*static_cast<bool*>(f.ptr)));
        break;
      case FlagType::kInt:
      case FlagType::kBytes:
        def = std::to_string(*static_cast<int64_t*>(f.ptr));
        break;
      case FlagType::kDouble:
        def = fmt::format("{}", *static_cast<double*>(f.ptr));
        break;
      case FlagType::kString:
        def = *static_cast<std::string*>(f.ptr);
        break;
    }
    fmt::print("  --{}={}\n      {}\n", f.name, def, f.help);
  }
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

// A "Key: value" line of /proc/self/status or /proc/meminfo, in bytes (kB units).
uint64_t ProcKb(const char* path, const char* key) {
  std::ifstream in(path);
  std::string line;
  const size_t n = std::strlen(key);
  while (std::getline(in, line)) {
    if (line.compare(0, n, key) == 0 && line.size() > n && line[n] == ':') {
      return std::strtoull(line.c_str() + n + 1, nullptr, 10) * 1024;
    }
  }
  return 0;
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, 10, "model name") == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown";
}

std::string FilesystemType(const std::string& path) {
  struct statfs st;
  std::filesystem::path p(path);
  while (!p.empty() && !std::filesystem::exists(p)) p = p.parent_path();
  if (statfs(p.empty() ? "/" : p.c_str(), &st) != 0) return "unknown";
  switch (static_cast<uint64_t>(st.f_type)) {
    case 0xEF53:
      return "ext4";
    case 0x01021994:
      return "tmpfs (memory: fsync is free)";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x794C7630:
      return "overlayfs";
    default:
      return fmt::format("f_type {:#x}", static_cast<uint64_t>(st.f_type));
  }
}

// du of dir: allocated bytes (st_blocks) and apparent bytes (st_size).
void DiskUsage(const std::string& dir, uint64_t* allocated, uint64_t* apparent) {
  *allocated = *apparent = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    *allocated += static_cast<uint64_t>(st.st_blocks) * 512;
    *apparent += static_cast<uint64_t>(st.st_size);
  }
}

// ---------------------------------------------------------------------------
// Keys and values.

// The key of number k: FLAGS_key_size bytes, zero-padded decimal.
void EncodeKey(uint64_t k, char* dst) {
  for (int64_t i = FLAGS_key_size - 1; i >= 0; i--) {
    dst[i] = static_cast<char>('0' + k % 10);
    k /= 10;
  }
}

// LevelDB's RandomGenerator: a buffer of 100-byte pieces, each a random
// printable string of 100 * ratio bytes repeated to fill the piece, so that
// values compress to about `ratio`. Generate() hands out consecutive slices.
class ValueGenerator {
 public:
  ValueGenerator(uint64_t seed, size_t value_size) {
    Random rnd(seed);
    const size_t total = std::max<size_t>(1 << 20, 2 * value_size);
    while (data_.size() < total) {
      const size_t raw = std::max<size_t>(1, static_cast<size_t>(100 * FLAGS_compression_ratio));
      std::string random;
      for (size_t i = 0; i < raw; i++) random.push_back(static_cast<char>(' ' + rnd.Uniform(95)));
      std::string piece;
      while (piece.size() < 100) piece.append(random, 0, std::min(raw, 100 - piece.size()));
      data_ += piece;
    }
  }
  std::string_view Generate(size_t len) {
    if (pos_ + len > data_.size()) pos_ = 0;
    pos_ += len;
    return std::string_view(data_).substr(pos_ - len, len);
  }

 private:
  std::string data_;
  size_t pos_ = 0;
};

// YCSB's zipfian generator (Gray et al., "Quickly generating billion-record
// synthetic databases"): rank r in [0, n) with probability ~ 1/(r+1)^theta.
// Scrambled as YCSB's ScrambledZipfianGenerator: the key is a hash (FNV-1a)
// of the rank mod n, so the hot keys are spread over the key space instead of
// sitting in its first blocks. Immutable after construction: share it.
class ZipfianGenerator {
 public:
  ZipfianGenerator(uint64_t n, double theta) : n_(n), theta_(theta) {
    double zetan = 0;
    for (uint64_t i = 1; i <= n; i++) zetan += 1.0 / std::pow(static_cast<double>(i), theta);
    zetan_ = zetan;
    const double zeta2 = 1.0 + 1.0 / std::pow(2.0, theta);
    alpha_ = 1.0 / (1.0 - theta);
    eta_ = (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta)) / (1.0 - zeta2 / zetan_);
  }
  uint64_t NextRank(Random* rnd) const {
    const double u = static_cast<double>(rnd->Next() >> 11) * 0x1.0p-53;
    const double uz = u * zetan_;
    if (uz < 1.0) return 0;
    if (uz < 1.0 + std::pow(0.5, theta_)) return 1;
    const auto r =
        static_cast<uint64_t>(static_cast<double>(n_) * std::pow(eta_ * u - eta_ + 1.0, alpha_));
    return std::min(r, n_ - 1);
  }
  uint64_t NextKey(Random* rnd) const { return Fnv1a64(NextRank(rnd)) % n_; }

 private:
  static uint64_t Fnv1a64(uint64_t v) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < 8; i++) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 0x100000001b3ULL;
    }
    return h;
  }
  const uint64_t n_;
  const double theta_;
  double zetan_ = 0, alpha_ = 0, eta_ = 0;
};

// Which key numbers are present in the DB, as far as this process wrote them.
// Lets readrandom read only existing keys and readseq check its count.
// Thread-safe (atomic words).
class KeySet {
 public:
  explicit KeySet(uint64_t n) : n_(n), words_((n + 63) / 64) {}
  // known: the DB is empty (we track it from here on); !known: unknown contents.
  void Reset(bool known) {
    for (auto& w : words_) w.store(0, std::memory_order_relaxed);
    known_ = known;
  }
  bool known() const { return known_; }
  void Set(uint64_t k) { words_[k / 64].fetch_or(Bit(k), std::memory_order_relaxed); }
  void Clear(uint64_t k) { words_[k / 64].fetch_and(~Bit(k), std::memory_order_relaxed); }
  bool Test(uint64_t k) const {
    return (words_[k / 64].load(std::memory_order_relaxed) & Bit(k)) != 0;
  }
  uint64_t Count() const {
    uint64_t c = 0;
    for (auto& w : words_)
      c += static_cast<uint64_t>(std::popcount(w.load(std::memory_order_relaxed)));
    return c;
  }
  // A uniformly chosen present key, or nullopt if none is.
  std::optional<uint64_t> PickPresent(Random* rnd) const {
    for (int i = 0; i < 64; i++) {
      const uint64_t k = rnd->Uniform(n_);
      if (Test(k)) return k;
    }
    const uint64_t start = rnd->Uniform(n_);  // sparse set: scan forward
    for (uint64_t i = 0; i < n_; i++) {
      const uint64_t k = (start + i) % n_;
      if (Test(k)) return k;
    }
    return std::nullopt;
  }

 private:
  static uint64_t Bit(uint64_t k) { return uint64_t{1} << (k % 64); }
  uint64_t n_;
  std::vector<std::atomic<uint64_t>> words_;
  bool known_ = false;
};

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
      : tid(id), rnd(seed), values(seed, static_cast<size_t>(FLAGS_value_size)) {}
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

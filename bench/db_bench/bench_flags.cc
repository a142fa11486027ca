#include "bench/db_bench/bench_flags.h"

#include "bench/db_bench/flags.h"

namespace basalt::bench {

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
BENCH_FLAG(int64_t, kInt, num, 1000000,
           "number of keys: key space [0, num); entries per fill; records of ycsbload");
BENCH_FLAG(int64_t, kInt, reads, -1, "ops per reader thread in read benchmarks (-1: --num)");
BENCH_FLAG(int64_t, kInt, threads, 1,
           "reader threads for the read benchmarks; client threads of ycsbload and ycsb[a-f]");
BENCH_FLAG(int64_t, kInt, sync_threads, 1,
           "writer threads of fillsync, sharing its num/100 writes (group commit); its "
           "row is fillsync.<N>t when N > 1");
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
BENCH_FLAG(int64_t, kInt, ycsb_ops, -1, "operations per thread in ycsb[a-f] (-1: --reads)");
BENCH_FLAG(std::string, kString, ycsb_distribution, "zipfian",
           "request keys of ycsba, b, c, e, f: zipfian (YCSB's default: theta 0.99 over "
           "[0, num), scrambled) or uniform; ycsbd always uses latest, as YCSB's workloadd");
BENCH_FLAG(bool, kBool, cache_stats, false,
           "1: print block/row cache hit rates per read benchmark (RocksDB: turns on "
           "statistics tickers, StatsLevel kExceptHistogramOrTimers)");
BENCH_FLAG(int64_t, kInt, bloom_bits, 10, "bloom filter bits per key (0: no filter)");
BENCH_FLAG(std::string, kString, compression, "lz4",
           "lz4 or none (LevelDB has no lz4: it gets snappy, and says so)");
BENCH_FLAG(std::string, kString, compaction_pick, "min_overlap",
           "Basalt's leveled compactions: which file of a level goes down, min_overlap "
           "(RocksDB's kMinOverlappingRatio) or round_robin (LevelDB's)");
BENCH_FLAG(std::string, kString, read_compaction, "seeks",
           "Basalt: Options::read_triggered_compaction (LevelDB's seek compaction: files that "
           "reads pass through are compacted down): off, seeks (iterators; the engine's "
           "default) or all (iterators and Gets, as LevelDB)");
BENCH_FLAG(bool, kBool, charge_metadata, true,
           "Basalt: Options::charge_table_metadata (open tables' filter and index blocks and "
           "block index leaves charged to --cache_size; 0: on top of it, as RocksDB's and "
           "LevelDB's defaults)");
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

}  // namespace basalt::bench

// basalt_db_bench's flags: declared here, defined with their defaults and help
// text in bench_flags.cc (the BENCH_FLAG registry of flags.h). main sets them
// once, on the main thread, before any benchmark runs; after that they are
// read-only, so every thread may read them.
#pragma once

#include <cstdint>
#include <string>

namespace basalt::bench {

// The default --benchmarks list (LevelDB's db_bench benchmarks).
inline constexpr const char* kAllBenchmarks =
    "fillseq,fillrandom,overwrite,readrandom,multireadrandom,readmissing,seekrandom,readrange,"
    "readseq,"
    "readwhilewriting,deleterandom,fillsync";
// YCSB's core workloads (ycsb.h), not in the default list: run them with
// --benchmarks=ycsbload,ycsba,...
inline constexpr const char* kYcsbBenchmarks = "ycsbload,ycsba,ycsbb,ycsbc,ycsbd,ycsbe,ycsbf";

// "basalt" plus the optional backends compiled in ("basalt,rocksdb,leveldb").
std::string CompiledBackends();

extern std::string FLAGS_benchmarks;
extern std::string FLAGS_backends;
extern int64_t FLAGS_num;
extern int64_t FLAGS_reads;
extern int64_t FLAGS_threads;
extern int64_t FLAGS_sync_threads;
extern std::string FLAGS_compaction_pick;
extern std::string FLAGS_read_compaction;
extern int64_t FLAGS_key_size;
extern int64_t FLAGS_value_size;
extern double FLAGS_compression_ratio;
extern int64_t FLAGS_cache_size;
extern int64_t FLAGS_row_cache_size;
extern std::string FLAGS_read_distribution;
extern int64_t FLAGS_ycsb_ops;
extern std::string FLAGS_ycsb_distribution;
extern bool FLAGS_cache_stats;
extern bool FLAGS_charge_metadata;
extern int64_t FLAGS_bloom_bits;
extern std::string FLAGS_compression;
extern int64_t FLAGS_write_buffer_size;
extern int64_t FLAGS_block_size;
extern bool FLAGS_sync;
extern bool FLAGS_use_direct_reads;
extern int64_t FLAGS_multiget_batch;
extern std::string FLAGS_encryption_key_file;
extern int64_t FLAGS_readahead_size;
extern std::string FLAGS_db;
extern bool FLAGS_use_existing_db;
extern int64_t FLAGS_seed;
extern int64_t FLAGS_seek_nexts;
extern bool FLAGS_histogram;
extern bool FLAGS_verify_settle;
extern bool FLAGS_stats;
extern bool FLAGS_child;

}  // namespace basalt::bench

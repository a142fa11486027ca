// YCSB's core workloads A–F at the engine level, as data: the operation mix
// of each and how its request keys are chosen. Sources: Cooper et al.,
// "Benchmarking Cloud Serving Systems with YCSB" (SoCC 2010), Table 2, and
// the workloads/workload[a-f] files of YCSB (brianfrankcooper/YCSB):
//
//   A  50% read, 50% update                        request distribution
//   B  95% read,  5% update                        request distribution
//   C 100% read                                    request distribution
//   D  95% read,  5% insert                        latest
//   E  95% scan,  5% insert; scan length uniform in [1, 100], start key by
//      the request distribution
//   F  50% read, 50% read-modify-write             request distribution
//
// The request distribution is --ycsb_distribution (zipfian, YCSB's default,
// or uniform). Benchmark::YcsbRun (ycsb.cc) executes a mix against a backend.
// Immutable tables: thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace basalt::bench {

// One engine-level operation of a YCSB workload (the values index per-op
// statistics; do not reorder).
enum class YcsbOp : int {
  kRead = 0,             // Get of one record
  kUpdate = 1,           // Put of a new value over an existing record (a blind write)
  kInsert = 2,           // Put of a new record, key number >= --num
  kScan = 3,             // the first n records with key >= a start key
  kReadModifyWrite = 4,  // Get, then Put of a new value to the same key; one latency
};
inline constexpr int kYcsbOpCount = 5;
// "read", "update", "insert", "scan", "rmw" (the suffix of per-operation TSV rows).
const char* YcsbOpName(YcsbOp op);

// YCSB's maxscanlength (workloade), with scanlengthdistribution=uniform.
inline constexpr uint64_t kYcsbMaxScanLength = 100;

struct YcsbWorkload {
  const char* name;     // the benchmark name: "ycsba" ... "ycsbf"
  const char* summary;  // for the header: "50% read, 50% update"
  // Fraction of each YcsbOp; they sum to 1.
  std::array<double, kYcsbOpCount> proportion;
  // Reads pick keys by YCSB's "latest" (the most recently inserted keys
  // most often) instead of --ycsb_distribution.
  bool latest;

  // YCSB's DiscreteGenerator: the operation for u, uniform in [0, 1).
  YcsbOp PickOp(double u) const;
  bool Writes() const {
    return proportion[static_cast<int>(YcsbOp::kRead)] +
               proportion[static_cast<int>(YcsbOp::kScan)] <
           1.0;
  }
  bool Inserts() const { return proportion[static_cast<int>(YcsbOp::kInsert)] > 0; }
};

// The workload called name ("ycsba" ... "ycsbf"), or nullptr.
const YcsbWorkload* FindYcsbWorkload(std::string_view name);

}  // namespace basalt::bench

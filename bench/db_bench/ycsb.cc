// YCSB's core workloads at the engine level (ycsb.h): the mixes, the load
// phase and the run phase.
//
// How a YCSB operation maps onto a key-value engine (a record is one key
// with one --value_size value, so YCSB's ten fields are one opaque value):
//   read    Get(key)
//   update  Put(key, new value): a blind overwrite of the whole record. YCSB
//           updates one field (writeallfields=false); an engine with opaque
//           values writes the record, as db_bench-style engine ports do.
//   insert  Put of a new key: key numbers from --num up, in order (YCSB's
//           transaction insert key sequence).
//   scan    Backend::GetRange(start, n): the first n records with key >=
//           start, n uniform in [1, 100] (Basalt: DB::GetRange; RocksDB and
//           LevelDB: iterator Seek + Next).
//   rmw     Get(key), then Put(key, new value); one latency for both, as
//           YCSB measures READ-MODIFY-WRITE.
// Request keys (read, update, rmw, scan start) are key numbers in [0, num),
// the loaded records: --ycsb_distribution=uniform, or zipfian (theta 0.99,
// scrambled: ZipfianGenerator). ycsbd reads by "latest" instead (YCSB's
// SkewedLatestGenerator): key = newest - zipfian rank over the current
// record count, so the most recent inserts are the hottest.

#include "bench/db_bench/ycsb.h"

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/db_bench/bench_flags.h"
#include "bench/db_bench/benchmark.h"

namespace basalt::bench {
namespace {

// Proportions in YcsbOp order: read, update, insert, scan, rmw.
constexpr YcsbWorkload kWorkloads[] = {
    {"ycsba", "50% read, 50% update", {0.50, 0.50, 0, 0, 0}, false},
    {"ycsbb", "95% read, 5% update", {0.95, 0.05, 0, 0, 0}, false},
    {"ycsbc", "100% read", {1.0, 0, 0, 0, 0}, false},
    {"ycsbd", "95% read (latest), 5% insert", {0.95, 0, 0.05, 0, 0}, true},
    {"ycsbe", "95% scan (1..100 records), 5% insert", {0, 0, 0.05, 0.95, 0}, false},
    {"ycsbf", "50% read, 50% read-modify-write", {0.50, 0, 0, 0, 0.50}, false},
};

}  // namespace

const char* YcsbOpName(YcsbOp op) {
  switch (op) {
    case YcsbOp::kRead:
      return "read";
    case YcsbOp::kUpdate:
      return "update";
    case YcsbOp::kInsert:
      return "insert";
    case YcsbOp::kScan:
      return "scan";
    case YcsbOp::kReadModifyWrite:
      return "rmw";
  }
  return "?";
}

YcsbOp YcsbWorkload::PickOp(double u) const {
  double sum = 0;
  int last = 0;
  for (int op = 0; op < kYcsbOpCount; op++) {
    if (proportion[op] == 0) continue;
    sum += proportion[op];
    last = op;
    if (u < sum) return static_cast<YcsbOp>(op);
  }
  return static_cast<YcsbOp>(last);  // rounding: u at the very top
}

const YcsbWorkload* FindYcsbWorkload(std::string_view name) {
  for (const YcsbWorkload& w : kWorkloads) {
    if (name == w.name) return &w;
  }
  return nullptr;
}

uint64_t Benchmark::YcsbRequestKey(ThreadState* ts) const {
  return ycsb_zipfian_ ? ycsb_zipf_->NextKey(&ts->rnd)
                       : ts->rnd.Uniform(static_cast<uint64_t>(FLAGS_num));
}

void Benchmark::YcsbLoad(ThreadState* ts) {
  const uint64_t num = static_cast<uint64_t>(FLAGS_num);
  const auto threads = static_cast<uint64_t>(num_threads_);
  const auto tid = static_cast<uint64_t>(ts->tid);
  const KeyPermutation order(num);
  for (uint64_t i = num * tid / threads; i < num * (tid + 1) / threads; i++) {
    TimedPut(ts, order.At(i), FLAGS_sync);
  }
  ts->stats.written_bytes = ts->stats.bytes;
}

void Benchmark::YcsbRun(ThreadState* ts) {
  const YcsbWorkload& w = *ycsb_;
  const auto key_size = static_cast<size_t>(FLAGS_key_size);
  const auto value_size = static_cast<size_t>(FLAGS_value_size);
  const uint64_t ops = YcsbOpsPerThread();
  ts->stats.by_op.resize(kYcsbOpCount);
  // ycsbd: this thread's copy of the zipfian, grown as records are inserted.
  std::optional<ZipfianGenerator> latest;
  if (w.latest) latest.emplace(*ycsb_zipf_);
  char key[64];
  std::string value, err;
  std::vector<std::pair<std::string, std::string>> rows;

  for (uint64_t i = 0; i < ops; i++) {
    const YcsbOp op = w.PickOp(static_cast<double>(ts->rnd.Next() >> 11) * 0x1.0p-53);
    uint64_t k;
    if (op == YcsbOp::kInsert) {
      k = next_insert_.fetch_add(1, std::memory_order_relaxed);
      if (k >= keys_.Capacity()) Die("ycsb: more inserts than KeySpaceCapacity() reserved");
    } else if (w.latest) {
      // Newest first: the records inserted so far are [0, count) (an insert
      // still under way may be read and not found: not a miss, see expect).
      const uint64_t count = next_insert_.load(std::memory_order_relaxed);
      latest->Grow(count);
      k = count - 1 - latest->NextRank(&ts->rnd);
    } else {
      k = YcsbRequestKey(ts);
    }
    EncodeKey(k, key);
    const std::string_view target(key, key_size);
    // Known present before this operation: a read must find it.
    const bool expect = keys_.known() && keys_.Test(k);

    uint64_t bytes = 0, written = 0;
    bool found = false;
    const uint64_t t0 = NowNanos();
    if (op == YcsbOp::kRead || op == YcsbOp::kReadModifyWrite) {
      const GetResult r = db_->Get(target, &value, &err);
      if (r == GetResult::kError) Fail("get", err);
      if (r == GetResult::kFound) {
        found = true;
        bytes += key_size + value.size();
        if (value.size() != value_size) ts->stats.bad_values++;
      }
    }
    if (op == YcsbOp::kScan) {
      const uint64_t n = 1 + ts->rnd.Uniform(kYcsbMaxScanLength);
      if (!db_->GetRange(target, static_cast<size_t>(n), &rows, &err)) Fail("range", err);
      found = !rows.empty() && rows[0].first == target;
      for (const auto& row : rows) {
        bytes += row.first.size() + row.second.size();
        if (row.second.size() != value_size) ts->stats.bad_values++;
      }
    }
    if (op == YcsbOp::kUpdate || op == YcsbOp::kInsert || op == YcsbOp::kReadModifyWrite) {
      const std::string_view v = ts->values.Generate(value_size);
      if (!db_->Put(target, v, FLAGS_sync, &err)) Fail("put", err);
      written = key_size + v.size();
      bytes += written;
    }
    const uint64_t nanos = NowNanos() - t0;

    if (written > 0) keys_.Set(k);
    if (found) {
      ts->stats.found++;
    } else if (expect &&
               (op == YcsbOp::kRead || op == YcsbOp::kReadModifyWrite || op == YcsbOp::kScan)) {
      ts->stats.missing_present++;
    }
    OpStats& o = ts->stats.by_op[static_cast<int>(op)];
    o.hist.Add(nanos);
    o.ops++;
    o.bytes += bytes;
    ts->stats.hist.Add(nanos);
    ts->stats.ops++;
    ts->stats.bytes += bytes;
    ts->stats.written_bytes += written;
  }
}

}  // namespace basalt::bench

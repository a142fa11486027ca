// LevelDB's db_bench workloads (its benchmarks/db_bench.cc), each run by
// every thread of its benchmark; Benchmark::RunOne says how many threads and
// whether the DB starts fresh.

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/db_bench/bench_flags.h"
#include "bench/db_bench/benchmark.h"
#include "bench/db_bench/machine.h"

namespace basalt::bench {

void Benchmark::TimedPut(ThreadState* ts, uint64_t k, bool sync) {
  char key[64];
  EncodeKey(k, key);
  const std::string_view value = ts->values.Generate(static_cast<size_t>(FLAGS_value_size));
  std::string err;
  const uint64_t t0 = NowNanos();
  if (!db_->Put(std::string_view(key, FLAGS_key_size), value, sync, &err)) Fail("put", err);
  ts->stats.hist.Add(NowNanos() - t0);
  keys_.Set(k);
  ts->stats.ops++;
  ts->stats.bytes += static_cast<uint64_t>(FLAGS_key_size) + value.size();
}

void Benchmark::Write(ThreadState* ts, bool seq, uint64_t n, bool sync) {
  for (uint64_t i = 0; i < n; i++) {
    TimedPut(ts, seq ? i : ts->rnd.Uniform(static_cast<uint64_t>(FLAGS_num)), sync);
  }
  ts->stats.written_bytes = ts->stats.bytes;
}

void Benchmark::FillSeq(ThreadState* ts) {
  Write(ts, true, static_cast<uint64_t>(FLAGS_num), FLAGS_sync);
}
void Benchmark::FillRandom(ThreadState* ts) {
  Write(ts, false, static_cast<uint64_t>(FLAGS_num), FLAGS_sync);
}
void Benchmark::Overwrite(ThreadState* ts) {
  Write(ts, false, static_cast<uint64_t>(FLAGS_num), FLAGS_sync);
}
void Benchmark::FillSync(ThreadState* ts) {
  // --sync_threads writers share the writes, so each commit can carry others'.
  const uint64_t n = std::max<uint64_t>(1, static_cast<uint64_t>(FLAGS_num) / 100);
  const auto threads = static_cast<uint64_t>(num_threads_);
  const auto tid = static_cast<uint64_t>(ts->tid);
  Write(ts, false, n * (tid + 1) / threads - n * tid / threads, true);
}

void Benchmark::DeleteRandom(ThreadState* ts) {
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

void Benchmark::Compact(ThreadState* ts) {
  uint64_t apparent;
  DiskUsage(dir_, &db_bytes_before_compact_, &apparent);
  std::string err;
  const uint64_t t0 = NowNanos();
  if (!db_->CompactFull(&err)) Fail("full compaction", err);
  ts->stats.hist.Add(NowNanos() - t0);
  ts->stats.ops = 1;
}

uint64_t Benchmark::RandomReadKey(ThreadState* ts) const {
  return zipf_ ? zipf_->NextKey(&ts->rnd) : ts->rnd.Uniform(static_cast<uint64_t>(FLAGS_num));
}

void Benchmark::ReadPresent(ThreadState* ts, uint64_t n) {
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

void Benchmark::ReadRandom(ThreadState* ts) { ReadPresent(ts, Reads()); }

// ReadPresent's keys, --multiget_batch at a time through MultiGet.
void Benchmark::MultiReadRandom(ThreadState* ts) {
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

void Benchmark::ReadMissing(ThreadState* ts) {
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

void Benchmark::SeekRandom(ThreadState* ts) {
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

void Benchmark::ReadRange(ThreadState* ts) {
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

void Benchmark::ReadSeq(ThreadState* ts) {
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

void Benchmark::ReadWhileWriting(ThreadState* ts) {
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

}  // namespace basalt::bench

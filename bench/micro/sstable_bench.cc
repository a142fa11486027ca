// Micro-benchmarks of the sstable hot paths (engine/lsm/sstable):
//
//   BM_BlockBuild   BlockBuilder::Add + Finish of 4 KiB data blocks (keys/s)
//   BM_BlockSeek    random Seek in a 4 KiB data block, restart interval 16
//   BM_BloomProbe   KeyMayMatch at 10 bits/key: arg 0 = present keys, 1 = absent
//   BM_Lz4Compress  LZ4 of a 4 KiB data block (compressible values)
//   BM_Lz4Uncompress  the inverse
//
// Keys are internal keys: "user%012u" + trailer; values 16-100 bytes.
// Run: basalt_micro --benchmark_filter='Block|Bloom|Lz4'

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "engine/base/random.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/sstable/block.h"
#include "engine/lsm/sstable/block_builder.h"
#include "engine/lsm/sstable/bloom.h"
#include "engine/lsm/sstable/compression.h"

namespace basalt::lsm {
namespace {

constexpr size_t kBlockSize = 4096;

std::string UserKey(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "user%012llu", static_cast<unsigned long long>(i));
  return buf;
}

std::string InternalKey(uint64_t i, SequenceNumber seq) {
  std::string k;
  AppendInternalKey(&k, UserKey(i), seq, ValueKind::kValue);
  return k;
}

// A value that compresses like typical item data (text-ish, repetitive).
std::string Value(Random* rnd) {
  static const char* kWords[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"};
  std::string v;
  const size_t len = 16 + rnd->Uniform(85);
  while (v.size() < len) v += kWords[rnd->Uniform(7)];
  v.resize(len);
  return v;
}

struct BlockData {
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::string contents;  // finished block of about kBlockSize bytes
};

BlockData MakeBlock(int restart_interval) {
  Random rnd(42);
  BlockData d;
  BlockBuilder b(restart_interval);
  for (uint64_t i = 0; b.CurrentSizeEstimate() < kBlockSize; i++) {
    d.keys.push_back(InternalKey(i * 3, 1000 - i));
    d.values.push_back(Value(&rnd));
    b.Add(d.keys.back(), d.values.back());
  }
  d.contents.assign(b.Finish());
  return d;
}

void BM_BlockBuild(benchmark::State& state) {
  const BlockData d = MakeBlock(16);
  BlockBuilder b(16);
  int64_t bytes = 0;
  for (auto _ : state) {
    b.Reset();
    for (size_t i = 0; i < d.keys.size(); i++) b.Add(d.keys[i], d.values[i]);
    benchmark::DoNotOptimize(b.Finish().data());
    bytes += static_cast<int64_t>(d.contents.size());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(d.keys.size()));
  state.SetBytesProcessed(bytes);
  state.counters["keys_per_block"] = static_cast<double>(d.keys.size());
}
BENCHMARK(BM_BlockBuild);

void BM_BlockSeek(benchmark::State& state) {
  const BlockData d = MakeBlock(static_cast<int>(state.range(0)));
  Block block(d.contents);
  BlockIterator it(&block, KeyOrder::kInternal);
  // Targets: every key of the block, shuffled, at a snapshot that hits it.
  Random rnd(7);
  std::vector<std::string> targets;
  for (size_t i = 0; i < 1024; i++) {
    const uint64_t k = rnd.Uniform(d.keys.size());
    targets.push_back(std::string(LookupKey(UserKey(k * 3), kMaxSequenceNumber).internal_key()));
  }
  size_t i = 0;
  int64_t found = 0;
  for (auto _ : state) {
    it.Seek(targets[i++ & 1023]);
    found += it.Valid();
    benchmark::DoNotOptimize(it.key().data());
  }
  if (found != state.iterations()) state.SkipWithError("seek missed");
  state.SetItemsProcessed(state.iterations());
  state.counters["block_bytes"] = static_cast<double>(d.contents.size());
}
BENCHMARK(BM_BlockSeek)->Arg(1)->Arg(16)->ArgName("restart_interval");

void BM_BloomProbe(benchmark::State& state) {
  const bool absent = state.range(0) != 0;
  constexpr uint64_t kKeys = 100000;
  std::vector<std::string> keys;
  for (uint64_t i = 0; i < kKeys; i++) keys.push_back(UserKey(i * 2));
  std::vector<std::string_view> views(keys.begin(), keys.end());
  BloomFilterPolicy policy(10);
  const std::string filter = policy.CreateFilter(views);
  std::vector<std::string> probes;
  for (uint64_t i = 0; i < 4096; i++) probes.push_back(UserKey((i * 7919 % kKeys) * 2 + absent));
  size_t i = 0;
  int64_t matches = 0;
  for (auto _ : state) {
    matches += BloomFilterPolicy::KeyMayMatch(probes[i++ & 4095], filter);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["match_rate"] =
      benchmark::Counter(static_cast<double>(matches) / static_cast<double>(state.iterations()));
  state.counters["filter_bytes"] = static_cast<double>(filter.size());
}
BENCHMARK(BM_BloomProbe)->Arg(0)->Arg(1)->ArgName("absent");

void BM_Lz4Compress(benchmark::State& state) {
  const BlockData d = MakeBlock(16);
  std::string out;
  for (auto _ : state) {
    benchmark::DoNotOptimize(Lz4Compress(d.contents, &out));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(d.contents.size()));
  state.counters["ratio"] =
      static_cast<double>(out.size()) / static_cast<double>(d.contents.size());
}
BENCHMARK(BM_Lz4Compress);

void BM_Lz4Uncompress(benchmark::State& state) {
  const BlockData d = MakeBlock(16);
  std::string compressed, out;
  if (!Lz4Compress(d.contents, &compressed)) {
    state.SkipWithError("compress failed");
    return;
  }
  for (auto _ : state) {
    Status s = Lz4Uncompress(compressed, &out);
    if (!s.ok()) {
      state.SkipWithError("uncompress failed");
      break;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(d.contents.size()));
}
BENCHMARK(BM_Lz4Uncompress);

}  // namespace
}  // namespace basalt::lsm

// Micro-benchmarks of the memtable (engine/lsm/memtable):
//
//   BM_SkipListInsert  N random uint64 keys into a fresh arena + skiplist (keys/s)
//   BM_SkipListLookup  Contains() of present keys in a 1M-key skiplist
//   BM_MemTableAdd     MemTable::Add of 16-byte user keys, 100-byte values, random order
//   BM_MemTableGet     MemTable::Get (LookupKey built per call, as DB::Get does) of
//                      present keys in a 256K-entry memtable
//
// Run: basalt_micro --benchmark_filter='SkipList|MemTable'

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/arena.h"
#include "engine/base/random.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/memtable/memtable.h"
#include "engine/lsm/memtable/skiplist.h"

namespace basalt::lsm {
namespace {

struct U64Compare {
  int operator()(uint64_t a, uint64_t b) const { return a < b ? -1 : (a > b ? 1 : 0); }
};
using U64List = SkipList<uint64_t, U64Compare>;

// n distinct pseudo-random keys: splitmix64 is a bijection of its counter.
std::vector<uint64_t> RandomKeys(size_t n, uint64_t seed) {
  Random rnd(seed);
  std::vector<uint64_t> keys(n);
  for (auto& k : keys) k = rnd.Next();
  return keys;
}

// A 16-byte user key ("user" + 12 digits).
std::string UserKey(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "user%012llu",
                static_cast<unsigned long long>(i % 1000000000000ULL));
  return buf;
}

void BM_SkipListInsert(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const std::vector<uint64_t> keys = RandomKeys(n, 1);
  for (auto _ : state) {
    auto arena = std::make_unique<Arena>();
    auto list = std::make_unique<U64List>(U64Compare(), arena.get());
    for (uint64_t k : keys) list->Insert(k);
    benchmark::DoNotOptimize(list.get());
    state.PauseTiming();  // freeing the arena is not part of insertion
    list.reset();
    arena.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_SkipListInsert)->Arg(1 << 10)->Arg(1 << 14)->Arg(1 << 17)->ArgName("keys");

void BM_SkipListLookup(benchmark::State& state) {
  constexpr size_t kKeys = 1 << 20;
  // Built once and shared by every run of this benchmark (building takes ~1 s).
  static const std::vector<uint64_t> keys = RandomKeys(kKeys, 2);
  static Arena arena;
  static U64List* const list = [] {
    auto* l = new U64List(U64Compare(), &arena);  // lives until exit with its arena
    for (uint64_t k : keys) l->Insert(k);
    return l;
  }();
  // Probe order independent of insertion order.
  Random rnd(3);
  std::vector<uint64_t> probes(1 << 16);
  for (auto& p : probes) p = keys[rnd.Uniform(kKeys)];
  size_t i = 0;
  int64_t hits = 0;
  for (auto _ : state) {
    hits += list->Contains(probes[i++ & (probes.size() - 1)]);
  }
  if (hits != state.iterations()) state.SkipWithError("lookup missed a present key");
  state.SetItemsProcessed(state.iterations());
  state.counters["keys"] = static_cast<double>(kKeys);
}
BENCHMARK(BM_SkipListLookup);

void BM_MemTableAdd(benchmark::State& state) {
  // A fresh memtable every kPerTable entries bounds memory (~40 MB) and
  // keeps the table size realistic for a 64 MiB write buffer.
  constexpr uint64_t kPerTable = 1 << 18;
  const std::vector<uint64_t> ids = RandomKeys(kPerTable, 4);
  std::vector<std::string> user_keys;
  user_keys.reserve(kPerTable);
  for (uint64_t id : ids) user_keys.push_back(UserKey(id));
  const std::string value(100, 'v');
  auto mem = std::make_unique<MemTable>();
  SequenceNumber seq = 0;
  uint64_t in_table = 0;
  for (auto _ : state) {
    if (in_table == kPerTable) {
      state.PauseTiming();
      mem = std::make_unique<MemTable>();
      in_table = 0;
      state.ResumeTiming();
    }
    mem->Add(++seq, ValueKind::kValue, user_keys[in_table++], value);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(16 + value.size()));
  state.SetLabel("key=16B value=100B");
}
BENCHMARK(BM_MemTableAdd);

void BM_MemTableGet(benchmark::State& state) {
  constexpr uint64_t kEntries = 1 << 18;
  static const std::vector<uint64_t> ids = RandomKeys(kEntries, 5);
  static const std::shared_ptr<MemTable> mem = [] {
    auto m = std::make_shared<MemTable>();
    const std::string value(100, 'v');
    SequenceNumber seq = 0;
    for (uint64_t id : ids) m->Add(++seq, ValueKind::kValue, UserKey(id), value);
    return m;
  }();
  Random rnd(6);
  std::vector<std::string> probes(1 << 14);
  for (auto& p : probes) p = UserKey(ids[rnd.Uniform(kEntries)]);
  std::string value;
  size_t i = 0;
  int64_t found = 0;
  for (auto _ : state) {
    LookupKey lk(probes[i++ & (probes.size() - 1)], kMaxSequenceNumber);
    found += mem->Get(lk, &value) == MemTable::GetResult::kFound;
  }
  if (found != state.iterations()) state.SkipWithError("get missed a present key");
  state.SetItemsProcessed(state.iterations());
  state.counters["entries"] = static_cast<double>(kEntries);
  state.SetLabel("key=16B value=100B");
}
BENCHMARK(BM_MemTableGet);

}  // namespace
}  // namespace basalt::lsm

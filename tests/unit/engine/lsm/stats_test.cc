// The DB's statistics and descriptions read while it works: GetDbStats,
// GetTreeStats, GetCacheStats, GetApproximateSize, GetApproximateRangeSize,
// ListTrees and DebugString from one thread beside writers, readers, flushes
// and compactions, as the server's metrics endpoint and DescribeTable call
// them beside requests. Run under ThreadSanitizer by scripts/test.sh.

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/base/random.h"
#include "engine/lsm/db.h"
#include "tests/testutil/db_test_base.h"

using namespace basalt;
using namespace basalt::lsm;
using test::ConfigSet;
using test::DbTestBase;
using test::Key;

namespace {

uint64_t Compactions(const TreeStats& st) {
  uint64_t n = 0;
  for (const LevelStats& lv : st.levels) n += static_cast<uint64_t>(lv.compactions);
  return n;
}

// Counters since Open never go back, whatever runs beside the reader.
int CountersWentBack(const DbStats& a, const DbStats& b) {
  const std::pair<uint64_t, uint64_t> pairs[] = {
      {a.flushes, b.flushes},
      {a.compactions, b.compactions},
      {a.bytes_flushed, b.bytes_flushed},
      {a.compaction_bytes_written, b.compaction_bytes_written},
      {a.user_bytes_written, b.user_bytes_written},
      {a.wal_bytes, b.wal_bytes},
      {a.wal_group_commits, b.wal_group_commits},
      {a.wal_group_writers, b.wal_group_writers}};
  int back = 0;
  for (const auto& p : pairs) {
    if (p.second < p.first) back++;
  }
  return back;
}

void StatsBesideWork(DbTestBase& f) {
  f.options.row_cache_size = 1 << 20;  // both caches, so their counters move too
  f.Open();
  TreeId second;
  REQUIRE(f.db->CreateTree("second", &second).ok());
  const TreeId trees[] = {kDefaultTree, second};
  constexpr int kKeys = 3000;

  // Two writers, one per tree (unsynced, so flushes and compactions come
  // quickly), and a reader of what they write (hits and fills in the caches).
  // The keys in a scattered order, so that files overlap and compactions
  // rewrite them (in key order they would only move down).
  std::atomic<int> writers_running{2};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; w++) {
    threads.emplace_back([&, w] {
      for (int n = 0; n < kKeys; n++) {
        const int i = n * 7919 % kKeys;  // 7919 is prime: every key once
        if (!f.db->Put(WriteOptions{false}, trees[w], Key(i), std::string(100, 'a' + i % 26))
                 .ok()) {
          errors++;
        }
      }
      writers_running--;
    });
  }
  threads.emplace_back([&] {
    Random rnd(5);
    std::string value;
    while (writers_running.load() > 0) {
      const Status s = f.db->Get(ReadOptions(), trees[rnd.Uniform(2)],
                                 Key(static_cast<int>(rnd.Uniform(kKeys))), &value);
      if (!s.ok() && !s.IsNotFound()) errors++;
    }
  });

  // The stats reader (this thread): on while the writers run, and then until
  // a compaction has run (bounded, so one that never comes fails below).
  DbStats last = f.db->GetDbStats();
  int rounds = 0, rounds_beside_writers = 0, went_back = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (writers_running.load() > 0 ||
         (last.compactions == 0 && std::chrono::steady_clock::now() < deadline)) {
    if (writers_running.load() > 0) rounds_beside_writers++;
    rounds++;
    const DbStats now = f.db->GetDbStats();
    went_back += CountersWentBack(last, now);
    last = now;
    for (TreeId t : trees) {
      TreeStats st;
      REQUIRE(f.db->GetTreeStats(t, &st).ok());
      uint64_t bytes = 0;
      REQUIRE(f.db->GetApproximateSize(t, &bytes).ok());
      REQUIRE(f.db->GetApproximateRangeSize(t, Key(100), Key(2000), &bytes).ok());
    }
    const CacheStats cs = f.db->GetCacheStats();
    CHECK(cs.block.usage <= cs.block.capacity);
    CHECK(f.db->ListTrees().size() == 2);
    CHECK(!f.db->DebugString().empty());
  }
  for (auto& th : threads) th.join();

  TreeStats st0, st1;
  REQUIRE(f.db->GetTreeStats(kDefaultTree, &st0).ok());
  REQUIRE(f.db->GetTreeStats(second, &st1).ok());
  const CacheStats cs = f.db->GetCacheStats();
  MESSAGE("rounds " << rounds << " (" << rounds_beside_writers << " beside the writers), flushes "
                    << last.flushes << ", compactions " << last.compactions << " ("
                    << Compactions(st0) + Compactions(st1) << " by the trees' stats)"
                    << ", row cache hits " << cs.row.hits << ", block cache hits "
                    << cs.block.hits);
  CHECK(errors.load() == 0);
  CHECK(went_back == 0);
  // The stats really were read beside writes, flushes and compactions.
  CHECK(rounds_beside_writers > 0);
  CHECK(last.flushes > 0);
  CHECK(last.compactions > 0);
  CHECK(f.db->GetDbStats().user_bytes_written >= 2 * kKeys * 100);
  for (int i = 0; i < kKeys; i += 97) {
    CHECK(f.Get(Key(i), second) == std::string(100, 'a' + i % 26));
  }
}
BASALT_DB_TEST_CASE("stats: counters, sizes and DebugString read beside writes and compactions",
                    ConfigSet::kFew, StatsBesideWork);

}  // namespace

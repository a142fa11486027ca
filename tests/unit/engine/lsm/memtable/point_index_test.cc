#include "engine/lsm/memtable/point_index.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "engine/base/arena.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

// Test entries: u32 key length | key | u64 version.
const char* MakeEntry(Arena* arena, const std::string& key, uint64_t version) {
  char* p = arena->AllocateAligned(4 + key.size() + 8);
  const uint32_t n = static_cast<uint32_t>(key.size());
  std::memcpy(p, &n, 4);
  std::memcpy(p + 4, key.data(), key.size());
  std::memcpy(p + 4 + key.size(), &version, 8);
  return p;
}
std::string_view KeyOf(const char* e) {
  uint32_t n;
  std::memcpy(&n, e, 4);
  return std::string_view(e + 4, n);
}
uint64_t VersionOf(const char* e) {
  uint64_t v;
  std::memcpy(&v, e + 4 + KeyOf(e).size(), 8);
  return v;
}
std::string Key(int i) { return "key" + std::to_string(i); }

}  // namespace

TEST_CASE("point index: finds the newest entry of every key through every resize") {
  Arena arena;
  PointIndex index(&arena, &KeyOf);
  CHECK(index.Find("absent") == nullptr);
  constexpr int kKeys = 20000;
  std::vector<uint64_t> newest(kKeys, 0);
  uint64_t version = 0;
  for (int round = 0; round < 3; round++) {
    for (int i = round; i < kKeys; i += 1 + round) {  // later rounds touch fewer keys
      newest[i] = ++version;
      const std::string k = Key(i);
      index.Put(MakeEntry(&arena, k, newest[i]), k);
      if (i % 997 == 0) {
        // Mid-way: every key put so far is found at its newest version.
        for (int j = 0; j <= i; j += 13) {
          const char* e = index.Find(Key(j));
          if (newest[j] == 0) {
            CHECK(e == nullptr);
          } else {
            REQUIRE(e != nullptr);
            CHECK(VersionOf(e) == newest[j]);
          }
        }
      }
    }
  }
  for (int i = 0; i < kKeys; i++) {
    const char* e = index.Find(Key(i));
    REQUIRE(e != nullptr);
    CHECK(VersionOf(e) == newest[i]);
  }
  for (int i = kKeys; i < kKeys + 1000; i++) CHECK(index.Find(Key(i)) == nullptr);
}

TEST_CASE("point index: readers see every published put while the writer resizes") {
  Arena arena;
  PointIndex index(&arena, &KeyOf);
  constexpr int kKeys = 5000, kRounds = 8;
  // published[i]: the version of key i whose Put completed (release).
  std::vector<std::atomic<uint64_t>> published(kKeys);
  for (auto& p : published) p.store(0);
  std::atomic<bool> done{false};
  std::atomic<uint64_t> checks{0}, failures{0};
  auto reader = [&](int seed) {
    uint64_t x = static_cast<uint64_t>(seed) * 2654435761u + 1;
    while (!done.load(std::memory_order_acquire)) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      const int i = static_cast<int>((x >> 33) % kKeys);
      const uint64_t want = published[i].load(std::memory_order_acquire);
      const char* e = index.Find(Key(i));
      const uint64_t got = e == nullptr ? 0 : VersionOf(e);
      if (got < want || (e != nullptr && KeyOf(e) != Key(i))) failures++;
      checks++;
    }
  };
  std::thread r1(reader, 1), r2(reader, 2);
  uint64_t version = 0;
  for (int round = 0; round < kRounds; round++) {
    for (int i = 0; i < kKeys; i++) {
      const std::string k = Key((i * 7919 + round) % kKeys);
      const int ki = (i * 7919 + round) % kKeys;
      ++version;
      index.Put(MakeEntry(&arena, k, version), k);
      published[ki].store(version, std::memory_order_release);
    }
  }
  done.store(true, std::memory_order_release);
  r1.join();
  r2.join();
  CHECK(failures.load() == 0);
  CHECK(checks.load() > 0);
}

TEST_CASE("point index: sized for the expected keys it never grows; any slot count works") {
  {
    Arena arena;
    PointIndex index(&arena, &KeyOf, /*expected_keys=*/10000);
    CHECK(index.Capacity() == 0);  // the array is made at the first Put
    for (int i = 0; i < 10000; i++) index.Put(MakeEntry(&arena, Key(i), 1), Key(i));
    const size_t capacity = index.Capacity();
    CHECK(capacity >= 10000 * PointIndex::kMaxLoadDen / PointIndex::kMaxLoadNum);
    CHECK(capacity % 2 == 1);  // not a power of two
    CHECK(index.Keys() == 10000);
    // The slots, their hash bits and the arena's own blocks; no grown arrays.
    CHECK(arena.MemoryUsage() <
          10000 * (4 + 8 + 8 + 8) + capacity * PointIndex::kSlotBytes * 5 / 4);
    for (int i = 0; i < 10000; i++) {
      const char* e = index.Find(Key(i));
      REQUIRE(e != nullptr);
      CHECK(KeyOf(e) == Key(i));
    }
    CHECK(index.Find(Key(10000)) == nullptr);
  }
  {
    // The first array is capped; an odd-sized array grows like any other, and
    // every key stays findable through the growths.
    Arena arena;
    PointIndex index(&arena, &KeyOf, /*expected_keys=*/1000000, /*max_initial_bytes=*/1200 * 12);
    std::vector<uint64_t> newest(30000, 0);
    uint64_t version = 0;
    for (int round = 0; round < 2; round++) {
      for (int i = round; i < 30000; i += 1 + round) {
        newest[i] = ++version;
        index.Put(MakeEntry(&arena, Key(i), newest[i]), Key(i));
        if (i == 0) CHECK(index.Capacity() == 1200);
      }
    }
    CHECK(index.Capacity() > 1200);
    CHECK(index.Keys() >= 30000);
    for (int i = 0; i < 30000; i++) {
      const char* e = index.Find(Key(i));
      REQUIRE(e != nullptr);
      CHECK(VersionOf(e) == newest[i]);
    }
  }
}

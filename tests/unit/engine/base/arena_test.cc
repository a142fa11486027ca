#include "engine/base/arena.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

#include "engine/base/random.h"

using namespace basalt;

TEST_CASE("arena: empty") {
  Arena arena;
  CHECK(arena.MemoryUsage() == 0);
}

// After LevelDB's arena unit test: mostly small allocations, some large;
// every byte is written and checked at the end.
TEST_CASE("arena: many random-size allocations keep their contents") {
  constexpr int kN = 100000;
  std::vector<std::pair<size_t, char*>> allocated;
  Arena arena;
  Random rnd(301);
  size_t bytes = 0;
  size_t last_usage = 0;
  for (int i = 0; i < kN; i++) {
    size_t s;
    if (i % (kN / 10) == 0) {
      s = i;  // a few big ones, up to 90 KB
    } else {
      s = rnd.OneIn(4000) ? rnd.Uniform(6000)
                          : (rnd.OneIn(10) ? rnd.Uniform(100) : rnd.Uniform(20));
    }
    if (s == 0) s = 1;  // LevelDB's Arena requires > 0; don't depend on size-0 behaviour
    const bool aligned = rnd.OneIn(10);
    char* r = aligned ? arena.AllocateAligned(s) : arena.Allocate(s);
    REQUIRE(r != nullptr);
    if (aligned) CHECK(reinterpret_cast<uintptr_t>(r) % 8 == 0);
    for (size_t b = 0; b < s; b++) r[b] = static_cast<char>(i % 256);  // fill with a known pattern
    bytes += s;
    allocated.emplace_back(s, r);
    const size_t usage = arena.MemoryUsage();
    CHECK(usage >= bytes);
    CHECK(usage >= last_usage);
    last_usage = usage;
    if (i > kN / 10) CHECK(usage <= bytes * 1.25);  // bounded waste once warmed up
  }
  for (size_t i = 0; i < allocated.size(); i++) {
    const auto [size, p] = allocated[i];
    for (size_t b = 0; b < size; b++) {
      if (static_cast<unsigned char>(p[b]) != i % 256) {
        FAIL("allocation ", i, " byte ", b, " overwritten");
      }
    }
  }
}

TEST_CASE("arena: AllocateAligned is 8-byte aligned whatever came before") {
  Arena arena;
  Random rnd(7);
  for (int i = 0; i < 20000; i++) {
    (void)arena.Allocate(1 + rnd.Uniform(13));  // leave ptr_ misaligned
    const size_t n = 1 + rnd.Uniform(i % 100 == 0 ? 5000 : 64);
    char* p = arena.AllocateAligned(n);
    REQUIRE(reinterpret_cast<uintptr_t>(p) % 8 == 0);
    // Store through the aligned pointer as a uint64_t would be (UBSan checks alignment).
    if (n >= sizeof(uint64_t)) *reinterpret_cast<uint64_t*>(p) = i;
  }
}

TEST_CASE("arena: allocations do not overlap") {
  Arena arena;
  Random rnd(11);
  std::vector<std::pair<uintptr_t, uintptr_t>> ranges;
  for (int i = 0; i < 5000; i++) {
    const size_t n = 1 + rnd.Uniform(rnd.OneIn(50) ? 3000 : 50);
    char* p = rnd.OneIn(2) ? arena.Allocate(n) : arena.AllocateAligned(n);
    ranges.emplace_back(reinterpret_cast<uintptr_t>(p), reinterpret_cast<uintptr_t>(p) + n);
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); i++) {
    REQUIRE(ranges[i - 1].second <= ranges[i].first);
  }
}

TEST_CASE("arena: MemoryUsage grows and can be read concurrently") {
  Arena arena;
  std::atomic<bool> done{false};
  std::atomic<bool> went_backwards{false};
  std::thread reader([&] {
    size_t last = 0;
    while (!done.load(std::memory_order_acquire)) {
      const size_t u = arena.MemoryUsage();
      if (u < last) went_backwards.store(true);
      last = u;
    }
  });
  size_t prev = arena.MemoryUsage();
  for (int i = 0; i < 2000; i++) {
    (void)arena.Allocate(100);
    const size_t u = arena.MemoryUsage();
    CHECK(u >= prev);
    prev = u;
  }
  CHECK(prev >= 2000 * 100);
  const size_t before_big = arena.MemoryUsage();
  (void)arena.Allocate(1 << 20);  // a large allocation gets its own block
  CHECK(arena.MemoryUsage() >= before_big + (1 << 20));
  done.store(true, std::memory_order_release);
  reader.join();
  CHECK_FALSE(went_backwards.load());
}

// A memtable-sized arena: blocks grow to 1 MiB (mapped), waste stays small,
// and contents survive across the block-size changes.
TEST_CASE("arena: a 24 MiB arena keeps waste under an eighth and its contents") {
  Arena arena;
  std::vector<char*> ptrs;
  size_t bytes = 0;
  for (int i = 0; bytes < (24u << 20); i++) {
    char* p = arena.Allocate(120);
    std::fill(p, p + 120, static_cast<char>(i));
    ptrs.push_back(p);
    bytes += 120;
  }
  CHECK(arena.MemoryUsage() >= bytes);
  CHECK(arena.MemoryUsage() <= bytes + bytes / 8);
  for (size_t i = 0; i < ptrs.size(); i += 997) {
    CHECK(ptrs[i][0] == static_cast<char>(i));
    CHECK(ptrs[i][119] == static_cast<char>(i));
  }
}

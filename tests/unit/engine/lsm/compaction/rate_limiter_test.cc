#include "engine/lsm/compaction/rate_limiter.h"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>
#include <vector>

using namespace basalt::lsm;
using Clock = std::chrono::steady_clock;

// A budget is a floor on time: granting more than rate x elapsed + one
// bucket (100 ms of rate) would be a bug. Only this lower bound is checked.
TEST_CASE("rate_limiter: grants no faster than the rate") {
  RateLimiter limiter(1 << 20);  // 1 MiB/s; the bucket holds 100 ms = ~105 KB
  const auto start = Clock::now();
  for (int i = 0; i < 10; i++) REQUIRE(limiter.Request(32 << 10));  // 320 KiB
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  // (320 KiB - bucket) / 1 MiB/s ~= 0.21 s.
  CHECK(elapsed >= 0.18);
  CHECK(limiter.granted_bytes() == 320u << 10);
  CHECK(limiter.waited_micros() > 0);
}

TEST_CASE("rate_limiter: a request larger than the bucket is paid in parts") {
  RateLimiter limiter(4 << 20);  // bucket ~420 KB
  const auto start = Clock::now();
  REQUIRE(limiter.Request(1 << 20));
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  CHECK(elapsed >= 0.13);  // (1 MiB - 0.4 MiB) / 4 MiB/s = 0.15 s
}

TEST_CASE("rate_limiter: threads share the budget and all finish") {
  RateLimiter limiter(8 << 20);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; i++) REQUIRE(limiter.Request(4 << 10));
    });
  }
  for (auto& th : threads) th.join();
  CHECK(limiter.granted_bytes() == 4u * 20 * (4 << 10));
}

TEST_CASE("rate_limiter: Cancel wakes waiters, which then get false") {
  RateLimiter limiter(1024);  // 1 KiB/s: a 10 MiB request would take hours
  std::atomic<int> results{-1};
  std::thread waiter([&] { results = limiter.Request(10 << 20) ? 1 : 0; });
  std::thread queued([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK_FALSE(limiter.Request(1));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  limiter.Cancel();
  waiter.join();
  queued.join();
  CHECK(results == 0);
  CHECK_FALSE(limiter.Request(1));
}

// BackgroundLoop (engine/table/background_loop.h): runs its task every
// interval, and Stop wakes and joins it promptly.
#include "engine/table/background_loop.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace basalt::table;
using Clock = std::chrono::steady_clock;

TEST_CASE("background_loop: runs the task repeatedly until stopped") {
  std::atomic<int> runs{0};
  BackgroundLoop loop;
  loop.Start(1, [&] { runs++; });
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (runs < 3 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  loop.Stop();
  CHECK(runs >= 3);
  const int after = runs;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(runs == after);  // nothing runs after Stop
  loop.Stop();           // idempotent
}

TEST_CASE("background_loop: Stop interrupts a long wait and WaitUntil") {
  std::atomic<int> runs{0};
  BackgroundLoop loop;
  loop.Start(3'600'000, [&] { runs++; });  // an hour
  std::atomic<bool> woke{false};
  std::thread waiter([&] { woke = !loop.WaitUntil(Clock::now() + std::chrono::hours(1)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto start = Clock::now();
  loop.Stop();
  waiter.join();
  CHECK(Clock::now() - start < std::chrono::seconds(5));
  CHECK(woke);  // WaitUntil reports the stop
  CHECK(runs == 0);
  CHECK(loop.stopping());
  CHECK(!loop.WaitUntil(Clock::now() + std::chrono::hours(1)));  // returns at once once stopped
}

TEST_CASE("background_loop: a loop never started stops at once, WaitUntil times out") {
  BackgroundLoop loop;
  CHECK(loop.WaitUntil(Clock::now() + std::chrono::milliseconds(5)));  // the deadline passed
  loop.Stop();
  CHECK(loop.stopping());
}

TEST_CASE("background_loop: Wake runs the task without waiting for the interval") {
  std::atomic<int> runs{0};
  BackgroundLoop loop;
  loop.Start(3'600'000, [&] { runs++; });
  loop.Wake();
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (runs == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK(runs == 1);
  loop.Stop();
}

TEST_CASE("background_loop: Pace spaces work at the rate and stops with the loop") {
  BackgroundLoop loop;
  const auto t0 = Clock::now();
  for (int i = 0; i < 100; i++) REQUIRE(loop.Pace(0));  // unlimited: no waiting
  // 1000 units per second, 10 units a call: 5 calls book 50 ms; the first
  // starts at once, so at least 40 ms pass before the fifth returns.
  for (int i = 0; i < 5; i++) REQUIRE(loop.Pace(1000, 10));
  CHECK(Clock::now() - t0 >= std::chrono::milliseconds(40));
  loop.Stop();
  CHECK(!loop.Pace(1000, 10));
  CHECK(!loop.Pace(0));
}

// RateLimiter: the byte-rate budget of background compaction (and, later,
// any other background writer). A token bucket refilled continuously at
// bytes_per_second, holding at most one refill period's worth (100 ms), so a
// caller that was idle cannot burst far past the budget.
//
// Request(n) returns once n bytes fit in the budget; requests are granted in
// arrival order (a ticket queue), so two compaction threads share the rate
// fairly. A request larger than the bucket is paid over several periods.
// Cancel() (DB shutdown) wakes every waiter; Request then returns false.
//
// Thread safety: all methods are safe to call concurrently.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace basalt::lsm {

class RateLimiter {
 public:
  // bytes_per_second > 0.
  explicit RateLimiter(uint64_t bytes_per_second);

  // Blocks until n bytes are granted (true) or the limiter is cancelled (false).
  bool Request(uint64_t n);
  void Cancel();

  uint64_t bytes_per_second() const { return rate_; }
  // Bytes granted so far and total time callers spent waiting, for stats.
  uint64_t granted_bytes() const;
  uint64_t waited_micros() const;

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kPeriod{100};

  void Refill(Clock::time_point now);  // REQUIRES: mu_ held

  const uint64_t rate_;
  const double capacity_;  // bytes in one period
  mutable std::mutex mu_;
  std::condition_variable cv_;
  double available_;          // guarded by mu_
  Clock::time_point last_;    // guarded by mu_
  uint64_t next_ticket_ = 0;  // guarded by mu_
  uint64_t serving_ = 0;      // guarded by mu_
  bool cancelled_ = false;    // guarded by mu_
  uint64_t granted_ = 0;      // guarded by mu_
  uint64_t waited_us_ = 0;    // guarded by mu_
};

}  // namespace basalt::lsm

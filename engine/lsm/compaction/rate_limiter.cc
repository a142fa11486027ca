// RateLimiter (rate_limiter.h): token bucket with a FIFO of tickets.

#include "engine/lsm/compaction/rate_limiter.h"

#include <algorithm>

namespace basalt::lsm {

RateLimiter::RateLimiter(uint64_t bytes_per_second)
    : rate_(std::max<uint64_t>(bytes_per_second, 1)),
      capacity_(static_cast<double>(rate_) * kPeriod.count() / 1000.0),
      available_(capacity_),
      last_(Clock::now()) {}

void RateLimiter::Refill(Clock::time_point now) {
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  available_ = std::min(capacity_, available_ + elapsed * static_cast<double>(rate_));
}

bool RateLimiter::Request(uint64_t n) {
  std::unique_lock<std::mutex> l(mu_);
  const uint64_t ticket = next_ticket_++;
  const Clock::time_point start = Clock::now();
  double owed = static_cast<double>(n);
  bool ok = true;
  while (true) {
    if (cancelled_) {
      ok = false;
      break;
    }
    if (serving_ == ticket) {
      Refill(Clock::now());
      // Take what there is (a request above the bucket's size is paid in parts).
      const double take = std::min(owed, std::max(available_, 0.0));
      available_ -= take;
      owed -= take;
      if (owed <= 0) break;
      // Sleep until the rest (or a full bucket) has accrued.
      const double need = std::min(owed, capacity_);
      const auto wait = std::chrono::duration<double>(need / static_cast<double>(rate_));
      cv_.wait_for(l, std::chrono::duration_cast<Clock::duration>(wait));
    } else {
      cv_.wait(l);
    }
  }
  if (serving_ == ticket) serving_++;
  if (ok) granted_ += n;
  waited_us_ += static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
  cv_.notify_all();
  return ok;
}

void RateLimiter::Cancel() {
  std::lock_guard<std::mutex> l(mu_);
  cancelled_ = true;
  cv_.notify_all();
}

uint64_t RateLimiter::granted_bytes() const {
  std::lock_guard<std::mutex> l(mu_);
  return granted_;
}

uint64_t RateLimiter::waited_micros() const {
  std::lock_guard<std::mutex> l(mu_);
  return waited_us_;
}

}  // namespace basalt::lsm

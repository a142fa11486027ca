#include "engine/table/background_loop.h"

#include <utility>

namespace basalt::table {

void BackgroundLoop::Start(uint32_t interval_ms, std::function<void()> task) {
  thread_ = std::thread([this, interval_ms, task = std::move(task)] {
    const auto interval = std::chrono::milliseconds(interval_ms);
    for (;;) {
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait_until(l, std::chrono::steady_clock::now() + interval,
                       [&] { return stop_.load(std::memory_order_acquire) || wake_; });
        wake_ = false;
        if (stop_.load(std::memory_order_acquire)) return;
      }
      task();
    }
  });
}

void BackgroundLoop::Wake() {
  {
    std::lock_guard<std::mutex> l(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

void BackgroundLoop::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_.store(true, std::memory_order_release);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool BackgroundLoop::WaitUntil(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> l(mu_);
  return !cv_.wait_until(l, deadline, [&] { return stop_.load(std::memory_order_acquire); });
}

bool BackgroundLoop::Pace(uint32_t per_second, size_t units) {
  if (per_second == 0) return !stopping();
  const auto now = std::chrono::steady_clock::now();
  if (next_slot_ < now) {
    next_slot_ = now;
  } else if (!WaitUntil(next_slot_)) {
    return false;
  }
  next_slot_ += std::chrono::nanoseconds(1'000'000'000 / per_second) * static_cast<int64_t>(units);
  return !stopping();
}

}  // namespace basalt::table

// Locks that may be released by another thread than the one that took them.
// A write handed to DB::WriteAsync keeps its item latches and its tables'
// commit locks until the write is durable, and that completion runs on the
// engine's committer thread; std::mutex and std::shared_mutex forbid an
// unlock there.
//
// Latch: a mutex (Lockable: lock, try_lock, unlock; usable with
// std::unique_lock). SharedGate: a readers-writer lock (SharedLockable too:
// lock_shared, unlock_shared; usable with std::shared_lock), preferring
// readers as glibc's default pthread_rwlock does, so a thread holding it
// shared may take it shared again. Neither is recursive for exclusive use.
// Both are safe to use from any number of threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace basalt {

class Latch {
 public:
  void lock() {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      locked_.wait(true, std::memory_order_relaxed);
    }
  }
  bool try_lock() { return !locked_.exchange(true, std::memory_order_acquire); }
  void unlock() {
    locked_.store(false, std::memory_order_release);
    locked_.notify_one();
  }

 private:
  std::atomic<bool> locked_{false};
};

class SharedGate {
 public:
  void lock() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return !exclusive_ && shared_ == 0; });
    exclusive_ = true;
  }
  bool try_lock() {
    std::lock_guard<std::mutex> l(mu_);
    if (exclusive_ || shared_ != 0) return false;
    exclusive_ = true;
    return true;
  }
  void unlock() {
    {
      std::lock_guard<std::mutex> l(mu_);
      exclusive_ = false;
    }
    cv_.notify_all();
  }
  void lock_shared() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return !exclusive_; });
    shared_++;
  }
  bool try_lock_shared() {
    std::lock_guard<std::mutex> l(mu_);
    if (exclusive_) return false;
    shared_++;
    return true;
  }
  void unlock_shared() {
    bool last;
    {
      std::lock_guard<std::mutex> l(mu_);
      last = --shared_ == 0;
    }
    if (last) cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t shared_ = 0;
  bool exclusive_ = false;
};

}  // namespace basalt

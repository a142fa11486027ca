// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable with
// clang's thread-safety annotations (thread_annotations.h), so that fields
// marked GUARDED_BY(mu_) and methods marked REQUIRES(mu_) are checked at
// compile time (LevelDB's port::Mutex / port::CondVar do the same).
//
// Mutex is not recursive. AssertHeld() tells the analysis (not the runtime)
// that the caller holds the mutex: for code it cannot follow, such as a
// std::function run under the lock. CondVar waits release and retake the
// mutex it was made with; spurious wake-ups happen, so wait in a loop.
// All are safe to use from any number of threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "engine/base/thread_annotations.h"

namespace basalt {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
  void AssertHeld() const ASSERT_CAPABILITY(this) {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds a Mutex for its scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

class CondVar {
 public:
  explicit CondVar(Mutex* mu) : mu_(mu) {}
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // REQUIRES: the mutex held (released while waiting, held again on return).
  void Wait() {
    std::unique_lock<std::mutex> l(mu_->mu_, std::adopt_lock);
    cv_.wait(l);
    l.release();
  }
  // Returns false when the timeout passed (or a spurious wake-up came late).
  template <class Rep, class Period>
  bool WaitFor(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock<std::mutex> l(mu_->mu_, std::adopt_lock);
    const bool woken = cv_.wait_for(l, timeout) == std::cv_status::no_timeout;
    l.release();
    return woken;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  Mutex* const mu_;
  std::condition_variable cv_;
};

}  // namespace basalt

// BackgroundLoop: one named thread that runs a task every interval until
// stopped — the table layer's background jobs (automatic splits, stream
// retention, the TTL sweeper) share it instead of each hand-rolling a thread,
// a condition variable and a stop flag.
//
// Contract: Start launches the thread (at most once); it waits `interval`,
// runs the task, and repeats. Stop (idempotent; also the destructor) sets the
// stop flag, wakes the thread and any WaitUntil, and joins; a task that is
// running finishes its current step (tasks poll stopping() between steps).
// The task's errors are its own business: there is no one to report them to,
// so a task retries at its next run.
//
// Thread safety: Start/Stop from one owner thread; stopping() and WaitUntil()
// from any thread (the task itself, or callers pacing work on the loop).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace basalt::table {

class BackgroundLoop {
 public:
  BackgroundLoop() = default;
  ~BackgroundLoop() { Stop(); }
  BackgroundLoop(const BackgroundLoop&) = delete;
  BackgroundLoop& operator=(const BackgroundLoop&) = delete;

  // Runs task every interval_ms (> 0) on a new thread.
  void Start(uint32_t interval_ms, std::function<void()> task);
  void Stop();
  // Runs the task as soon as it is not running, without waiting for the
  // interval (e.g. new work arrived). Harmless before Start or after Stop.
  void Wake();
  bool stopping() const { return stop_.load(std::memory_order_acquire); }
  // Sleeps until `deadline` or until Stop; returns false if stopping.
  bool WaitUntil(std::chrono::steady_clock::time_point deadline);
  // Paces the loop's work at `per_second` units (0 = unlimited): waits for
  // the next free slot, then books `units` evenly spaced slots. Idle time
  // earns no burst (the schedule restarts at "now"), so foreground work never
  // sees more than the rate. Returns false if stopping. Callers serialise
  // their calls (the owner's passes are serialised).
  bool Pace(uint32_t per_second, size_t units = 1);

 private:
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};
  bool wake_ = false;                                  // guarded by mu_
  std::chrono::steady_clock::time_point next_slot_{};  // Pace's schedule
};

}  // namespace basalt::table

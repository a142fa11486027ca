// Gate: holds one thread at a point of the code under test (a hook it calls)
// until the test releases it, so races can be set up deterministically (e.g.
// a transaction held while other requests arrive: TableStoreOptions::
// transaction_hook). Only the first Hook() call after arming waits.
// Thread safety: every member may be called from any thread.
#pragma once

#include <condition_variable>
#include <mutex>

namespace basalt::test {

struct Gate {
  explicit Gate(bool armed_at_start = false) : armed(armed_at_start) {}

  // Called by the code under test: the first call while armed waits for Release.
  void Hook() {
    std::unique_lock<std::mutex> l(mu);
    if (!armed) return;
    armed = false;
    entered = true;
    cv.notify_all();
    cv.wait(l, [&] { return released; });
  }
  void Arm() {
    std::lock_guard<std::mutex> l(mu);
    armed = true;
  }
  // Waits until a thread is held in Hook.
  void WaitEntered() {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return entered; });
  }
  void Release() {
    std::lock_guard<std::mutex> l(mu);
    released = true;
    cv.notify_all();
  }

  std::mutex mu;
  std::condition_variable cv;
  bool armed, entered = false, released = false;
};

}  // namespace basalt::test

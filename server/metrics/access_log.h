// AccessLog: one line per API request (--access-log FILE|-), written without
// blocking request threads on the disk.
//
// Request threads format their line and append it to an in-memory buffer
// under a mutex (no I/O, no syscall); one writer thread swaps the buffer out
// and write()s it whole to the file (opened O_APPEND) or stdout, at least
// every 200 ms, sooner when 64 KiB are waiting. If the disk cannot keep up and
// kMaxBufferedBytes are waiting, new lines are dropped and counted
// (dropped()) rather than growing memory. Stop() (and the destructor) writes
// what is buffered and joins the thread.
//
// Line format (space-separated, "-" for an empty field):
//   TIME IDENTITY OPERATION TABLE STATUS ERROR_TYPE LATENCY_MS UNITS
//   2026-01-31T12:00:00.123Z AKIDEXAMPLE PutItem users 200 - 0.412 1
// TIME: UTC, milliseconds; IDENTITY: the SigV4 access key id; UNITS: the
// capacity units the request consumed ("-" when not known).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "engine/base/status.h"

namespace basalt::server::metrics {

class AccessLog {
 public:
  static constexpr size_t kMaxBufferedBytes = size_t{8} << 20;

  AccessLog() = default;
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // path "-": standard output. IOError when the file cannot be opened.
  Status Open(const std::string& path);
  struct Entry {
    uint64_t unix_ms = 0;
    std::string_view identity, operation, table, error_type;
    int status = 0;
    double latency_ms = 0;
    double units = -1;  // < 0: not known
  };
  // Formats and queues one line. Thread-safe, never blocks on I/O.
  void Write(const Entry& e);
  // Formats one line (with its '\n'), as Write queues it.
  static std::string Format(const Entry& e);
  void Stop();
  uint64_t dropped() const;

 private:
  void Run();

  int fd_ = -1;
  bool own_fd_ = false;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string buffer_;  // guarded by mu_
  bool stopping_ = false;
  uint64_t dropped_ = 0;
  std::thread thread_;
};

}  // namespace basalt::server::metrics

#include "server/metrics/access_log.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

namespace basalt::server::metrics {

namespace {
constexpr size_t kFlushBytes = size_t{64} << 10;
constexpr auto kFlushInterval = std::chrono::milliseconds(200);

// A field as one token: "-" when empty; whitespace and control characters
// (which no table name or key id has) become '?'.
void AppendField(std::string* out, std::string_view v) {
  if (v.empty()) {
    *out += '-';
    return;
  }
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    *out += (u <= ' ' || u == 0x7f) ? '?' : c;
  }
}
}  // namespace

AccessLog::~AccessLog() { Stop(); }

Status AccessLog::Open(const std::string& path) {
  if (path == "-") {
    fd_ = STDOUT_FILENO;
  } else {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) return Status::IOError(fmt::format("access log {}: {}", path, strerror(errno)));
    own_fd_ = true;
  }
  thread_ = std::thread([this] { Run(); });
  return Status::OK();
}

std::string AccessLog::Format(const Entry& e) {
  const auto secs = static_cast<time_t>(e.unix_ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  std::string line =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, e.unix_ms % 1000);
  AppendField(&line, e.identity);
  line += ' ';
  AppendField(&line, e.operation);
  line += ' ';
  AppendField(&line, e.table);
  line += fmt::format(" {} ", e.status);
  AppendField(&line, e.error_type);
  line += fmt::format(" {:.3f} ", e.latency_ms);
  if (e.units < 0) {
    line += '-';
  } else {
    line += fmt::format("{}", e.units);
  }
  line += '\n';
  return line;
}

void AccessLog::Write(const Entry& e) {
  if (fd_ < 0) return;  // never opened (set before the server serves)
  const std::string line = Format(e);
  bool wake = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return;
    if (buffer_.size() + line.size() > kMaxBufferedBytes) {
      dropped_++;
      return;
    }
    buffer_ += line;
    wake = buffer_.size() >= kFlushBytes;
  }
  if (wake) cv_.notify_one();
}

void AccessLog::Run() {
  std::string out;
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    cv_.wait_for(l, kFlushInterval, [this] { return stopping_ || buffer_.size() >= kFlushBytes; });
    out.swap(buffer_);
    const bool stop = stopping_;
    l.unlock();
    // Whole lines only, so a reader never sees half of one (O_APPEND keeps
    // other writers of the file from splitting them).
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::write(fd_, out.data() + done, out.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // a full disk: this batch is lost, later ones are tried again
      done += static_cast<size_t>(n);
    }
    out.clear();
    if (out.capacity() > kFlushBytes * 4) out.shrink_to_fit();
    l.lock();
    if (stop && buffer_.empty()) return;
  }
}

void AccessLog::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  if (own_fd_) ::close(fd_);  // fd_ stays set: a late Write sees stopping_
  own_fd_ = false;
}

uint64_t AccessLog::dropped() const {
  std::lock_guard<std::mutex> l(mu_);
  return dropped_;
}

}  // namespace basalt::server::metrics

// Shared pieces of the kill -9 crash tests (crash_test, table_crash_test).
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>

namespace basalt::test {

// Writer side: writes line to stdout with write(2), so nothing is buffered in
// the process when it is killed. Exits if the parent is gone.
inline void EmitLine(const std::string& line) {
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n < 0) std::_Exit(3);
    p += n;
    left -= static_cast<size_t>(n);
  }
}

// Parent side: runs `writer dir seed`, collects its stdout, SIGKILLs it after
// kill_after_ms and returns everything it wrote before dying. *killed_by_signal
// is false if it exited on its own (a failure of the writer).
inline bool RunAndKill(const std::string& writer, const std::string& dir, const std::string& seed,
                       int kill_after_ms, std::string* output, bool* killed_by_signal) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(writer.c_str(), writer.c_str(), dir.c_str(), seed.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kill_after_ms);
  bool killed = false;
  char chunk[65536];
  output->clear();
  while (true) {
    auto now = std::chrono::steady_clock::now();
    if (!killed && now >= deadline) {
      kill(pid, SIGKILL);
      killed = true;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int wait_ms =
        killed
            ? 1000
            : static_cast<int>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count()) +
                  1;
    if (poll(&p, 1, wait_ms) <= 0) continue;
    ssize_t n = read(fds[0], chunk, sizeof(chunk));
    if (n <= 0) break;  // EOF: the child is gone
    output->append(chunk, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  *killed_by_signal = WIFSIGNALED(status);
  return true;
}

}  // namespace basalt::test

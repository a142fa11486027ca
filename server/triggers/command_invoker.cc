// Invoker implementations, part two: local commands with posix_spawn and a
// poll loop (invoker.cc: URLs and HTTP). See invoker.h.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <optional>

#include "server/triggers/invoker.h"
#include "server/triggers/invoker_internal.h"

extern char** environ;

namespace basalt::server::triggers {

namespace {

using invoker_internal::Clock;
using invoker_internal::ErrnoText;
using invoker_internal::kChunkBytes;
using invoker_internal::TimeoutText;

// ---- command ----

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// Blocks SIGPIPE in this thread while alive. A SIGPIPE that a pipe write
// raised meanwhile (thread-directed, so pending here) is taken back before
// the old mask returns, so it is never delivered: a command that exits
// without reading its stdin cannot kill the server, whatever the process's
// SIGPIPE disposition (libpq does the same).
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeBlock() {
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        timespec zero{0, 0};
        while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
};

// The spawned process: kills its group and reaps it on every way out of
// Invoke (including an exception), so no zombie and no stray group is left.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child() {
    if (pid_ > 0) {
      int ignored;
      KillAndReap(&ignored);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }

  // Whether the process has exited (it stays a zombie, so its pid and group
  // id stay reserved until KillAndReap).
  bool Exited() const {
    siginfo_t info{};
    int rc = waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
    if (rc != 0) return errno != EINTR;  // ECHILD: reaped elsewhere (SIGCHLD ignored)
    return info.si_pid != 0;
  }

  // SIGKILLs the process group (the child and whatever it started there) and
  // reaps the child. Returns false when its status is lost (ECHILD).
  bool KillAndReap(int* wait_status) {
    ::kill(-pid_, SIGKILL);
    pid_t got;
    do {
      got = waitpid(pid_, wait_status, 0);
    } while (got < 0 && errno == EINTR);
    pid_ = -1;
    return got > 0;
  }

 private:
  pid_t pid_;
};

class CommandInvoker final : public Invoker {
 public:
  CommandInvoker(std::vector<std::string> argv, size_t max_response_bytes)
      : argv_(std::move(argv)), max_response_bytes_(max_response_bytes) {}

  InvokeResult Invoke(std::string_view payload, std::chrono::milliseconds timeout) override {
    try {
      return Run(payload, timeout);
    } catch (const std::exception& e) {
      InvokeResult r;
      r.error = std::string("command invoke: ") + e.what();
      return r;
    }
  }

 private:
  InvokeResult Run(std::string_view payload, std::chrono::milliseconds timeout) {
    InvokeResult r;
    const Clock::time_point deadline = Clock::now() + timeout;
    if (argv_.empty()) {
      r.error = "command invoker: empty argv";
      return r;
    }
    int in[2];
    int out[2];
    if (pipe2(in, O_CLOEXEC) != 0) {
      r.error = "pipe: " + ErrnoText(errno);
      return r;
    }
    Fd in_read(in[0]);
    Fd in_write(in[1]);
    if (pipe2(out, O_CLOEXEC) != 0) {
      r.error = "pipe: " + ErrnoText(errno);
      return r;
    }
    Fd out_read(out[0]);
    Fd out_write(out[1]);

    pid_t pid = -1;
    int rc = Spawn(in_read.get(), out_write.get(), &pid);
    if (rc != 0) {
      r.error = "cannot run \"" + argv_[0] + "\": " + ErrnoText(rc);
      return r;
    }
    Child child(pid);
    in_read.Reset();
    out_write.Reset();
    fcntl(in_write.get(), F_SETFL, fcntl(in_write.get(), F_GETFL) | O_NONBLOCK);
    fcntl(out_read.get(), F_SETFL, fcntl(out_read.get(), F_GETFL) | O_NONBLOCK);
    // Readable when the child exits; without pidfds (Linux < 5.3) the loop
    // polls in short slices instead.
#ifdef SYS_pidfd_open
    Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
#else
    Fd pidfd;
#endif

    SigpipeBlock no_sigpipe;
    size_t written = 0;
    if (payload.empty()) in_write.Reset();
    bool timed_out = false;
    for (;;) {
      if (child.Exited()) break;
      Clock::time_point now = Clock::now();
      if (now >= deadline) {
        timed_out = true;
        break;
      }
      pollfd fds[3];
      int n = 0;
      int in_index = -1;
      int out_index = -1;
      if (in_write.open()) {
        in_index = n;
        fds[n++] = pollfd{in_write.get(), POLLOUT, 0};
      }
      if (out_read.open()) {
        out_index = n;
        fds[n++] = pollfd{out_read.get(), POLLIN, 0};
      }
      if (pidfd.open()) fds[n++] = pollfd{pidfd.get(), POLLIN, 0};
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
      int wait_ms = static_cast<int>(std::min<int64_t>(left, pidfd.open() ? 60'000 : 10));
      if (::poll(fds, static_cast<nfds_t>(n), wait_ms) < 0 && errno != EINTR) {
        r.error = "poll: " + ErrnoText(errno);
        int ignored;
        child.KillAndReap(&ignored);
        return r;
      }
      if (in_index >= 0 && fds[in_index].revents != 0) {
        size_t len = std::min(payload.size() - written, kChunkBytes);
        ssize_t w = ::write(in_write.get(), payload.data() + written, len);
        if (w > 0) {
          written += static_cast<size_t>(w);
          if (written == payload.size()) in_write.Reset();  // EOF for the child
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
          in_write.Reset();  // EPIPE: the child does not read the rest
        }
      }
      if (out_index >= 0 && fds[out_index].revents != 0) {
        if (ReadStdout(out_read.get(), &r) == Pipe::kEof) out_read.Reset();
      }
    }

    // Whatever the child wrote before it exited is in the pipe now. Its
    // group goes first, so nothing it left behind keeps writing.
    int wait_status = 0;
    bool reaped = child.KillAndReap(&wait_status);
    if (out_read.open()) {
      // Until the pipe is empty; a writer that left the group (setsid) and
      // never stops is cut off at the deadline.
      while (ReadStdout(out_read.get(), &r) == Pipe::kMore && Clock::now() < deadline) {
      }
    }
    if (!reaped) {
      r.error = "\"" + argv_[0] + "\": exit status lost (waitpid: " + ErrnoText(ECHILD) + ")";
      return r;
    }
    r.answered = true;
    if (WIFEXITED(wait_status)) {
      r.status = WEXITSTATUS(wait_status);
    } else if (WIFSIGNALED(wait_status)) {
      r.status = 128 + WTERMSIG(wait_status);
    }
    if (timed_out) r.error = TimeoutText(timeout) + "; killed \"" + argv_[0] + "\" (SIGKILL)";
    return r;
  }

  enum class Pipe { kEmpty, kMore, kEof };

  // Reads what the pipe holds now, at most 16 chunks (so a fast writer cannot
  // hold the loop past its deadline). Keeps the first max_response_bytes_
  // bytes and drops the rest. kEof: at EOF or failed; kEmpty: nothing more
  // for now; kMore: stopped at the chunk limit.
  Pipe ReadStdout(int fd, InvokeResult* r) {
    char buf[kChunkBytes];
    for (int i = 0; i < 16; i++) {
      ssize_t got = ::read(fd, buf, sizeof(buf));
      if (got == 0) return Pipe::kEof;
      if (got < 0) {
        if (errno == EINTR) continue;
        return errno == EAGAIN ? Pipe::kEmpty : Pipe::kEof;
      }
      size_t n = static_cast<size_t>(got);
      size_t keep =
          std::min(n, max_response_bytes_ - std::min(max_response_bytes_, r->body.size()));
      r->body.append(buf, keep);
      if (keep < n) r->truncated = true;
    }
    return Pipe::kMore;
  }

  // posix_spawnp with stdin/stdout on the pipes, every other descriptor
  // closed, a new process group, an empty signal mask and default actions.
  // Returns 0 or an errno value (ENOENT when the program is not found).
  int Spawn(int stdin_fd, int stdout_fd, pid_t* pid) {
    std::vector<char*> args;
    args.reserve(argv_.size() + 1);
    for (std::string& arg : argv_) args.push_back(arg.data());
    args.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, stdin_fd, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
    posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    // Ignored actions survive exec (the server ignores SIGPIPE): reset the
    // ones a program expects at their defaults.
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM,
                    SIGTSTP, SIGTTIN, SIGTTOU, SIGXFSZ}) {
      sigaddset(&defaults, sig);
    }
    posix_spawnattr_setsigdefault(&attr, &defaults);

    int rc = posix_spawnp(pid, args[0], &actions, &attr, args.data(), environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    return rc;
  }

  std::vector<std::string> argv_;
  const size_t max_response_bytes_;
};

}  // namespace

std::unique_ptr<Invoker> MakeCommandInvoker(std::vector<std::string> argv,
                                            size_t max_response_bytes) {
  return std::make_unique<CommandInvoker>(std::move(argv), max_response_bytes);
}

}  // namespace basalt::server::triggers

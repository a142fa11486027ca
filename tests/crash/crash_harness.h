// Shared pieces of the kill -9 crash tests (crash_test, table_crash_test,
// compaction_crash_test) and their writers.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/encryption.h"
#include "engine/base/logging.h"

namespace basalt::test {

// Both sides: drops the engine's log output.
inline void SilenceLogging() {
  struct Quiet : Logger {
    void Log(std::string_view) override {}
  };
  static Quiet quiet;
  SetLogger(&quiet);
}

// Writer side: writes line to stdout with write(2), so nothing is buffered in
// the process when it is killed. Exits if the parent is gone. Callers on
// several threads are serialized, so their lines never interleave (a line may
// exceed PIPE_BUF).
inline void EmitLine(const std::string& line) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n < 0) std::_Exit(3);
    p += n;
    left -= static_cast<size_t>(n);
  }
}

// Parent side: the number of rounds (BASALT_CRASH_ROUNDS, else default_rounds).
inline int CrashRounds(int default_rounds) {
  const char* r = std::getenv("BASALT_CRASH_ROUNDS");
  return r != nullptr ? std::atoi(r) : default_rounds;
}

// Parent side: the seed (BASALT_CRASH_SEED, else the current time).
inline uint64_t CrashSeed() {
  const char* sd = std::getenv("BASALT_CRASH_SEED");
  return sd != nullptr ? std::strtoull(sd, nullptr, 10) : static_cast<uint64_t>(::time(nullptr));
}

// Parent side: an empty directory path "<temp>/<name>_<pid>" (removed if it exists).
inline std::string FreshTestDir(const std::string& name) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / (name + "_" + std::to_string(getpid()))).string();
  std::filesystem::remove_all(dir);
  return dir;
}

// Encryption at rest (BASALT_CRASH_ENCRYPTION=1): every writer, every reopen
// and every `basalt-admin verify` then uses one test key file, so the crash
// rounds run over encrypted WAL segments, manifests and SSTables.
//
// Parent side: when BASALT_CRASH_ENCRYPTION is set, writes the key file next
// to dir (<dir>.keys.json, removed with RemoveTestDir) and exports its path as
// BASALT_CRASH_KEY_FILE, which the writers inherit. Returns whether it is on.
inline bool SetUpCrashEncryption(const std::string& dir) {
  const char* on = std::getenv("BASALT_CRASH_ENCRYPTION");
  if (on == nullptr || std::string_view(on) == "0" || std::string_view(on).empty()) return false;
  const std::string path = dir + ".keys.json";
  // A fixed test key (base64 of the bytes 0x00..0x1f); id 7.
  const std::string json =
      "{\"keys\": [{\"id\": 7, \"key\": \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"}]}\n";
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr || std::fwrite(json.data(), 1, json.size(), f) != json.size()) std::abort();
  std::fclose(f);
  setenv("BASALT_CRASH_KEY_FILE", path.c_str(), 1);
  std::printf("crash: encryption on (key file %s)\n", path.c_str());
  return true;
}

// Both sides: the key ring of BASALT_CRASH_KEY_FILE for Options::encryption_keys
// (nullptr when encryption is off). Exits if the file does not load.
inline std::shared_ptr<const KeyRing> CrashEncryptionKeys() {
  const char* path = std::getenv("BASALT_CRASH_KEY_FILE");
  if (path == nullptr || *path == '\0') return nullptr;
  std::shared_ptr<const KeyRing> keys;
  Status s = KeyRing::Load(path, &keys);
  if (!s.ok()) {
    std::fprintf(stderr, "crash: %s\n", s.ToString().c_str());
    std::exit(2);
  }
  return keys;
}

// Parent side: the basalt-admin option that reads the key file ("" when off).
inline std::string CrashAdminKeyFlag() {
  const char* path = std::getenv("BASALT_CRASH_KEY_FILE");
  return path == nullptr || *path == '\0' ? std::string()
                                          : std::string(" --encryption-key-file ") + path;
}

// Parent side: removes dir unless BASALT_KEEP_TEST_DIRS is set.
inline void RemoveTestDir(const std::string& dir) {
  if (std::getenv("BASALT_KEEP_TEST_DIRS") == nullptr) {
    std::filesystem::remove_all(dir);
    std::filesystem::remove(dir + ".keys.json");
  }
}

// Parent side: prints "<program>: FAIL: <msg>" to stderr and returns 1.
inline int Fail(const std::string& program, const std::string& msg) {
  std::fprintf(stderr, "%s: FAIL: %s\n", program.c_str(), msg.c_str());
  return 1;
}

using Clock = std::chrono::steady_clock;

// Called with the writer's output so far after each read before the kill; it
// may move *deadline (the time of the kill).
using OutputHook = std::function<void(const std::string& output, Clock::time_point* deadline)>;

// Parent side: runs args (args[0] is the program), collects its stdout, SIGKILLs
// it at deadline (which on_output, if set, may move) and returns everything it
// wrote before dying. Returns false if it could not be started. *killed_at is
// when the kill was sent; *killed_by_signal is false if it exited on its own
// (a failure of the writer).
inline bool RunAndKillAt(const std::vector<std::string>& args, Clock::time_point deadline,
                         const OutputHook& on_output, std::string* output, bool* killed_by_signal,
                         Clock::time_point* killed_at) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  bool killed = false;
  char chunk[65536];
  output->clear();
  while (true) {
    auto now = Clock::now();
    if (!killed && now >= deadline) {
      kill(pid, SIGKILL);
      killed = true;
      *killed_at = now;
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
    if (!killed && on_output) on_output(*output, &deadline);
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  *killed_by_signal = WIFSIGNALED(status);
  return true;
}

// Parent side: runs `writer dir seed` and SIGKILLs it after kill_after_ms; see
// RunAndKillAt.
inline bool RunAndKill(const std::string& writer, const std::string& dir, const std::string& seed,
                       int kill_after_ms, std::string* output, bool* killed_by_signal) {
  Clock::time_point killed_at;
  return RunAndKillAt({writer, dir, seed}, Clock::now() + std::chrono::milliseconds(kill_after_ms),
                      nullptr, output, killed_by_signal, &killed_at);
}

}  // namespace basalt::test

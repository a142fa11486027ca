// Probes and the SkipUnless decorator (skip.h).

#include "tests/testutil/skip.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "engine/io/env_uring.h"

namespace basalt::test {

namespace {

// Reasons of skip-decorated test cases, by "file:line:name" (a macro may
// register several cases on one line).
std::mutex& ReasonsMutex() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, std::string>& Reasons() {
  static std::map<std::string, std::string> reasons;
  return reasons;
}
std::string Key(const doctest::TestCaseData& tc) {
  return std::string(tc.m_file.c_str()) + ":" + std::to_string(tc.m_line) + ":" +
         (tc.m_name != nullptr ? tc.m_name : "");
}

Probe ProbeDirectIo() {
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
  if (ec) return {false, "no temp directory: " + ec.message()};
  const std::string path = (dir / ("basalt_direct_probe_" + std::to_string(::getpid()))).string();
  io::Env* env = io::Env::Posix();
  Status s = io::WriteStringToFile(env, "x", path, /*sync=*/false);
  if (!s.ok()) return {false, "cannot write a probe file: " + s.ToString()};
  std::unique_ptr<io::RandomAccessFile> f;
  s = env->NewDirectRandomAccessFile(path, &f);
  f.reset();
  env->RemoveFile(path).PermitUnchecked();  // best effort
  if (!s.ok()) {
    return {false, "the temp directory " + dir.string() + " refuses O_DIRECT (" + s.ToString() +
                       "); set TMPDIR to a disk file system"};
  }
  return {true, ""};
}

}  // namespace

const Probe& IoUringProbe() {
  static const Probe probe = [] {
    if (io::Env::Uring() != nullptr) return Probe{true, ""};
    return Probe{false, "io_uring unavailable: " + io::UringUnavailableReason()};
  }();
  return probe;
}

const Probe& DirectIoProbe() {
  static const Probe probe = ProbeDirectIo();
  return probe;
}

Probe EnvFlagProbe(const char* name) {
  const char* v = std::getenv(name);
  if (v != nullptr && std::string(v) == "1") return {true, ""};
  return {false, std::string("opt-in: set ") + name + "=1 to run it"};
}

Probe AllOf(const Probe& a, const Probe& b) {
  if (a.available && b.available) return {true, ""};
  if (a.available) return b;
  if (b.available) return a;
  return {false, a.reason + "; " + b.reason};
}

void SkipUnless::fill(doctest::detail::TestCase& tc) const {
  if (probe_.available) return;
  tc.m_skip = true;
  std::lock_guard<std::mutex> l(ReasonsMutex());
  Reasons()[Key(tc)] = probe_.reason;
}

void SkipUnless::fill(doctest::detail::TestSuite& ts) const {
  if (!probe_.available) ts.m_skip = true;  // a suite's cases inherit it, without a reason
}

std::string SkipReason(const doctest::TestCaseData& tc) {
  std::lock_guard<std::mutex> l(ReasonsMutex());
  auto it = Reasons().find(Key(tc));
  return it != Reasons().end() ? it->second : "skip-decorated (no reason given)";
}

}  // namespace basalt::test

// Skipping a test that cannot run here, visibly: ctest reports it "Skipped"
// (and lists it under "The following tests did not run"), never "Passed".
//
// How to skip a test:
//  - Decorate the TEST_CASE with a probe, evaluated once at registration:
//
//      TEST_CASE("env: reads, io_uring" * test::SkipUnless(test::IoUringProbe())) {...}
//
//    When the probe fails, doctest does not run the case (doctest::skip),
//    and the test binary prints "BASALT-SKIPPED: <name>: <reason>" for every
//    skip-decorated case the command line selects (doctest_main.cc). The
//    basalt_test() CMake function gives each discovered test a
//    SKIP_REGULAR_EXPRESSION on that marker, so ctest counts it as skipped.
//  - Never return early from a test body after an environment check, and do
//    not print "skipping" and pass: that reports a pass for a test that did
//    not run. If only part of a test needs the missing thing, split it: the
//    part that can run here runs in its own TEST_CASE.
//  - Tests that run the same body per Env use BASALT_ENV_TEST_CASE below,
//    so the io_uring variant is its own (skippable) test case.
//
// Probes are cheap and cached; a decorator's probe runs during static
// initialization of the test binary (doctest registers test cases then).
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "engine/io/env.h"

namespace basalt::test {

// Whether something a test needs is here, and if not, why.
struct Probe {
  bool available = false;
  std::string reason;  // when !available: what is missing, and how to get it
};

// The io_uring Env exists: the build has liburing (CMake BASALT_URING) and
// the kernel allows io_uring (io::UringUnavailableReason() otherwise).
const Probe& IoUringProbe();
// Files in the system temp directory (where TempDir creates test
// directories) can be opened with O_DIRECT; tmpfs before Linux 6.6 refuses.
const Probe& DirectIoProbe();
// An opt-in for long tests: available when environment variable `name` is "1".
Probe EnvFlagProbe(const char* name);

inline bool HaveIoUring() { return IoUringProbe().available; }

// doctest decorator: skips the test case unless probe.available, and keeps
// probe.reason for the BASALT-SKIPPED marker.
class SkipUnless {
 public:
  explicit SkipUnless(Probe probe) : probe_(std::move(probe)) {}
  void fill(doctest::detail::TestCase& tc) const;
  void fill(doctest::detail::TestSuite& ts) const;

 private:
  Probe probe_;
};

// Why a skip-decorated test case is skipped (from its SkipUnless; a generic
// text for a plain doctest::skip).
std::string SkipReason(const doctest::TestCaseData& tc);

// Both probes: available when both are, else the reasons of those that are not.
Probe AllOf(const Probe& a, const Probe& b);

}  // namespace basalt::test

// Registers fn(io::Env*) as two test cases: "<name> [posix]" with
// io::Env::Posix(), and "<name> [io_uring]" with io::Env::Uring(), skipped
// (and reported so) when io_uring is unavailable. name: a string literal.
#define BASALT_ENV_TEST_CASE(name, fn) \
  BASALT_ENV_TEST_CASE_IF(name, fn, (::basalt::test::Probe{true, ""}))
// The same, both cases also skipped unless probe (a test::Probe) is available.
#define BASALT_ENV_TEST_CASE_IF(name, fn, probe)                                   \
  TEST_CASE(name " [posix]" * ::basalt::test::SkipUnless(probe)) {                 \
    fn(::basalt::io::Env::Posix());                                                \
  }                                                                                \
  TEST_CASE(name " [io_uring]" * ::basalt::test::SkipUnless(::basalt::test::AllOf( \
                                     ::basalt::test::IoUringProbe(), probe))) {    \
    fn(::basalt::io::Env::Uring());                                                \
  }                                                                                \
  static_assert(true, "")

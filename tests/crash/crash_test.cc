// Crash test: a crash_writer child writes with sync durability and reports
// every acknowledged write; we SIGKILL it at a random moment, then check that
// `basalt-admin verify` passes, that the DB reopens, and that every
// acknowledged write is present with its last acknowledged value (the one
// write in flight at the kill may or may not be there, but atomically).
//
// usage: crash_test CRASH_WRITER BASALT_ADMIN
// env:   BASALT_CRASH_ROUNDS (default 20), BASALT_CRASH_SEED, BASALT_KEEP_TEST_DIRS,
//        BASALT_CRASH_ENCRYPTION=1 (every file encrypted; crash_harness.h)
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "engine/base/random.h"
#include "engine/lsm/db.h"
#include "tests/crash/crash_common.h"
#include "tests/crash/crash_harness.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

int Fail(const std::string& msg) { return test::Fail("crash_test", msg); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: crash_test CRASH_WRITER BASALT_ADMIN\n");
    return 2;
  }
  const std::string writer = argv[1], admin = argv[2];
  const int rounds = test::CrashRounds(20);
  const uint64_t seed = test::CrashSeed();
  std::printf("crash_test: %d rounds, seed %llu\n", rounds, static_cast<unsigned long long>(seed));
  Random rnd(seed);
  const std::string dir = test::FreshTestDir("basalt_crash");
  test::SetUpCrashEncryption(dir);
  test::SilenceLogging();

  test::State acked;
  uint64_t total_acked = 0, total_lost = 0, in_flight_applied = 0;
  for (int round = 0; round < rounds; round++) {
    // Read acknowledgements until a random deadline, then kill.
    const int kill_after_ms = 150 + static_cast<int>(rnd.Uniform(900));
    std::string buf;
    bool signaled = false;
    if (!test::RunAndKill(writer, dir, std::to_string(seed * 1000 + static_cast<uint64_t>(round)),
                          kill_after_ms, &buf, &signaled)) {
      return Fail("could not start the writer");
    }
    if (!signaled) return Fail("writer exited on its own; see its stderr above");

    // Committed ops apply in order; the trailing uncommitted op is in flight.
    const test::LogSummary log = test::ApplyWriterLog(buf, &acked);
    total_acked += log.acked_ops;

    // 1. The files verify (a torn WAL tail is allowed).
    std::string cmd = admin + test::CrashAdminKeyFlag() + " verify " + dir + " > /dev/null";
    int vr = std::system(cmd.c_str());
    if (vr != 0)
      return Fail("round " + std::to_string(round) + ": basalt-admin verify failed on " + dir);

    // 2. Every acknowledged write is there.
    std::unique_ptr<DB> db;
    Options options;
    options.encryption_keys = test::CrashEncryptionKeys();
    Status s = DB::Open(options, dir, &db);
    if (!s.ok()) return Fail("reopen: " + s.ToString());
    bool applied = false;
    uint64_t lost = 0;
    const std::string error =
        test::CheckAgainstModel(db.get(), log.in_flight, &acked, &applied, &lost);
    if (!error.empty()) return Fail("round " + std::to_string(round) + ": " + error);
    if (applied) in_flight_applied++;
    s = db->Close();
    if (!s.ok()) return Fail("close: " + s.ToString());
    db.reset();
    // 3. Verify again after recovery truncated any torn tail.
    vr = std::system(cmd.c_str());
    if (vr != 0) return Fail("verify after reopen failed");
    total_lost += lost;
    std::printf("crash_test: round %d: killed after %d ms, %llu writes acknowledged, %llu lost%s\n",
                round, kill_after_ms, static_cast<unsigned long long>(log.acked_ops),
                static_cast<unsigned long long>(lost),
                log.in_flight.empty() ? "" : ", 1 in flight");
    std::fflush(stdout);
    if (lost > 0) return Fail("acknowledged writes lost; data dir kept at " + dir);
  }
  std::printf(
      "crash_test: %d rounds, %llu acknowledged writes, %llu lost, in-flight applied %llu times\n",
      rounds, static_cast<unsigned long long>(total_acked),
      static_cast<unsigned long long>(total_lost),
      static_cast<unsigned long long>(in_flight_applied));
  std::printf("%d passed, 0 failed\n", rounds);
  test::RemoveTestDir(dir);
  return 0;
}

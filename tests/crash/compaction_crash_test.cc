// Crash-during-compaction test: a compaction_crash_writer child writes with
// flushes and compactions running constantly (leveled and tiered policies,
// sync and none durability, alternating across rounds on the same directory)
// and reports every acknowledged write. We SIGKILL it — in most rounds a few
// ms after it reports that an SSTable is being created, so the kill lands in
// the middle of a flush or compaction — then check:
//   1. `basalt-admin verify` passes on the crashed directory;
//   2. the DB reopens and holds exactly the acknowledged writes (the one op in
//      flight may or may not be there, atomically);
//   3. after recovery no orphan is left: every .sst is referenced by the
//      manifest, no temp file, no stale manifest (VerifyDbDirectory notes);
//   4. `basalt-admin verify` passes again after Close.
//
// usage: compaction_crash_test WRITER BASALT_ADMIN
// env:   BASALT_CRASH_ROUNDS (default 10), BASALT_CRASH_SEED, BASALT_KEEP_TEST_DIRS,
//        BASALT_CRASH_ENCRYPTION=1 (every file encrypted; crash_harness.h)
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/base/random.h"
#include "engine/io/env.h"
#include "engine/lsm/db.h"
#include "engine/lsm/verify.h"
#include "tests/crash/crash_common.h"
#include "tests/crash/crash_harness.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

int Fail(const std::string& msg) { return test::Fail("compaction_crash_test", msg); }

// How a round's kill is timed.
struct KillPlan {
  int min_ms;    // never before this
  bool aimed;    // then wait for the next S/K marker ...
  int delay_ms;  // ... and kill this much later (timed: kill at min_ms)
};

// Runs the writer with args, SIGKILLs it per plan, returns its stdout.
// Returns false if it could not be started; *killed false if it exited on its own.
bool RunAndKill(const std::vector<std::string>& args, const KillPlan& plan, std::string* output,
                bool* killed_by_signal, int* killed_at_ms) {
  using test::Clock;
  const auto start = Clock::now();
  const auto armed_at = start + std::chrono::milliseconds(plan.min_ms);
  // Aimed kills fall back to a timed kill if no marker comes within 3 s.
  const auto deadline = plan.aimed ? armed_at + std::chrono::seconds(3) : armed_at;
  bool marker_seen = false;
  size_t scanned = 0;  // output before this offset was searched for markers
  auto aim = [&](const std::string& out, Clock::time_point* kill_at) {
    if (plan.aimed && !marker_seen && Clock::now() >= armed_at) {
      // Markers are whole lines "S" or "K"; look only at complete new lines.
      for (size_t pos = out.find('\n', scanned); pos != std::string::npos;
           pos = out.find('\n', scanned)) {
        const bool marker = pos == scanned + 1 && (out[scanned] == 'S' || out[scanned] == 'K');
        scanned = pos + 1;
        if (marker) {
          marker_seen = true;
          *kill_at = Clock::now() + std::chrono::milliseconds(plan.delay_ms);
          break;
        }
      }
    } else if (!marker_seen) {
      size_t last = out.rfind('\n');
      scanned = last == std::string::npos ? 0 : last + 1;
    }
  };
  Clock::time_point killed_at = start;
  if (!test::RunAndKillAt(args, deadline, aim, output, killed_by_signal, &killed_at)) return false;
  *killed_at_ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(killed_at - start).count());
  return true;
}

// Runs basalt-admin verify; returns its exit code and stdout lines.
int RunVerify(const std::string& admin, const std::string& dir, std::vector<std::string>* lines) {
  lines->clear();
  FILE* f = popen((admin + test::CrashAdminKeyFlag() + " verify " + dir + " 2>&1").c_str(), "r");
  if (f == nullptr) return -1;
  char buf[4096];
  std::string out;
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  int rc = pclose(f);
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) lines->push_back(line);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Lines of a verify report that name a file recovery should have removed.
std::vector<std::string> OrphanLines(const std::vector<std::string>& lines) {
  std::vector<std::string> r;
  for (const auto& l : lines) {
    if (l.find("not referenced by") != std::string::npos || l.find("orphan") != std::string::npos ||
        l.find("leftover temporary") != std::string::npos ||
        l.find("not named by CURRENT") != std::string::npos) {
      r.push_back(l);
    }
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: compaction_crash_test WRITER BASALT_ADMIN\n");
    return 2;
  }
  const std::string writer = argv[1], admin = argv[2];
  const int rounds = test::CrashRounds(10);
  const uint64_t seed = test::CrashSeed();
  std::printf("compaction_crash_test: %d rounds, seed %llu\n", rounds,
              static_cast<unsigned long long>(seed));
  Random rnd(seed);
  const std::string dir = test::FreshTestDir("basalt_compaction_crash");
  test::SetUpCrashEncryption(dir);
  test::SilenceLogging();

  test::State acked;
  uint64_t total_acked = 0, in_flight_applied = 0, tables_started = 0;
  int aimed_rounds = 0, rounds_with_leftovers = 0;
  for (int round = 0; round < rounds; round++) {
    // Every combination of policy and durability comes up within 4 rounds.
    const char* policy = round % 2 == 0 ? "leveled" : "tiered";
    const char* durability = (round / 2) % 2 == 0 ? "none" : "sync";
    KillPlan plan;
    plan.aimed = !rnd.OneIn(3);
    plan.min_ms = plan.aimed ? 100 + static_cast<int>(rnd.Uniform(700))
                             : 100 + static_cast<int>(rnd.Uniform(1100));
    plan.delay_ms = static_cast<int>(rnd.Uniform(8));
    aimed_rounds += plan.aimed ? 1 : 0;
    std::string buf;
    bool signaled = false;
    int killed_at_ms = 0;
    const std::string wseed = std::to_string(seed * 1000 + static_cast<uint64_t>(round));
    if (!RunAndKill({writer, dir, wseed, policy, durability}, plan, &buf, &signaled,
                    &killed_at_ms)) {
      return Fail("could not start the writer");
    }
    if (!signaled) return Fail("writer exited on its own; see its stderr above");

    // Committed ops apply in order; the trailing uncommitted op is in flight.
    const test::LogSummary log = test::ApplyWriterLog(buf, &acked);
    total_acked += log.acked_ops;
    tables_started += log.tables_started;
    const std::string where = "round " + std::to_string(round) + " (" + policy + ", " + durability +
                              ", dir " + dir + "): ";

    // 1. The crashed directory verifies; leftovers of the interrupted work are notes.
    std::vector<std::string> vlines;
    if (RunVerify(admin, dir, &vlines) != 0) {
      for (const auto& l : vlines) std::fprintf(stderr, "  %s\n", l.c_str());
      return Fail(where + "basalt-admin verify failed on the crashed directory");
    }
    const size_t leftovers = OrphanLines(vlines).size();
    if (leftovers > 0) rounds_with_leftovers++;

    // 2. Reopen without compaction (so the directory holds still for step 3)
    // and compare with the model.
    std::unique_ptr<DB> db;
    Options options;
    options.disable_compaction = true;
    options.encryption_keys = test::CrashEncryptionKeys();
    Status s = DB::Open(options, dir, &db);
    if (!s.ok()) return Fail(where + "reopen: " + s.ToString());
    bool applied = false;
    uint64_t lost = 0;
    const std::string error =
        test::CheckAgainstModel(db.get(), log.in_flight, &acked, &applied, &lost);
    if (!error.empty()) return Fail(where + error);
    if (applied) in_flight_applied++;
    if (lost > 0) return Fail(where + std::to_string(lost) + " acknowledged writes lost");

    // 3. Recovery removed every leftover: no unreferenced .sst, temp file or old manifest.
    std::vector<std::string> report;
    bool intact = false;
    s = VerifyDbDirectory(io::Env::Default(), dir, &report, &intact,
                          test::CrashEncryptionKeys().get());
    if (!s.ok()) return Fail(where + "verify after reopen: " + s.ToString());
    std::vector<std::string> orphans = OrphanLines(report);
    if (!intact || !orphans.empty()) {
      for (const auto& l : report) std::fprintf(stderr, "  %s\n", l.c_str());
      return Fail(where + "directory not clean after recovery");
    }
    s = db->Close();
    if (!s.ok()) return Fail(where + "close: " + s.ToString());
    db.reset();

    // 4. And the closed directory verifies.
    if (RunVerify(admin, dir, &vlines) != 0) {
      for (const auto& l : vlines) std::fprintf(stderr, "  %s\n", l.c_str());
      return Fail(where + "basalt-admin verify failed after reopen");
    }
    std::printf(
        "compaction_crash_test: round %d: %s/%s, %s kill at %d ms, %llu tables started, %llu "
        "writes acknowledged, 0 lost, %zu leftover files removed by recovery%s\n",
        round, policy, durability, plan.aimed ? "aimed" : "timed", killed_at_ms,
        static_cast<unsigned long long>(log.tables_started),
        static_cast<unsigned long long>(log.acked_ops), leftovers,
        log.in_flight.empty() ? "" : ", 1 in flight");
    std::fflush(stdout);
  }
  std::printf(
      "compaction_crash_test: %d rounds (%d aimed at table writes), %llu tables started, %llu "
      "acknowledged writes, 0 lost, in-flight applied %llu times, %d rounds left files that "
      "recovery removed\n",
      rounds, aimed_rounds, static_cast<unsigned long long>(tables_started),
      static_cast<unsigned long long>(total_acked),
      static_cast<unsigned long long>(in_flight_applied), rounds_with_leftovers);
  std::printf("%d passed, 0 failed\n", rounds);
  test::RemoveTestDir(dir);
  return 0;
}

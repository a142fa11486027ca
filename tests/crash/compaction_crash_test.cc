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
// env:   BASALT_CRASH_ROUNDS (default 10), BASALT_CRASH_SEED, BASALT_KEEP_TEST_DIRS
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "engine/base/logging.h"
#include "engine/base/random.h"
#include "engine/io/env.h"
#include "engine/lsm/db.h"
#include "engine/lsm/verify.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

struct Entry {
  TreeId tree;
  std::string key;
  bool del;
  std::string value;
};
using State = std::map<std::pair<TreeId, std::string>, std::string>;

void Apply(State* st, const std::vector<Entry>& op) {
  for (const auto& e : op) {
    if (e.del) {
      st->erase({e.tree, e.key});
    } else {
      (*st)[{e.tree, e.key}] = e.value;
    }
  }
}

int Fail(const std::string& msg) {
  std::fprintf(stderr, "compaction_crash_test: FAIL: %s\n", msg.c_str());
  return 1;
}

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
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto armed_at = start + std::chrono::milliseconds(plan.min_ms);
  // Aimed kills fall back to a timed kill if no marker comes within 3 s.
  auto deadline = plan.aimed ? armed_at + std::chrono::seconds(3) : armed_at;
  bool marker_seen = false, killed = false;
  size_t scanned = 0;  // output before this offset was searched for markers
  char chunk[65536];
  output->clear();
  while (true) {
    auto now = Clock::now();
    if (!killed && now >= deadline) {
      kill(pid, SIGKILL);
      killed = true;
      *killed_at_ms = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(now - start).count());
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
    if (plan.aimed && !marker_seen && !killed && Clock::now() >= armed_at) {
      // Markers are whole lines "S" or "K"; look only at complete new lines.
      for (size_t pos = output->find('\n', scanned); pos != std::string::npos;
           pos = output->find('\n', scanned)) {
        const bool marker =
            pos == scanned + 1 && ((*output)[scanned] == 'S' || (*output)[scanned] == 'K');
        scanned = pos + 1;
        if (marker) {
          marker_seen = true;
          deadline = Clock::now() + std::chrono::milliseconds(plan.delay_ms);
          break;
        }
      }
    } else if (!marker_seen) {
      size_t last = output->rfind('\n');
      scanned = last == std::string::npos ? 0 : last + 1;
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  *killed_by_signal = WIFSIGNALED(status);
  return true;
}

// Runs basalt-admin verify; returns its exit code and stdout lines.
int RunVerify(const std::string& admin, const std::string& dir, std::vector<std::string>* lines) {
  lines->clear();
  FILE* f = popen((admin + " verify " + dir + " 2>&1").c_str(), "r");
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
  const char* r = std::getenv("BASALT_CRASH_ROUNDS");
  const int rounds = r != nullptr ? std::atoi(r) : 10;
  const char* sd = std::getenv("BASALT_CRASH_SEED");
  const uint64_t seed =
      sd != nullptr ? std::strtoull(sd, nullptr, 10) : static_cast<uint64_t>(::time(nullptr));
  std::printf("compaction_crash_test: %d rounds, seed %llu\n", rounds,
              static_cast<unsigned long long>(seed));
  Random rnd(seed);
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("basalt_compaction_crash_" + std::to_string(getpid())))
                              .string();
  std::filesystem::remove_all(dir);

  struct Quiet : Logger {
    void Log(std::string_view) override {}
  } quiet;
  SetLogger(&quiet);

  State acked;
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

    // Parse: committed ops apply in order; the trailing uncommitted op is in flight.
    std::map<uint64_t, std::vector<Entry>> pending;
    std::vector<Entry> in_flight;
    uint64_t round_acked = 0, round_tables = 0;
    std::istringstream in(buf);
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof() && !buf.empty() && buf.back() != '\n') break;  // torn last line
      if (line == "S") round_tables++;
      if (line.empty() || line == "S" || line == "K") continue;
      std::istringstream ls(line);
      char kind;
      uint64_t op;
      ls >> kind >> op;
      if (kind == 'I') {
        Entry e;
        ls >> e.tree >> e.key >> e.value;
        e.del = e.value == "DEL";
        pending[op].push_back(e);
      } else if (kind == 'C') {
        Apply(&acked, pending[op]);
        pending.erase(op);
        round_acked++;
      }
    }
    if (!pending.empty()) in_flight = pending.rbegin()->second;
    total_acked += round_acked;
    tables_started += round_tables;
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
    Status s = DB::Open(options, dir, &db);
    if (!s.ok()) return Fail(where + "reopen: " + s.ToString());
    TreeId second = kDefaultTree;
    std::vector<TreeId> trees = {kDefaultTree};
    if (db->FindTree("second", &second).ok()) trees.push_back(second);
    State with_in_flight = acked;
    Apply(&with_in_flight, in_flight);
    int applied_votes = 0, not_applied_votes = 0;
    for (const auto& e : in_flight) {
      std::string v;
      Status gs = db->Get(ReadOptions(), e.tree, e.key, &v);
      auto exp_new = with_in_flight.find({e.tree, e.key});
      auto exp_old = acked.find({e.tree, e.key});
      bool matches_new =
          exp_new == with_in_flight.end() ? gs.IsNotFound() : (gs.ok() && v == exp_new->second);
      bool matches_old =
          exp_old == acked.end() ? gs.IsNotFound() : (gs.ok() && v == exp_old->second);
      if (matches_new && !matches_old) applied_votes++;
      if (matches_old && !matches_new) not_applied_votes++;
      if (!matches_new && !matches_old)
        return Fail(where + "in-flight key " + e.key + " has an unexpected value");
    }
    if (applied_votes > 0 && not_applied_votes > 0)
      return Fail(where + "in-flight batch applied partially");
    if (applied_votes > 0) {
      acked = with_in_flight;
      in_flight_applied++;
    }
    uint64_t lost = 0;
    for (TreeId tid : trees) {
      // A full scan must equal the model exactly: nothing lost, nothing invented.
      State actual;
      auto it = db->NewIterator(ReadOptions(), tid);
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        actual[{tid, std::string(it->key())}] = std::string(it->value());
      }
      if (!it->status().ok()) return Fail(where + "scan: " + it->status().ToString());
      for (const auto& [k, v] : acked) {
        if (k.first != tid) continue;
        auto a = actual.find(k);
        if (a == actual.end() || a->second != v) lost++;
      }
      for (const auto& [k, v] : actual) {
        if (acked.find(k) == acked.end())
          return Fail(where + "key " + k.second + " present but never acknowledged");
      }
    }
    if (lost > 0) return Fail(where + std::to_string(lost) + " acknowledged writes lost");

    // 3. Recovery removed every leftover: no unreferenced .sst, temp file or old manifest.
    std::vector<std::string> report;
    bool intact = false;
    s = VerifyDbDirectory(io::Env::Default(), dir, &report, &intact);
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
        static_cast<unsigned long long>(round_tables), static_cast<unsigned long long>(round_acked),
        leftovers, in_flight.empty() ? "" : ", 1 in flight");
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
  if (std::getenv("BASALT_KEEP_TEST_DIRS") == nullptr) std::filesystem::remove_all(dir);
  return 0;
}

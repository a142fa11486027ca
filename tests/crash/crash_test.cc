// Crash test: a crash_writer child writes with sync durability and reports
// every acknowledged write; we SIGKILL it at a random moment, then check that
// `basalt-admin verify` passes, that the DB reopens, and that every
// acknowledged write is present with its last acknowledged value (the one
// write in flight at the kill may or may not be there, but atomically).
//
// usage: crash_test CRASH_WRITER BASALT_ADMIN
// env:   BASALT_CRASH_ROUNDS (default 20), BASALT_CRASH_SEED, BASALT_KEEP_TEST_DIRS
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
#include "engine/lsm/db.h"
#include "tests/crash/crash_harness.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

struct Entry {
  TreeId tree;
  std::string key;
  bool del;
  std::string value;
};

// key -> value per tree ("" absent is represented by missing entry)
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
  std::fprintf(stderr, "crash_test: FAIL: %s\n", msg.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: crash_test CRASH_WRITER BASALT_ADMIN\n");
    return 2;
  }
  const std::string writer = argv[1], admin = argv[2];
  const char* r = std::getenv("BASALT_CRASH_ROUNDS");
  const int rounds = r != nullptr ? std::atoi(r) : 20;
  const char* sd = std::getenv("BASALT_CRASH_SEED");
  const uint64_t seed =
      sd != nullptr ? std::strtoull(sd, nullptr, 10) : static_cast<uint64_t>(::time(nullptr));
  std::printf("crash_test: %d rounds, seed %llu\n", rounds, static_cast<unsigned long long>(seed));
  Random rnd(seed);
  std::string dir =
      (std::filesystem::temp_directory_path() / ("basalt_crash_" + std::to_string(getpid())))
          .string();
  std::filesystem::remove_all(dir);

  struct Quiet : Logger {
    void Log(std::string_view) override {}
  } quiet;
  SetLogger(&quiet);

  State acked;
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

    // Parse: committed ops apply in order; the trailing uncommitted op is in flight.
    std::map<uint64_t, std::vector<Entry>> pending;
    std::vector<Entry> in_flight;
    uint64_t round_acked = 0;
    std::istringstream in(buf);
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof() && !buf.empty() && buf.back() != '\n') break;  // torn last line
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

    // 1. The files verify (a torn WAL tail is allowed).
    std::string cmd = admin + " verify " + dir + " > /dev/null";
    int vr = std::system(cmd.c_str());
    if (vr != 0)
      return Fail("round " + std::to_string(round) + ": basalt-admin verify failed on " + dir);

    // 2. Every acknowledged write is there.
    std::unique_ptr<DB> db;
    Options options;
    Status s = DB::Open(options, dir, &db);
    if (!s.ok()) return Fail("reopen: " + s.ToString());
    // The writer creates "second" at its first start; a kill before that leaves only "default".
    TreeId second = kDefaultTree;
    std::vector<TreeId> trees = {kDefaultTree};
    if (db->FindTree("second", &second).ok()) trees.push_back(second);
    auto read = [&](TreeId t, const std::string& k, std::string* v) {
      return db->Get(ReadOptions(), t, k, v);
    };
    // Was the in-flight op applied? All of its entries must agree.
    State with_in_flight = acked;
    Apply(&with_in_flight, in_flight);
    int applied_votes = 0, not_applied_votes = 0;
    for (const auto& e : in_flight) {
      std::string v;
      Status gs = read(e.tree, e.key, &v);
      auto exp_new = with_in_flight.find({e.tree, e.key});
      auto exp_old = acked.find({e.tree, e.key});
      bool matches_new =
          exp_new == with_in_flight.end() ? gs.IsNotFound() : (gs.ok() && v == exp_new->second);
      bool matches_old =
          exp_old == acked.end() ? gs.IsNotFound() : (gs.ok() && v == exp_old->second);
      if (matches_new && !matches_old) applied_votes++;
      if (matches_old && !matches_new) not_applied_votes++;
      if (!matches_new && !matches_old)
        return Fail("in-flight key " + e.key + " has an unexpected value");
    }
    if (applied_votes > 0 && not_applied_votes > 0)
      return Fail("in-flight batch applied partially");
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
      if (!it->status().ok()) return Fail("scan: " + it->status().ToString());
      for (const auto& [k, v] : acked) {
        if (k.first != tid) continue;
        auto a = actual.find(k);
        if (a == actual.end() || a->second != v) lost++;
      }
      for (const auto& [k, v] : actual) {
        if (acked.find(k) == acked.end()) {
          return Fail("round " + std::to_string(round) + ": key " + k.second +
                      " present but never acknowledged");
        }
      }
    }
    s = db->Close();
    if (!s.ok()) return Fail("close: " + s.ToString());
    db.reset();
    // 3. Verify again after recovery truncated any torn tail.
    vr = std::system(cmd.c_str());
    if (vr != 0) return Fail("verify after reopen failed");
    total_lost += lost;
    std::printf("crash_test: round %d: killed after %d ms, %llu writes acknowledged, %llu lost%s\n",
                round, kill_after_ms, static_cast<unsigned long long>(round_acked),
                static_cast<unsigned long long>(lost), in_flight.empty() ? "" : ", 1 in flight");
    std::fflush(stdout);
    if (lost > 0) return Fail("acknowledged writes lost; data dir kept at " + dir);
  }
  std::printf(
      "crash_test: %d rounds, %llu acknowledged writes, %llu lost, in-flight applied %llu times\n",
      rounds, static_cast<unsigned long long>(total_acked),
      static_cast<unsigned long long>(total_lost),
      static_cast<unsigned long long>(in_flight_applied));
  std::printf("%d passed, 0 failed\n", rounds);
  if (std::getenv("BASALT_KEEP_TEST_DIRS") == nullptr) std::filesystem::remove_all(dir);
  return 0;
}

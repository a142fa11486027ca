// Shared pieces of the LSM crash tests (crash_test, compaction_crash_test) and
// their writers (crash_writer, compaction_crash_writer): the writer's log
// protocol on stdout, one line per event,
//   I <op> <tree> <key> <value-or-DEL>   an entry of op <op>, before the write
//   C <op>                               op <op> was acknowledged (returned OK)
// (other lines, such as compaction_crash_writer's S and K markers, are not
// part of it), the model of the acknowledged state built from that log, and
// the comparison of a reopened DB with the model.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "engine/base/random.h"
#include "engine/lsm/db.h"
#include "tests/crash/crash_harness.h"

namespace basalt::test {

// Writer side: opens the DB at dir and finds or creates tree "second". Prints
// "<program>: ..." to stderr and returns false on failure.
inline bool OpenWriterDb(const std::string& program, const lsm::Options& options,
                         const std::string& dir, std::unique_ptr<lsm::DB>* db,
                         lsm::TreeId* second) {
  Status s = lsm::DB::Open(options, dir, db);
  if (!s.ok()) {
    std::fprintf(stderr, "%s: open failed: %s\n", program.c_str(), s.ToString().c_str());
    return false;
  }
  if ((*db)->FindTree("second", second).IsNotFound()) {
    s = (*db)->CreateTree("second", second);
    if (!s.ok()) {
      std::fprintf(stderr, "%s: create tree: %s\n", program.c_str(), s.ToString().c_str());
      return false;
    }
  }
  return true;
}

// Writer side: writes op number op, a batch of one (or, one time in four, up to
// eight) puts and deletes on keys "k0".."k<key_space - 1>" of the default tree
// and second, with values padded by up to max_pad - 1 bytes. Emits its I lines
// before the write and its C line once the write is acknowledged.
inline Status WriteRandomOp(lsm::DB* db, Random* rnd, uint64_t seed, uint64_t op,
                            lsm::TreeId second, uint64_t key_space, uint64_t max_pad) {
  lsm::WriteBatch b;
  const int n = rnd->OneIn(4) ? 1 + static_cast<int>(rnd->Uniform(8)) : 1;
  std::string intents;
  for (int i = 0; i < n; i++) {
    lsm::TreeId t = rnd->OneIn(3) ? second : lsm::kDefaultTree;
    std::string key = "k" + std::to_string(rnd->Uniform(key_space));
    if (rnd->OneIn(5)) {
      b.Delete(t, key);
      intents += "I " + std::to_string(op) + " " + std::to_string(t) + " " + key + " DEL\n";
    } else {
      std::string value = "v" + std::to_string(seed) + "_" + std::to_string(op) + "_" +
                          std::string(rnd->Uniform(max_pad), 'x');
      b.Put(t, key, value);
      intents +=
          "I " + std::to_string(op) + " " + std::to_string(t) + " " + key + " " + value + "\n";
    }
  }
  EmitLine(intents);
  Status s = db->Write(lsm::WriteOptions(), &b);
  if (s.ok()) EmitLine("C " + std::to_string(op) + "\n");
  return s;
}

struct Entry {
  lsm::TreeId tree;
  std::string key;
  bool del;
  std::string value;
};

// key -> value per tree (an absent key has no entry)
using State = std::map<std::pair<lsm::TreeId, std::string>, std::string>;

inline void Apply(State* st, const std::vector<Entry>& op) {
  for (const auto& e : op) {
    if (e.del) {
      st->erase({e.tree, e.key});
    } else {
      (*st)[{e.tree, e.key}] = e.value;
    }
  }
}

// What a round's writer log held beyond the acknowledged ops.
struct LogSummary {
  uint64_t acked_ops = 0;        // C lines
  uint64_t tables_started = 0;   // S lines (compaction_crash_writer only)
  std::vector<Entry> in_flight;  // the trailing unacknowledged op, if any
};

// Parent side: applies the writer's acknowledged ops in log to *acked, in
// order. A torn last line is ignored.
inline LogSummary ApplyWriterLog(const std::string& log, State* acked) {
  LogSummary summary;
  std::map<uint64_t, std::vector<Entry>> pending;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof() && !log.empty() && log.back() != '\n') break;  // torn last line
    if (line == "S") summary.tables_started++;
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
      Apply(acked, pending[op]);
      pending.erase(op);
      summary.acked_ops++;
    }
  }
  if (!pending.empty()) summary.in_flight = pending.rbegin()->second;
  return summary;
}

// Parent side: compares the reopened db with the model. The in-flight op may
// be there or not, but wholly; if it is, it is applied to *acked and
// *in_flight_applied is set. Then a full scan of every tree must equal *acked:
// *lost counts acknowledged keys missing or with another value. Returns "" or
// the first error found.
inline std::string CheckAgainstModel(lsm::DB* db, const std::vector<Entry>& in_flight, State* acked,
                                     bool* in_flight_applied, uint64_t* lost) {
  *in_flight_applied = false;
  *lost = 0;
  // The writer creates "second" at its first start; a kill before that leaves only "default".
  lsm::TreeId second = lsm::kDefaultTree;
  std::vector<lsm::TreeId> trees = {lsm::kDefaultTree};
  if (db->FindTree("second", &second).ok()) trees.push_back(second);
  // Was the in-flight op applied? All of its entries must agree.
  State with_in_flight = *acked;
  Apply(&with_in_flight, in_flight);
  int applied_votes = 0, not_applied_votes = 0;
  for (const auto& e : in_flight) {
    std::string v;
    Status gs = db->Get(lsm::ReadOptions(), e.tree, e.key, &v);
    auto exp_new = with_in_flight.find({e.tree, e.key});
    auto exp_old = acked->find({e.tree, e.key});
    bool matches_new =
        exp_new == with_in_flight.end() ? gs.IsNotFound() : (gs.ok() && v == exp_new->second);
    bool matches_old =
        exp_old == acked->end() ? gs.IsNotFound() : (gs.ok() && v == exp_old->second);
    if (matches_new && !matches_old) applied_votes++;
    if (matches_old && !matches_new) not_applied_votes++;
    if (!matches_new && !matches_old) return "in-flight key " + e.key + " has an unexpected value";
  }
  if (applied_votes > 0 && not_applied_votes > 0) return "in-flight batch applied partially";
  if (applied_votes > 0) {
    *acked = with_in_flight;
    *in_flight_applied = true;
  }
  for (lsm::TreeId tid : trees) {
    // A full scan must equal the model exactly: nothing lost, nothing invented.
    State actual;
    auto it = db->NewIterator(lsm::ReadOptions(), tid);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      actual[{tid, std::string(it->key())}] = std::string(it->value());
    }
    if (!it->status().ok()) return "scan: " + it->status().ToString();
    for (const auto& [k, v] : *acked) {
      if (k.first != tid) continue;
      auto a = actual.find(k);
      if (a == actual.end() || a->second != v) (*lost)++;
    }
    for (const auto& [k, v] : actual) {
      if (acked->find(k) == acked->end())
        return "key " + k.second + " present but never acknowledged";
    }
  }
  return "";
}

}  // namespace basalt::test

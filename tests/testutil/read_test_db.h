// A DB for read-path tests (MultiGet, read-ahead, direct reads): small
// blocks, files and levels, so a few thousand keys spread over the memtable,
// L0 and deeper levels, with overwrites, deletions and a snapshot in between.
// A DbTestBase (db_test_base.h) that also keeps a model of what it wrote.
#pragma once

#include <doctest/doctest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/random.h"
#include "engine/lsm/db.h"
#include "tests/testutil/db_test_base.h"

namespace basalt::test {

inline std::string ReadKey(int i) {
  char b[32];
  std::snprintf(b, sizeof(b), "key%07d", i);
  return b;
}

struct ReadTestDB : DbTestBase {
  // The latest state and the state at `snapshot`.
  std::map<std::string, std::string> model, snapshot_model;
  const lsm::Snapshot* snapshot = nullptr;

  // env: Options::env (nullptr: io::Env::Default()).
  explicit ReadTestDB(io::Env* env = nullptr) : ReadTestDB(DbConfig()) { options.env = env; }
  explicit ReadTestDB(const DbConfig& config) : DbTestBase(config) {
    options.durability = lsm::Durability::kNone;  // no fsync per write: fast tests
    options.write_buffer_size = 64 << 10;
    options.table.block_size = 1024;
    options.target_file_size = 64 << 10;
    options.max_bytes_for_level_base = 256 << 10;
    options.block_cache_size = 256 << 10;
    // Load compacts everything below L0 at first, then reopens with a
    // trigger of 10 so that L0 keeps the files it flushes afterwards.
    options.level0_compaction_trigger = 2;
    options.level0_slowdown_trigger = 20;
    options.level0_stop_trigger = 30;
  }
  ~ReadTestDB() override { ReleaseSnapshot(); }

  // Releases the snapshot first: it must not outlive the DB.
  void Close() override {
    ReleaseSnapshot();
    DbTestBase::Close();
  }

  void Put(const std::string& k, const std::string& v) {
    DbTestBase::Put(k, v);
    model[k] = v;
  }
  void Delete(const std::string& k) {
    DbTestBase::Delete(k);
    model.erase(k);
  }

  // REQUIRES: Open. Keys [0, n): all written and compacted into the deeper
  // levels (then the DB is reopened, see the constructor); then
  // overwrites and deletions flushed to L0; a snapshot; more of both in L0;
  // the last ones left in the memtable. Requires files in L0 and below.
  void Load(int n, uint64_t seed = 1) {
    Random rnd(seed);
    auto value = [&rnd](int i, const char* phase) {
      std::string v = std::string(phase) + std::to_string(i) + "_";
      v.append(40 + rnd.Uniform(80), static_cast<char>('a' + rnd.Uniform(26)));
      return v;
    };
    for (int i = 0; i < n; i++) Put(ReadKey(i), value(i, "first"));
    REQUIRE(db->Flush(lsm::kDefaultTree).ok());
    if (!options.disable_compaction) REQUIRE(db->CompactAll(lsm::kDefaultTree).ok());
    Close();
    options.level0_compaction_trigger = 10;
    Open();
    for (int i = 0; i < n; i += 3) Put(ReadKey(i), value(i, "second"));
    for (int i = 0; i < n; i += 7) Delete(ReadKey(i));
    REQUIRE(db->Flush(lsm::kDefaultTree).ok());
    snapshot = db->GetSnapshot();
    snapshot_model = model;
    for (int i = 0; i < n; i += 5) Put(ReadKey(i), value(i, "third"));
    for (int i = 1; i < n; i += 11) Delete(ReadKey(i));
    REQUIRE(db->Flush(lsm::kDefaultTree).ok());
    for (int i = 2; i < n; i += 13) Put(ReadKey(i), value(i, "mem"));
    for (int i = 4; i < n; i += 17) Delete(ReadKey(i));
    lsm::TreeStats st;
    REQUIRE(db->GetTreeStats(lsm::kDefaultTree, &st).ok());
    int deeper = 0;
    for (size_t l = 1; l < st.levels.size(); l++) deeper += st.levels[l].files;
    REQUIRE(st.levels[0].files > 0);
    if (!options.disable_compaction) REQUIRE(deeper > 0);
  }

  // Contents through an iterator, "k=v;" each, forward or backward.
  std::string Scan(const lsm::ReadOptions& ro, bool backward = false) {
    return Contents(ro, lsm::kDefaultTree, backward);
  }

 private:
  void ReleaseSnapshot() {
    if (snapshot != nullptr && db) db->ReleaseSnapshot(snapshot);
    snapshot = nullptr;
  }
};

inline std::string ModelScan(const std::map<std::string, std::string>& m) {
  std::string r;
  for (const auto& [k, v] : m) r += k + "=" + v + ";";
  return r;
}

}  // namespace basalt::test

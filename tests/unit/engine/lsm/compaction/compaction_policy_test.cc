// Golden tests of the compaction policies on hand-built Versions (TableFiles
// with a null table: the policies only read metadata), and DB-level runs of
// each CompactionStyle.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/lsm/compaction/leveled_policy.h"
#include "engine/lsm/compaction/policy.h"
#include "engine/lsm/compaction/tiered_policy.h"
#include "engine/lsm/db.h"
#include "tests/testutil/db_test_base.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

std::string IKey(std::string_view user, SequenceNumber seq = 1) {
  std::string k;
  AppendInternalKey(&k, user, seq, ValueKind::kValue);
  return k;
}

struct VersionBuilder {
  Version v;
  // Adds a file [lo, hi] of size bytes to level (append: L0 callers add newest first).
  VersionBuilder& Add(int level, uint64_t number, std::string_view lo, std::string_view hi,
                      uint64_t size) {
    FileMetaData m;
    m.number = number;
    m.file_size = size;
    m.smallest = IKey(lo);
    m.largest = IKey(hi);
    v.levels[level].push_back(std::make_shared<TableFile>(m, nullptr, nullptr, ""));
    return *this;
  }
};

// A DB that flushes and compacts after a few hundred small writes.
void SmallDbOptions(Options* options) {
  options->durability = Durability::kNone;
  options->write_buffer_size = 16 << 10;
  options->table.block_size = 1024;
  options->target_file_size = 32 << 10;
  options->max_bytes_for_level_base = 64 << 10;
  options->level_size_multiplier = 4;
}

CompactionPolicyOptions SmallOptions() {
  CompactionPolicyOptions o;
  o.level0_compaction_trigger = 4;
  o.max_bytes_for_level_base = 1000;
  o.level_size_multiplier = 10;
  return o;
}

// "L<level>:[n,n]->L<out>:[n,n]" or "none".
std::string Describe(const std::optional<CompactionPick>& p) {
  if (!p) return "none";
  auto list = [](const std::vector<uint64_t>& v) {
    std::string r;
    for (uint64_t n : v) {
      if (!r.empty()) r += ',';
      r += std::to_string(n);
    }
    return r;
  };
  return fmt::format("L{}:[{}]->L{}:[{}]", p->level, list(p->input_numbers[0]), p->output_level,
                     list(p->input_numbers[1]));
}

}  // namespace

TEST_CASE("compaction_policy: leveled L0 trigger picks all L0 plus overlapping L1") {
  LeveledPolicy policy(SmallOptions());
  VersionBuilder b;
  b.Add(0, 13, "c", "f", 10).Add(0, 12, "a", "b", 10).Add(0, 11, "b", "d", 10);
  b.Add(1, 5, "a", "a", 100).Add(1, 6, "e", "g", 100).Add(1, 7, "h", "k", 100);
  PolicyState st;
  CHECK_FALSE(policy.NeedsCompaction(b.v));  // 3 < trigger
  CHECK(Describe(policy.Pick(b.v, st)) == "none");
  b.Add(0, 10, "a", "a", 10);
  CHECK(policy.NeedsCompaction(b.v));
  auto p = policy.Pick(b.v, st);
  CHECK(Describe(p) == "L0:[13,12,11,10]->L1:[5,6]");
  CHECK_FALSE(p->next_compact_pointer.has_value());
}

TEST_CASE("compaction_policy: PickFile moves one file down (all of L0 for an L0 file)") {
  LeveledPolicy leveled(SmallOptions());
  VersionBuilder b;
  b.Add(0, 13, "c", "f", 10).Add(0, 12, "a", "b", 10);
  b.Add(1, 5, "a", "a", 100).Add(1, 6, "e", "g", 100);
  b.Add(2, 3, "f", "z", 100);
  CHECK(Describe(leveled.PickFile(b.v, 0, 12)) == "L0:[13,12]->L1:[5,6]");
  CHECK(Describe(leveled.PickFile(b.v, 1, 6)) == "L1:[6]->L2:[3]");
  CHECK(Describe(leveled.PickFile(b.v, 1, 5)) == "L1:[5]->L2:[]");
  CHECK(Describe(leveled.PickFile(b.v, 1, 99)) == "none");              // not in that level
  CHECK(Describe(leveled.PickFile(b.v, 0, 5)) == "none");               // in another one
  CHECK(Describe(leveled.PickFile(b.v, kNumLevels - 1, 3)) == "none");  // nothing below
  TieredPolicy tiered(SmallOptions());
  CHECK(Describe(tiered.PickFile(b.v, 0, 12)) == "none");
}

TEST_CASE("compaction_policy: leveled picks the level furthest over its target") {
  LeveledPolicy policy(SmallOptions());
  struct Row {
    uint64_t l1_bytes, l2_bytes;
    std::string want;
  };
  // L1 target 1000, L2 target 10000.
  const Row rows[] = {
      {1000, 10000, "none"},
      {1001, 10000, "L1:[2]->L2:[]"},  // file 2 has nothing below it
      {1000, 10001, "L2:[3]->L3:[]"},
      {2000, 20000, "L1:[2]->L2:[]"},  // a tie: the shallower level
      {1500, 30000, "L2:[3]->L3:[]"},  // L2 at 3x its target before L1 at 1.5x
  };
  for (const Row& r : rows) {
    VersionBuilder b;
    b.Add(1, 1, "a", "c", r.l1_bytes / 2).Add(1, 2, "d", "f", r.l1_bytes - r.l1_bytes / 2);
    b.Add(2, 3, "a", "b", r.l2_bytes);
    CAPTURE(r.l1_bytes);
    CAPTURE(r.l2_bytes);
    CHECK(Describe(LeveledPolicy(SmallOptions()).Pick(b.v, PolicyState())) == r.want);
    CHECK(policy.NeedsCompaction(b.v) == (r.want != "none"));
  }
}

TEST_CASE("compaction_policy: leveled round robin within a level") {
  LeveledPolicy policy(SmallOptions());
  VersionBuilder b;
  b.Add(1, 1, "a", "b", 400).Add(1, 2, "c", "d", 400).Add(1, 3, "e", "f", 400);
  b.Add(2, 8, "a", "c", 10).Add(2, 9, "f", "z", 10);
  PolicyState st;
  const std::vector<std::string> want = {"L1:[1]->L2:[8]", "L1:[2]->L2:[8]", "L1:[3]->L2:[9]",
                                         "L1:[1]->L2:[8]"};  // wraps
  for (const auto& w : want) {
    auto p = policy.Pick(b.v, st);
    CHECK(Describe(p) == w);
    REQUIRE(p);
    CompactionPolicy::Commit(*p, &st);
  }
  CHECK(st.compact_pointer[1] == IKey("b"));
}

TEST_CASE("compaction_policy: leveled L0 competes with the levels by score") {
  LeveledPolicy policy(SmallOptions());
  struct Row {
    uint64_t l0_files, l1_bytes;
    std::string want;
  };
  const Row rows[] = {
      {4, 1000, "L0:[20,19,18,17]->L1:[1]"},              // L0 at its trigger
      {4, 5000, "L1:[1]->L2:[]"},                         // L1 at 5x: drained first
      {8, 1500, "L0:[20,19,18,17,16,15,14,13]->L1:[1]"},  // L0 at 2x beats L1 at 1.5x
      {8, 2000, "L0:[20,19,18,17,16,15,14,13]->L1:[1]"},  // a tie: the shallower
      {3, 1001, "L1:[1]->L2:[]"},                         // L0 under its trigger
  };
  for (const Row& r : rows) {
    VersionBuilder b;
    for (uint64_t n = 20; n > 20 - r.l0_files; n--) b.Add(0, n, "a", "b", 1);
    b.Add(1, 1, "a", "b", r.l1_bytes);
    CAPTURE(r.l0_files);
    CAPTURE(r.l1_bytes);
    CHECK(Describe(policy.Pick(b.v, PolicyState())) == r.want);
  }
}

TEST_CASE("compaction_policy: leveled pushes the file with the least overlap below") {
  LeveledPolicy policy(SmallOptions());
  VersionBuilder b;  // L1 at 1200 of 1000
  b.Add(1, 1, "a", "b", 400).Add(1, 2, "c", "d", 400).Add(1, 3, "e", "f", 400);
  b.Add(2, 8, "a", "c", 1000).Add(2, 9, "d", "d", 10).Add(2, 10, "e", "z", 500);
  // Overlap per byte: file 1 1000/400, file 2 1010/400, file 3 500/400.
  CHECK(Describe(policy.Pick(b.v, PolicyState())) == "L1:[3]->L2:[10]");
  CompactionPolicyOptions rr = SmallOptions();
  rr.file_pick = LeveledFilePick::kRoundRobin;  // LevelDB's choice: the first
  CHECK(Describe(LeveledPolicy(rr).Pick(b.v, PolicyState())) == "L1:[1]->L2:[8]");

  VersionBuilder c;  // a file with nothing below it moves without a rewrite
  c.Add(1, 1, "a", "b", 400).Add(1, 2, "m", "n", 700);
  c.Add(2, 8, "a", "c", 10).Add(2, 9, "x", "z", 10);
  CHECK(Describe(policy.Pick(c.v, PolicyState())) == "L1:[2]->L2:[]");
}

TEST_CASE("compaction_policy: tiered merges all L0 with all of L1") {
  TieredPolicy policy(SmallOptions());
  VersionBuilder b;
  b.Add(0, 30, "m", "n", 10).Add(0, 29, "a", "b", 10).Add(0, 28, "c", "d", 10);
  b.Add(1, 1, "a", "b", 100000).Add(1, 2, "x", "z", 100000);  // far over leveled targets
  b.Add(2, 3, "a", "z", 1000000);
  CHECK(std::string(policy.Name()) == "tiered");
  CHECK_FALSE(policy.NeedsCompaction(b.v));  // L1 size alone never triggers
  CHECK(Describe(policy.Pick(b.v, PolicyState())) == "none");
  b.Add(0, 27, "e", "e", 10);
  CHECK(policy.NeedsCompaction(b.v));
  CHECK(Describe(policy.Pick(b.v, PolicyState())) == "L0:[30,29,28,27]->L1:[1,2]");
  VersionBuilder empty;
  CHECK(Describe(policy.Pick(empty.v, PolicyState())) == "none");
}

TEST_CASE("compaction_policy: pending compaction bytes") {
  // Targets: L1 1000, L2 10000, L3 100000; multiplier 10.
  LeveledPolicy leveled(SmallOptions());
  TieredPolicy tiered(SmallOptions());
  {
    VersionBuilder b;  // everything within its trigger/target
    b.Add(0, 9, "a", "b", 50).Add(1, 1, "a", "z", 1000).Add(2, 2, "a", "z", 10000);
    CHECK(leveled.PendingCompactionBytes(b.v) == 0);
    CHECK(tiered.PendingCompactionBytes(b.v) == 0);
  }
  {
    VersionBuilder b;  // L0 at its trigger: L0 + L1 now, and the inflow pushes L1 over
    for (uint64_t n = 20; n > 16; n--) b.Add(0, n, "a", "z", 100);
    b.Add(1, 1, "a", "z", 900).Add(2, 2, "a", "z", 10000);
    // 400 + 900, then L1 = 900 + 400 - 1000 = 300 over: 300 x 11; L2 = 10000 + 300: 300 x 11.
    CHECK(leveled.PendingCompactionBytes(b.v) == 1300 + 3300 + 3300);
    CHECK(tiered.PendingCompactionBytes(b.v) == 1300);
  }
  {
    VersionBuilder b;  // one deep level over its target, nothing above
    b.Add(2, 2, "a", "z", 10500);
    CHECK(leveled.PendingCompactionBytes(b.v) == 500 * 11);
    CHECK(tiered.PendingCompactionBytes(b.v) == 0);
  }
}

TEST_CASE("compaction_policy: NewCompactionPolicy follows compaction_style") {
  Options o;
  CHECK(std::string(NewCompactionPolicy(o)->Name()) == "leveled");
  o.compaction_style = CompactionStyle::kTiered;
  CHECK(std::string(NewCompactionPolicy(o)->Name()) == "tiered");
}

namespace {

// Each style (and block index on and off, on each Env).
void DbWorkload(test::DbTestBase& t) {
  SmallDbOptions(&t.options);
  t.Open();
  DB* const db = t.db.get();
  const Options& options = t.options;
  std::map<std::string, std::string> model;
  const std::string pad(100, 'v');
  for (int i = 0; i < 4000; i++) {
    std::string k = fmt::format("key{:05}", (i * 7919) % 1500);
    std::string v = fmt::format("{}-{}", i, pad);
    if (i % 13 == 0) {
      REQUIRE(db->Delete(WriteOptions(), kDefaultTree, k).ok());
      model.erase(k);
    } else {
      REQUIRE(db->Put(WriteOptions(), kDefaultTree, k, v).ok());
      model[k] = v;
    }
  }
  REQUIRE(db->Flush(kDefaultTree).ok());
  REQUIRE(db->CompactAll(kDefaultTree).ok());
  TreeStats st;
  REQUIRE(db->GetTreeStats(kDefaultTree, &st).ok());
  CHECK(st.levels[0].files < options.level0_compaction_trigger);
  CHECK(st.levels[1].compactions > 0);
  CHECK(st.levels[1].bytes_read_by_compaction > 0);
  CHECK(st.levels[1].bytes_written_by_compaction > 0);
  CHECK(st.db_user_bytes_written > 0);
  CHECK(st.db_bytes_flushed > 0);
  CHECK(st.db_write_amplification > 0);
  if (t.config.compaction_style == CompactionStyle::kTiered) {
    CHECK(std::string(st.compaction_policy) == "tiered");
    for (int lv = 2; lv < kNumLevels; lv++) CHECK(st.levels[lv].files == 0);
  } else {
    CHECK(std::string(st.compaction_policy) == "leveled");
  }
  // Reads match the model, point and scan.
  for (int i = 0; i < 1500; i++) {
    std::string k = fmt::format("key{:05}", i);
    std::string v;
    Status s = db->Get(ReadOptions(), kDefaultTree, k, &v);
    auto m = model.find(k);
    if (m == model.end()) {
      CHECK(s.IsNotFound());
    } else {
      REQUIRE(s.ok());
      CHECK(v == m->second);
    }
  }
  auto it = db->NewIterator(ReadOptions(), kDefaultTree);
  auto m = model.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) {
    REQUIRE(m != model.end());
    CHECK(it->key() == m->first);
    CHECK(it->value() == m->second);
  }
  CHECK(m == model.end());
  t.Close();
}
BASALT_DB_TEST_CASE("compaction_policy: DB workload with each style", test::ConfigSet::kShapes,
                    DbWorkload);

}  // namespace

// Two compaction threads on two trees, a compaction byte-rate budget that
// binds, and pending-compaction limits so small that writes are slowed and
// stopped for compaction: everything still completes and reads back intact.
TEST_CASE("compaction: threads, rate budget and pending-bytes stalls keep data intact") {
  test::DbTestBase t;
  Options& options = t.options;
  SmallDbOptions(&options);
  options.max_background_compactions = 2;
  options.compaction_rate_bytes_per_second = 1 << 20;
  options.soft_pending_compaction_bytes_limit = 64 << 10;
  options.hard_pending_compaction_bytes_limit = 256 << 10;
  t.Open();
  DB* const db = t.db.get();
  TreeId second;
  REQUIRE(db->CreateTree("second", &second).ok());
  std::map<std::string, std::string> model;
  const std::string pad(100, 'v');
  std::vector<std::thread> writers;
  std::mutex model_mu;
  for (TreeId tree : {kDefaultTree, second}) {
    writers.emplace_back([&, tree] {
      for (int i = 0; i < 3000; i++) {
        std::string k = fmt::format("key{:05}", (i * 7919) % 2000);
        std::string v = fmt::format("{}-{}-{}", tree, i, pad);
        REQUIRE(db->Put(WriteOptions(), tree, k, v).ok());
        std::lock_guard<std::mutex> l(model_mu);
        model[fmt::format("{}/{}", tree, k)] = v;
      }
    });
  }
  for (auto& th : writers) th.join();
  for (TreeId tree : {kDefaultTree, second}) {
    REQUIRE(db->Flush(tree).ok());
    REQUIRE(db->CompactAll(tree).ok());
    TreeStats st;
    REQUIRE(db->GetTreeStats(tree, &st).ok());
    CHECK(st.levels[1].compactions > 0);
    CHECK(st.pending_compaction_bytes == 0);
    CHECK(st.db_compaction_rate_limit == 1u << 20);
    CHECK(st.db_compaction_rate_wait_micros > 0);
  }
  for (const auto& [mk, v] : model) {
    const TreeId tree = mk[0] == '0' ? kDefaultTree : second;
    std::string got;
    REQUIRE(db->Get(ReadOptions(), tree, mk.substr(mk.find('/') + 1), &got).ok());
    CHECK(got == v);
  }
  t.Close();
}

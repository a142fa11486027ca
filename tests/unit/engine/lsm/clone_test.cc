// DB::CloneTrees: clones hold the sources' data at one consistent cut, share
// their SSTables, and live on independently (writes, compactions, drops,
// reopen).
#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "engine/base/random.h"
#include "engine/io/env.h"
#include "engine/lsm/db.h"
#include "engine/lsm/verify.h"
#include "tests/testutil/db_test_base.h"

using namespace basalt;
using namespace basalt::lsm;
using test::ConfigSet;
using test::DbTestBase;
using test::Key;

namespace {

void ClonesAreIndependent(DbTestBase& f) {
  f.options.write_buffer_size = 256 << 10;
  f.Open();
  TreeId a, b;
  REQUIRE(f.db->CreateTree("a", &a).ok());
  REQUIRE(f.db->CreateTree("b", &b).ok());
  for (int i = 0; i < 3000; i++) {  // several flushed files, and a memtable tail
    REQUIRE(f.db->Put(WriteOptions{false}, a, Key(i), std::string(100, 'a' + i % 26)).ok());
    if (i % 3 == 0) REQUIRE(f.db->Put(WriteOptions{false}, b, Key(i), "b" + Key(i)).ok());
  }
  REQUIRE(f.db->Delete(WriteOptions{false}, a, Key(7)).ok());
  const std::string want_a = f.Contents(a);
  const std::string want_b = f.Contents(b);

  std::vector<TreeId> sources = {a, b};
  std::vector<std::string> names = {"ca", "cb"};
  std::vector<TreeId> clones;
  REQUIRE(f.db->CloneTrees(sources, names, &clones).ok());
  REQUIRE(clones.size() == 2);
  CHECK(f.Contents(clones[0]) == want_a);
  CHECK(f.Contents(clones[1]) == want_b);
  // Taken names, repeated names and missing sources are refused.
  std::vector<TreeId> more;
  CHECK(f.db->CloneTrees(sources, names, &more).IsInvalidArgument());
  std::vector<std::string> twice = {"x", "x"};
  CHECK(f.db->CloneTrees(sources, twice, &more).IsInvalidArgument());
  std::vector<TreeId> missing = {999};
  std::vector<std::string> one = {"y"};
  CHECK(f.db->CloneTrees(missing, one, &more).IsNotFound());

  // The sources change, compact and one is dropped: the clones do not move.
  for (int i = 0; i < 3000; i += 2) {
    REQUIRE(f.db->Put(WriteOptions{false}, a, Key(i), "changed").ok());
  }
  REQUIRE(f.db->CompactAll(a).ok());
  REQUIRE(f.db->DropTree(b).ok());
  CHECK(f.Contents(clones[0]) == want_a);
  CHECK(f.Contents(clones[1]) == want_b);
  // The clones take writes of their own.
  REQUIRE(f.db->Put(WriteOptions(), clones[1], "zz", "clone-only").ok());
  f.Reopen();
  CHECK(f.Contents(clones[0]) == want_a);
  CHECK(f.Contents(clones[1]) == want_b + "zz=clone-only;");
  std::string v;
  CHECK(f.db->Get(ReadOptions(), a, Key(0), &v).ok());
  CHECK(v == "changed");
  REQUIRE(f.db->CompactAll(clones[0]).ok());
  CHECK(f.Contents(clones[0]) == want_a);
  REQUIRE(f.db->Close().ok());
  f.db.reset();
  std::vector<std::string> lines;
  bool intact = false;
  REQUIRE(VerifyDbDirectory(io::Env::Default(), f.dir.path(), &lines, &intact).ok());
  CHECK(intact);
}
BASALT_DB_TEST_CASE("db: clones keep the sources' data and live on independently",
                    ConfigSet::kShapes, ClonesAreIndependent);

void CloneIsOneCut(DbTestBase& f) {
  f.options.write_buffer_size = 128 << 10;
  f.Open();
  TreeId a, b;
  REQUIRE(f.db->CreateTree("a", &a).ok());
  REQUIRE(f.db->CreateTree("b", &b).ok());
  // Each batch writes the same counter to one key of both trees: a
  // consistent cut shows equal values in both clones, key by key.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    Random rnd(7);
    for (int i = 0; !stop && i < 200000; i++) {
      const std::string k = Key(static_cast<int>(rnd.Uniform(500)));
      WriteBatch batch;
      batch.Put(a, k, std::to_string(i));
      batch.Put(b, k, std::to_string(i));
      REQUIRE(f.db->Write(WriteOptions{false}, &batch).ok());
    }
  });
  for (int round = 0; round < 5; round++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::vector<TreeId> sources = {a, b};
    std::vector<std::string> names = {"a" + std::to_string(round), "b" + std::to_string(round)};
    std::vector<TreeId> clones;
    REQUIRE(f.db->CloneTrees(sources, names, &clones).ok());
    const std::string ca = f.Contents(clones[0]);
    CHECK(ca == f.Contents(clones[1]));
    CHECK(!ca.empty());
  }
  stop = true;
  writer.join();
}
BASALT_DB_TEST_CASE("db: clones of several trees are one consistent cut under writes",
                    ConfigSet::kFew, CloneIsOneCut);

void FrozenClones(DbTestBase& f) {
  f.options.write_buffer_size = 64 << 10;
  f.options.frozen_trees = [](std::string_view name) { return name == "frozen"; };
  f.Open();
  TreeId a;
  REQUIRE(f.db->CreateTree("a", &a).ok());
  for (int i = 0; i < 2000; i++) {
    REQUIRE(f.db->Put(WriteOptions{false}, a, Key(i % 700), std::string(100, 'a' + i % 26)).ok());
  }
  const std::string want = f.Contents(a);
  std::vector<TreeId> sources = {a};
  std::vector<std::string> names = {"frozen"};
  std::vector<TreeId> clones;
  REQUIRE(f.db->CloneTrees(sources, names, &clones).ok());
  const TreeId c = clones[0];
  Status s = f.db->Put(WriteOptions(), c, "x", "y");
  CHECK(s.IsInvalidArgument());
  CHECK(s.subcode() == Status::SubCode::kTreeFrozen);
  CHECK(f.db->CompactAll(c).ok());  // nothing to do: its files stay as they are
  TreeStats before;
  REQUIRE(f.db->GetTreeStats(c, &before).ok());
  REQUIRE(f.db->CompactAll(a).ok());
  f.Reopen();
  CHECK(f.Contents(c) == want);
  CHECK(f.db->Put(WriteOptions(), c, "x", "y").IsInvalidArgument());
  TreeStats after;
  REQUIRE(f.db->GetTreeStats(c, &after).ok());
  REQUIRE(after.levels.size() == before.levels.size());
  for (size_t lv = 0; lv < after.levels.size(); lv++) {
    CHECK(after.levels[lv].files == before.levels[lv].files);
    CHECK(after.levels[lv].bytes == before.levels[lv].bytes);
  }
  REQUIRE(f.db->DropTree(c).ok());
}
BASALT_DB_TEST_CASE(
    "db: frozen trees (Options::frozen_trees) refuse writes and never compact, across reopen",
    ConfigSet::kFew, FrozenClones);

}  // namespace

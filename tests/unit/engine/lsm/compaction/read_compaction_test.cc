// Options::read_triggered_compaction (LevelDB's seek compaction): point reads
// that pass through the key ranges of two or more table files charge the
// first one, and a file whose budget (max(100, size / 16 KiB) reads) runs out
// is compacted into the next level.
#include <doctest/doctest.h>

#include <string>

#include "engine/lsm/db.h"
#include "tests/testutil/db_test_base.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

// Two L0 files over the same 200 keys (the second overwrites the first), then
// `reads` point reads spread over them; returns the files per level after
// CompactAll, which also waits for a read-triggered compaction.
std::string ShapeAfterReads(bool read_compaction, CompactionStyle style, int reads) {
  test::DbTestBase t(test::DbConfig{.compaction_style = style});
  t.options.read_triggered_compaction = read_compaction;
  t.options.level0_compaction_trigger = 8;  // the two L0 files stay put by size
  t.Open();
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 200; i++) t.Put(test::Key(i), "v" + std::to_string(round));
    REQUIRE(t.db->Flush(kDefaultTree).ok());
  }
  REQUIRE(t.FilesPerLevel(kDefaultTree) == "2");
  for (int r = 0; r < reads; r++) CHECK(t.Get(test::Key(r % 200)) == "v1");
  REQUIRE(t.db->CompactAll(kDefaultTree).ok());
  // The shape before the check below, whose reads are charged too.
  const std::string shape = t.FilesPerLevel(kDefaultTree);
  for (int i = 0; i < 200; i++) CHECK(t.Get(test::Key(i)) == "v1");  // the newest value wins
  t.Close();
  return shape;
}

}  // namespace

TEST_CASE("read compaction: reads through overlapping L0 files compact them into L1") {
  // Off: nothing moves, however many reads.
  CHECK(ShapeAfterReads(false, CompactionStyle::kLeveled, 300) == "2");
  // On: 99 charges leave the newest file's budget (100) at 1...
  CHECK(ShapeAfterReads(true, CompactionStyle::kLeveled, 99) == "2");
  // ...the 100th runs it out: L0 goes down whole, one run is left.
  CHECK(ShapeAfterReads(true, CompactionStyle::kLeveled, 100) == "0,1");
  // The tiered policy ignores the option.
  CHECK(ShapeAfterReads(true, CompactionStyle::kTiered, 300) == "2");
}

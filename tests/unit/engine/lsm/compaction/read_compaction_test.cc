// Options::read_triggered_compaction (LevelDB's seek compaction): reads that
// pass through the key ranges of two or more table files charge the first
// one, and a file whose budget (max(100, size / 16 KiB) reads) runs out is
// compacted into the next level. kSeeks (the default) charges iterator seeks
// and every 1 MiB a scan steps over; kAllReads charges Gets too.
#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/lsm/db.h"
#include "engine/lsm/db_iter.h"
#include "tests/testutil/db_test_base.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

enum class Read { kGet, kSeek, kScan };

// Two L0 files over the same 200 keys (the second overwrites the first, with
// values of value_size bytes), then `reads` reads of kind `how` spread over
// them (kScan: whole scans from the first key, which no seek charges); returns
// the files per level after CompactAll, which also waits for a read-triggered
// compaction.
std::string ShapeAfterReads(ReadCompaction mode, CompactionStyle style, Read how, int reads,
                            size_t value_size = 8) {
  test::DbTestBase t(test::DbConfig{.compaction_style = style});
  t.options.read_triggered_compaction = mode;
  t.options.level0_compaction_trigger = 8;  // the two L0 files stay put by size
  t.options.write_buffer_size = 1 << 20;
  t.Open();
  auto value = [&](int round) { return std::string(value_size, static_cast<char>('a' + round)); };
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 200; i++) t.Put(test::Key(i), value(round));
    REQUIRE(t.db->Flush(kDefaultTree).ok());
  }
  REQUIRE(t.FilesPerLevel(kDefaultTree) == "2");
  for (int r = 0; r < reads; r++) {
    if (how == Read::kGet) {
      CHECK(t.Get(test::Key(r % 200)) == value(1));
      continue;
    }
    std::unique_ptr<Iterator> it = t.db->NewIterator(ReadOptions(), kDefaultTree);
    if (how == Read::kSeek) {
      it->Seek(test::Key(r % 200));
      REQUIRE(it->Valid());
      CHECK(it->value() == value(1));
      continue;
    }
    int n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) n++;
    REQUIRE(it->status().ok());
    CHECK(n == 200);
  }
  REQUIRE(t.db->CompactAll(kDefaultTree).ok());
  // The shape before the check below, whose reads may be charged too.
  const std::string shape = t.FilesPerLevel(kDefaultTree);
  for (int i = 0; i < 200; i++) CHECK(t.Get(test::Key(i)) == value(1));  // the newest value wins
  t.Close();
  return shape;
}

}  // namespace

TEST_CASE("read compaction: reads through overlapping L0 files compact them into L1") {
  const auto kLeveled = CompactionStyle::kLeveled;
  // Off: nothing moves, however many reads.
  CHECK(ShapeAfterReads(ReadCompaction::kOff, kLeveled, Read::kGet, 300) == "2");
  CHECK(ShapeAfterReads(ReadCompaction::kOff, kLeveled, Read::kSeek, 300) == "2");
  // kAllReads: 99 Gets leave the newest file's budget (100) at 1...
  CHECK(ShapeAfterReads(ReadCompaction::kAllReads, kLeveled, Read::kGet, 99) == "2");
  // ...the 100th runs it out: L0 goes down whole, one run is left.
  CHECK(ShapeAfterReads(ReadCompaction::kAllReads, kLeveled, Read::kGet, 100) == "0,1");
  CHECK(ShapeAfterReads(ReadCompaction::kAllReads, kLeveled, Read::kSeek, 100) == "0,1");
  // kSeeks: Gets are free, seeks are charged.
  CHECK(ShapeAfterReads(ReadCompaction::kSeeks, kLeveled, Read::kGet, 300) == "2");
  CHECK(ShapeAfterReads(ReadCompaction::kSeeks, kLeveled, Read::kSeek, 99) == "2");
  CHECK(ShapeAfterReads(ReadCompaction::kSeeks, kLeveled, Read::kSeek, 100) == "0,1");
  // The tiered policy ignores the option.
  CHECK(ShapeAfterReads(ReadCompaction::kAllReads, CompactionStyle::kTiered, Read::kSeek, 300) ==
        "2");
}

TEST_CASE("read compaction: scans charge once per 1 MiB they step over, on average") {
  // A scan steps over both versions of 200 keys with 1,000-byte values, about
  // 0.41 MB, and a new iterator's first charge comes after a random [0, 2 MiB):
  // each scan charges about 0.2 times. 100 scans make about 20 charges, 1,000
  // about 200; the budget, 100, lies many standard deviations from both.
  static_assert(kReadSampleBytes == 1 << 20);
  CHECK(ShapeAfterReads(ReadCompaction::kSeeks, CompactionStyle::kLeveled, Read::kScan, 100,
                        1000) == "2");
  CHECK(ShapeAfterReads(ReadCompaction::kSeeks, CompactionStyle::kLeveled, Read::kScan, 1000,
                        1000) == "0,1");
}

TEST_CASE("read compaction: an iterator that outlives its DB charges nothing") {
  test::DbTestBase t;
  t.options.read_triggered_compaction = ReadCompaction::kSeeks;
  t.options.level0_compaction_trigger = 8;
  t.Open();
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 200; i++) t.Put(test::Key(i), "v" + std::to_string(round));
    REQUIRE(t.db->Flush(kDefaultTree).ok());
  }
  std::unique_ptr<Iterator> it = t.db->NewIterator(ReadOptions(), kDefaultTree);
  for (int r = 0; r < 50; r++) it->Seek(test::Key(r));  // half the budget
  t.Close();  // the DB is gone; the iterator holds its version and tables
  // The budget runs out here, with no DB to ask for a compaction.
  for (int r = 0; r < 100; r++) {
    it->Seek(test::Key(r));
    REQUIRE(it->Valid());
    CHECK(it->value() == "v1");
  }
  CHECK(it->status().ok());
}

TEST_CASE("read compaction: seeks on several threads beside writes and flushes") {
  // Charges race each other, the flush thread and compactions they trigger
  // (run under ThreadSanitizer by scripts/test.sh).
  test::DbTestBase t;
  t.options.read_triggered_compaction = ReadCompaction::kSeeks;
  t.Open();
  for (int i = 0; i < 300; i++) t.Put(test::Key(i), "v0");
  REQUIRE(t.db->Flush(kDefaultTree).ok());
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  std::atomic<int> seeks{0};
  for (int r = 0; r < 2; r++) {
    readers.emplace_back([&, r] {
      for (int n = 0; !stop.load() && n < 20000; n++) {
        std::unique_ptr<Iterator> it = t.db->NewIterator(ReadOptions(), kDefaultTree);
        it->Seek(test::Key((n * 7 + r) % 300));
        if (!it->Valid() || !it->status().ok()) break;
        seeks.fetch_add(1);
      }
    });
  }
  for (int round = 1; round <= 6; round++) {
    for (int i = 0; i < 300; i++) t.Put(test::Key(i), "v" + std::to_string(round));
    REQUIRE(t.db->Flush(kDefaultTree).ok());
  }
  stop = true;
  for (auto& th : readers) th.join();
  CHECK(seeks.load() > 0);
  REQUIRE(t.db->CompactAll(kDefaultTree).ok());
  for (int i = 0; i < 300; i++) CHECK(t.Get(test::Key(i)) == "v6");
}

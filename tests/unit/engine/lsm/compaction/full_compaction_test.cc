// DB::CompactFull: after it the tree's tables are all in one level, hold each
// live key once (no overwritten version, no tombstone that no snapshot needs),
// and every read answers as before; a snapshot keeps what it sees.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/base/random.h"
#include "engine/io/env.h"
#include "engine/lsm/db.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/filename.h"
#include "engine/lsm/sstable/table.h"
#include "engine/lsm/stats.h"
#include "tests/testutil/db_test_base.h"

using namespace basalt;
using namespace basalt::lsm;
using test::Key;

namespace {

// Levels that hold tables, and their entries in all.
struct Shape {
  int levels_with_files = 0;
  int deepest = -1;
  uint64_t bytes = 0;
};

Shape ShapeOf(test::DbTestBase& f) {
  TreeStats st;
  REQUIRE(f.db->GetTreeStats(kDefaultTree, &st).ok());
  Shape s;
  for (size_t lv = 0; lv < st.levels.size(); lv++) {
    if (st.levels[lv].files == 0) continue;
    s.levels_with_files++;
    s.deepest = static_cast<int>(lv);
    s.bytes += st.levels[lv].bytes;
  }
  return s;
}

// Writes 3 versions of 3000 keys and deletes a third of them, with small
// memtables, so that several levels hold tables; returns the live contents.
std::map<std::string, std::string> Churn(test::DbTestBase& f) {
  std::map<std::string, std::string> model;
  Random rnd(11);
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 3000; i++) {
      std::string v(100, ' ');
      for (char& c : v) c = static_cast<char>('a' + rnd.Uniform(26));
      REQUIRE(f.db->Put(WriteOptions{false}, kDefaultTree, Key(i), v).ok());
      model[Key(i)] = v;
    }
  }
  for (int i = 0; i < 3000; i += 3) {
    REQUIRE(f.db->Delete(WriteOptions{false}, kDefaultTree, Key(i)).ok());
    model.erase(Key(i));
  }
  return model;
}

void CheckContents(test::DbTestBase& f, const std::map<std::string, std::string>& model) {
  std::string expected;
  for (const auto& [k, v] : model) expected += k + "=" + v + ";";
  CHECK(f.Contents() == expected);
  for (int i = 0; i < 3000; i += 7) {
    const auto it = model.find(Key(i));
    CHECK(f.Get(Key(i)) == (it == model.end() ? std::string("NOT_FOUND") : it->second));
  }
}

void FullCompactionLeavesOneLevel(test::DbTestBase& f) {
  f.options.write_buffer_size = 64 << 10;
  f.options.target_file_size = 64 << 10;
  f.options.max_bytes_for_level_base = 128 << 10;
  f.Open();
  auto model = Churn(f);
  REQUIRE(f.db->Flush(kDefaultTree).ok());
  REQUIRE(f.db->CompactAll(kDefaultTree).ok());
  // One more L0 file (below the trigger), over what compaction left below.
  for (int i = 0; i < 100; i++) {
    f.Put(Key(i), "l0");
    model[Key(i)] = "l0";
  }
  REQUIRE(f.db->Flush(kDefaultTree).ok());
  const Shape before = ShapeOf(f);
  INFO("before: " << f.FilesPerLevel());
  CHECK(before.levels_with_files >= 2);  // else the test tests nothing

  // The last deletes are still in the memtable: CompactFull flushes them first.
  f.Delete(Key(1));
  auto live = model;
  live.erase(Key(1));
  REQUIRE(f.db->CompactFull(kDefaultTree).ok());
  const Shape after = ShapeOf(f);
  INFO("after: " << f.FilesPerLevel());
  CHECK(after.levels_with_files == 1);
  CHECK(after.deepest >= 1);
  CHECK(after.deepest >= before.deepest);
  // Only live entries are left (each 111 bytes of key and value; random
  // letters, which LZ4 does not shrink much).
  CHECK(after.bytes < before.bytes);
  CHECK(after.bytes < live.size() * 140);
  CheckContents(f, live);
  f.Reopen();
  CheckContents(f, live);
  CHECK(ShapeOf(f).levels_with_files == 1);

  // A second full compaction of a compacted tree keeps it as it is.
  REQUIRE(f.db->CompactFull(kDefaultTree).ok());
  CHECK(ShapeOf(f).levels_with_files == 1);
  CheckContents(f, live);
}
BASALT_DB_TEST_CASE("compaction: a full compaction leaves one level of live entries",
                    test::ConfigSet::kFew, FullCompactionLeavesOneLevel);

TEST_CASE("compaction: a full compaction keeps what a snapshot sees") {
  test::DbTestBase f;
  f.options.write_buffer_size = 64 << 10;
  f.Open();
  f.Put("k", "old");
  f.Put("gone", "here");
  REQUIRE(f.db->Flush(kDefaultTree).ok());
  const Snapshot* snap = f.db->GetSnapshot();
  f.Put("k", "new");
  f.Delete("gone");
  REQUIRE(f.db->CompactFull(kDefaultTree).ok());
  CHECK(ShapeOf(f).levels_with_files == 1);
  CHECK(f.Get("k") == "new");
  CHECK(f.Get("gone") == "NOT_FOUND");
  CHECK(f.Get("k", kDefaultTree, snap) == "old");
  CHECK(f.Get("gone", kDefaultTree, snap) == "here");
  f.db->ReleaseSnapshot(snap);
  // Without the snapshot the next full compaction drops both.
  REQUIRE(f.db->CompactFull(kDefaultTree).ok());
  CHECK(f.Contents() == "k=new;");
}

// Every entry of the DB's table files, "user_key@seq;" each, sorted as
// strings, read from the files.
std::string TableEntries(test::DbTestBase& f) {
  io::Env* env = io::Env::Posix();
  std::vector<std::string> names;
  REQUIRE(env->GetChildren(f.dir.path(), &names).ok());
  std::multiset<std::string> entries;
  for (const std::string& name : names) {
    uint64_t number = 0;
    if (ParseFileName(name, &number) != FileType::kTable) continue;
    const std::string path = f.dir.path() + "/" + name;
    uint64_t size = 0;
    std::unique_ptr<io::RandomAccessFile> file;
    REQUIRE(env->GetFileSize(path, &size).ok());
    REQUIRE(env->NewRandomAccessFile(path, &file).ok());
    std::unique_ptr<Table> table;
    REQUIRE(Table::Open(std::move(file), size, &table).ok());
    std::unique_ptr<Iterator> it = table->NewIterator();
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ParsedInternalKey k;
      REQUIRE(ParseInternalKey(it->key(), &k));
      entries.insert(std::string(k.user_key) + "@" + std::to_string(k.sequence));
    }
    REQUIRE(it->status().ok());
  }
  std::string out;
  for (const std::string& e : entries) out += e + ";";
  return out;
}

TEST_CASE("compaction: at the bottom a value older than every snapshot gets sequence number 0") {
  test::DbTestBase f;
  f.Open();
  f.Put("a", "1");    // sequence 1
  f.Put("k", "old");  // 2
  // L0 alone moves to an empty L1 without a rewrite: sequences stay.
  REQUIRE(f.db->CompactFull(kDefaultTree).ok());
  CHECK(TableEntries(f) == "a@1;k@2;");
  const Snapshot* snap = f.db->GetSnapshot();     // sees a=1, k=old
  f.Put("k", "new");                              // 3
  f.Put("z", "1");                                // 4
  REQUIRE(f.db->CompactFull(kDefaultTree).ok());  // merges L0 into L1
  // a and the k the snapshot reads are older than it: 0. The rest keep theirs.
  CHECK(TableEntries(f) == "a@0;k@0;k@3;z@4;");
  CHECK(f.Get("k", kDefaultTree, snap) == "old");
  CHECK(f.Get("z", kDefaultTree, snap) == "NOT_FOUND");
  CHECK(f.Get("k") == "new");
  f.db->ReleaseSnapshot(snap);
  f.Put("m", "1");  // 5
  REQUIRE(f.db->CompactFull(kDefaultTree).ok());
  CHECK(TableEntries(f) == "a@0;k@0;m@0;z@0;");
  CHECK(f.Contents() == "a=1;k=new;m=1;z=1;");
  // Sequence numbers go on from where they were, not from the zeroed files:
  // a write after a reopen still hides the zeroed version, flushed or not.
  f.Reopen();
  f.Put("k", "newer");  // 6
  CHECK(f.Get("k") == "newer");
  REQUIRE(f.db->Flush(kDefaultTree).ok());
  CHECK(f.Get("k") == "newer");
  CHECK(TableEntries(f) == "a@0;k@0;k@6;m@0;z@0;");
  REQUIRE(f.db->CompactFull(kDefaultTree).ok());
  CHECK(f.Contents() == "a=1;k=newer;m=1;z=1;");
  CHECK(TableEntries(f) == "a@0;k@0;m@0;z@0;");
}

TEST_CASE("compaction: a full compaction of an empty tree, an unknown tree, a frozen DB") {
  test::DbTestBase f;
  f.Open();
  CHECK(f.db->CompactFull(kDefaultTree).ok());
  CHECK(ShapeOf(f).levels_with_files == 0);
  CHECK(f.db->CompactFull(12345).IsNotFound());
  f.Put("a", "1");
  REQUIRE(f.db->CompactFull(kDefaultTree).ok());  // L0 alone goes to L1
  TreeStats st;
  REQUIRE(f.db->GetTreeStats(kDefaultTree, &st).ok());
  CHECK(st.levels[0].files == 0);
  CHECK(st.levels[1].files == 1);
  f.Close();
  f.options.disable_compaction = true;
  f.Open();
  CHECK(f.db->CompactFull(kDefaultTree).IsNotSupported());
  CHECK(f.Get("a") == "1");
}

// A caller that measures disk use after CompactAll or CompactFull (a
// benchmark's space amplification) must not count the inputs of the
// compaction just finished: they are deleted before the waiter wakes.
void NoObsoleteTableAfterCompaction(test::DbTestBase& f) {
  f.options.write_buffer_size = 64 << 10;
  f.options.target_file_size = 64 << 10;
  f.options.max_bytes_for_level_base = 128 << 10;
  f.Open();
  auto files_in_version = [&] {
    TreeStats st;
    REQUIRE(f.db->GetTreeStats(kDefaultTree, &st).ok());
    int n = 0;
    for (const LevelStats& l : st.levels) n += l.files;
    return n;
  };
  for (int round = 0; round < 4; round++) {
    Churn(f);
    REQUIRE(f.db->Flush(kDefaultTree).ok());
    REQUIRE(f.db->CompactAll(kDefaultTree).ok());
    CHECK(f.CountFiles(FileType::kTable) == files_in_version());
    REQUIRE(f.db->CompactFull(kDefaultTree).ok());
    CHECK(f.CountFiles(FileType::kTable) == files_in_version());
  }
}
BASALT_DB_TEST_CASE("compaction: no obsolete table is left when CompactAll or CompactFull returns",
                    test::ConfigSet::kFew, NoObsoleteTableAfterCompaction);

}  // namespace

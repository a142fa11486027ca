#include "engine/lsm/db.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "engine/base/logging.h"
#include "engine/base/random.h"
#include "engine/io/fault_env.h"
#include "engine/lsm/filename.h"
#include "engine/lsm/verify.h"
#include "tests/testutil/db_test_base.h"

using namespace basalt;
using namespace basalt::lsm;
using test::ConfigSet;
using test::DbTestBase;
using test::Key;

namespace {

void PutGetDeleteOverwrite(DbTestBase& f) {
  f.Open();
  CHECK(f.Get("a") == "NOT_FOUND");
  REQUIRE(f.db->Put(WriteOptions(), kDefaultTree, "a", "1").ok());
  REQUIRE(f.db->Put(WriteOptions(), kDefaultTree, "b", "2").ok());
  CHECK(f.Get("a") == "1");
  REQUIRE(f.db->Put(WriteOptions(), kDefaultTree, "a", "3").ok());
  CHECK(f.Get("a") == "3");
  REQUIRE(f.db->Delete(WriteOptions(), kDefaultTree, "a").ok());
  CHECK(f.Get("a") == "NOT_FOUND");
  CHECK(f.Contents() == "b=2;");
  REQUIRE(f.db->Put(WriteOptions(), kDefaultTree, "", "empty-key").ok());
  CHECK(f.Get("") == "empty-key");
}
BASALT_DB_TEST_CASE("db: put, get, delete, overwrite", ConfigSet::kAll, PutGetDeleteOverwrite);

void SurvivesReopen(DbTestBase& f) {
  f.Open();
  for (int i = 0; i < 2000; i++)
    REQUIRE(f.db->Put(WriteOptions(), 0, Key(i), "v" + std::to_string(i)).ok());
  f.Reopen();  // WAL replay (and flushed tables)
  for (int i = 0; i < 2000; i += 7) CHECK(f.Get(Key(i)) == "v" + std::to_string(i));
  REQUIRE(f.db->Flush(DB::kAllTrees).ok());
  f.Reopen();
  for (int i = 0; i < 2000; i += 7) CHECK(f.Get(Key(i)) == "v" + std::to_string(i));
  for (int i = 0; i < 2000; i += 2) REQUIRE(f.db->Delete(WriteOptions(), 0, Key(i)).ok());
  f.Reopen();
  for (int i = 0; i < 20; i++)
    CHECK(f.Get(Key(i)) == (i % 2 == 0 ? "NOT_FOUND" : "v" + std::to_string(i)));
}
BASALT_DB_TEST_CASE("db: data survives reopen from WAL and from SSTables", ConfigSet::kFew,
                    SurvivesReopen);

void IteratorsAcrossMemtableAndTables(DbTestBase& f) {
  f.Open();
  std::map<std::string, std::string> model;
  Random rnd(7);
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 300; i++) {
      std::string k = Key(static_cast<int>(rnd.Uniform(500)));
      if (rnd.OneIn(4)) {
        REQUIRE(f.db->Delete(WriteOptions(), 0, k).ok());
        model.erase(k);
      } else {
        std::string v = "r" + std::to_string(round) + "_" + std::to_string(i);
        REQUIRE(f.db->Put(WriteOptions(), 0, k, v).ok());
        model[k] = v;
      }
    }
    if (round < 2) REQUIRE(f.db->Flush(0).ok());
  }
  std::string expect, expect_back;
  for (auto& [k, v] : model) expect += k + "=" + v + ";";
  for (auto it = model.rbegin(); it != model.rend(); ++it)
    expect_back += it->first + "=" + it->second + ";";
  CHECK(f.Contents() == expect);
  CHECK(f.Contents(0, true) == expect_back);
  auto it = f.db->NewIterator(ReadOptions(), 0);
  for (int i = 0; i < 500; i += 13) {
    it->Seek(Key(i));
    auto m = model.lower_bound(Key(i));
    if (m == model.end()) {
      CHECK_FALSE(it->Valid());
      continue;
    }
    REQUIRE(it->Valid());
    CHECK(it->key() == m->first);
    // Direction changes.
    it->Prev();
    if (m == model.begin()) {
      CHECK_FALSE(it->Valid());
    } else {
      REQUIRE(it->Valid());
      CHECK(it->key() == std::prev(m)->first);
      it->Next();
      REQUIRE(it->Valid());
      CHECK(it->key() == m->first);
    }
  }
}
BASALT_DB_TEST_CASE("db: iterators forward, backward, seek across memtable and tables",
                    ConfigSet::kShapes, IteratorsAcrossMemtableAndTables);

void SnapshotsSeeThePast(DbTestBase& f) {
  f.Open();
  REQUIRE(f.db->Put(WriteOptions(), 0, "k", "v1").ok());
  const Snapshot* s1 = f.db->GetSnapshot();
  REQUIRE(f.db->Put(WriteOptions(), 0, "k", "v2").ok());
  REQUIRE(f.db->Delete(WriteOptions(), 0, "gone").ok());
  const Snapshot* s2 = f.db->GetSnapshot();
  REQUIRE(f.db->Delete(WriteOptions(), 0, "k").ok());
  for (int i = 0; i < 6; i++) {
    REQUIRE(f.db->Put(WriteOptions(), 0, Key(i), std::string(1000, 'x')).ok());
    REQUIRE(f.db->Flush(0).ok());
  }
  REQUIRE(f.db->CompactAll(0).ok());
  CHECK(f.Get("k", 0, s1) == "v1");
  CHECK(f.Get("k", 0, s2) == "v2");
  CHECK(f.Get("k") == "NOT_FOUND");
  f.db->ReleaseSnapshot(s1);
  f.db->ReleaseSnapshot(s2);
}
BASALT_DB_TEST_CASE("db: snapshots see the past across flushes and compactions", ConfigSet::kAll,
                    SnapshotsSeeThePast);

void FlushKeepsVisibleVersions(DbTestBase& f) {
  f.options.write_buffer_size = 4 << 20;  // one flush, the explicit one
  f.Open();
  Random rnd(7);
  auto value = [&](int i) {
    std::string v = std::to_string(i) + ":";
    while (v.size() < 500) v.push_back(static_cast<char>('a' + rnd.Uniform(26)));
    return v;
  };
  std::string v99, v199;
  const Snapshot* snap = nullptr;
  for (int i = 0; i < 200; i++) {
    std::string v = value(i);
    REQUIRE(f.db->Put(WriteOptions(), 0, "k", v).ok());
    if (i == 99) {
      v99 = v;
      snap = f.db->GetSnapshot();
    }
    if (i == 199) v199 = v;
  }
  REQUIRE(f.db->Flush(0).ok());
  TreeStats st;
  REQUIRE(f.db->GetTreeStats(0, &st).ok());
  CHECK(st.levels[0].files == 1);
  CHECK(f.FilesPerLevel() == "1");
  // 200 versions of 500 random bytes would be ~100 KB; the two visible ones fit in ~1 KB.
  CHECK(st.levels[0].bytes < 4096);
  CHECK(f.Get("k", 0, snap) == v99);
  CHECK(f.Get("k") == v199);
  f.db->ReleaseSnapshot(snap);
  f.Reopen();
  CHECK(f.Get("k") == v199);
}
BASALT_DB_TEST_CASE("db: a flush keeps only the versions some reader can still see",
                    ConfigSet::kAll, FlushKeepsVisibleVersions);

void TreesAreIndependent(DbTestBase& f) {
  f.Open();
  TreeId a, b;
  REQUIRE(f.db->CreateTree("a", &a).ok());
  REQUIRE(f.db->CreateTree("b", &b).ok());
  CHECK(f.db->CreateTree("a", &a).IsInvalidArgument());
  WriteBatch batch;
  batch.Put(a, "k", "in-a");
  batch.Put(b, "k", "in-b");
  batch.Delete(kDefaultTree, "k");
  REQUIRE(f.db->Write(WriteOptions(), &batch).ok());
  CHECK(f.Get("k", a) == "in-a");
  CHECK(f.Get("k", b) == "in-b");
  WriteBatch bad;
  bad.Put(a, "x", "1");
  bad.Put(999, "x", "1");
  CHECK(f.db->Write(WriteOptions(), &bad).IsInvalidArgument());
  CHECK(f.Get("x", a) == "NOT_FOUND");
  for (int i = 0; i < 500; i++)
    REQUIRE(f.db->Put(WriteOptions(), b, Key(i), std::string(200, 'b')).ok());
  REQUIRE(f.db->Flush(b).ok());
  f.Reopen();
  TreeId found;
  REQUIRE(f.db->FindTree("b", &found).ok());
  CHECK(found == b);
  CHECK(f.Get("k", a) == "in-a");
  CHECK(f.Get(Key(3), b) == std::string(200, 'b'));
  int tables_before = f.CountFiles(FileType::kTable);
  CHECK(tables_before > 0);
  REQUIRE(f.db->DropTree(b).ok());
  CHECK(f.CountFiles(FileType::kTable) < tables_before);
  f.Reopen();
  CHECK(f.db->FindTree("b", &found).IsNotFound());
  CHECK(f.Get("k", a) == "in-a");
  TreeId c;
  REQUIRE(f.db->CreateTree("c", &c).ok());
  CHECK(c > b);  // ids are never reused
}
BASALT_DB_TEST_CASE("db: trees are independent, a batch across trees is atomic, drop frees files",
                    ConfigSet::kShapes, TreesAreIndependent);

void CompactionBoundsL0(DbTestBase& f) {
  f.Open();
  Random rnd(3);
  for (int i = 0; i < 30000; i++) {
    REQUIRE(f.db->Put(WriteOptions{false}, 0, Key(static_cast<int>(rnd.Uniform(2000))),
                      std::string(100, static_cast<char>('a' + i % 26)))
                .ok());
  }
  REQUIRE(f.db->Flush(0).ok());
  REQUIRE(f.db->CompactAll(0).ok());
  TreeStats st;
  REQUIRE(f.db->GetTreeStats(0, &st).ok());
  CHECK(st.levels[0].files < f.options.level0_compaction_trigger);
  uint64_t total = 0;
  for (auto& l : st.levels) total += l.bytes;
  // 2000 live keys x ~110 bytes; overwritten versions were dropped.
  CHECK(total < 2000 * 300);
  MESSAGE(f.db->DebugString());
  f.Reopen();
  CHECK(f.Get(Key(5)).size() == 100);
}
BASALT_DB_TEST_CASE("db: compaction keeps L0 bounded and drops overwritten data", ConfigSet::kFew,
                    CompactionBoundsL0);

void FsyncErrorReachesWriter(DbTestBase& f) {
  io::FaultEnv& fenv = *f.fault_env();  // the configuration's: outlives the DB
  f.options.error_recovery_interval_ms = 0;
  f.Open();
  REQUIRE(f.db->Put(WriteOptions(), 0, "before", "1").ok());
  fenv.FailNthSync(1);
  Status s = f.db->Put(WriteOptions(), 0, "failed", "1");
  CHECK(s.IsIOError());
  // The next write recovers first: the failed record is cut from the WAL,
  // a new segment starts, writes resume; reads never stopped.
  CHECK(f.Get("before") == "1");
  REQUIRE(f.db->Put(WriteOptions(), 0, "after", "1").ok());
  CHECK(f.Get("after") == "1");
  CHECK(f.Get("failed") == "NOT_FOUND");
  // Nothing acknowledged is lost, and the unacknowledged write stays out,
  // after a reopen and after a simulated power loss.
  f.Reopen();
  CHECK(f.Get("before") == "1");
  CHECK(f.Get("after") == "1");
  CHECK(f.Get("failed") == "NOT_FOUND");
  REQUIRE(f.db->Put(WriteOptions(), 0, "more", "1").ok());
  REQUIRE(fenv.DropUnsyncedData().ok());
  f.db.reset();
  f.Open();
  CHECK(f.Get("after") == "1");
  CHECK(f.Get("more") == "1");
}
TEST_CASE("db: an fsync error fails that write; the DB recovers and loses nothing acknowledged") {
  DbTestBase f(test::DbConfig{.env = test::EnvKind::kFault});
  FsyncErrorReachesWriter(f);
}

void WalWriteError(DbTestBase& f) {
  io::FaultEnv& fenv = *f.fault_env();  // the configuration's: outlives the DB
  f.options.error_recovery_interval_ms = 0;
  f.Open();
  REQUIRE(f.db->Put(WriteOptions(), 0, "a", "1").ok());
  fenv.SetFailPathSubstring(".log");
  fenv.FailNthWrite(1);
  CHECK_FALSE(f.db->Put(WriteOptions(), 0, "b", "2").ok());
  // The disk is still full: recovery cannot start a new segment (its header
  // write fails), so the write is refused with the error.
  fenv.FailNthWrite(1);
  CHECK(f.db->Put(WriteOptions(), 0, "c", "3").IsIOError());
  // Space is back: the next write recovers and succeeds.
  fenv.SetFailPathSubstring("");
  REQUIRE(f.db->Put(WriteOptions(), 0, "d", "4").ok());
  f.Reopen();
  CHECK(f.Get("a") == "1");
  CHECK(f.Get("b") == "NOT_FOUND");
  CHECK(f.Get("c") == "NOT_FOUND");
  CHECK(f.Get("d") == "4");
}
TEST_CASE("db: a write error on the WAL is reported, writes resume when space returns") {
  DbTestBase f(test::DbConfig{.env = test::EnvKind::kFault});
  WalWriteError(f);
}

void FlushErrorRecovers(DbTestBase& f) {
  io::FaultEnv& fenv = *f.fault_env();  // the configuration's: outlives the DB
  f.options.error_recovery_interval_ms = 0;
  f.Open();
  for (int i = 0; i < 100; i++) REQUIRE(f.db->Put(WriteOptions(), 0, Key(i), "v").ok());
  // The flush's table cannot be written (no space): the flush fails and the
  // DB refuses writes; the memtable stays, so every key is still readable.
  fenv.SetFailPathSubstring(".sst");
  fenv.FailNthWrite(1);
  CHECK_FALSE(f.db->Flush(0).ok());
  CHECK(f.Get(Key(7)) == "v");
  fenv.SetFailPathSubstring("");
  // Recovery clears the error; the flush is retried.
  REQUIRE(f.db->Put(WriteOptions(), 0, "later", "1").ok());
  REQUIRE(f.db->Flush(0).ok());
  // A failed manifest write: recovery continues in a fresh manifest.
  REQUIRE(f.db->Put(WriteOptions(), 0, "m", "1").ok());
  fenv.SetFailPathSubstring("MANIFEST");
  fenv.FailNthSync(1);
  CHECK_FALSE(f.db->Flush(0).ok());
  fenv.SetFailPathSubstring("");
  REQUIRE(f.db->Put(WriteOptions(), 0, "n", "1").ok());
  REQUIRE(f.db->Flush(0).ok());
  f.Reopen();
  for (int i = 0; i < 100; i++) CHECK(f.Get(Key(i)) == "v");
  CHECK(f.Get("later") == "1");
  CHECK(f.Get("m") == "1");
  CHECK(f.Get("n") == "1");
}
TEST_CASE("db: failed flushes and manifest writes recover without a reopen") {
  DbTestBase f(test::DbConfig{.env = test::EnvKind::kFault});
  FlushErrorRecovers(f);
}

void PowerLossKeepsSyncedWrites(DbTestBase& f) {
  io::FaultEnv& fenv = *f.fault_env();  // the configuration's: outlives the DB
  f.Open();
  for (int i = 0; i < 300; i++) REQUIRE(f.db->Put(WriteOptions(), 0, Key(i), "synced").ok());
  for (int i = 300; i < 400; i++)
    REQUIRE(f.db->Put(WriteOptions{false}, 0, Key(i), "unsynced").ok());
  REQUIRE(fenv.DropUnsyncedData().ok());
  f.db.reset();  // the process "died"; the handle is abandoned
  f.Open();
  for (int i = 0; i < 300; i++) REQUIRE(f.Get(Key(i)) == "synced");
}
TEST_CASE("db: simulated power loss keeps every synced write") {
  DbTestBase f(test::DbConfig{.env = test::EnvKind::kFault});
  PowerLossKeepsSyncedWrites(f);
}

void FlippedByteInTable(DbTestBase& f) {
  f.Open();
  for (int i = 0; i < 1000; i++)
    REQUIRE(f.db->Put(WriteOptions{false}, 0, Key(i), std::string(50, 'v')).ok());
  REQUIRE(f.db->Flush(0).ok());
  REQUIRE(f.db->Close().ok());
  f.db.reset();
  std::string sst;
  for (auto& e : std::filesystem::directory_iterator(f.dir.path())) {
    if (e.path().extension() == ".sst") sst = e.path().string();
  }
  REQUIRE(!sst.empty());
  uint64_t size = std::filesystem::file_size(sst);
  REQUIRE(io::FaultEnv::CorruptByte(io::Env::Default(), sst, size / 3).ok());
  Status s = f.TryOpen();
  if (s.ok()) {
    // Data blocks are checked when read.
    auto it = f.db->NewIterator(ReadOptions(), 0);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
    }
    s = it->status();
  }
  CHECK(s.IsCorruption());
}
BASALT_DB_TEST_CASE("db: a flipped byte in an SSTable is reported", ConfigSet::kAll,
                    FlippedByteInTable);

void FlippedByteInWal(DbTestBase& f) {
  f.Open();
  for (int i = 0; i < 200; i++)
    REQUIRE(f.db->Put(WriteOptions(), 0, Key(i), std::string(50, 'v')).ok());
  REQUIRE(f.db->Close().ok());
  f.db.reset();
  std::string wal;
  uint64_t best = 0;
  for (auto& e : std::filesystem::directory_iterator(f.dir.path())) {
    uint64_t n;
    if (ParseFileName(e.path().filename().string(), &n) == FileType::kWal &&
        std::filesystem::file_size(e.path()) > best) {
      best = std::filesystem::file_size(e.path());
      wal = e.path().string();
    }
  }
  REQUIRE(!wal.empty());
  REQUIRE(io::FaultEnv::CorruptByte(io::Env::Default(), wal, best / 2).ok());
  Status s = f.TryOpen();
  CHECK(s.IsCorruption());
  MESSAGE(s.ToString());
}
BASALT_DB_TEST_CASE("db: a flipped byte in the middle of the WAL fails open with a clear message",
                    ConfigSet::kAll, FlippedByteInWal);

void DirectoryLock(DbTestBase& f) {
  f.Open();
  std::unique_ptr<DB> other;
  CHECK(DB::Open(f.options, f.dir.path(), &other).IsBusy());
  REQUIRE(f.db->Close().ok());
  f.db.reset();
  Options o = f.options;
  o.error_if_exists = true;
  CHECK(DB::Open(o, f.dir.path(), &other).IsInvalidArgument());
  o = f.options;
  o.create_if_missing = false;
  CHECK(DB::Open(o, f.dir.Sub("missing"), &other).IsInvalidArgument());
}
BASALT_DB_TEST_CASE("db: directory lock, create_if_missing and error_if_exists", ConfigSet::kAll,
                    DirectoryLock);

void ConcurrentWriters(DbTestBase& f) {
  f.Open();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; i++) {
        REQUIRE(f.db->Put(WriteOptions(), 0, Key(t * 1000 + i), std::to_string(t)).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  f.Reopen();
  for (int t = 0; t < 4; t++) {
    for (int i = 0; i < 500; i += 50) CHECK(f.Get(Key(t * 1000 + i)) == std::to_string(t));
  }
}
BASALT_DB_TEST_CASE("db: concurrent writers share group commits and lose nothing",
                    ConfigSet::kShapes, ConcurrentWriters);

void ManifestReplay(DbTestBase& f) {
  f.Open();
  TreeId t;
  REQUIRE(f.db->CreateTree("second", &t).ok());
  for (int round = 0; round < 6; round++) {
    for (int i = 0; i < 300; i++) {
      REQUIRE(f.db->Put(WriteOptions{false}, round % 2 == 0 ? kDefaultTree : t, Key(i * 7 + round),
                        std::string(120, 'a' + round))
                  .ok());
    }
    REQUIRE(f.db->Flush(DB::kAllTrees).ok());
  }
  // Both trees settled: no compaction may start after the reopen and change
  // the shapes being compared.
  REQUIRE(f.db->CompactAll(kDefaultTree).ok());
  REQUIRE(f.db->CompactAll(t).ok());
  TreeStats before0, before1, after0, after1;
  REQUIRE(f.db->GetTreeStats(kDefaultTree, &before0).ok());
  REQUIRE(f.db->GetTreeStats(t, &before1).ok());
  std::string contents0 = f.Contents(kDefaultTree), contents1 = f.Contents(t);
  const std::string shape0 = f.FilesPerLevel(kDefaultTree), shape1 = f.FilesPerLevel(t);
  CHECK(!shape0.empty());
  CHECK(!shape1.empty());
  f.Reopen();
  CHECK(f.FilesPerLevel(kDefaultTree) == shape0);
  CHECK(f.FilesPerLevel(t) == shape1);
  REQUIRE(f.db->GetTreeStats(kDefaultTree, &after0).ok());
  REQUIRE(f.db->GetTreeStats(t, &after1).ok());
  for (int lv = 0; lv < 7; lv++) {
    CHECK(before0.levels[lv].files == after0.levels[lv].files);
    CHECK(before0.levels[lv].bytes == after0.levels[lv].bytes);
    CHECK(before1.levels[lv].files == after1.levels[lv].files);
    CHECK(before1.levels[lv].bytes == after1.levels[lv].bytes);
  }
  CHECK(f.Contents(kDefaultTree) == contents0);
  CHECK(f.Contents(t) == contents1);
  // Sequence numbers continue after the recovered ones: a new write wins.
  REQUIRE(f.db->Put(WriteOptions(), t, Key(0), "newest").ok());
  f.Reopen();
  CHECK(f.Get(Key(0), t) == "newest");
  // Only one manifest remains, and CURRENT names it.
  CHECK(f.CountFiles(FileType::kManifest) == 1);
}
BASALT_DB_TEST_CASE("db: manifest replay restores trees, files per level and sequence numbers",
                    ConfigSet::kAll, ManifestReplay);

void SplitSharesFiles(DbTestBase& f) {
  // The file count below must see only what the split writes: no background
  // compaction (nor a flush of the parent still in flight, hence the Flush
  // before counting) may add files meanwhile. Compaction is on again from the
  // Reopen further down.
  f.options.disable_compaction = true;
  f.Open();
  TreeId p;
  REQUIRE(f.db->CreateTree("p", &p).ok());
  std::map<std::string, std::string> model;
  for (int i = 0; i < 3000; i++) {
    std::string v = "v" + std::to_string(i) + std::string(50, 'x');
    REQUIRE(f.db->Put(WriteOptions{false}, p, Key(i), v).ok());
    model[Key(i)] = v;
    if (i == 1000) REQUIRE(f.db->Flush(p).ok());
  }
  for (int i = 0; i < 3000; i += 3) {
    REQUIRE(f.db->Delete(WriteOptions{false}, p, Key(i)).ok());
    model.erase(Key(i));
  }
  const Snapshot* before = f.db->GetSnapshot();
  REQUIRE(f.db->Flush(p).ok());
  const int tables_before = f.CountFiles(FileType::kTable);
  TreeId l, r;
  CHECK(f.db->SplitTree(p, "", "l", "r", &l, &r).IsInvalidArgument());  // not inside the range
  REQUIRE(f.db->SplitTree(p, Key(1500), "l", "r", &l, &r).ok());
  // Only the parent's memtable was written out; nothing was copied.
  CHECK(f.CountFiles(FileType::kTable) <= tables_before + 1);
  std::string v;
  CHECK(f.db->Get(ReadOptions(), p, Key(1), &v).IsInvalidArgument());
  CHECK(f.db->Put(WriteOptions(), p, Key(1), "x").IsInvalidArgument());
  CHECK(f.db->Put(WriteOptions(), l, Key(2000), "x").IsInvalidArgument());  // outside l's range
  CHECK(f.db->Get(ReadOptions(), r, Key(1), &v).IsInvalidArgument());

  auto expect = [&](TreeId, bool lower_half) {
    std::string e;
    for (auto& [k, val] : model) {
      if ((k < Key(1500)) == lower_half) e += k + "=" + val + ";";
    }
    return e;
  };
  CHECK(f.Contents(l) == expect(l, true));
  CHECK(f.Contents(r) == expect(r, false));
  std::string back;
  for (auto it = model.rbegin(); it != model.rend(); ++it) {
    if (it->first >= Key(1500)) back += it->first + "=" + it->second + ";";
  }
  CHECK(f.Contents(r, true) == back);
  // A snapshot from before the split reads the children.
  CHECK(f.Get(Key(1), l, before) == model[Key(1)]);
  f.db->ReleaseSnapshot(before);

  // Writes go on in the children; the split survives reopen and compaction.
  f.options.disable_compaction = false;
  REQUIRE(f.db->Put(WriteOptions(), l, Key(5), "new-left").ok());
  REQUIRE(f.db->Put(WriteOptions(), r, Key(2500), "new-right").ok());
  model[Key(5)] = "new-left";
  model[Key(2500)] = "new-right";
  f.Reopen();
  auto trees = f.db->ListTrees();
  bool found_l = false;
  for (auto& ti : trees) {
    if (ti.id == l) {
      found_l = true;
      CHECK(ti.lower.empty());
      REQUIRE(ti.upper.has_value());
      CHECK(*ti.upper == Key(1500));
    }
    CHECK(ti.id != p);
  }
  CHECK(found_l);
  CHECK(f.Contents(l) == expect(l, true));
  CHECK(f.Contents(r) == expect(r, false));
  for (int i = 0; i < 4; i++) {
    for (int k = 0; k < 200; k++) {
      REQUIRE(f.db->Put(WriteOptions{false}, l, Key(k * 7 % 1500),
                        model[Key(k * 7 % 1500)] = "c" + std::to_string(i))
                  .ok());
    }
    REQUIRE(f.db->Flush(l).ok());
  }
  REQUIRE(f.db->CompactAll(l).ok());
  CHECK(f.Contents(l) == expect(l, true));
  CHECK(f.Contents(r) == expect(r, false));
  // Split a child again: ranges nest.
  TreeId rl, rr;
  REQUIRE(f.db->SplitTree(r, Key(2000), "rl", "rr", &rl, &rr).ok());
  CHECK(f.db->SplitTree(rl, Key(2500), "x", "y", &rl, &rr).IsInvalidArgument());
  f.Reopen();
  CHECK(f.Contents(l) + f.Contents(rl) + f.Contents(rr) == expect(l, true) + expect(r, false));
  REQUIRE(f.db->Close().ok());
  f.db.reset();
  std::vector<std::string> lines;
  bool intact = false;
  REQUIRE(VerifyDbDirectory(io::Env::Default(), f.dir.path(), &lines, &intact).ok());
  for (auto& line : lines) {
    if (line.find("CORRUPT") != std::string::npos || line.find("MISSING") != std::string::npos) {
      MESSAGE(line);
    }
  }
  CHECK(intact);
}
BASALT_DB_TEST_CASE("db: split hands a tree's data to two children without copying files",
                    ConfigSet::kShapes, SplitSharesFiles);

void SplitUnderConcurrency(DbTestBase& f) {
  f.Open();
  TreeId root;
  REQUIRE(f.db->CreateTree("root", &root).ok());
  // Routing table: split points -> tree, as the table layer keeps it.
  std::mutex mu;
  std::map<std::string, TreeId> route = {{"", root}};  // lower bound -> tree
  auto owner = [&](const std::string& k) {
    std::lock_guard<std::mutex> g(mu);
    return std::prev(route.upper_bound(k))->second;
  };
  std::atomic<bool> stop{false};
  std::vector<std::map<std::string, std::string>> acked(2);
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; w++) {
    threads.emplace_back([&, w] {
      Random rnd(w + 1);
      for (int i = 0; !stop && i < 20000; i++) {
        std::string k =
            Key(static_cast<int>(rnd.Uniform(4000)) * 2 + w);  // disjoint keys per writer
        std::string v = "w" + std::to_string(w) + "_" + std::to_string(i);
        while (true) {
          Status s = f.db->Put(WriteOptions{false}, owner(k), k, v);
          if (s.ok()) break;
          REQUIRE(s.IsInvalidArgument());  // the tree was split under us: route again
        }
        acked[w][k] = v;
      }
    });
  }
  threads.emplace_back([&] {
    Random rnd(99);
    while (!stop) {
      std::string k = Key(static_cast<int>(rnd.Uniform(8000)));
      std::string v;
      Status s = f.db->Get(ReadOptions(), owner(k), k, &v);
      CHECK((s.ok() || s.IsNotFound() || s.IsInvalidArgument()));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (int split = 1; split <= 3; split++) {
    std::string at = Key(split * 2000);
    TreeId parent = owner(at), l, r;
    std::string lower;
    {
      std::lock_guard<std::mutex> g(mu);
      lower = std::prev(route.upper_bound(at))->first;
    }
    REQUIRE(f.db->SplitTree(parent, at, "l" + std::to_string(split), "r" + std::to_string(split),
                            &l, &r)
                .ok());
    {
      std::lock_guard<std::mutex> g(mu);
      route[lower] = l;
      route[at] = r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop = true;
  for (auto& th : threads) th.join();
  f.Reopen();
  for (int w = 0; w < 2; w++) {
    for (auto& [k, v] : acked[w]) REQUIRE(f.Get(k, owner(k)) == v);
  }
}
BASALT_DB_TEST_CASE("db: split under concurrent writes and reads loses nothing", ConfigSet::kFew,
                    SplitUnderConcurrency);

void ApproximateSizeOfSplitChild(DbTestBase& f) {
  f.options.write_buffer_size = 1 << 20;
  f.Open();
  TreeId p, l, r;
  REQUIRE(f.db->CreateTree("p", &p).ok());
  for (int i = 0; i < 4000; i++) {
    REQUIRE(f.db->Put(WriteOptions{false}, p, Key(i), std::string(200, 'a' + i % 26)).ok());
  }
  REQUIRE(f.db->Flush(p).ok());
  uint64_t whole = 0, left = 0, right = 0;
  REQUIRE(f.db->GetApproximateSize(p, &whole).ok());
  REQUIRE(f.db->SplitTree(p, Key(1000), "l", "r", &l, &r).ok());
  REQUIRE(f.db->GetApproximateSize(l, &left).ok());
  REQUIRE(f.db->GetApproximateSize(r, &right).ok());
  MESSAGE("whole ", whole, " left ", left, " right ", right);
  // A quarter and three quarters of the keys, within a block or two per file.
  CHECK(left < whole / 2);
  CHECK(right > whole / 2);
  CHECK(left + right <= whole + 16 * 1024);
  CHECK(left + right + 16 * 1024 >= whole);
}
BASALT_DB_TEST_CASE("db: approximate size counts only a split child's own half of shared files",
                    ConfigSet::kAll, ApproximateSizeOfSplitChild);

void ApproximateRangeSize(DbTestBase& f) {
  f.options.write_buffer_size = 64 << 20;
  f.Open();
  TreeId t;
  REQUIRE(f.db->CreateTree("t", &t).ok());
  // 100 small entries (counted exactly from the memtable) and 20000 others.
  for (int i = 0; i < 20100; i++) {
    REQUIRE(f.db->Put(WriteOptions{false}, t, Key(i), std::string(100, 'a' + i % 26)).ok());
  }
  const auto range = [&](int a, int b) {
    uint64_t bytes = 0;
    REQUIRE(f.db->GetApproximateRangeSize(t, Key(a), b < 0 ? "" : Key(b), &bytes).ok());
    return bytes;
  };
  const uint64_t entry = Key(0).size() + 8 + 100 + 2;  // key, trailer, value, two varints
  CHECK(range(0, 100) == 100 * entry);                 // exact: few entries
  CHECK(range(5, 5) == 0);
  CHECK(range(100, 50) == 0);
  // Estimated from the skiplist's levels: within a fifth of the truth for
  // 20000 entries.
  const double many = static_cast<double>(range(100, -1));
  MESSAGE("memtable estimate ", many, " for ", 20000 * entry);
  CHECK(many > 20000.0 * entry * 4 / 5);
  CHECK(many < 20000.0 * entry * 6 / 5);
  // On disk: the files' share (compressed; the values compress well), and
  // disjoint ranges add up to the whole.
  REQUIRE(f.db->Flush(t).ok());
  uint64_t tree = 0;  // with the empty memtable's arena
  REQUIRE(f.db->GetApproximateSize(t, &tree).ok());
  const uint64_t whole = range(0, -1);
  CHECK(whole <= tree);
  CHECK(whole + 256 * 1024 >= tree);
  const uint64_t a = range(0, 10000), b = range(10000, -1);
  MESSAGE("files: whole ", whole, " halves ", a, " ", b);
  // Within a block or two per file (a file partly inside counts its share of
  // the data blocks, scaled to the file's size).
  CHECK(a + b <= whole + 16 * 1024);
  CHECK(a + b + 16 * 1024 >= whole);
  CHECK(a > whole / 4);
  CHECK(b > whole / 4);
  CHECK(range(30000, -1) <= 8 * 1024);  // past the last key: at most a block
}
BASALT_DB_TEST_CASE("db: approximate range size from the memtable and the files", ConfigSet::kFew,
                    ApproximateRangeSize);

void FlushFreesWal(DbTestBase& f) {
  f.options.write_buffer_size = 8 << 20;
  f.Open();
  for (int i = 0; i < 5000; i++)
    REQUIRE(f.db->Put(WriteOptions{false}, 0, Key(i), std::string(100, 'w')).ok());
  CHECK(f.SizeOfFiles(FileType::kWal) > 500000);
  REQUIRE(f.db->Flush(DB::kAllTrees).ok());
  CHECK(f.SizeOfFiles(FileType::kWal) < 1000);  // only a fresh segment's header remains
  f.Reopen();
  CHECK(f.Get(Key(4999)) == std::string(100, 'w'));
}
BASALT_DB_TEST_CASE("db: an explicit flush frees the WAL it covered", ConfigSet::kAll,
                    FlushFreesWal);

// Unlinks WAL segments slowly on every thread but the one that made it, so a
// background thread's deletion is still running when the test thread's
// Flush looks for segments to delete.
class SlowWalRemoveEnv : public io::EnvWrapper {
 public:
  using EnvWrapper::EnvWrapper;
  Status RemoveFile(const std::string& path) override {
    uint64_t number = 0;
    const std::string name = std::filesystem::path(path).filename().string();
    if (std::this_thread::get_id() != owner_ && ParseFileName(name, &number) == FileType::kWal) {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    return EnvWrapper::RemoveFile(path);
  }

 private:
  const std::thread::id owner_ = std::this_thread::get_id();
};

TEST_CASE("db: no obsolete WAL segment is left when Flush returns, while another thread deletes") {
  // The flush thread deletes the segments its flush made obsolete; Flush
  // then rolls the current one and deletes what is left. Flush's caller must
  // find every covered segment gone, whichever thread unlinked it.
  SlowWalRemoveEnv env(io::Env::Posix());
  DbTestBase f;
  f.options.env = &env;
  f.options.write_buffer_size = 8 << 20;
  f.options.wal_segment_size = 32 << 10;
  f.Open();
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 2000; i++) {
      REQUIRE(f.db->Put(WriteOptions{false}, 0, Key(i), std::string(100, 'a' + round)).ok());
    }
    REQUIRE(f.CountFiles(FileType::kWal) > 4);
    REQUIRE(f.db->Flush(DB::kAllTrees).ok());
    INFO("round " << round);
    CHECK(f.CountFiles(FileType::kWal) == 1);  // the fresh segment
    CHECK(f.SizeOfFiles(FileType::kWal) < 1000);
  }
  f.Close();
}

void IteratorBounds(DbTestBase& f) {
  f.Open();
  for (int i = 0; i < 100; i++) REQUIRE(f.db->Put(WriteOptions{false}, 0, Key(i), "v").ok());
  REQUIRE(f.db->Flush(0).ok());
  ReadOptions ro;
  ro.lower_bound = Key(10);
  ro.upper_bound = Key(20);
  auto it = f.db->NewIterator(ro, 0);
  int n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    CHECK(it->key() >= Key(10));
    CHECK(it->key() < Key(20));
    n++;
  }
  CHECK(n == 10);
  it->SeekToLast();
  REQUIRE(it->Valid());
  CHECK(it->key() == Key(19));
  it->Seek(Key(5));
  REQUIRE(it->Valid());
  CHECK(it->key() == Key(10));
  it->Seek(Key(25));
  CHECK_FALSE(it->Valid());
  REQUIRE(it->status().ok());
}
BASALT_DB_TEST_CASE("db: iterator bounds from ReadOptions", ConfigSet::kAll, IteratorBounds);

void QuietTreeDoesNotPinWal(DbTestBase& f) {
  f.options.write_buffer_size = 1 << 20;
  f.options.wal_segment_size = 64 << 10;
  f.options.max_total_wal_size = 256 << 10;
  f.Open();
  TreeId quiet;
  REQUIRE(f.db->CreateTree("quiet", &quiet).ok());
  REQUIRE(f.db->Put(WriteOptions(), quiet, "once", "v").ok());
  for (int i = 0; i < 60000; i++) {
    REQUIRE(f.db->Put(WriteOptions{false}, 0, Key(i), std::string(100, 'b')).ok());
  }
  const uint64_t wal = f.SizeOfFiles(FileType::kWal);
  // ~7 MB went through the WAL; without the bound the quiet tree's single
  // entry would keep all of it.
  MESSAGE("WAL bytes on disk: ", wal);
  CHECK(wal < 3u << 20);
  f.Reopen();
  CHECK(f.Get("once", quiet) == "v");
}
BASALT_DB_TEST_CASE("db: a rarely written tree does not pin the WAL forever", ConfigSet::kFew,
                    QuietTreeDoesNotPinWal);

// Sequential keys make flushes that overlap nothing: compaction moves them
// down by a manifest edit instead of rewriting them. The moved files must
// survive (not be deleted as "released") and reopen at their new level.
void TrivialMoves(DbTestBase& f) {
  f.Open();
  const std::string pad(200, 'p');
  for (int i = 0; i < 6000; i++) {
    REQUIRE(f.db->Put(WriteOptions(), 0, Key(i), pad + std::to_string(i)).ok());
  }
  REQUIRE(f.db->Flush(0).ok());
  REQUIRE(f.db->CompactAll(0).ok());
  TreeStats st;
  REQUIRE(f.db->GetTreeStats(0, &st).ok());
  int moved = 0;
  for (const LevelStats& l : st.levels) moved += l.files_moved_in;
  CHECK(moved > 0);
  CHECK(st.levels[0].files < f.options.level0_compaction_trigger);
  // Moves write nothing: all compaction output bytes are far below the data size.
  CHECK(st.db_bytes_compacted_written < st.db_bytes_flushed);
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 6000; i += 7) CHECK(f.Get(Key(i)) == pad + std::to_string(i));
    f.Reopen();
  }
  REQUIRE(f.db->Close().ok());
  std::vector<std::string> lines;
  bool intact = false;
  REQUIRE(VerifyDbDirectory(io::Env::Default(), f.dir.path(), &lines, &intact).ok());
  CHECK(intact);
}
BASALT_DB_TEST_CASE("db: trivial moves keep files and data across reopen", ConfigSet::kLeveled,
                    TrivialMoves);

// The fixture's own helpers, which the other tests rely on.
void TestBaseHelpers(DbTestBase& f) {
  f.options.disable_compaction = true;
  f.Open();
  CHECK(f.FilesPerLevel() == "");
  f.Put("b", "2");
  f.Put("a", "1");
  REQUIRE(f.db->Flush(kDefaultTree).ok());
  f.Put("c", "3");
  f.Delete("b");
  REQUIRE(f.db->Flush(kDefaultTree).ok());
  CHECK(f.FilesPerLevel() == "2");
  CHECK(f.CountFiles(FileType::kTable) == 2);
  CHECK(f.Contents() == "a=1;c=3;");
  CHECK(f.Contents(kDefaultTree, /*backward=*/true) == "c=3;a=1;");
  CHECK(f.Range(kDefaultTree, "b", "", 5) == "c=3;");
  CHECK(f.Get("b") == "NOT_FOUND");
  CHECK(f.Get("a", 999).rfind("ERROR: ", 0) == 0);
  f.options.disable_compaction = false;
  f.options.level0_compaction_trigger = 2;  // so the two L0 files need compaction
  f.Reopen();
  REQUIRE(f.db->CompactAll(kDefaultTree).ok());
  const std::string shape = f.FilesPerLevel();
  CHECK(shape.rfind("0,", 0) == 0);  // L0 compacted away, a deeper level holds the data
  CHECK(shape.back() != '0');        // trailing empty levels are left out
  CHECK(f.Contents() == "a=1;c=3;");
  f.DestroyAndReopen();
  CHECK(f.Contents() == "");
  CHECK(f.FilesPerLevel() == "");
  CHECK(f.CountFiles(FileType::kTable) == 0);
}
BASALT_DB_TEST_CASE("db test base: FilesPerLevel, Contents, Range, DestroyAndReopen",
                    ConfigSet::kAll, TestBaseHelpers);

}  // namespace

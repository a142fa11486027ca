// Faults during flush and compaction, through io::FaultEnv: injected write and
// sync errors on SSTables and on the manifest, and simulated power loss
// (DropUnsyncedData) after and during compactions. In every case the DB must
// report the error, keep every acknowledged write, and after a reopen with a
// healthy Env hold exactly those writes, verify clean and keep no orphan file.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "engine/base/logging.h"
#include "engine/base/random.h"
#include "engine/io/fault_env.h"
#include "engine/lsm/db.h"
#include "engine/lsm/verify.h"
#include "tests/testutil/db_test_base.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

using Model = std::map<std::string, std::string>;

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "key%06d", i);
  return buf;
}

void SmallOptions(Options* o) {
  o->write_buffer_size = 32 << 10;
  o->target_file_size = 16 << 10;  // compactions write several outputs
  o->max_bytes_for_level_base = 64 << 10;
  o->level_size_multiplier = 4;
  o->level0_compaction_trigger = 4;
  o->table.block_size = 512;
}

// A DB of this style on the fixture's FaultEnv (no fault armed yet).
test::DbConfig FaultConfig(CompactionStyle style) {
  return {.compaction_style = style, .use_block_index = true, .env = test::EnvKind::kFault};
}

// Reopens t's directory (its DB closed or abandoned) with the healthy
// default Env and the small options alone.
void ReopenHealthy(test::DbTestBase& t) {
  t.db.reset();
  Options o;
  o.compaction_style = t.config.compaction_style;
  SmallOptions(&o);
  t.options = o;
  t.Open();
}

// Puts keys [from, to) with a value naming the round, in synced batches of 50
// (few fsyncs keep the test fast); records the acknowledged ones.
void PutRange(DB* db, int from, int to, int round, Model* model) {
  for (int b = from; b < to; b += 50) {
    WriteBatch batch;
    Model staged;
    for (int i = b; i < std::min(to, b + 50); i++) {
      std::string v = "r" + std::to_string(round) + "_" + std::string(80, 'a' + i % 26);
      batch.Put(kDefaultTree, Key(i), v);
      staged[Key(i)] = v;
    }
    if (db->Write(WriteOptions(), &batch).ok()) {
      for (auto& [k, v] : staged) (*model)[k] = v;
    }
  }
}

// Full scan, "" if it equals the model, else the first difference.
std::string Diff(DB* db, const Model& model) {
  Model actual;
  auto it = db->NewIterator(ReadOptions(), kDefaultTree);
  for (it->SeekToFirst(); it->Valid(); it->Next()) actual[std::string(it->key())] = it->value();
  if (!it->status().ok()) return "scan: " + it->status().ToString();
  for (const auto& [k, v] : model) {
    auto a = actual.find(k);
    if (a == actual.end()) return "lost " + k;
    if (a->second != v) return "stale " + k;
  }
  for (const auto& [k, v] : actual) {
    if (!model.count(k)) return "invented " + k;
  }
  return "";
}

// Verify problems and files recovery should have removed, "" if none.
std::string DirectoryProblems(const std::string& dir) {
  std::vector<std::string> lines;
  bool intact = false;
  Status s = VerifyDbDirectory(io::Env::Default(), dir, &lines, &intact);
  if (!s.ok()) return s.ToString();
  std::string bad;
  for (const auto& l : lines) {
    if (l.find("not referenced by") != std::string::npos || l.find("orphan") != std::string::npos ||
        l.find("leftover temporary") != std::string::npos ||
        l.find("not named by CURRENT") != std::string::npos || !intact) {
      bad += l + "\n";
    }
  }
  return bad;
}

// Reopens t's directory with the healthy Env, checks the model, lets
// compaction finish, checks again, closes and checks the directory.
void CheckRecovered(test::DbTestBase& t, const Model& model) {
  ReopenHealthy(t);
  CHECK(Diff(t.db.get(), model) == "");
  Status s = t.db->CompactAll(kDefaultTree);
  CHECK_MESSAGE(s.ok(), s.ToString());
  CHECK(Diff(t.db.get(), model) == "");
  t.Close();
  CHECK(DirectoryProblems(t.dir.path()) == "");
}

struct Quiet : Logger {
  void Log(std::string_view) override {}
};

struct FaultCase {
  const char* path;  // FaultEnv path substring
  bool sync;         // FailNthSync, else FailNthWrite
  int n;
};

}  // namespace

TEST_CASE(
    "compaction faults: write and sync errors on tables and manifest during flush and compaction") {
  Quiet quiet;
  SetLogger(&quiet);
  // Write n: the fourth flush writes ~80 blocks, so small n hit the flush and
  // large n the compaction after it; one sync per table or manifest edit.
  std::vector<FaultCase> cases;
  for (int n : {1, 8, 64, 100, 160, 260}) cases.push_back({".sst", false, n});
  for (int n : {1, 2, 3}) {
    cases.push_back({".sst", true, n});
    cases.push_back({"MANIFEST", false, n});
    cases.push_back({"MANIFEST", true, n});
  }
  int in_flush = 0, in_compaction = 0, not_hit = 0;
  for (CompactionStyle style : {CompactionStyle::kLeveled, CompactionStyle::kTiered}) {
    for (const FaultCase& fc : cases) {
      const std::string path = fc.path;
      CAPTURE(path);
      CAPTURE(fc.sync);
      CAPTURE(fc.n);
      CAPTURE(static_cast<int>(style));
      test::DbTestBase t(FaultConfig(style));
      io::FaultEnv& fenv = *t.fault_env();  // outlives the DB
      Model model;
      {
        SmallOptions(&t.options);
        t.options.write_buffer_size = 1 << 20;  // only the explicit flushes make L0 files
        t.Open();
        std::unique_ptr<DB>& db = t.db;
        // Three L0 files: one below the compaction trigger.
        for (int r = 0; r < 3; r++) {
          PutRange(db.get(), r * 100, r * 100 + 300, r, &model);
          REQUIRE(db->Flush(kDefaultTree).ok());
        }
        TreeStats st;
        REQUIRE(db->GetTreeStats(kDefaultTree, &st).ok());
        REQUIRE(st.levels[0].files == 3);
        // The fault lands in the fourth flush or in the compaction it triggers.
        fenv.SetFailPathSubstring(fc.path);
        fenv.ResetCounters();
        if (fc.sync) {
          fenv.FailNthSync(fc.n);
        } else {
          fenv.FailNthWrite(fc.n);
        }
        PutRange(db.get(), 250, 600, 3, &model);
        Status flush = db->Flush(kDefaultTree);
        Status compact = flush.ok() ? db->CompactAll(kDefaultTree) : flush;
        Status after = db->Put(WriteOptions(), kDefaultTree, "after", "1");
        if (after.ok()) model["after"] = "1";
        if (fenv.injected_error_count() == 0) {
          not_hit++;
          CHECK(flush.ok());
          CHECK(compact.ok());
          CHECK(after.ok());
        } else {
          // The error reaches the caller (unless CompactAll recovered from a
          // background compaction's failure before its own run); the next
          // write recovers the DB (the one-shot fault is spent: space came
          // back) and succeeds.
          (flush.ok() ? in_compaction : in_flush)++;
          CHECK(after.ok());
        }
        // Reads serve everything acknowledged, and after recovery the flush
        // and the compaction complete.
        CHECK(Diff(db.get(), model) == "");
        // (A background compaction may hit the one-shot fault only now: each
        // call recovers first, so a second one completes.)
        Status fl = db->Flush(kDefaultTree);
        const std::string first_flush = fl.ToString();
        if (!fl.ok()) fl = db->Flush(kDefaultTree);
        CHECK_MESSAGE(fl.ok(), first_flush, " then ", fl.ToString());
        Status co = db->CompactAll(kDefaultTree);
        const std::string first_compact = co.ToString();
        if (!co.ok()) co = db->CompactAll(kDefaultTree);
        CHECK_MESSAGE(co.ok(), first_compact, " then ", co.ToString());
        CHECK(Diff(db.get(), model) == "");
        fenv.FailNthWrite(0);
        fenv.FailNthSync(0);
        db->Close().PermitUnchecked();  // reports the failed state; the handle is gone anyway
      }
      CheckRecovered(t, model);
    }
  }
  MESSAGE("faults in flush: " << in_flush << ", in compaction: " << in_compaction
                              << ", not reached: " << not_hit);
  CHECK(in_flush > 0);
  CHECK(in_compaction > 0);
  SetLogger(nullptr);
}

TEST_CASE("compaction faults: power loss after a finished compaction keeps every synced write") {
  Quiet quiet;
  SetLogger(&quiet);
  for (CompactionStyle style : {CompactionStyle::kLeveled, CompactionStyle::kTiered}) {
    CAPTURE(static_cast<int>(style));
    test::DbTestBase t(FaultConfig(style));
    io::FaultEnv& fenv = *t.fault_env();  // outlives the DB
    Model model;
    {
      SmallOptions(&t.options);
      t.Open();
      std::unique_ptr<DB>& db = t.db;
      for (int r = 0; r < 8; r++) PutRange(db.get(), r * 150, r * 150 + 400, r, &model);
      REQUIRE(db->Flush(kDefaultTree).ok());
      REQUIRE(db->CompactAll(kDefaultTree).ok());
      TreeStats st;
      REQUIRE(db->GetTreeStats(kDefaultTree, &st).ok());
      int compactions = 0;
      for (const auto& lv : st.levels) compactions += lv.compactions;
      REQUIRE(compactions > 0);
      // Synced writes after the compaction, then unsynced ones the power loss may take.
      PutRange(db.get(), 0, 100, 100, &model);
      for (int i = 2000; i < 2100; i++)
        db->Put(WriteOptions{false}, kDefaultTree, Key(i), "unsynced").PermitUnchecked();
      REQUIRE(fenv.DropUnsyncedData().ok());
      db.reset();  // the machine "lost power"; the handle is abandoned
    }
    // Unsynced writes may or may not survive; only acknowledged-as-durable ones count.
    ReopenHealthy(t);
    for (int i = 2000; i < 2100; i++) {
      std::string v;
      if (t.db->Get(ReadOptions(), kDefaultTree, Key(i), &v).ok()) model[Key(i)] = v;
    }
    t.Close();
    CheckRecovered(t, model);
  }
  SetLogger(nullptr);
}

TEST_CASE("compaction faults: power loss at random moments while compactions run") {
  Quiet quiet;
  SetLogger(&quiet);
  Random rnd(20261124);
  int round = 0;
  for (CompactionStyle style : {CompactionStyle::kLeveled, CompactionStyle::kTiered}) {
    for (int k = 0; k < 3; k++, round++) {
      CAPTURE(round);
      test::DbTestBase t(FaultConfig(style));
      io::FaultEnv& fenv = *t.fault_env();  // outlives the DB
      Model model;
      const int crash_after = 50 + static_cast<int>(rnd.Uniform(300));  // synced batches
      {
        SmallOptions(&t.options);
        t.options.level0_compaction_trigger = 2;  // compaction almost always in progress
        t.Open();
        std::unique_ptr<DB>& db = t.db;
        for (int i = 0; i < crash_after; i++) {
          WriteBatch batch;
          Model staged;
          for (int j = 0; j < 10; j++) {
            std::string k = Key(static_cast<int>(rnd.Uniform(1500)));
            std::string v = "p" + std::to_string(i) + std::string(rnd.Uniform(120), 'z');
            batch.Put(kDefaultTree, k, v);
            staged[k] = v;
          }
          Status s = db->Write(WriteOptions(), &batch);
          REQUIRE_MESSAGE(s.ok(), s.ToString());
          for (auto& [k, v] : staged) model[k] = v;
        }
        // The background threads are mid-flush or mid-compaction at some point here.
        REQUIRE(fenv.DropUnsyncedData().ok());
        db.reset();
      }
      CheckRecovered(t, model);
    }
  }
  SetLogger(nullptr);
}

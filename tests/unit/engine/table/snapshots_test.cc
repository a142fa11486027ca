// Table snapshots (backups) and point-in-time recovery: a restore equals the
// table at the snapshot / at the chosen millisecond, item by item and index
// by index, across reopen, source deletion, base rotation and pruning.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/table/snapshot_format.h"
#include "engine/table/table_store.h"
#include "tests/testutil/table_test_util.h"
#include "tests/testutil/temp_dir.h"

using namespace basalt;
using namespace basalt::table;

namespace {

using test::Def;
using test::MakeItem;
using test::Num;
using test::S;
void Check(const Status& s) { test::Ok(s); }

// The table's items by partition key (the tables here have no sort key).
std::map<std::string, Item> Items(TableStore* ts, const std::string& table) {
  std::map<std::string, Item> out;
  std::optional<Item> start;
  do {
    ScanPage page;
    Check(ts->Scan(table, 0, 0, start, 0, 100, nullptr, &page));
    for (Item& it : page.items) out[it.Find("pk")->s()] = std::move(it);
    start = page.last_evaluated_key;
  } while (start);
  return out;
}

TableDef WithGsi(std::string name) {
  TableDef d = Def(std::move(name));
  IndexDef gsi;
  gsi.name = "by_v";
  gsi.partition_key = {{"v", ValueType::kN}};
  gsi.projection = ProjectionType::kAll;
  d.indexes.push_back(gsi);
  d.attribute_definitions.push_back({"v", ValueType::kN});
  return d;
}

// target: a copy of the snapshot's definition under a new name.
TableDef Target(const TableDef& src, std::string name, bool keep_indexes = true) {
  TableDef d = src;
  d.name = std::move(name);
  d.pitr = PitrSettings();
  if (!keep_indexes) d.indexes.clear();
  return d;
}

void CheckIndexes(TableStore* ts, const std::string& table) {
  std::vector<IndexVerifyReport> reports;
  Check(ts->VerifyIndexes(table, &reports));
  for (const IndexVerifyReport& r : reports) {
    CHECK_MESSAGE(r.ok(), r.table, "/", r.index);
  }
}

struct Clock {
  std::atomic<uint64_t> ms{1'700'000'000'000};
};

}  // namespace

TEST_CASE("snapshots: a restore equals the table at the snapshot, across reopen and deletion") {
  test::TempDir dir;
  auto opts = test::StoreOptions(dir.path(), 3);
  auto ts = test::OpenStore(opts);
  TableDef created;
  Check(ts->CreateTable(WithGsi("src"), &created));
  for (int i = 0; i < 600; i++) {
    Check(ts->PutItem("src", MakeItem({{"pk", S("k" + std::to_string(i))}, {"v", Num(i % 7)}})));
  }
  const auto want = Items(ts.get(), "src");
  TableSnapshotInfo info;
  Check(ts->CreateSnapshot("src", "b1", "meta-1", &info));
  CHECK(info.table == "src");
  CHECK(info.def.approx_item_count == 600);
  CHECK(info.meta == "meta-1");
  CHECK(ts->CreateSnapshot("src", "b1", "").IsInvalidArgument());
  CHECK(ts->CreateSnapshot("src", "bad/id", "").IsInvalidArgument());
  CHECK(ts->CreateSnapshot("nope", "b2", "").IsNotFound());
  // Later writes do not reach the snapshot.
  for (int i = 0; i < 600; i += 3) Check(ts->DeleteItem("src", test::Key("k" + std::to_string(i))));
  for (int i = 1; i < 600; i += 3) {
    Check(ts->PutItem("src", MakeItem({{"pk", S("k" + std::to_string(i))}, {"v", Num(99)}})));
  }
  TableDef restored;
  Check(ts->RestoreSnapshot("b1", Target(created, "r1"), &restored));
  CHECK(Items(ts.get(), "r1") == want);
  CHECK(restored.approx_item_count == 600);
  CheckIndexes(ts.get(), "r1");
  CHECK(ts->RestoreSnapshot("b1", Target(created, "r1")).IsInvalidArgument());
  // Dropping the index on restore; adding one is refused.
  Check(ts->RestoreSnapshot("b1", Target(created, "r2", false)));
  CHECK(Items(ts.get(), "r2") == want);
  TableDef more = Target(created, "r3");
  more.indexes[0].name = "other";
  CHECK(ts->RestoreSnapshot("b1", more).IsInvalidArgument());
  // The source goes; the snapshot stays, through a reopen.
  Check(ts->DeleteTable("src"));
  Check(ts->Close());
  ts = test::OpenStore(opts);
  std::vector<TableSnapshotInfo> all;
  Check(ts->ListSnapshots(&all));
  REQUIRE(all.size() == 1);
  CHECK(all[0].id == "b1");
  Check(ts->SetSnapshotMeta("b1", "meta-2"));
  Check(ts->GetSnapshot("b1", &info));
  CHECK(info.meta == "meta-2");
  Check(ts->RestoreSnapshot("b1", Target(created, "r4")));
  CHECK(Items(ts.get(), "r4") == want);
  CheckIndexes(ts.get(), "r4");
  CHECK(Items(ts.get(), "r1") == want);
  Check(ts->DeleteSnapshot("b1"));
  CHECK(ts->GetSnapshot("b1", &info).IsNotFound());
  CHECK(ts->DeleteSnapshot("b1").IsNotFound());
  for (const std::string& name : test::TreeNames(ts.get())) CHECK(name.rfind("snap/", 0) != 0);
  CHECK(Items(ts.get(), "r4") == want);
}

TEST_CASE("pitr: restores to past milliseconds equal the recorded states") {
  test::TempDir dir;
  Clock clock;
  auto opts = test::StoreOptions(dir.path(), 2);
  opts.now_ms = [&] { return clock.ms.load(); };
  opts.pitr_base_interval_ms = 5000;
  auto ts = test::OpenStore(opts);
  TableDef created;
  Check(ts->CreateTable(WithGsi("t"), &created));
  CHECK(ts->RestoreToPointInTime("t", clock.ms, Target(created, "x")).IsInvalidArgument());
  for (int i = 0; i < 50; i++) {
    Check(ts->PutItem("t", MakeItem({{"pk", S("k" + std::to_string(i))}, {"v", Num(0)}})));
  }
  clock.ms += 10;
  Check(ts->SetPointInTimeRecovery("t", true, 1));
  PitrStatus st;
  Check(ts->DescribePointInTimeRecovery("t", &st));
  CHECK(st.enabled);
  CHECK(st.earliest_ms == clock.ms);
  // Random writes over 30 simulated seconds, rotating bases every 5; the
  // state after each millisecond step is recorded.
  std::mt19937 rnd(42);
  std::vector<std::pair<uint64_t, std::map<std::string, Item>>> states;
  states.emplace_back(clock.ms.load(), Items(ts.get(), "t"));
  for (int step = 0; step < 60; step++) {
    clock.ms += 500;
    for (int w = 0; w < 20; w++) {
      const std::string k = "k" + std::to_string(rnd() % 80);
      if (rnd() % 4 == 0) {
        Check(ts->DeleteItem("t", test::Key(k)));
      } else {
        Check(ts->PutItem("t", MakeItem({{"pk", S(k)}, {"v", Num(step)}})));
      }
    }
    if (step % 7 == 0) {
      // A transaction-like multi-item write shares one stamp.
      std::vector<WriteOp> ops;
      ops.push_back(test::PutOp(ts.get(), "t", MakeItem({{"pk", S("a")}, {"v", Num(step)}})));
      ops.push_back(test::PutOp(ts.get(), "t", MakeItem({{"pk", S("b")}, {"v", Num(step)}})));
      Check(ts->WriteAtomically(ops));
    }
    Check(ts->RunPitrMaintenance());
    states.emplace_back(clock.ms.load(), Items(ts.get(), "t"));
  }
  int n = 0;
  for (size_t i = 0; i < states.size(); i += 9) {
    const std::string name = "at" + std::to_string(i);
    Check(ts->RestoreToPointInTime("t", states[i].first, Target(created, name)));
    CHECK_MESSAGE(Items(ts.get(), name) == states[i].second, "state ", i);
    CheckIndexes(ts.get(), name);
    TableDef d;
    Check(ts->DescribeTable(name, &d));
    CHECK(d.status == TableStatus::kActive);
    CHECK(!d.pitr.enabled);
    n++;
  }
  CHECK(n >= 6);
  // The changes in a window, in commit order: applied to the state at its
  // start they give the state at its end.
  size_t changes = 0;
  std::map<std::string, Item> rolled = states[0].second;
  Check(ts->ReadTableChanges("t", states[0].first, states[4].first, [&](const TableChange& c) {
    CHECK(c.time_ms > states[0].first);
    CHECK(c.time_ms <= states[4].first);
    const std::string pk = c.key.Find("pk")->s();
    if (c.new_item) {
      rolled[pk] = *c.new_item;
    } else {
      rolled.erase(pk);
    }
    changes++;
    return Status::OK();
  }));
  CHECK(changes > 0);
  CHECK(rolled == states[4].second);
  // Outside the window.
  CHECK(ts->RestoreToPointInTime("t", states[0].first - 1000, Target(created, "y"))
            .IsInvalidArgument());
  CHECK(ts->RestoreToPointInTime("t", clock.ms + 1000, Target(created, "y")).IsInvalidArgument());
  // Across a reopen the history continues.
  Check(ts->Close());
  ts = test::OpenStore(opts);
  clock.ms += 100;
  Check(ts->PutItem("t", MakeItem({{"pk", S("after")}, {"v", Num(1)}})));
  states.emplace_back(clock.ms.load(), Items(ts.get(), "t"));
  Check(ts->RestoreToPointInTime("t", states[30].first, Target(created, "again")));
  CHECK(Items(ts.get(), "again") == states[30].second);
  Check(ts->RestoreToPointInTime("t", clock.ms, Target(created, "latest")));
  CHECK(Items(ts.get(), "latest") == states.back().second);
  // Pruning: a day and a bit later, only what the window needs is kept.
  clock.ms += uint64_t{25} * 3600 * 1000;
  Check(ts->RunPitrMaintenance());
  Check(ts->RunPitrMaintenance());
  std::vector<TableSnapshotInfo> snaps;
  Check(ts->ListSnapshots(&snaps));
  CHECK(snaps.size() <= 2);
  Check(ts->DescribePointInTimeRecovery("t", &st));
  CHECK(
      ts->RestoreToPointInTime("t", states[30].first, Target(created, "gone")).IsInvalidArgument());
  Check(ts->RestoreToPointInTime("t", st.earliest_ms, Target(created, "edge")));
  CHECK(Items(ts.get(), "edge") == states.back().second);
  // Off: the history and its bases go.
  Check(ts->SetPointInTimeRecovery("t", false, 1));
  Check(ts->ListSnapshots(&snaps));
  CHECK(snaps.empty());
  for (const std::string& name : test::TreeNames(ts.get())) {
    CHECK(name.rfind("snap/", 0) != 0);
    CHECK(name[0] != 'h');
  }
  CHECK(ts->RestoreToPointInTime("t", clock.ms, Target(created, "z")).IsInvalidArgument());
}

TEST_CASE("snapshot_format: records and names read back; damage is refused") {
  TableSnapshotInfo info;
  info.id = "x-1";
  info.table = "t";
  info.table_id = 7;
  info.created_ms = 123;
  info.size_bytes = 456;
  info.meta = "m";
  info.def = Def("t");
  std::string rec;
  EncodeSnapshotRecord(info, &rec);
  TableSnapshotInfo back;
  Check(DecodeSnapshotRecord(rec, &back));
  CHECK(back.id == "x-1");
  CHECK(back.def.name == "t");
  CHECK(back.meta == "m");
  rec[3] ^= 1;
  CHECK(DecodeSnapshotRecord(rec, &back).IsCorruption());
  std::string id;
  uint32_t ix, p;
  CHECK(ParseSnapshotTreeName(SnapshotTreeName("a.b", 3, 9), &id, &ix, &p));
  CHECK((id == "a.b" && ix == 3 && p == 9));
  CHECK(!ParseSnapshotTreeName("t1.p0", &id, &ix, &p));
  uint64_t tid, seg;
  CHECK(ParseHistoryTreeName(HistoryTreeName(5, 77), &tid, &seg));
  CHECK((tid == 5 && seg == 77));
  CHECK(ParsePitrBaseId(PitrBaseId(5, 77), &tid, &seg));
  CHECK(!ValidSnapshotId(""));
  CHECK(!ValidSnapshotId(std::string(65, 'a')));
}

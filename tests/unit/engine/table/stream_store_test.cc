// DynamoDB Streams in TableStore: records per change and view type, no-op
// writes, atomic writes, TTL deletions, sequences across restart, concurrent
// writers, splits, disable/re-enable, retention, table deletion.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/table/table_store.h"
#include "tests/testutil/table_test_util.h"
#include "tests/testutil/temp_dir.h"

using namespace basalt;
using namespace basalt::table;

namespace {

using test::Key;
using test::Num;
using test::Ok;
using test::S;
using Clock = test::FakeClock;

Item Row(const std::string& pk, int64_t v) {
  return AttributeMap::FromUnsorted({{"pk", S(pk)}, {"v", Num(v)}});
}
int64_t V(const Item& item) {
  int64_t v = -1;
  item.Find("v")->n().ToInt64(&v);
  return v;
}

TableStoreOptions Opts(const std::string& dir, Clock* clock = nullptr) {
  TableStoreOptions o = test::StoreOptions(dir);
  if (clock != nullptr) clock->Attach(&o);
  return o;
}

std::unique_ptr<TableStore> Open(const TableStoreOptions& o) { return test::OpenStore(o); }

TableDef Def(const std::string& name, StreamViewType view = StreamViewType::kNewAndOldImages) {
  TableDef d = test::Def(name);
  d.stream.enabled = true;
  d.stream.view_type = view;
  d.stream.label = "L1";
  return d;
}

// Every record of every shard of the stream, reading each shard from its
// trim horizon to its end (parents first, as DescribeStream orders them).
std::vector<StreamRecord> ReadAll(TableStore* ts, const std::string& table,
                                  const std::string& label, size_t page = 7) {
  StreamInfo info;
  std::vector<ShardInfo> shards;
  Ok(ts->DescribeStream(table, label, &info, &shards));
  std::vector<StreamRecord> all;
  for (const auto& sh : shards) {
    uint64_t seq, latest;
    Ok(ts->ShardBounds(table, label, sh.shard_id, &seq, &latest));
    for (;;) {
      std::vector<StreamRecord> out;
      bool end = false;
      uint64_t next;
      Ok(ts->ReadShard(table, label, sh.shard_id, seq, page, 1 << 20, &out, &next, &end));
      for (auto& r : out) all.push_back(std::move(r));
      if (out.empty()) break;
      seq = next;
    }
  }
  return all;
}

}  // namespace

TEST_CASE("streams: view type names") {
  StreamViewType t;
  for (auto v : {StreamViewType::kKeysOnly, StreamViewType::kNewImage, StreamViewType::kOldImage,
                 StreamViewType::kNewAndOldImages}) {
    REQUIRE(ParseStreamViewType(StreamViewTypeName(v), &t));
    CHECK(t == v);
  }
  CHECK_FALSE(ParseStreamViewType("ALL", &t));
}

TEST_CASE("streams: insert, modify, remove with each view type") {
  test::TempDir dir;
  auto ts = Open(Opts(dir.path()));
  for (auto view : {StreamViewType::kKeysOnly, StreamViewType::kNewImage, StreamViewType::kOldImage,
                    StreamViewType::kNewAndOldImages}) {
    const std::string name = std::string("t_") + StreamViewTypeName(view);
    Ok(ts->CreateTable(Def(name, view)));
    Ok(ts->PutItem(name, Row("a", 1)));
    Ok(ts->PutItem(name, Row("a", 2)));
    Ok(ts->DeleteItem(name, Key("a")));
    auto recs = ReadAll(ts.get(), name, "L1");
    REQUIRE(recs.size() == 3);
    CHECK(recs[0].event == StreamEvent::kInsert);
    CHECK(recs[1].event == StreamEvent::kModify);
    CHECK(recs[2].event == StreamEvent::kRemove);
    CHECK(recs[0].sequence < recs[1].sequence);
    CHECK(recs[1].sequence < recs[2].sequence);
    const bool want_new =
        view == StreamViewType::kNewImage || view == StreamViewType::kNewAndOldImages;
    const bool want_old =
        view == StreamViewType::kOldImage || view == StreamViewType::kNewAndOldImages;
    for (const auto& r : recs) {
      CHECK(r.keys == Key("a"));
      CHECK(r.view_type == view);
      CHECK_FALSE(r.by_ttl);
      size_t size = ItemSize(r.keys);
      if (r.new_image) size += ItemSize(*r.new_image);
      if (r.old_image) size += ItemSize(*r.old_image);
      CHECK(r.size_bytes == size);
    }
    CHECK(recs[0].new_image.has_value() == want_new);
    CHECK_FALSE(recs[0].old_image);
    CHECK(recs[1].new_image.has_value() == want_new);
    CHECK(recs[1].old_image.has_value() == want_old);
    CHECK_FALSE(recs[2].new_image);
    CHECK(recs[2].old_image.has_value() == want_old);
    if (want_new) CHECK(V(*recs[1].new_image) == 2);
    if (want_old) CHECK(V(*recs[1].old_image) == 1);
    StreamInfo info;
    std::vector<ShardInfo> shards;
    Ok(ts->DescribeStream(name, "L1", &info, &shards));
    CHECK(info.enabled);
    CHECK(info.view_type == view);
    REQUIRE(shards.size() == 1);
    CHECK(shards[0].shard_id.size() == 37);
    CHECK_FALSE(shards[0].ending_sequence);
  }
  std::vector<StreamInfo> all;
  Ok(ts->ListStreams("", &all));
  CHECK(all.size() == 4);
  CHECK(ts->ListStreams("nope", &all).IsNotFound());
  StreamInfo info;
  std::vector<ShardInfo> shards;
  CHECK(ts->DescribeStream("t_KEYS_ONLY", "L2", &info, &shards).IsNotFound());
}

TEST_CASE("streams: no record for no-op writes and failed conditions") {
  test::TempDir dir;
  auto ts = Open(Opts(dir.path()));
  Ok(ts->CreateTable(Def("t")));
  Ok(ts->PutItem("t", Row("a", 1)));
  Ok(ts->PutItem("t", Row("a", 1)));   // identical
  Ok(ts->DeleteItem("t", Key("zz")));  // missing
  UpdateResult r;
  Ok(ts->Update(
      "t", Key("a"), [](const Item*) { return Decision::NoChange(); }, &r));
  Ok(ts->Update(
      "t", Key("a"), [](const Item*) { return Decision::ConditionFailed(); }, &r));
  WriteOp op = test::PutOp(ts.get(), "t", Row("a", 5), [](const Item*) { return false; });
  WriteAtomicallyResult wr;
  Ok(ts->WriteAtomically({op}, &wr));
  CHECK(wr.failed_op == 0u);
  auto recs = ReadAll(ts.get(), "t", "L1");
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].event == StreamEvent::kInsert);
}

TEST_CASE("streams: WriteAtomically writes one record per changed item") {
  test::TempDir dir;
  auto ts = Open(Opts(dir.path()));
  Ok(ts->CreateTable(Def("t")));
  Ok(ts->CreateTable(Def("u")));
  Ok(ts->PutItem("t", Row("b", 1)));
  std::vector<WriteOp> ops;
  ops.push_back(test::PutOp(ts.get(), "t", Row("a", 1)));
  ops.push_back(test::DeleteOp(ts.get(), "t", Key("b")));
  ops.push_back(test::PutOp(ts.get(), "u", Row("c", 3)));
  Ok(ts->WriteAtomically(ops));
  auto t = ReadAll(ts.get(), "t", "L1");
  REQUIRE(t.size() == 3);
  CHECK(t[1].event == StreamEvent::kInsert);
  CHECK(t[1].keys == Key("a"));
  CHECK(t[2].event == StreamEvent::kRemove);
  CHECK(t[2].keys == Key("b"));
  auto u = ReadAll(ts.get(), "u", "L1");
  REQUIRE(u.size() == 1);
  CHECK(V(*u[0].new_image) == 3);
}

TEST_CASE("streams: TTL deletions are flagged") {
  test::TempDir dir;
  Clock clock;
  auto ts = Open(Opts(dir.path(), &clock));
  TableDef d = Def("t");
  d.ttl.enabled = true;
  d.ttl.attribute_name = "exp";
  Ok(ts->CreateTable(d));
  Ok(ts->PutItem("t", AttributeMap::FromUnsorted(
                          {{"pk", S("a")}, {"exp", Num(int64_t(clock.ms / 1000) - 10)}})));
  Ok(ts->DeleteItem("t", Key("zz")));
  Ok(ts->SweepExpiredItems());
  auto recs = ReadAll(ts.get(), "t", "L1");
  REQUIRE(recs.size() == 2);
  CHECK(recs[1].event == StreamEvent::kRemove);
  CHECK(recs[1].by_ttl);
  CHECK_FALSE(recs[0].by_ttl);
}

TEST_CASE("streams: sequences are unique across restart, stream survives it") {
  test::TempDir dir;
  std::set<uint64_t> seqs;
  for (int round = 0; round < 3; round++) {
    auto ts = Open(Opts(dir.path()));
    if (round == 0) Ok(ts->CreateTable(Def("t")));
    for (int i = 0; i < 5; i++) Ok(ts->PutItem("t", Row("k" + std::to_string(i), round)));
    auto recs = ReadAll(ts.get(), "t", "L1");
    CHECK(recs.size() == static_cast<size_t>(5 * (round + 1)));
    for (const auto& r : recs) seqs.insert(r.sequence);
    CHECK(seqs.size() == recs.size());
    // Per-item order: insert first, then modifications.
    std::map<std::string, int64_t> last;
    for (const auto& r : recs) {
      const std::string pk = r.keys.Find("pk")->s();
      CHECK(last.count(pk) == (r.event == StreamEvent::kModify ? 1u : 0u));
      last[pk] = V(*r.new_image);
    }
    Ok(ts->Close());
  }
}

TEST_CASE("streams: concurrent writers, readers never skip a record") {
  test::TempDir dir;
  TableStoreOptions o = Opts(dir.path());
  o.initial_partitions = 2;
  auto ts = Open(o);
  Ok(ts->CreateTable(Def("t")));
  StreamInfo info;
  std::vector<ShardInfo> shards;
  Ok(ts->DescribeStream("t", "L1", &info, &shards));
  REQUIRE(shards.size() == 2);
  constexpr int kThreads = 4, kPerThread = 300;
  std::atomic<bool> done{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kThreads; w++) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerThread; i++) {
        Status s = ts->PutItem("t", Row("w" + std::to_string(w) + "_" + std::to_string(i % 50), i));
        if (!s.ok()) FAIL(s.ToString());
      }
    });
  }
  // Tail both shards while they are written: every record exactly once.
  std::map<uint64_t, std::string> seen;
  std::vector<uint64_t> pos(shards.size(), 0);
  for (size_t i = 0; i < shards.size(); i++) pos[i] = shards[i].starting_sequence;
  std::thread closer([&] {
    for (auto& th : writers) th.join();
    done = true;
  });
  bool last_pass = false;
  for (;;) {
    const bool finished = done.load();
    for (size_t i = 0; i < shards.size(); i++) {
      for (;;) {
        std::vector<StreamRecord> out;
        uint64_t next;
        bool end;
        Ok(ts->ReadShard("t", "L1", shards[i].shard_id, pos[i], 13, 1 << 20, &out, &next, &end));
        for (const auto& r : out) {
          CHECK(r.sequence >= pos[i]);
          CHECK(seen.emplace(r.sequence, shards[i].shard_id).second);
        }
        pos[i] = next;
        if (out.empty()) break;
      }
    }
    if (last_pass) break;
    last_pass = finished;
  }
  closer.join();
  CHECK(seen.size() == static_cast<size_t>(kThreads * kPerThread));
}

TEST_CASE("streams: a split closes the shard and children continue") {
  test::TempDir dir;
  auto ts = Open(Opts(dir.path()));
  Ok(ts->CreateTable(Def("t")));
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; w++) {
    writers.emplace_back([&, w] {
      for (int i = 0; !stop || i < 100; i++) {
        Status s = ts->PutItem("t", Row("k" + std::to_string(w * 1000 + i % 40), i));
        if (!s.ok()) FAIL(s.ToString());
        written++;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  TableDef def;
  Ok(ts->DescribeTable("t", &def));
  Ok(ts->SplitPartition("t", def.partitions[0].id));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Ok(ts->DescribeTable("t", &def));
  Ok(ts->SplitPartition("t", def.partitions[1].id));
  stop = true;
  for (auto& th : writers) th.join();

  StreamInfo info;
  std::vector<ShardInfo> shards;
  Ok(ts->DescribeStream("t", "L1", &info, &shards));
  REQUIRE(shards.size() == 5);
  CHECK(shards[0].ending_sequence);
  CHECK(shards[0].parent_shard_id.empty());
  CHECK(shards[1].parent_shard_id == shards[0].shard_id);
  CHECK(shards[2].parent_shard_id == shards[0].shard_id);
  int open = 0;
  for (const auto& sh : shards) open += sh.ending_sequence ? 0 : 1;
  CHECK(open == 3);
  // A closed shard reports its end once read; children start above the parent's end.
  for (const auto& sh : shards) {
    if (!sh.ending_sequence) continue;
    std::vector<StreamRecord> out;
    uint64_t next, seq = sh.starting_sequence;
    bool end = false;
    while (!end) {
      Ok(ts->ReadShard("t", "L1", sh.shard_id, seq, 1000, 1 << 30, &out, &next, &end));
      if (!out.empty()) CHECK(out.back().sequence <= *sh.ending_sequence);
      seq = next;
    }
    for (const auto& c : shards) {
      if (c.parent_shard_id == sh.shard_id) CHECK(c.starting_sequence > *sh.ending_sequence);
    }
  }
  // Every change exactly once, per-item order kept (values increase per key).
  auto recs = ReadAll(ts.get(), "t", "L1", 50);
  CHECK(recs.size() == static_cast<size_t>(written.load()));
  std::set<uint64_t> seqs;
  std::map<std::string, std::pair<uint64_t, int64_t>> last;  // key -> (seq, value)
  for (const auto& r : recs) {
    CHECK(seqs.insert(r.sequence).second);
    const std::string pk = r.keys.Find("pk")->s();
    auto it = last.find(pk);
    if (it != last.end()) {
      CHECK(it->second.first < r.sequence);
      CHECK(V(*r.old_image) == it->second.second);
    }
    last[pk] = {r.sequence, V(*r.new_image)};
  }
  // Shards and their records survive a restart.
  Ok(ts->Close());
  ts = Open(Opts(dir.path()));
  std::vector<ShardInfo> again;
  Ok(ts->DescribeStream("t", "L1", &info, &again));
  REQUIRE(again.size() == shards.size());
  for (size_t i = 0; i < again.size(); i++) {
    CHECK(again[i].shard_id == shards[i].shard_id);
    CHECK(again[i].ending_sequence == shards[i].ending_sequence);
  }
  CHECK(ReadAll(ts.get(), "t", "L1").size() == recs.size());
}

TEST_CASE("streams: disable and re-enable make a new stream, the old stays readable") {
  test::TempDir dir;
  auto ts = Open(Opts(dir.path()));
  Ok(ts->CreateTable(Def("t")));
  Ok(ts->PutItem("t", Row("a", 1)));
  Ok(ts->AlterTable("t", [](TableDef* d) {
    d->stream.enabled = false;
    return Status::OK();
  }));
  Ok(ts->PutItem("t", Row("a", 2)));  // no stream: no record
  StreamInfo info;
  std::vector<ShardInfo> shards;
  Ok(ts->DescribeStream("t", "L1", &info, &shards));
  CHECK_FALSE(info.enabled);
  REQUIRE(shards.size() == 1);
  CHECK(shards[0].ending_sequence);
  TableDef altered;
  Ok(ts->AlterTable(
      "t",
      [](TableDef* d) {
        d->stream.enabled = true;
        d->stream.view_type = StreamViewType::kKeysOnly;
        d->stream.label = "L2";
        return Status::OK();
      },
      &altered));
  CHECK(altered.stream.label == "L2");
  Ok(ts->PutItem("t", Row("a", 3)));
  auto old_recs = ReadAll(ts.get(), "t", "L1");
  REQUIRE(old_recs.size() == 1);
  auto new_recs = ReadAll(ts.get(), "t", "L2");
  REQUIRE(new_recs.size() == 1);
  CHECK(new_recs[0].event == StreamEvent::kModify);
  CHECK_FALSE(new_recs[0].new_image);
  CHECK(new_recs[0].sequence > old_recs[0].sequence);
  std::vector<StreamInfo> list;
  Ok(ts->ListStreams("t", &list));
  REQUIRE(list.size() == 2);
  CHECK(list[0].label == "L1");
  CHECK_FALSE(list[0].enabled);
  CHECK(list[1].label == "L2");
  CHECK(list[1].enabled);
  // A shard id of one stream is unknown in the other.
  std::vector<StreamRecord> out;
  uint64_t next;
  bool end;
  CHECK(
      ts->ReadShard("t", "L2", shards[0].shard_id, 0, 10, 1 << 20, &out, &next, &end).IsNotFound());
  Ok(ts->Close());
  ts = Open(Opts(dir.path()));
  Ok(ts->ListStreams("t", &list));
  REQUIRE(list.size() == 2);
  CHECK(list[1].enabled);
  TableDef d;
  Ok(ts->DescribeTable("t", &d));
  CHECK(d.stream.enabled);
  CHECK(d.stream.label == "L2");
  CHECK(d.stream.view_type == StreamViewType::kKeysOnly);
}

TEST_CASE("streams: retention trims old records, TrimmedDataAccess, old streams vanish") {
  test::TempDir dir;
  Clock clock;
  TableStoreOptions o = Opts(dir.path(), &clock);
  o.stream_retention_ms = 1000;
  auto ts = Open(o);
  Ok(ts->CreateTable(Def("t")));
  for (int i = 0; i < 5; i++) Ok(ts->PutItem("t", Row("a", i)));
  clock.ms += 2000;
  for (int i = 5; i < 8; i++) Ok(ts->PutItem("t", Row("a", i)));
  StreamInfo info;
  std::vector<ShardInfo> shards;
  Ok(ts->DescribeStream("t", "L1", &info, &shards));
  const std::string shard = shards[0].shard_id;
  uint64_t trimmed = 0;
  Ok(ts->TrimStreams(&trimmed));
  CHECK(trimmed == 5);
  uint64_t horizon, latest;
  Ok(ts->ShardBounds("t", "L1", shard, &horizon, &latest));
  CHECK(horizon > shards[0].starting_sequence);
  std::vector<StreamRecord> out;
  uint64_t next;
  bool end;
  Status s =
      ts->ReadShard("t", "L1", shard, shards[0].starting_sequence, 10, 1 << 20, &out, &next, &end);
  CHECK(s.IsAborted());
  CHECK(s.message().starts_with("TrimmedDataAccess"));
  Ok(ts->ReadShard("t", "L1", shard, horizon, 10, 1 << 20, &out, &next, &end));
  REQUIRE(out.size() == 3);
  CHECK(V(*out[0].new_image) == 5);
  CHECK(next == latest);
  // The horizon survives a restart.
  Ok(ts->Close());
  ts = Open(o);
  uint64_t h2;
  Ok(ts->ShardBounds("t", "L1", shard, &h2, &latest));
  CHECK(h2 == horizon);
  // Disable: the old stream stays until its records are trimmed, then vanishes.
  Ok(ts->AlterTable("t", [](TableDef* d) {
    d->stream.enabled = false;
    return Status::OK();
  }));
  std::vector<StreamInfo> list;
  Ok(ts->ListStreams("t", &list));
  CHECK(list.size() == 1);
  clock.ms += 2000;
  Ok(ts->TrimStreams(&trimmed));
  CHECK(trimmed == 3);
  Ok(ts->ListStreams("t", &list));
  CHECK(list.empty());
  CHECK(ts->DescribeStream("t", "L1", &info, &shards).IsNotFound());
  // Sequences are not reused after everything was trimmed and a restart.
  Ok(ts->AlterTable("t", [](TableDef* d) {
    d->stream.enabled = true;
    d->stream.label = "L2";
    return Status::OK();
  }));
  Ok(ts->Close());
  ts = Open(o);
  Ok(ts->PutItem("t", Row("a", 9)));
  auto recs = ReadAll(ts.get(), "t", "L2");
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].sequence >= latest);
}

TEST_CASE("streams: deleting the table deletes its stream") {
  test::TempDir dir;
  auto ts = Open(Opts(dir.path()));
  Ok(ts->CreateTable(Def("t")));
  Ok(ts->PutItem("t", Row("a", 1)));
  Ok(ts->DeleteTable("t"));
  std::vector<StreamInfo> list;
  Ok(ts->ListStreams("", &list));
  CHECK(list.empty());
  for (const auto& info : ts->db()->ListTrees()) CHECK(info.name != "s1");
  Ok(ts->CreateTable(Def("t")));  // new table id, fresh stream
  auto recs = ReadAll(ts.get(), "t", "L1");
  CHECK(recs.empty());
}

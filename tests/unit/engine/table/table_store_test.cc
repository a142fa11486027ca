#include "engine/table/table_store.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/table/key_codec.h"
#include "tests/testutil/table_test_util.h"
#include "tests/testutil/temp_dir.h"

using namespace basalt;
using namespace basalt::table;

namespace {

using test::Def;
using test::MakeItem;
using test::N;
using test::S;
using test::TreeNames;
void Check(const Status& s) { test::Ok(s); }
Value B(std::string s) { return test::B(std::move(s)); }

std::unique_ptr<TableStore> OpenStore(const std::string& dir, uint32_t partitions = 1) {
  return test::OpenStore(test::StoreOptions(dir, partitions));
}

size_t CountFiles(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".sst") n++;
  }
  return n;
}

}  // namespace

TEST_CASE("table_store: catalog create describe list delete and reopen") {
  test::TempDir dir;
  uint64_t first_id = 0;
  std::vector<IndexDef> created_indexes;
  {
    auto ts = OpenStore(dir.path(), 3);
    TableDef d = Def("users", ValueType::kS, ValueType::kN);
    d.billing_mode = BillingMode::kProvisioned;
    d.provisioned.read_units = 5;
    d.provisioned.write_units = 7;
    d.tags = {{"env", "test"}, {"team", "db"}};
    IndexDef gsi;
    gsi.name = "by_v";
    gsi.partition_key = {{"v", ValueType::kN}};
    gsi.projection = ProjectionType::kKeysOnly;
    d.indexes.push_back(gsi);
    TableDef created;
    Check(ts->CreateTable(d, &created));
    first_id = created.table_id;
    CHECK(created.status == TableStatus::kActive);
    REQUIRE(created.indexes.size() == 1);
    CHECK(created.indexes[0].id == 1);  // assigned
    CHECK(created.next_index_id == 2);
    created_indexes = created.indexes;
    CHECK(created.creation_time_ms > 0);
    REQUIRE(created.partitions.size() == 3);
    CHECK(created.partitions[0].lo == 0);
    CHECK(created.partitions[2].hi == 0);
    CHECK(created.partitions[0].hi == created.partitions[1].lo);
    CHECK(created.partitions[1].hi == created.partitions[2].lo);

    Status s = ts->CreateTable(d);
    CHECK(s.Is(Status::SubCode::kTableInUse));
    CHECK(s.message() == "Table already exists: users");
    Check(ts->CreateTable(Def("orders")));
    CHECK(ts->ListTables() == std::vector<std::string>{"orders", "users"});

    TableDef got;
    s = ts->DescribeTable("nope", &got);
    CHECK(s.IsNotFound());
    CHECK(s.Is(Status::SubCode::kTableNotFound));
    CHECK(s.message() == "Requested resource not found: Table: nope not found");
    CHECK(ts->DeleteTable("nope").IsNotFound());
    std::optional<Item> item;
    CHECK(ts->GetItem("nope", MakeItem({{"pk", S("a")}}), nullptr, &item).IsNotFound());

    TableDef bad = Def("bad");
    bad.partition_key.type = ValueType::kBool;
    CHECK(ts->CreateTable(bad).IsInvalidArgument());
  }
  {
    auto ts = OpenStore(dir.path());
    CHECK(ts->ListTables() == std::vector<std::string>{"orders", "users"});
    TableDef got;
    Check(ts->DescribeTable("users", &got));
    CHECK(got.table_id == first_id);
    CHECK(got.billing_mode == BillingMode::kProvisioned);
    CHECK(got.provisioned.read_units == 5);
    CHECK(got.provisioned.write_units == 7);
    CHECK(got.tags.size() == 2);
    CHECK(got.tags[1].second == "db");
    REQUIRE(got.indexes.size() == 1);
    CHECK(got.indexes[0] == created_indexes[0]);
    REQUIRE(got.sort_key.has_value());
    CHECK(got.sort_key->type == ValueType::kN);
    CHECK(got.partitions.size() == 3);
    Check(ts->DeleteTable("users"));
    CHECK(ts->ListTables() == std::vector<std::string>{"orders"});
  }
  {
    auto ts = OpenStore(dir.path());
    CHECK(ts->ListTables() == std::vector<std::string>{"orders"});
    TableDef created;
    Check(ts->CreateTable(Def("users"), &created));
    CHECK(created.table_id > first_id + 1);  // ids are never reused
  }
}

TEST_CASE("table_store: catalog encoding round trip and corruption") {
  TableDef d = Def("t", ValueType::kB, ValueType::kS);
  d.table_id = 42;
  d.partitions = {{0, 7, 0, 100}, {1, 8, 100, 0}};
  d.approx_item_count = 3;
  d.approx_size_bytes = 99;
  std::string enc;
  EncodeTableDef(d, &enc);
  CHECK(enc[0] == kCatalogFormatVersion);
  TableDef back;
  Check(DecodeTableDef(enc, &back));
  CHECK(back.name == "t");
  CHECK(back.table_id == 42);
  CHECK(back.partitions.size() == 2);
  CHECK(back.partitions[1].tree == 8);
  CHECK(back.approx_size_bytes == 99);
  CHECK(DecodeTableDef(enc + "x", &back).IsCorruption());
  CHECK(DecodeTableDef(enc.substr(0, enc.size() - 1), &back).IsCorruption());
  // Unknown versions (version 1 is covered by catalog_test.cc).
  std::string v3 = enc;
  v3[0] = kCatalogFormatVersion + 1;
  CHECK(DecodeTableDef(v3, &back).IsCorruption());
}

TEST_CASE("table_store: key validation messages") {
  test::TempDir dir;
  auto ts = OpenStore(dir.path());
  Check(ts->CreateTable(Def("t", ValueType::kS, ValueType::kN)));
  auto put = [&](Item item) { return ts->PutItem("t", item); };
  const std::string p = "One or more parameter values were invalid: ";
  CHECK(put(MakeItem({{"sk", N("1")}})).message() == p + "Missing the key pk in the item");
  CHECK(put(MakeItem({{"pk", S("a")}})).message() == p + "Missing the key sk in the item");
  CHECK(put(MakeItem({{"pk", N("1")}, {"sk", N("1")}})).message() ==
        p + "Type mismatch for key pk expected: S actual: N");
  CHECK(put(MakeItem({{"pk", S("a")}, {"sk", S("1")}})).message() ==
        p + "Type mismatch for key sk expected: N actual: S");
  CHECK(put(MakeItem({{"pk", S("")}, {"sk", N("1")}})).message() ==
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: pk");
  CHECK(put(MakeItem({{"pk", S(std::string(2049, 'x'))}, {"sk", N("1")}})).message() ==
        p + "Size of hashkey has exceeded the maximum size limit of2048 bytes");
  Check(put(MakeItem({{"pk", S(std::string(2048, 'x'))}, {"sk", N("1")}})));
  Check(ts->CreateTable(Def("s", ValueType::kS, ValueType::kS)));
  CHECK(ts->PutItem("s", MakeItem({{"pk", S("a")}, {"sk", S(std::string(1025, 'y'))}})).message() ==
        p + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes");
  Check(ts->PutItem("s", MakeItem({{"pk", S("a")}, {"sk", S(std::string(1024, 'y'))}})));
  CHECK(put(MakeItem({{"pk", S("a")}, {"sk", N("1")}, {"big", S(std::string(410000, 'z'))}}))
            .message() == kItemTooLargeMessage);

  std::optional<Item> out;
  CHECK(ts->GetItem("t", MakeItem({{"pk", S("a")}}), nullptr, &out).message() ==
        kKeySchemaMismatchMessage);
  CHECK(ts->GetItem("t", MakeItem({{"pk", S("a")}, {"sk", N("1")}, {"x", S("")}}), nullptr, &out)
            .message() == kKeySchemaMismatchMessage);
  CHECK(ts->GetItem("t", MakeItem({{"pk", S("a")}, {"sk", S("1")}}), nullptr, &out).message() ==
        kKeySchemaMismatchMessage);
  CHECK(ts->GetItem("t", MakeItem({{"pk", S("")}, {"sk", N("1")}}), nullptr, &out).message() ==
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: pk");
}

TEST_CASE("table_store: put get delete and update decisions") {
  test::TempDir dir;
  auto ts = OpenStore(dir.path(), 2);
  Check(ts->CreateTable(Def("t", ValueType::kS, ValueType::kN)));
  Item key = MakeItem({{"pk", S("a")}, {"sk", N("1")}});
  Item item = MakeItem({{"pk", S("a")},
                        {"sk", N("1.0")},
                        {"v", S("x")},
                        {"ns", Value::MakeNS({Decimal::FromInt64(3), Decimal::FromInt64(1)})}});
  std::optional<Item> out, old;
  Check(ts->GetItem("t", key, nullptr, &out));
  CHECK(!out.has_value());
  Check(ts->PutItem("t", item, &old));
  CHECK(!old.has_value());
  Check(ts->GetItem("t", key, nullptr, &out));
  REQUIRE(out.has_value());
  CHECK(*out == item);
  CHECK(out->Find("ns")->ns()[0] == Decimal::FromInt64(1));  // canonicalised

  const lsm::Snapshot* snap = ts->GetSnapshot();
  Item item2 = MakeItem({{"pk", S("a")}, {"sk", N("1")}, {"v", S("y")}});
  Check(ts->PutItem("t", item2, &old));
  CHECK(old == item);
  Check(ts->GetItem("t", key, snap, &out));
  CHECK(*out == item);  // the snapshot sees the old version
  ts->ReleaseSnapshot(snap);

  TableDef d;
  Check(ts->DescribeTable("t", &d));
  CHECK(d.approx_item_count == 1);
  CHECK(d.approx_size_bytes == ItemSize(item2));

  UpdateResult r;
  // Condition failed: nothing written, old item reported.
  Check(ts->Update(
      "t", key, [](const Item*) { return Decision::ConditionFailed(); }, &r));
  CHECK(r.outcome == Decision::Kind::kConditionFailed);
  CHECK(r.old_item == item2);
  Check(ts->GetItem("t", key, nullptr, &out));
  CHECK(*out == item2);
  // No change.
  Check(ts->Update(
      "t", key, [](const Item*) { return Decision::NoChange(); }, &r));
  CHECK(r.outcome == Decision::Kind::kNoChange);
  CHECK(r.new_item == item2);
  // Put that changes the key: rejected.
  Status s = ts->Update(
      "t", key,
      [](const Item*) {
        return Decision::Put(MakeItem({{"pk", S("a")}, {"sk", N("2")}}));
      },
      &r);
  CHECK(s.IsInvalidArgument());
  // Put of an invalid item: rejected.
  s = ts->Update(
      "t", key,
      [](const Item* old) {
        Item n = *old;
        n.Set("bad", Value::MakeSS({}));
        return Decision::Put(n);
      },
      &r);
  CHECK(s.IsInvalidArgument());
  // Put modifying the old item.
  Check(ts->Update(
      "t", key,
      [](const Item* old) {
        Item n = *old;
        n.Set("w", Value::MakeBool(true));
        return Decision::Put(n);
      },
      &r));
  CHECK(r.outcome == Decision::Kind::kPut);
  CHECK(r.old_item == item2);
  REQUIRE(r.new_item.has_value());
  CHECK(r.new_item->Contains("w"));
  // Update on a missing item sees nullptr.
  Item key3 = MakeItem({{"pk", S("b")}, {"sk", N("-3")}});
  bool saw_null = false;
  Check(ts->Update(
      "t", key3,
      [&](const Item* old) {
        saw_null = old == nullptr;
        return Decision::Put(MakeItem({{"pk", S("b")}, {"sk", N("-3")}}));
      },
      &r));
  CHECK(saw_null);
  CHECK(!r.old_item.has_value());
  // Delete.
  Check(ts->Update(
      "t", key3, [](const Item*) { return Decision::Delete(); }, &r));
  CHECK(r.outcome == Decision::Kind::kDelete);
  CHECK(r.old_item.has_value());
  CHECK(!r.new_item.has_value());
  Check(ts->DeleteItem("t", key, &old));
  CHECK(old.has_value());
  Check(ts->DeleteItem("t", key, &old));  // absent: OK
  CHECK(!old.has_value());
  Check(ts->GetItem("t", key, nullptr, &out));
  CHECK(!out.has_value());
  Check(ts->DescribeTable("t", &d));
  CHECK(d.approx_item_count == 0);
  CHECK(d.approx_size_bytes == 0);
}

TEST_CASE("table_store: concurrent conditional increments lose no update") {
  test::TempDir dir;
  auto ts = OpenStore(dir.path(), 4);
  Check(ts->CreateTable(Def("c", ValueType::kN)));
  for (int k = 0; k < 4; k++) {
    Check(ts->PutItem("c", MakeItem({{"pk", Value::MakeN(Decimal::FromInt64(k))}, {"n", N("0")}})));
  }
  constexpr int kThreads = 8, kIters = 500;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int th = 0; th < kThreads; th++) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < kIters; i++) {
        Item key = MakeItem({{"pk", Value::MakeN(Decimal::FromInt64((th + i) % 4))}});
        UpdateResult r;
        Status s = ts->Update(
            "c", key,
            [](const Item* old) {
              if (old == nullptr || old->Find("n") == nullptr) return Decision::ConditionFailed();
              Item n = *old;
              Decimal sum;
              if (!Decimal::Add(old->Find("n")->n(), Decimal::FromInt64(1), &sum).ok()) {
                return Decision::ConditionFailed();
              }
              n.Set("n", Value::MakeN(sum));
              return Decision::Put(std::move(n));
            },
            &r);
        if (!s.ok() || r.outcome != Decision::Kind::kPut) errors++;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(errors == 0);
  for (int k = 0; k < 4; k++) {
    std::optional<Item> out;
    Check(ts->GetItem("c", MakeItem({{"pk", Value::MakeN(Decimal::FromInt64(k))}}), nullptr, &out));
    REQUIRE(out.has_value());
    CHECK(out->Find("n")->n() == Decimal::FromInt64(kThreads * kIters / 4));
  }
  TableDef d;
  Check(ts->DescribeTable("c", &d));
  CHECK(d.approx_item_count == 4);
}

TEST_CASE("table_store: WriteAtomically across tables") {
  test::TempDir dir;
  auto ts = OpenStore(dir.path(), 2);
  Check(ts->CreateTable(Def("a")));
  Check(ts->CreateTable(Def("b", ValueType::kS, ValueType::kS)));
  Check(ts->PutItem("a", MakeItem({{"pk", S("gone")}})));
  std::vector<WriteOp> ops;
  ops.push_back(test::PutOp(ts.get(), "a", MakeItem({{"pk", S("x")}, {"v", N("1")}})));
  ops.push_back(test::PutOp(ts.get(), "b", MakeItem({{"pk", S("x")}, {"sk", S("y")}})));
  ops.push_back(test::DeleteOp(ts.get(), "a", MakeItem({{"pk", S("gone")}})));
  WriteAtomicallyResult r;
  Check(ts->WriteAtomically(ops, &r));
  CHECK(!r.failed_op.has_value());
  REQUIRE(r.old_items.size() == 3);
  CHECK(r.old_items[2].has_value());
  std::optional<Item> out;
  Check(ts->GetItem("a", MakeItem({{"pk", S("x")}}), nullptr, &out));
  CHECK(out.has_value());
  Check(ts->GetItem("b", MakeItem({{"pk", S("x")}, {"sk", S("y")}}), nullptr, &out));
  CHECK(out.has_value());
  Check(ts->GetItem("a", MakeItem({{"pk", S("gone")}}), nullptr, &out));
  CHECK(!out.has_value());

  // A failing condition writes nothing.
  std::vector<WriteOp> ops2;
  ops2.push_back(test::PutOp(ts.get(), "a", MakeItem({{"pk", S("new")}})));
  ops2.push_back(test::DeleteOp(ts.get(), "b", MakeItem({{"pk", S("x")}, {"sk", S("y")}}),
                                [](const Item* old) { return old == nullptr; }));
  Check(ts->WriteAtomically(ops2, &r));
  CHECK(r.failed_op == std::optional<size_t>(1));
  Check(ts->GetItem("a", MakeItem({{"pk", S("new")}}), nullptr, &out));
  CHECK(!out.has_value());
  Check(ts->GetItem("b", MakeItem({{"pk", S("x")}, {"sk", S("y")}}), nullptr, &out));
  CHECK(out.has_value());

  // Duplicate keys (same table and key, "1" and "1.0" style duplicates too) are rejected.
  std::vector<WriteOp> dup;
  dup.push_back(test::PutOp(ts.get(), "a", MakeItem({{"pk", S("d")}})));
  dup.push_back(test::DeleteOp(ts.get(), "a", MakeItem({{"pk", S("d")}})));
  Status s = ts->WriteAtomically(dup, &r);
  CHECK(s.message() == kDuplicateKeysMessage);
  CHECK(s.Is(Status::SubCode::kDuplicateKeys));
  Check(ts->GetItem("a", MakeItem({{"pk", S("d")}}), nullptr, &out));
  CHECK(!out.has_value());
  // A malformed key is refused when the op is prepared.
  WriteOp bad;
  s = ts->PrepareWrite("b", WriteOp::Kind::kPut, MakeItem({{"pk", S("m")}}), &bad);
  CHECK(s.Is(Status::SubCode::kItemKeyInvalid));
  CHECK(ts->PrepareWrite("zz", WriteOp::Kind::kPut, MakeItem({{"pk", S("m")}}), &bad)
            .Is(Status::SubCode::kTableNotFound));
  // Same key in two tables is fine; an invalid op (here an item over 400 KB)
  // fails the whole batch.
  std::vector<WriteOp> mixed;
  mixed.push_back(test::PutOp(ts.get(), "a", MakeItem({{"pk", S("m")}})));
  mixed.push_back(test::PutOp(
      ts.get(), "b",
      MakeItem({{"pk", S("m")}, {"sk", S("y")}, {"big", S(std::string(401 * 1024, 'x'))}})));
  s = ts->WriteAtomically(mixed, &r);
  CHECK(s.Is(Status::SubCode::kItemTooLarge));
  Check(ts->GetItem("a", MakeItem({{"pk", S("m")}}), nullptr, &out));
  CHECK(!out.has_value());
  TableDef d;
  Check(ts->DescribeTable("a", &d));
  CHECK(d.approx_item_count == 1);
}

namespace {

struct ModelItem {
  Value pk, sk;
  Item item;
};

int CompareSk(const Value& a, const Value& b) {
  if (a.type() == ValueType::kN) return a.n().Compare(b.n());
  int c = a.bytes().compare(b.bytes());
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

bool Matches(const Value& sk, const SortKeyCondition& c) {
  switch (c.op) {
    case SortKeyOp::kAll:
      return true;
    case SortKeyOp::kEq:
      return CompareSk(sk, c.a) == 0;
    case SortKeyOp::kLt:
      return CompareSk(sk, c.a) < 0;
    case SortKeyOp::kLe:
      return CompareSk(sk, c.a) <= 0;
    case SortKeyOp::kGt:
      return CompareSk(sk, c.a) > 0;
    case SortKeyOp::kGe:
      return CompareSk(sk, c.a) >= 0;
    case SortKeyOp::kBetween:
      return CompareSk(sk, c.a) >= 0 && CompareSk(sk, *c.b) <= 0;
    case SortKeyOp::kBeginsWith:
      return sk.bytes().starts_with(c.a.bytes());
  }
  return false;
}

Value RandomSk(std::mt19937_64& rng, ValueType t) {
  if (t == ValueType::kN) {
    static const char* kExps[] = {"", "e-3", "e2", "e-1", "e10", "e-40"};
    int64_t m = static_cast<int64_t>(rng() % 2001) - 1000;
    return N(std::to_string(m) + kExps[rng() % 6]);
  }
  static const char kAlpha[] = {'a', 'b', 'z', '\x01', '\x00', '\xff'};
  std::string s;
  size_t len = 1 + rng() % 4;
  for (size_t i = 0; i < len; i++) {
    char c = kAlpha[rng() % (t == ValueType::kS ? 4 : 6)];
    s.push_back(c);
  }
  return t == ValueType::kS ? S(s) : B(s);
}

}  // namespace

TEST_CASE("table_store: Query operators, directions and paging against a model") {
  for (ValueType skt : {ValueType::kN, ValueType::kS, ValueType::kB}) {
    CAPTURE(ValueTypeName(skt));
    test::TempDir dir;
    auto ts = OpenStore(dir.path(), 3);
    Check(ts->CreateTable(Def("q", ValueType::kS, skt)));
    std::mt19937_64 rng(static_cast<uint64_t>(skt) * 7919);
    std::vector<ModelItem> model;
    const std::vector<std::string> pks = {"p1", "p2", "p3"};
    for (const auto& p : pks) {
      for (int i = 0; i < 80; i++) {
        Value sk = RandomSk(rng, skt);
        bool dup = false;
        for (const auto& m : model) dup |= m.pk == S(p) && CompareSk(m.sk, sk) == 0;
        if (dup) continue;
        Item item = MakeItem({{"pk", S(p)}, {"sk", sk}, {"data", S(std::string(rng() % 60, 'd'))}});
        Check(ts->PutItem("q", item));
        model.push_back({S(p), sk, item});
      }
    }
    Check(ts->db()->Flush(lsm::DB::kAllTrees));  // mix SSTables and memtables
    // More writes after the flush, some overwriting flushed items.
    for (int i = 0; i < 20; i++) {
      const std::string& p = pks[rng() % pks.size()];
      Value sk = i % 2 == 0 ? RandomSk(rng, skt) : model[rng() % model.size()].sk;
      Item item = MakeItem({{"pk", S(p)}, {"sk", sk}, {"late", N(std::to_string(i))}});
      Check(ts->PutItem("q", item));
      std::erase_if(model,
                    [&](const ModelItem& m) { return m.pk == S(p) && CompareSk(m.sk, sk) == 0; });
      model.push_back({S(p), sk, item});
    }
    // Scan sees exactly the model.
    ScanPage all;
    Check(ts->Scan("q", 0, 0, std::nullopt, 0, 0, nullptr, &all));
    CHECK(all.count == model.size());
    CHECK(!all.last_evaluated_key.has_value());

    std::vector<SortKeyOp> ops = {SortKeyOp::kAll,    SortKeyOp::kEq, SortKeyOp::kLt,
                                  SortKeyOp::kLe,     SortKeyOp::kGt, SortKeyOp::kGe,
                                  SortKeyOp::kBetween};
    if (skt != ValueType::kN) ops.push_back(SortKeyOp::kBeginsWith);
    for (int round = 0; round < 6; round++) {
      for (SortKeyOp op : ops) {
        for (bool forward : {true, false}) {
          const std::string& p = pks[rng() % pks.size()];
          SortKeyCondition c;
          c.op = op;
          auto pick = [&] {
            if (rng() % 3 == 0) return RandomSk(rng, skt);
            std::vector<const ModelItem*> mine;
            for (const auto& m : model)
              if (m.pk == S(p)) mine.push_back(&m);
            return mine[rng() % mine.size()]->sk;
          };
          c.a = pick();
          if (op == SortKeyOp::kBetween) {
            c.b = pick();
            if (CompareSk(c.a, *c.b) > 0) std::swap(c.a, *c.b);
          }
          if (op == SortKeyOp::kBeginsWith) {
            std::string pre = c.a.bytes().substr(0, rng() % (c.a.bytes().size() + 1));
            c.a = skt == ValueType::kS ? S(pre) : B(pre);
          }
          std::vector<const ModelItem*> want;
          for (const auto& m : model)
            if (m.pk == S(p) && Matches(m.sk, c)) want.push_back(&m);
          std::sort(want.begin(), want.end(), [&](const ModelItem* x, const ModelItem* y) {
            return forward ? CompareSk(x->sk, y->sk) < 0 : CompareSk(x->sk, y->sk) > 0;
          });
          for (int paging = 0; paging < 3; paging++) {
            size_t limit = paging == 1 ? 1 + rng() % 7 : 0;
            size_t budget = paging == 2 ? 50 + rng() % 300 : 0;
            CAPTURE(static_cast<int>(op));
            CAPTURE(forward);
            CAPTURE(limit);
            CAPTURE(budget);
            std::vector<Item> got;
            std::optional<Item> start;
            for (int pages = 0; pages < 1000; pages++) {
              QueryPage page;
              Check(ts->Query("q", S(p), c, forward, start, budget, limit, nullptr, &page));
              CHECK(page.count == page.items.size());
              if (limit != 0) CHECK(page.count <= limit);
              if (budget != 0 && !page.items.empty()) {
                CHECK(page.bytes - ItemSize(page.items.back()) < budget);
              }
              size_t bytes = 0;
              for (auto& it : page.items) bytes += ItemSize(it);
              CHECK(bytes == page.bytes);
              for (auto& it : page.items) got.push_back(std::move(it));
              if (!page.last_evaluated_key) break;
              CHECK(page.last_evaluated_key->size() == 2);
              start = page.last_evaluated_key;
            }
            REQUIRE(got.size() == want.size());
            for (size_t i = 0; i < got.size(); i++) CHECK(got[i] == want[i]->item);
          }
        }
      }
    }
    // Wrong types.
    QueryPage page;
    CHECK(ts->Query("q", N("1"), {}, true, std::nullopt, 0, 0, nullptr, &page).IsInvalidArgument());
    SortKeyCondition wrong;
    wrong.op = SortKeyOp::kEq;
    wrong.a = Value::MakeBool(true);
    CHECK(ts->Query("q", S("p1"), wrong, true, std::nullopt, 0, 0, nullptr, &page)
              .IsInvalidArgument());
  }
}

TEST_CASE("table_store: Scan segments over partitions return every item once") {
  test::TempDir dir;
  auto ts = OpenStore(dir.path(), 5);
  Check(ts->CreateTable(Def("s", ValueType::kN, ValueType::kS)));
  std::set<std::string> all;
  for (int i = 0; i < 400; i++) {
    std::string sk = i % 3 == 0 ? "a" : "b" + std::to_string(i);
    Check(ts->PutItem("s",
                      MakeItem({{"pk", Value::MakeN(Decimal::FromInt64(i / 2))}, {"sk", S(sk)}})));
    all.insert(std::to_string(i / 2) + "/" + sk);
  }
  Check(ts->db()->Flush(lsm::DB::kAllTrees));
  for (int segments : {1, 2, 7, 16}) {
    CAPTURE(segments);
    std::multiset<std::string> seen;
    for (int seg = 0; seg < segments; seg++) {
      uint64_t lo = static_cast<uint64_t>((static_cast<unsigned __int128>(seg) << 64) / segments);
      uint64_t hi =
          seg + 1 == segments
              ? 0
              : static_cast<uint64_t>((static_cast<unsigned __int128>(seg + 1) << 64) / segments);
      std::optional<Item> start;
      uint64_t last_hash = 0;
      for (int pages = 0; pages < 10000; pages++) {
        ScanPage page;
        Check(ts->Scan("s", lo, hi, start, segments == 7 ? 120 : 0, 13, nullptr, &page));
        for (const auto& item : page.items) {
          uint64_t h = PartitionHash(*item.Find("pk"));
          CHECK(h >= lo);
          if (hi != 0) CHECK(h < hi);
          CHECK(h >= last_hash);
          last_hash = h;
          seen.insert(item.Find("pk")->n().ToString() + "/" + item.Find("sk")->s());
        }
        if (!page.last_evaluated_key) break;
        start = page.last_evaluated_key;
      }
    }
    CHECK(seen.size() == all.size());
    CHECK(std::set<std::string>(seen.begin(), seen.end()) == all);
  }
}

TEST_CASE("table_store: DeleteTable frees its trees and reopen keeps everything") {
  test::TempDir dir;
  {
    auto ts = OpenStore(dir.path(), 2);
    TableDef keep, drop;
    Check(ts->CreateTable(Def("keep", ValueType::kS, ValueType::kN), &keep));
    Check(ts->CreateTable(Def("drop"), &drop));
    for (int i = 0; i < 300; i++) {
      Check(ts->PutItem("keep", MakeItem({{"pk", S("k" + std::to_string(i % 10))},
                                          {"sk", Value::MakeN(Decimal::FromInt64(i))},
                                          {"pad", S(std::string(200, 'p'))}})));
      Check(ts->PutItem("drop", MakeItem({{"pk", S("d" + std::to_string(i))},
                                          {"pad", S(std::string(200, 'q'))}})));
    }
    Check(ts->db()->Flush(lsm::DB::kAllTrees));
    auto names = TreeNames(ts.get());
    CHECK(names.count("t" + std::to_string(drop.table_id) + ".p1") == 1);
    size_t files_before = CountFiles(dir.path());
    Check(ts->DeleteTable("drop"));
    names = TreeNames(ts.get());
    // Two initial partitions: p0 split into p1 and p2.
    CHECK(names.count("t" + std::to_string(drop.table_id) + ".p1") == 0);
    CHECK(names.count("t" + std::to_string(drop.table_id) + ".p2") == 0);
    CHECK(names.count("t" + std::to_string(keep.table_id) + ".p1") == 1);
    CHECK(names.count("t" + std::to_string(keep.table_id) + ".p2") == 1);
    CHECK(CountFiles(dir.path()) < files_before);
    Check(ts->Close());
  }
  {
    auto ts = OpenStore(dir.path());
    CHECK(ts->ListTables() == std::vector<std::string>{"keep"});
    TableDef d;
    Check(ts->DescribeTable("keep", &d));
    CHECK(d.approx_item_count == 300);
    CHECK(d.partitions.size() == 2);
    std::optional<Item> out;
    Check(ts->GetItem("keep", MakeItem({{"pk", S("k3")}, {"sk", N("123")}}), nullptr, &out));
    REQUIRE(out.has_value());
    CHECK(out->Find("pad")->s().size() == 200);
    QueryPage page;
    Check(ts->Query("keep", S("k7"), {}, false, std::nullopt, 0, 0, nullptr, &page));
    CHECK(page.count == 30);
    CHECK(page.items.front().Find("sk")->n() == Decimal::FromInt64(297));
    ScanPage scan;
    Check(ts->Scan("keep", 0, 0, std::nullopt, 0, 0, nullptr, &scan));
    CHECK(scan.count == 300);
  }
}

TEST_CASE("table_store: concurrent WriteAtomically transfers keep the total") {
  test::TempDir dir;
  auto ts = OpenStore(dir.path(), 3);
  Check(ts->CreateTable(Def("acct")));
  Check(ts->CreateTable(Def("log")));
  constexpr int kAccounts = 6;
  auto key = [](int a) { return MakeItem({{"pk", S("a" + std::to_string(a))}}); };
  for (int a = 0; a < kAccounts; a++) {
    Check(ts->PutItem("acct", MakeItem({{"pk", S("a" + std::to_string(a))}, {"bal", N("100")}})));
  }
  std::atomic<int> committed{0}, errors{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < 4; th++) {
    threads.emplace_back([&, th] {
      std::mt19937_64 rng(static_cast<uint64_t>(th));
      for (int i = 0; i < 150; i++) {
        int from = static_cast<int>(rng() % kAccounts);
        int to = (from + 1 + static_cast<int>(rng() % (kAccounts - 1))) % kAccounts;
        std::optional<Item> a, b;
        if (!ts->GetItem("acct", key(from), nullptr, &a).ok() ||
            !ts->GetItem("acct", key(to), nullptr, &b).ok()) {
          errors++;
          continue;
        }
        Decimal na, nb;
        if (!Decimal::Subtract(a->Find("bal")->n(), Decimal::FromInt64(1), &na).ok() ||
            !Decimal::Add(b->Find("bal")->n(), Decimal::FromInt64(1), &nb).ok()) {
          errors++;
          continue;
        }
        Item ia = *a, ib = *b;
        ia.Set("bal", Value::MakeN(na));
        ib.Set("bal", Value::MakeN(nb));
        Item ea = *a, eb = *b;
        std::vector<WriteOp> ops;
        ops.push_back(test::PutOp(ts.get(), "acct", ia,
                                  [ea](const Item* old) { return old != nullptr && *old == ea; }));
        ops.push_back(test::PutOp(ts.get(), "acct", ib,
                                  [eb](const Item* old) { return old != nullptr && *old == eb; }));
        ops.push_back(test::PutOp(
            ts.get(), "log", MakeItem({{"pk", S(std::to_string(th) + "/" + std::to_string(i))}})));
        WriteAtomicallyResult r;
        if (!ts->WriteAtomically(ops, &r).ok()) {
          errors++;
        } else if (!r.failed_op) {
          committed++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(errors == 0);
  CHECK(committed > 0);
  Decimal total;
  for (int a = 0; a < kAccounts; a++) {
    std::optional<Item> item;
    Check(ts->GetItem("acct", key(a), nullptr, &item));
    Check(Decimal::Add(total, item->Find("bal")->n(), &total));
  }
  CHECK(total == Decimal::FromInt64(100 * kAccounts));
  ScanPage logs;
  Check(ts->Scan("log", 0, 0, std::nullopt, 0, 0, nullptr, &logs));
  CHECK(logs.count == static_cast<size_t>(committed.load()));
}

TEST_CASE("table_store: Open drops partition trees no table references") {
  test::TempDir dir;
  {
    auto ts = OpenStore(dir.path());
    Check(ts->CreateTable(Def("t")));
    lsm::TreeId id;
    Check(ts->db()->CreateTree("t999.p0", &id));  // as left by a crash inside CreateTable
    Check(ts->db()->CreateTree("other", &id));
  }
  auto ts = OpenStore(dir.path());
  auto names = TreeNames(ts.get());
  CHECK(names.count("t999.p0") == 0);
  CHECK(names.count("other") == 1);
  CHECK(names.count("__catalog") == 1);
  TableDef d;
  Check(ts->DescribeTable("t", &d));
  CHECK(names.count("t" + std::to_string(d.table_id) + ".p0") == 1);
}

TEST_CASE("AlterTable changes metadata durably and refuses key schema changes") {
  test::TempDir dir;
  {
    auto ts = OpenStore(dir.path());
    REQUIRE(ts->CreateTable(Def("t", ValueType::kS, ValueType::kN)).ok());
    TableDef altered;
    Status s = ts->AlterTable(
        "t",
        [](TableDef* d) {
          d->billing_mode = BillingMode::kProvisioned;
          d->provisioned.read_units = 7;
          d->tags.emplace_back("k", "v");
          d->deletion_protection = true;
          IndexDef ix;
          ix.name = "gsi";
          ix.partition_key = {{"g", ValueType::kS}};
          d->indexes.push_back(ix);
          return Status::OK();
        },
        &altered);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    CHECK(altered.provisioned.read_units == 7);
    REQUIRE(altered.indexes.size() == 1);
    CHECK(altered.indexes[0].id == 1);
    // Duplicate index names are refused.
    s = ts->AlterTable("t", [](TableDef* d) {
      d->indexes.push_back(d->indexes[0]);
      d->indexes.back().id = 0;
      return Status::OK();
    });
    CHECK(s.IsInvalidArgument());
    // The callback's error comes back unchanged and nothing is written.
    s = ts->AlterTable("t", [](TableDef* d) {
      d->provisioned.read_units = 99;
      return Status::InvalidArgument("no");
    });
    CHECK(s.IsInvalidArgument());
    CHECK(s.message() == "no");
    s = ts->AlterTable("t", [](TableDef* d) {
      d->sort_key->type = ValueType::kS;
      return Status::OK();
    });
    CHECK(s.IsInvalidArgument());
    CHECK(ts->AlterTable("missing", [](TableDef*) { return Status::OK(); }).IsNotFound());
  }
  auto ts = OpenStore(dir.path());
  TableDef d;
  REQUIRE(ts->DescribeTable("t", &d).ok());
  CHECK(d.billing_mode == BillingMode::kProvisioned);
  CHECK(d.provisioned.read_units == 7);
  CHECK(d.sort_key->type == ValueType::kN);
  REQUIRE(d.tags.size() == 1);
  CHECK(d.tags[0].second == "v");
  CHECK(d.deletion_protection);
  REQUIRE(d.indexes.size() == 1);
  CHECK(d.indexes[0].name == "gsi");
  CHECK(d.next_index_id == 2);
}

// The write path (engine/table/write_path.h): the one commit routine, driven
// directly on a store's tables (a WritePath of the test's own, with its own
// latches) and through TableStore's calls that use it.
#include "engine/table/write_path.h"

#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "engine/table/stream_store.h"
#include "engine/table/table_store.h"
#include "tests/testutil/table_test_util.h"
#include "tests/testutil/temp_dir.h"

using namespace basalt;
using namespace basalt::table;
using test::Key;
using test::MakeItem;
using test::Num;
using test::Ok;
using test::S;

namespace {

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<TableStore> ts = test::OpenStore(test::StoreOptions(dir.path(), 4));
  StreamStore streams{ts->db(), StreamStore::Options{}};
  WritePath path{ts->db(), &streams, kItemCollectionLimitBytes};
  TableRef t;

  Fixture() {
    Ok(ts->CreateTable(test::Def("t")));
    Ok(ts->Resolve("t", &t));
  }
  ItemKey KeyOf(const std::string& pk) {
    ItemKey k;
    Ok(t->LocateKey(Key(pk), &k));
    return k;
  }
  std::optional<Item> Get(const std::string& pk) {
    std::optional<Item> out;
    Ok(ts->GetItem("t", Key(pk), nullptr, &out));
    return out;
  }
  int64_t Count() {
    TableDef d;
    Ok(ts->DescribeTable("t", &d));
    return static_cast<int64_t>(d.approx_item_count);
  }
};

Item Row(const std::string& pk, int64_t v) { return MakeItem({{"pk", S(pk)}, {"v", Num(v)}}); }

}  // namespace

TEST_CASE("write path: a multi-item commit applies every decision in one batch") {
  Fixture f;
  Ok(f.ts->PutItem("t", Row("b", 1)));
  const ItemKey a = f.KeyOf("a"), b = f.KeyOf("b"), c = f.KeyOf("c");
  std::vector<WriteSlot> slots(3);
  slots[0].table = slots[1].table = slots[2].table = f.t.get();
  slots[0].key = &a;
  slots[1].key = &b;
  slots[2].key = &c;
  bool committed = false;
  int calls = 0;
  Ok(f.path.Commit(
      slots,
      [&](std::span<WriteSlot> s) {
        calls++;
        CHECK(!s[0].old_item.has_value());
        REQUIRE(s[1].old_item.has_value());
        CHECK(*s[1].old_item == Row("b", 1));
        s[0].decision = Decision::Put(Row("a", 1));
        s[1].decision = Decision::Delete();
        s[2].decision = Decision::NoChange();
        return Status::OK();
      },
      &committed));
  CHECK(committed);
  CHECK(calls == 1);
  CHECK(slots[0].new_item == Row("a", 1));
  CHECK(!slots[1].new_item.has_value());
  CHECK(f.Get("a") == Row("a", 1));
  CHECK(!f.Get("b").has_value());
  CHECK(!f.Get("c").has_value());
  CHECK(f.Count() == 1);  // statistics follow the committed changes
}

TEST_CASE("write path: one failed condition, a decide error or a bad put write nothing") {
  Fixture f;
  Ok(f.ts->PutItem("t", Row("b", 1)));
  const ItemKey a = f.KeyOf("a"), b = f.KeyOf("b");
  auto commit = [&](std::function<void(std::span<WriteSlot>)> decide, bool* committed) {
    std::vector<WriteSlot> slots(2);
    slots[0].table = slots[1].table = f.t.get();
    slots[0].key = &a;
    slots[1].key = &b;
    return f.path.Commit(
        slots,
        [&](std::span<WriteSlot> s) {
          decide(s);
          return s[0].decision.kind == Decision::Kind::kNoChange
                     ? Status::InvalidArgument("decide failed")
                     : Status::OK();
        },
        committed);
  };
  bool committed = true;
  Ok(commit(
      [](std::span<WriteSlot> s) {
        s[0].decision = Decision::Put(Row("a", 1));
        s[1].decision = Decision::ConditionFailed();
      },
      &committed));
  CHECK(!committed);
  Status st =
      commit([](std::span<WriteSlot> s) { s[1].decision = Decision::Delete(); }, &committed);
  CHECK(st.message() == "decide failed");
  // A put whose key is not the slot's, and one over 400 KB.
  st = commit(
      [](std::span<WriteSlot> s) {
        s[0].decision = Decision::Put(Row("zz", 1));
        s[1].decision = Decision::Delete();
      },
      &committed);
  CHECK(st.IsInvalidArgument());
  st = commit(
      [](std::span<WriteSlot> s) {
        s[0].decision =
            Decision::Put(MakeItem({{"pk", S("a")}, {"big", S(std::string(401 << 10, 'x'))}}));
        s[1].decision = Decision::Delete();
      },
      &committed);
  CHECK(st.Is(Status::SubCode::kItemTooLarge));
  // PutValidated trusts the caller's ValidateItem, not its key.
  st = commit(
      [](std::span<WriteSlot> s) {
        s[0].decision = Decision::PutValidated(Row("zz", 1));
        s[1].decision = Decision::Delete();
      },
      &committed);
  CHECK(st.IsInvalidArgument());
  CHECK(!f.Get("a").has_value());
  CHECK(f.Get("b") == Row("b", 1));
  CHECK(f.Count() == 1);
}

TEST_CASE("write path: two slots of one item are refused") {
  Fixture f;
  const ItemKey a1 = f.KeyOf("a"), a2 = f.KeyOf("a");
  std::vector<WriteSlot> slots(2);
  slots[0].table = slots[1].table = f.t.get();
  slots[0].key = &a1;
  slots[1].key = &a2;
  bool committed;
  int calls = 0;
  Status st = f.path.Commit(
      slots,
      [&](std::span<WriteSlot>) {
        calls++;
        return Status::OK();
      },
      &committed);
  CHECK(st.Is(Status::SubCode::kDuplicateKeys));
  CHECK(calls == 0);
}

TEST_CASE("write path: commits latching the same items in opposite orders never deadlock") {
  // Two threads transfer between the same two items, one naming them (x, y),
  // the other (y, x). Latches are taken in stripe order whatever the slot
  // order, so both finish; the sum is conserved because every commit is a
  // read-modify-write under the latches.
  Fixture f;
  Ok(f.ts->PutItem("t", Row("x", 1000)));
  Ok(f.ts->PutItem("t", Row("y", 1000)));
  const ItemKey x = f.KeyOf("x"), y = f.KeyOf("y");
  constexpr int kRounds = 300;
  std::atomic<int> failures{0};
  auto run = [&](const ItemKey* first, const ItemKey* second) {
    for (int i = 0; i < kRounds; i++) {
      std::vector<WriteSlot> slots(2);
      slots[0].table = slots[1].table = f.t.get();
      slots[0].key = first;
      slots[1].key = second;
      bool committed;
      Status st = f.path.Commit(
          slots,
          [](std::span<WriteSlot> s) {
            int64_t v0 = 0, v1 = 0;
            s[0].old_item->Find("v")->n().ToInt64(&v0);
            s[1].old_item->Find("v")->n().ToInt64(&v1);
            Item a = *s[0].old_item, b = *s[1].old_item;
            a.Set("v", Num(v0 - 1));
            b.Set("v", Num(v1 + 1));
            s[0].decision = Decision::Put(std::move(a));
            s[1].decision = Decision::Put(std::move(b));
            return Status::OK();
          },
          &committed);
      if (!st.ok() || !committed) failures++;
    }
  };
  std::thread t1(run, &x, &y);
  std::thread t2(run, &y, &x);
  t1.join();
  t2.join();
  CHECK(failures == 0);
  int64_t vx = 0, vy = 0;
  f.Get("x")->Find("v")->n().ToInt64(&vx);
  f.Get("y")->Find("v")->n().ToInt64(&vy);
  CHECK(vx + vy == 2000);
  CHECK(vx == 1000);  // each thread moved kRounds units the opposite way
}

TEST_CASE("write path: a commit re-routes to the children of a partition split meanwhile") {
  Fixture f;
  const ItemKey a = f.KeyOf("a");
  TableRef before = f.t;  // its partition map predates the splits below
  for (const PartitionDef& p : before->partitions().parts()) Ok(f.ts->SplitPartition("t", p.id));
  WriteSlot slot;
  slot.table = before.get();
  slot.key = &a;
  bool committed = false;
  Ok(f.path.Commit(
      {&slot, 1},
      [](std::span<WriteSlot> s) {
        s[0].decision = Decision::Put(Row("a", 7));
        return Status::OK();
      },
      &committed));
  CHECK(committed);
  CHECK(f.Get("a") == Row("a", 7));
  TableRef now;
  Ok(f.ts->Resolve("t", &now));
  CHECK(now->partitions().parts().size() == 2 * before->partitions().parts().size());
}

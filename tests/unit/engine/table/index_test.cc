// Secondary indexes in the table layer: entries written with their items
// (sparse, projections, multi-attribute keys, moves), key validation, index
// Query and Scan, online backfill (with concurrent writes, across a reopen),
// index splits, dropping indexes, and the verifier.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/table/index_key.h"
#include "engine/table/item_codec.h"
#include "engine/table/table_store.h"
#include "tests/testutil/table_test_util.h"
#include "tests/testutil/temp_dir.h"

using namespace basalt;
using namespace basalt::table;
using test::MakeItem;
using test::Num;
using test::Ok;
using test::S;

namespace {

IndexDef Gsi(std::string name, std::vector<KeyAttribute> pk, std::vector<KeyAttribute> sk,
             ProjectionType projection = ProjectionType::kAll,
             std::vector<std::string> include = {}) {
  IndexDef ix;
  ix.name = std::move(name);
  ix.kind = IndexKind::kGlobal;
  ix.partition_key = std::move(pk);
  ix.sort_key = std::move(sk);
  ix.projection = projection;
  ix.non_key_attributes = std::move(include);
  return ix;
}

// Table "t" (pk S, sk N) with: by_g (g S; ALL), by_hr (h1 S + h2 N hash, r S
// range; INCLUDE x), lsi (pk, l N; KEYS_ONLY).
TableDef IndexedDef() {
  TableDef d = test::Def("t", ValueType::kS, ValueType::kN);
  d.indexes.push_back(Gsi("by_g", {{"g", ValueType::kS}}, {}));
  d.indexes.push_back(Gsi("by_hr", {{"h1", ValueType::kS}, {"h2", ValueType::kN}},
                          {{"r", ValueType::kS}}, ProjectionType::kInclude, {"x"}));
  IndexDef lsi =
      Gsi("lsi", {{"pk", ValueType::kS}}, {{"l", ValueType::kN}}, ProjectionType::kKeysOnly);
  lsi.kind = IndexKind::kLocal;
  d.indexes.push_back(lsi);
  return d;
}

Item Row(const std::string& pk, int64_t sk, std::vector<std::pair<std::string, Value>> more = {}) {
  more.emplace_back("pk", S(pk));
  more.emplace_back("sk", Num(sk));
  return MakeItem(std::move(more));
}

struct Fixture {
  test::TempDir dir;
  TableStoreOptions options = Options(dir.path());
  std::unique_ptr<TableStore> ts = test::OpenStore(options);

  static TableStoreOptions Options(const std::string& path) {
    TableStoreOptions o = test::StoreOptions(path, 2);
    o.index_build_interval_ms = 0;  // backfills run when a test asks
    return o;
  }
  TableRef Handle(const std::string& name = "t") {
    TableRef t;
    Ok(ts->Resolve(name, &t));
    return t;
  }
  const IndexDef& Index(const TableRef& t, const std::string& name) {
    const IndexDef* ix = t->def().FindIndex(name);
    REQUIRE(ix != nullptr);
    return *ix;
  }
  // Every entry of an index, through paged Scans (pages of `limit`).
  std::vector<Item> ScanIndex(const std::string& index, size_t limit = 3) {
    TableRef t = Handle();
    const IndexDef& ix = Index(t, index);
    std::vector<Item> out;
    std::optional<std::string> start;
    for (int pages = 0; pages < 10000; pages++) {
      ScanPage page;
      Ok(ts->ScanIndex(*t, ix, 0, 0, start ? &*start : nullptr, 0, limit, nullptr, &page));
      for (auto& item : page.items) out.push_back(std::move(item));
      if (!page.last_evaluated_key) break;
      std::string key;
      uint64_t hash;
      Ok(EncodeIndexEntryKey(t->def(), ix, *page.last_evaluated_key, &key, &hash));
      start = key;
    }
    return out;
  }
  void VerifyAll() {
    std::vector<IndexVerifyReport> reports;
    Ok(ts->VerifyIndexes("", &reports));
    for (const auto& r : reports) {
      INFO(r.table, ".", r.index, " expected ", r.expected, " actual ", r.actual);
      for (const auto& e : r.examples) INFO(e);
      CHECK(r.ok());
    }
  }
};

std::set<std::string> Pks(const std::vector<Item>& items) {
  std::set<std::string> out;
  for (const Item& i : items) out.insert(i.Find("pk")->s() + "/" + i.Find("sk")->n().ToString());
  return out;
}

}  // namespace

TEST_CASE("indexes: entries follow puts, updates and deletes; sparse; projections") {
  Fixture f;
  Ok(f.ts->CreateTable(IndexedDef()));
  Ok(f.ts->PutItem("t", Row("a", 1,
                            {{"g", S("x")},
                             {"h1", S("u")},
                             {"h2", Num(1)},
                             {"r", S("k")},
                             {"x", S("inc")},
                             {"y", S("no")},
                             {"l", Num(5)}})));
  Ok(f.ts->PutItem("t", Row("a", 2, {{"g", S("x")}})));   // no h/r/l: only in by_g
  Ok(f.ts->PutItem("t", Row("b", 1, {{"h1", S("u")}})));  // sparse everywhere
  f.VerifyAll();
  CHECK(Pks(f.ScanIndex("by_g")) == std::set<std::string>{"a/1", "a/2"});
  std::vector<Item> hr = f.ScanIndex("by_hr");
  REQUIRE(hr.size() == 1);
  // INCLUDE: table keys, index keys, x — not y or g.
  CHECK(hr[0] == MakeItem({{"pk", S("a")},
                           {"sk", Num(1)},
                           {"h1", S("u")},
                           {"h2", Num(1)},
                           {"r", S("k")},
                           {"x", S("inc")}}));
  std::vector<Item> lsi = f.ScanIndex("lsi");
  REQUIRE(lsi.size() == 1);
  CHECK(lsi[0] == MakeItem({{"pk", S("a")}, {"sk", Num(1)}, {"l", Num(5)}}));

  // Move (key changed), update a projected attribute, remove a key attribute.
  UpdateResult r;
  Ok(f.ts->Update(
      "t", MakeItem({{"pk", S("a")}, {"sk", Num(1)}}),
      [](const Item* old) {
        Item next = *old;
        next.Set("g", S("z"));     // by_g: moves
        next.Set("x", S("inc2"));  // by_hr: projection changes
        next.Set("y", S("no2"));   // not projected in by_hr / lsi
        next.Erase("l");           // lsi: removed
        return Decision::Put(std::move(next));
      },
      &r));
  f.VerifyAll();
  CHECK(f.ScanIndex("lsi").empty());
  CHECK(f.ScanIndex("by_hr")[0].Find("x")->s() == "inc2");
  Ok(f.ts->DeleteItem("t", MakeItem({{"pk", S("a")}, {"sk", Num(2)}})));
  CHECK(Pks(f.ScanIndex("by_g")) == std::set<std::string>{"a/1"});
  f.VerifyAll();

  // Statistics per index.
  TableDef d;
  Ok(f.ts->DescribeTable("t", &d));
  CHECK(d.FindIndex("by_g")->approx_item_count == 1);
  CHECK(d.FindIndex("by_hr")->approx_item_count == 1);
  CHECK(d.FindIndex("lsi")->approx_item_count == 0);
  CHECK(d.FindIndex("by_g")->approx_size_bytes > 0);
}

TEST_CASE("indexes: the verifier finds missing, extra and stale entries") {
  Fixture f;
  Ok(f.ts->CreateTable(IndexedDef()));
  for (int i = 0; i < 6; i++) {
    Ok(f.ts->PutItem("t", Row("a", i, {{"g", S("x" + std::to_string(i))}})));
  }
  f.VerifyAll();
  TableRef t = f.Handle();
  const TableDef& def = t->def();
  const IndexDef& ix = f.Index(t, "by_g");
  auto entry = [&](const Item& item) {
    IndexEntry e;
    bool present = false;
    Ok(MakeIndexEntry(def, ix, item, &e, &present));
    REQUIRE(present);
    return e;
  };
  auto tree = [&](const IndexEntry& e) {
    return t->partition_set().index(ix.id)->map->Route(e.hash).tree;
  };
  lsm::DB* db = f.ts->db();
  // Missing: item 0's entry deleted behind the write path's back.
  const IndexEntry e0 = entry(Row("a", 0, {{"g", S("x0")}}));
  Ok(db->Delete(lsm::WriteOptions(), tree(e0), e0.key));
  // Stale: item 1's entry with an old projection.
  const IndexEntry e1 = entry(Row("a", 1, {{"g", S("x1")}}));
  std::string stale;
  EncodeItem(Row("a", 1, {{"g", S("x1")}, {"old", S("v")}}), &stale);
  Ok(db->Put(lsm::WriteOptions(), tree(e1), e1.key, stale));
  // Extra: an entry for an item that does not exist, and one left under an
  // old index key of item 2.
  const IndexEntry ghost = entry(Row("zz", 9, {{"g", S("x9")}}));
  std::string value;
  EncodeItem(ghost.projected, &value);
  Ok(db->Put(lsm::WriteOptions(), tree(ghost), ghost.key, value));
  const IndexEntry moved = entry(Row("a", 2, {{"g", S("old-g")}}));
  value.clear();  // EncodeItem appends
  EncodeItem(moved.projected, &value);
  Ok(db->Put(lsm::WriteOptions(), tree(moved), moved.key, value));

  std::vector<IndexVerifyReport> reports;
  Ok(f.ts->VerifyIndexes("t", &reports));
  REQUIRE(reports.size() == 3);
  for (const IndexVerifyReport& r : reports) {
    INFO(r.index);
    if (r.index != "by_g") {
      CHECK(r.ok());
      continue;
    }
    CHECK(r.expected == 6);
    CHECK(r.actual == 7);  // 6 - 1 missing + 2 extra
    CHECK(r.missing == 1);
    CHECK(r.stale == 1);
    CHECK(r.extra == 2);
    CHECK(!r.ok());
    CHECK(r.examples.size() == 4);
  }
}

TEST_CASE("indexes: a write whose index key cannot be indexed is refused, nothing written") {
  Fixture f;
  Ok(f.ts->CreateTable(IndexedDef()));
  Status s = f.ts->PutItem("t", Row("a", 1, {{"g", Num(1)}}));
  CHECK(s.Is(Status::SubCode::kIndexKeyInvalid));
  CHECK(s.message() ==
        "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S "
        "Actual: N IndexName: by_g");
  s = f.ts->PutItem("t", Row("a", 1, {{"h1", S("u")}, {"h2", Num(1)}, {"r", S("")}}));
  CHECK(s.Is(Status::SubCode::kIndexKeyInvalid));
  CHECK(s.message() ==
        "One or more parameter values are not valid. A value specified for a secondary index "
        "key is not supported. The AttributeValue for a key attribute cannot contain an empty "
        "string value. IndexName: by_hr, IndexKey: r");
  s = f.ts->PutItem("t", Row("a", 1, {{"g", S(std::string(2049, 'g'))}}));
  CHECK(s.Is(Status::SubCode::kIndexKeyInvalid));
  // An item lacking a key attribute is fine (sparse), also one missing only
  // some of a multi-attribute key; but each key attribute it has must be a
  // valid key value even then.
  s = f.ts->PutItem("t", Row("a", 1, {{"h1", S("u")}, {"h2", S("not a number")}}));
  CHECK(s.message() ==
        "One or more parameter values were invalid: Type mismatch for Index Key h2 Expected: N "
        "Actual: S IndexName: by_hr");
  Ok(f.ts->PutItem("t", Row("a", 1, {{"h1", S("u")}, {"h2", Num(3)}})));
  std::optional<Item> got;
  Ok(f.ts->GetItem("t", MakeItem({{"pk", S("a")}, {"sk", Num(1)}}), nullptr, &got));
  CHECK(got.has_value());
  f.VerifyAll();
  CHECK(ValidateIndexKeys(f.Handle()->def(), Row("a", 1, {{"g", Num(2)}})).IsInvalidArgument());
  // The update wording of an empty value.
  s = ValidateIndexKeys(f.Handle()->def(), Row("a", 1, {{"g", S("")}}), IndexKeyCheck::kUpdate);
  CHECK(s.message().find("The update expression attempted to update a secondary index key") !=
        std::string_view::npos);
}

TEST_CASE("indexes: Query by multi-attribute keys, sort key prefixes, order and paging") {
  Fixture f;
  Ok(f.ts->CreateTable(IndexedDef()));
  // by_hr partition (h1 = u, h2 = 1): r values with several items each.
  int sk = 0;
  for (const char* r : {"b", "a", "c", "a", "b", "a"}) {
    Ok(f.ts->PutItem(
        "t", Row("p" + std::to_string(sk % 3), sk, {{"h1", S("u")}, {"h2", Num(1)}, {"r", S(r)}})));
    sk++;
  }
  Ok(f.ts->PutItem("t", Row("q", 99, {{"h1", S("u")}, {"h2", Num(2)}, {"r", S("a")}})));
  TableRef t = f.Handle();
  const IndexDef& ix = f.Index(t, "by_hr");
  auto query = [&](std::vector<Value> sk_eq, SortKeyCondition last, bool forward, size_t limit) {
    IndexQuery q;
    q.partition_key = {S("u"), Num(1)};
    q.sort_key_equal = std::move(sk_eq);
    q.last = std::move(last);
    std::vector<std::string> order;
    std::optional<std::string> start;
    for (int pages = 0; pages < 100; pages++) {
      QueryPage page;
      Ok(f.ts->QueryIndex(*t, ix, q, forward, start ? &*start : nullptr, 0, limit, nullptr, &page));
      for (const Item& i : page.items) {
        order.push_back(i.Find("r")->s() + ":" + i.Find("pk")->s() + "/" +
                        i.Find("sk")->n().ToString());
      }
      if (!page.last_evaluated_key) break;
      std::string key;
      uint64_t hash;
      Ok(EncodeIndexEntryKey(t->def(), ix, *page.last_evaluated_key, &key, &hash));
      start = key;
    }
    return order;
  };
  // Equal index keys come in table key order (documented), both directions,
  // whatever the page size.
  const std::vector<std::string> all = {"a:p0/3", "a:p1/1", "a:p2/5", "b:p0/0", "b:p1/4", "c:p2/2"};
  for (size_t limit : {1, 2, 4, 100}) {
    CHECK(query({}, {}, true, limit) == all);
    CHECK(query({}, {}, false, limit) == std::vector<std::string>(all.rbegin(), all.rend()));
  }
  CHECK(query({S("a")}, {}, true, 2) == std::vector<std::string>{"a:p0/3", "a:p1/1", "a:p2/5"});
  SortKeyCondition gt{SortKeyOp::kGt, S("a"), std::nullopt};
  CHECK(query({}, gt, true, 1) == std::vector<std::string>{"b:p0/0", "b:p1/4", "c:p2/2"});
  SortKeyCondition bw{SortKeyOp::kBeginsWith, S("b"), std::nullopt};
  CHECK(query({}, bw, false, 1) == std::vector<std::string>{"b:p1/4", "b:p0/0"});
  // More sort key values than the index has: refused.
  IndexQuery bad;
  bad.partition_key = {S("u"), Num(1)};
  bad.sort_key_equal = {S("a"), S("b")};
  QueryPage page;
  CHECK(f.ts->QueryIndex(*t, ix, bad, true, nullptr, 0, 0, nullptr, &page).IsInvalidArgument());
}

TEST_CASE("indexes: online backfill with concurrent writes is exact; violations are skipped") {
  Fixture f;
  TableDef d = test::Def("t", ValueType::kS, ValueType::kN);
  Ok(f.ts->CreateTable(d));
  for (int i = 0; i < 600; i++) {
    std::vector<std::pair<std::string, Value>> attrs;
    if (i % 3 == 0) attrs.emplace_back("g", S("g" + std::to_string(i % 7)));
    if (i % 3 == 1) attrs.emplace_back("g", Num(i));  // a violation of the coming index
    Ok(f.ts->PutItem("t", Row("p" + std::to_string(i % 50), i, attrs)));
  }
  TableDef altered;
  Ok(f.ts->AlterTable(
      "t",
      [](TableDef* def) {
        def->indexes.push_back(Gsi("by_g", {{"g", ValueType::kS}}, {}));
        return Status::OK();
      },
      &altered));
  REQUIRE(altered.FindIndex("by_g") != nullptr);
  CHECK(altered.FindIndex("by_g")->status == IndexStatus::kCreating);
  CHECK(altered.FindIndex("by_g")->backfilling);

  // Writes race the backfill: new items, moves out of and into the index,
  // deletes. The verifier must find the index exact afterwards.
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  std::thread writer([&] {
    for (int i = 0; !stop && i < 3000; i++) {
      const int k = (i * 37) % 700;
      Status s;
      if (i % 5 == 0) {
        s = f.ts->DeleteItem("t",
                             MakeItem({{"pk", S("p" + std::to_string(k % 50))}, {"sk", Num(k)}}));
      } else {
        std::vector<std::pair<std::string, Value>> attrs;
        if (i % 2 == 0) attrs.emplace_back("g", S("w" + std::to_string(i % 11)));
        s = f.ts->PutItem("t", Row("p" + std::to_string(k % 50), k, attrs));
      }
      if (!s.ok()) FAIL_CHECK(s.ToString());
      writes++;
    }
  });
  Ok(f.ts->BuildIndexes());
  stop = true;
  writer.join();
  CHECK(writes > 0);
  TableRef t = f.Handle();
  CHECK(f.Index(t, "by_g").status == IndexStatus::kActive);
  CHECK(!f.Index(t, "by_g").backfilling);
  CHECK(f.ts->index_build_stats().indexes_built == 1);
  CHECK(f.ts->index_build_stats().violations > 0);
  f.VerifyAll();
  // Since the index exists, a wrong type is refused.
  CHECK(f.ts->PutItem("t", Row("p1", 1, {{"g", Num(1)}})).Is(Status::SubCode::kIndexKeyInvalid));
}

TEST_CASE("indexes: a backfill resumes after a reopen from its persisted position") {
  test::TempDir dir;
  TableStoreOptions o = Fixture::Options(dir.path());
  o.index_build_interval_ms = 10;
  o.index_backfill_items_per_second = 400;  // slow: the reopen interrupts it
  {
    auto ts = test::OpenStore(o);
    Ok(ts->CreateTable(test::Def("t", ValueType::kS, ValueType::kN)));
    for (int i = 0; i < 2000; i++) {
      Ok(ts->PutItem(
          "t", Row("p" + std::to_string(i % 97), i, {{"g", S("g" + std::to_string(i % 5))}})));
    }
    Ok(ts->AlterTable("t", [](TableDef* def) {
      def->indexes.push_back(Gsi("by_g", {{"g", ValueType::kS}}, {}));
      return Status::OK();
    }));
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  }  // Close stops the builder mid-way
  o.index_build_interval_ms = 0;
  o.index_backfill_items_per_second = 0;
  auto ts = test::OpenStore(o);
  TableDef d;
  Ok(ts->DescribeTable("t", &d));
  REQUIRE(d.FindIndex("by_g") != nullptr);
  CHECK(d.FindIndex("by_g")->backfilling);
  CHECK(!d.FindIndex("by_g")->backfill_position.empty());  // it had made progress
  Ok(ts->BuildIndexes());
  std::vector<IndexVerifyReport> reports;
  Ok(ts->VerifyIndexes("t", &reports));
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].ok());
  CHECK(reports[0].expected == 2000);
  Ok(ts->DescribeTable("t", &d));
  CHECK(d.FindIndex("by_g")->status == IndexStatus::kActive);
}

TEST_CASE("indexes: index partitions split; dropped indexes and tables free their trees") {
  Fixture f;
  Ok(f.ts->CreateTable(IndexedDef()));
  for (int i = 0; i < 300; i++) {
    Ok(f.ts->PutItem("t", Row("p" + std::to_string(i % 20), i,
                              {{"g", S("g" + std::to_string(i))}, {"l", Num(i % 7)}})));
  }
  TableRef before = f.Handle();
  const IndexDef by_g = f.Index(before, "by_g");
  for (const PartitionDef& p : before->partition_set().Map(by_g.id)->parts()) {
    Ok(f.ts->SplitPartition("t", p.id, by_g.id));
  }
  CHECK(f.Handle()->partition_set().Map(by_g.id)->parts().size() == 4);
  CHECK(f.ScanIndex("by_g", 7).size() == 300);
  f.VerifyAll();
  // The old handle still reads (re-routing to the children).
  ScanPage page;
  Ok(f.ts->ScanIndex(*before, by_g, 0, 0, nullptr, 0, 0, nullptr, &page));
  CHECK(page.count == 300);

  const std::string prefix = "t" + std::to_string(before->id()) + ".i" + std::to_string(by_g.id);
  auto index_trees = [&] {
    int n = 0;
    for (const auto& name : test::TreeNames(f.ts.get())) n += name.starts_with(prefix + ".");
    return n;
  };
  CHECK(index_trees() == 4);
  Ok(f.ts->AlterTable("t", [](TableDef* def) {
    std::erase_if(def->indexes, [](const IndexDef& ix) { return ix.name == "by_g"; });
    return Status::OK();
  }));
  CHECK(index_trees() == 0);
  CHECK(f.ts->ScanIndex(*before, by_g, 0, 0, nullptr, 0, 0, nullptr, &page)
            .Is(Status::SubCode::kIndexNotFound));
  f.VerifyAll();  // the other indexes are untouched
  Ok(f.ts->DeleteTable("t"));
  for (const auto& name : test::TreeNames(f.ts.get())) {
    CHECK_MESSAGE(!name.starts_with("t" + std::to_string(before->id()) + "."), name);
  }
}

TEST_CASE("indexes: entries, statistics and definitions survive a reopen") {
  test::TempDir dir;
  TableStoreOptions o = Fixture::Options(dir.path());
  {
    auto ts = test::OpenStore(o);
    Ok(ts->CreateTable(IndexedDef()));
    for (int i = 0; i < 50; i++) {
      Ok(ts->PutItem("t", Row("p", i, {{"g", S("g")}, {"l", Num(i)}})));
    }
  }
  auto ts = test::OpenStore(o);
  TableDef d;
  Ok(ts->DescribeTable("t", &d));
  CHECK(d.FindIndex("by_g")->approx_item_count == 50);
  CHECK(d.FindIndex("lsi")->approx_item_count == 50);
  std::vector<IndexVerifyReport> reports;
  Ok(ts->VerifyIndexes("t", &reports));
  REQUIRE(reports.size() == 3);
  for (const auto& r : reports) CHECK(r.ok());
  CHECK(reports[0].actual == 50);
}

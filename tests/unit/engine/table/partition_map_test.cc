// The partition map (engine/table/partition_map.h): tree names, coverage,
// routing and split decisions as pure functions; then partition splits
// through TableStore: SplitPartition, reopen, automatic splits, splits under
// concurrent reads and writes.
#include "engine/table/partition_map.h"

#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <mutex>
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

TableStoreOptions SplitOpts(const std::string& dir, uint32_t partitions = 1) {
  return test::StoreOptions(dir, partitions);
}
std::unique_ptr<TableStore> Open(const TableStoreOptions& o) { return test::OpenStore(o); }
TableDef HashDef(const std::string& name) { return test::Def(name); }

// Incompressible padding (SSTable blocks may be compressed).
std::string Pad(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>('!' + x % 90);
  }
  return s;
}

Item MakeItem(const std::string& pk, int64_t v, size_t pad = 0) {
  return AttributeMap::FromUnsorted(
      {{"pk", S(pk)}, {"v", Num(v)}, {"pad", S(Pad(pad + 1, std::hash<std::string>()(pk)))}});
}

std::vector<PartitionDef> Partitions(TableStore* ts, const std::string& table) {
  TableDef d;
  Ok(ts->DescribeTable(table, &d));
  return d.partitions;
}

// The partitions cover [0, 2^64) exactly and their trees exist with those bounds.
void CheckCoverage(const std::vector<PartitionDef>& parts) {
  REQUIRE(!parts.empty());
  CHECK(parts.front().lo == 0);
  CHECK(parts.back().hi == 0);
  for (size_t i = 0; i + 1 < parts.size(); i++) {
    CHECK(parts[i].hi != 0);
    CHECK(parts[i].hi == parts[i + 1].lo);
    CHECK(parts[i].lo < parts[i].hi);
  }
}

// pk -> v of every item, via paged Scans of `segments` segments; each item once.
std::map<std::string, int64_t> ScanAll(TableStore* ts, const std::string& table, int segments,
                                       size_t limit = 37) {
  std::map<std::string, int64_t> out;
  for (int seg = 0; seg < segments; seg++) {
    uint64_t lo = static_cast<uint64_t>((static_cast<unsigned __int128>(seg) << 64) / segments);
    uint64_t hi =
        seg + 1 == segments
            ? 0
            : static_cast<uint64_t>((static_cast<unsigned __int128>(seg + 1) << 64) / segments);
    std::optional<Item> start;
    for (;;) {
      ScanPage page;
      Ok(ts->Scan(table, lo, hi, start, 0, limit, nullptr, &page));
      for (const auto& item : page.items) {
        int64_t v = 0;
        REQUIRE(item.Find("v")->n().ToInt64(&v));
        bool inserted = out.emplace(item.Find("pk")->s(), v).second;
        CHECK_MESSAGE(inserted, item.Find("pk")->s());
      }
      if (!page.last_evaluated_key) break;
      start = page.last_evaluated_key;
    }
  }
  return out;
}

void CheckItems(TableStore* ts, const std::string& table,
                const std::map<std::string, int64_t>& want) {
  for (const auto& [pk, v] : want) {
    std::optional<Item> got;
    Ok(ts->GetItem(table, Key(pk), nullptr, &got));
    // The macro's lambda may not capture a structured binding (clang 14).
    const std::string& key = pk;
    REQUIRE_MESSAGE(got.has_value(), key);
    int64_t gv = 0;
    REQUIRE(got->Find("v")->n().ToInt64(&gv));
    CHECK(gv == v);
  }
  CHECK(ScanAll(ts, table, 1) == want);
  CHECK(ScanAll(ts, table, 16) == want);
}

}  // namespace

TEST_CASE("partition_map: tree names round trip, other names are not partitions") {
  uint64_t table_id = 0;
  uint32_t pid = 0;
  for (auto [t, p] : {std::pair<uint64_t, uint32_t>{1, 0}, {42, 7}, {UINT64_MAX, UINT32_MAX}}) {
    const std::string name = PartitionTreeName(t, p);
    REQUIRE(ParsePartitionTreeName(name, &table_id, &pid));
    CHECK(table_id == t);
    CHECK(pid == p);
  }
  CHECK(PartitionTreeName(3, 12) == "t3.p12");
  for (const char* bad : {"", "t", "t.p1", "t1.p", "t1.px", "x1.p1", "t1p1", "t1.p1.x", "t-1.p1",
                          "t1.p4294967296", "t18446744073709551616.p1", "s3", "__catalog"}) {
    CHECK_MESSAGE(!ParsePartitionTreeName(bad, &table_id, &pid), bad);
  }
}

TEST_CASE("partition_map: coverage of the hash space") {
  const uint64_t half = uint64_t{1} << 63;
  CHECK(CheckCoverage("t", {{0, 1, 0, 0}}).ok());
  CHECK(CheckCoverage("t", {{1, 1, 0, half}, {2, 2, half, 0}}).ok());
  CHECK(CheckCoverage("t", {}).IsCorruption());                                      // missing
  CHECK(CheckCoverage("t", {{0, 1, 5, 0}}).IsCorruption());                          // no hash 0
  CHECK(CheckCoverage("t", {{0, 1, 0, half}}).IsCorruption());                       // no end
  CHECK(CheckCoverage("t", {{1, 1, 0, half}, {2, 2, half + 1, 0}}).IsCorruption());  // gap
  CHECK(CheckCoverage("t", {{1, 1, 0, half}, {2, 2, half - 1, 0}}).IsCorruption());  // overlap
  CHECK(CheckCoverage("t", {{1, 1, 0, 0}, {2, 2, half, 0}}).IsCorruption());         // open middle
  CHECK(CheckCoverage("t", {{1, 1, 0, 5}, {2, 2, 5, 5}, {3, 3, 5, 0}}).IsCorruption());  // empty
  CHECK(CheckCoverage("orders", {}).message().find("orders") != std::string_view::npos);
}

TEST_CASE("partition_map: routing, lookups and split decisions") {
  const uint64_t q = uint64_t{1} << 62;
  const PartitionMap map({{4, 10, 0, q}, {5, 11, q, 2 * q}, {6, 12, 2 * q, 0}});
  CHECK(map.Route(0).id == 4);
  CHECK(map.Route(q - 1).id == 4);
  CHECK(map.Route(q).id == 5);
  CHECK(map.Route(2 * q - 1).id == 5);
  CHECK(map.Route(2 * q).id == 6);
  CHECK(map.Route(UINT64_MAX).id == 6);
  CHECK(map.HoldsTree(11));
  CHECK(!map.HoldsTree(13));
  CHECK(map.IndexOf(6) == 2);
  CHECK(map.IndexOf(7) == 3);

  uint64_t mid = 0;
  REQUIRE(SplitPoint({0, 0, 0, 0}, &mid));
  CHECK(mid == uint64_t{1} << 63);
  REQUIRE(SplitPoint({0, 0, 10, 13}, &mid));
  CHECK(mid == 11);
  REQUIRE(SplitPoint({0, 0, UINT64_MAX - 1, 0}, &mid));  // [2^64 - 2, 2^64)
  CHECK(mid == UINT64_MAX);
  CHECK(!SplitPoint({0, 0, 10, 11}, &mid));         // a single hash
  CHECK(!SplitPoint({0, 0, UINT64_MAX, 0}, &mid));  // the last hash alone

  CHECK(ShouldSplit({0, 0, 0, 0}, 101, 100));
  CHECK(!ShouldSplit({0, 0, 0, 0}, 100, 100));        // not above the threshold
  CHECK(!ShouldSplit({0, 0, 0, 0}, 1 << 30, 0));      // 0 = never
  CHECK(!ShouldSplit({0, 0, 10, 11}, 1 << 30, 100));  // cannot split a single hash
}

TEST_CASE("partition_map: LSM errors of a split are re-routed, others are not") {
  CHECK(IsRerouteError(Status::InvalidArgument(Status::SubCode::kTreeGone, "no tree 3")));
  CHECK(IsRerouteError(Status::InvalidArgument(Status::SubCode::kKeyOutOfRange, "k")));
  CHECK(!IsRerouteError(Status::InvalidArgument("no tree 3")));  // the text is not enough
  CHECK(!IsRerouteError(Status::IOError("disk")));
  CHECK(!IsRerouteError(Status::OK()));
}

TEST_CASE("partition splits: SplitPartition keeps every item readable, Scan returns each once") {
  test::TempDir dir;
  auto ts = Open(SplitOpts(dir.path()));
  Ok(ts->CreateTable(HashDef("t")));
  std::map<std::string, int64_t> want;
  for (int i = 0; i < 1000; i++) {
    Ok(ts->PutItem("t", MakeItem("k" + std::to_string(i), i, 100)));
    want["k" + std::to_string(i)] = i;
  }
  Ok(ts->db()->Flush(lsm::DB::kAllTrees));
  auto parts = Partitions(ts.get(), "t");
  REQUIRE(parts.size() == 1);
  Ok(ts->SplitPartition("t", parts[0].id));
  parts = Partitions(ts.get(), "t");
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].hi == uint64_t{1} << 63);
  CheckCoverage(parts);
  // Split each half again, and a quarter again.
  Ok(ts->SplitPartition("t", parts[1].id));
  Ok(ts->SplitPartition("t", parts[0].id));
  parts = Partitions(ts.get(), "t");
  REQUIRE(parts.size() == 4);
  Ok(ts->SplitPartition("t", parts[3].id));
  parts = Partitions(ts.get(), "t");
  CHECK(parts.size() == 5);
  CheckCoverage(parts);
  CheckItems(ts.get(), "t", want);
  CHECK(ts->SplitPartition("t", 0).IsNotFound());  // p0 was split away
  CHECK(ts->SplitPartition("nope", 1).IsNotFound());
  // Writes after the split land in the children.
  for (int i = 0; i < 1000; i += 3) {
    Ok(ts->PutItem("t", MakeItem("k" + std::to_string(i), -i)));
    want["k" + std::to_string(i)] = -i;
  }
  CheckItems(ts.get(), "t", want);
}

TEST_CASE("partition splits: reopen after splits rebuilds partitions from the trees") {
  test::TempDir dir;
  std::map<std::string, int64_t> want;
  std::vector<PartitionDef> before;
  {
    auto ts = Open(SplitOpts(dir.path()));
    Ok(ts->CreateTable(HashDef("t")));
    Ok(ts->CreateTable(HashDef("other")));
    for (int i = 0; i < 500; i++) {
      Ok(ts->PutItem("t", MakeItem("k" + std::to_string(i), i, 50)));
      want["k" + std::to_string(i)] = i;
    }
    for (int round = 0; round < 6; round++) {
      auto parts = Partitions(ts.get(), "t");
      Ok(ts->SplitPartition("t", parts[static_cast<size_t>(round) % parts.size()].id));
      if (round == 2) Ok(ts->db()->Flush(lsm::DB::kAllTrees));
    }
    before = Partitions(ts.get(), "t");
    CHECK(before.size() == 7);
    // A crash-like close: no Close() statistics matter for partitions.
  }
  for (int reopen = 0; reopen < 2; reopen++) {
    auto ts = Open(SplitOpts(dir.path()));
    auto parts = Partitions(ts.get(), "t");
    REQUIRE(parts.size() == before.size());
    for (size_t i = 0; i < parts.size(); i++) {
      CHECK(parts[i].id == before[i].id);
      CHECK(parts[i].lo == before[i].lo);
      CHECK(parts[i].hi == before[i].hi);
    }
    CheckCoverage(parts);
    CheckItems(ts.get(), "t", want);
    CHECK(Partitions(ts.get(), "other").size() == 1);
  }
}

TEST_CASE("partition splits: initial_partitions 1, 2, 7") {
  for (uint32_t n : {1u, 2u, 7u}) {
    CAPTURE(n);
    test::TempDir dir;
    std::map<std::string, int64_t> want;
    {
      auto ts = Open(SplitOpts(dir.path(), n));
      Ok(ts->CreateTable(HashDef("t")));
      auto parts = Partitions(ts.get(), "t");
      REQUIRE(parts.size() == n);
      CheckCoverage(parts);
      for (uint32_t i = 0; i < n; i++) {
        CHECK(parts[i].lo == static_cast<uint64_t>((static_cast<unsigned __int128>(i) << 64) / n));
      }
      for (int i = 0; i < 400; i++) {
        Ok(ts->PutItem("t", MakeItem("k" + std::to_string(i), i)));
        want["k" + std::to_string(i)] = i;
      }
      for (const auto& p : parts) Ok(ts->SplitPartition("t", p.id));
      parts = Partitions(ts.get(), "t");
      CHECK(parts.size() == 2 * n);
      CheckCoverage(parts);
      CheckItems(ts.get(), "t", want);
      Ok(ts->Close());
    }
    auto ts = Open(SplitOpts(dir.path(), n));
    CHECK(Partitions(ts.get(), "t").size() == 2 * n);
    CheckItems(ts.get(), "t", want);
  }
}

TEST_CASE("partition splits: concurrent writers, readers and splits lose nothing") {
  test::TempDir dir;
  auto ts = Open(SplitOpts(dir.path()));
  Ok(ts->CreateTable(HashDef("t")));
  constexpr int kWriters = 3;
  constexpr int kKeysPerWriter = 150;
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  // Each writer owns its keys; acknowledged value per key.
  std::vector<std::map<std::string, int64_t>> acked(kWriters);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; w++) {
    threads.emplace_back([&, w] {
      for (int round = 0; !stop || round < 3; round++) {
        for (int k = 0; k < kKeysPerWriter; k++) {
          std::string pk = "w" + std::to_string(w) + "-" + std::to_string(k);
          Status s;
          if (k % 2 == 0) {
            // Conditional increment.
            UpdateResult r;
            s = ts->Update(
                "t", Key(pk),
                [&](const Item* old) {
                  int64_t v = 0;
                  if (old != nullptr) old->Find("v")->n().ToInt64(&v);
                  return Decision::Put(MakeItem(pk, v + 1, 20));
                },
                &r);
            if (s.ok()) acked[w][pk]++;
          } else if (k % 3 == 0) {
            WriteOp op;
            s = ts->PrepareWrite("t", WriteOp::Kind::kPut, MakeItem(pk, round, 20), &op);
            if (s.ok()) s = ts->WriteAtomically({op});
            if (s.ok()) acked[w][pk] = round;
          } else {
            s = ts->PutItem("t", MakeItem(pk, round, 20));
            if (s.ok()) acked[w][pk] = round;
          }
          if (!s.ok()) {
            errors++;
            FAIL_CHECK(s.ToString());
          }
        }
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop) {
      ScanPage page;
      Status s = ts->Scan("t", 0, 0, std::nullopt, 0, 0, nullptr, &page);
      std::set<std::string> seen;
      for (const auto& item : page.items) {
        if (!seen.insert(item.Find("pk")->s()).second) {
          errors++;
          FAIL_CHECK("scan returned " << item.Find("pk")->s() << " twice");
        }
      }
      std::optional<Item> got;
      Status g = ts->GetItem("t", Key("w0-0"), nullptr, &got);
      if (!s.ok() || !g.ok()) {
        errors++;
        FAIL_CHECK("scan: " << s.ToString() << "; get: " << g.ToString());
      }
    }
  });
  for (int i = 0; i < 8; i++) {
    auto parts = Partitions(ts.get(), "t");
    // Split the largest range.
    size_t best = 0;
    unsigned __int128 best_span = 0;
    for (size_t j = 0; j < parts.size(); j++) {
      unsigned __int128 hi =
          parts[j].hi == 0 ? (static_cast<unsigned __int128>(1) << 64) : parts[j].hi;
      if (hi - parts[j].lo > best_span) {
        best_span = hi - parts[j].lo;
        best = j;
      }
    }
    Ok(ts->SplitPartition("t", parts[best].id));
    if (i == 3) Ok(ts->db()->Flush(lsm::DB::kAllTrees));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop = true;
  for (auto& t : threads) t.join();
  CHECK(errors == 0);
  auto parts = Partitions(ts.get(), "t");
  CHECK(parts.size() == 9);
  CheckCoverage(parts);
  std::map<std::string, int64_t> want;
  for (const auto& m : acked) want.insert(m.begin(), m.end());
  CHECK(want.size() == kWriters * kKeysPerWriter);
  CheckItems(ts.get(), "t", want);
}

TEST_CASE("partition splits: automatic split with a tiny threshold preserves data") {
  test::TempDir dir;
  auto o = SplitOpts(dir.path());
  o.split_threshold_bytes = 256 << 10;
  o.split_check_interval_ms = 20;
  std::map<std::string, int64_t> want;
  {
    auto ts = Open(o);
    Ok(ts->CreateTable(HashDef("t")));
    for (int i = 0; i < 3000; i++) {
      Ok(ts->PutItem("t", MakeItem("k" + std::to_string(i), i, 300)));
      want["k" + std::to_string(i)] = i;
    }
    Ok(ts->db()->Flush(lsm::DB::kAllTrees));
    for (int i = 0; i < 200 && Partitions(ts.get(), "t").size() < 3; i++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    auto parts = Partitions(ts.get(), "t");
    CHECK(parts.size() >= 3);  // ~1 MB of data, 256 KiB threshold
    CheckCoverage(parts);
    CheckItems(ts.get(), "t", want);
    Ok(ts->Close());
  }
  o.split_threshold_bytes = 0;
  auto ts = Open(o);
  CHECK(Partitions(ts.get(), "t").size() >= 3);
  CheckItems(ts.get(), "t", want);
}

// TTL: the expiry rule and TableStore's sweeper (fake clock, pages, rate
// limit, the re-check under the latch, the background thread, persistence).
#include "engine/table/ttl_sweeper.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "engine/table/table_store.h"
#include "tests/testutil/table_test_util.h"
#include "tests/testutil/temp_dir.h"

using namespace basalt;
using namespace basalt::table;

namespace {

constexpr uint64_t kNow = 1'700'000'000;

using test::Key;
using test::MakeItem;
using test::N;
using test::S;
Value NInt(int64_t v) { return N(std::to_string(v)); }
void Check(const Status& s) { test::Ok(s); }

// A store with a controllable clock and no background sweeps unless asked.
struct Fixture {
  test::TempDir dir;
  std::atomic<uint64_t> now{kNow};
  std::function<void()> on_clock;  // runs on each clock read, when set
  std::unique_ptr<TableStore> store;

  explicit Fixture(uint32_t interval_ms = 0, uint32_t rate = 0, size_t page_bytes = 1 << 20,
                   uint32_t partitions = 1) {
    Open(interval_ms, rate, page_bytes, partitions);
  }
  void Open(uint32_t interval_ms = 0, uint32_t rate = 0, size_t page_bytes = 1 << 20,
            uint32_t partitions = 1) {
    TableStoreOptions o = test::StoreOptions(dir.path(), partitions);
    o.lsm.write_buffer_size = 64 << 20;
    o.ttl_sweep_interval_ms = interval_ms;
    o.ttl_max_deletes_per_second = rate;
    o.ttl_scan_page_bytes = page_bytes;
    o.now_seconds = [this] {
      if (on_clock) on_clock();
      return now.load();
    };
    Check(TableStore::Open(o, &store));
  }
  void CreateTable(const std::string& name, bool ttl = true) {
    Check(store->CreateTable(test::Def(name)));
    if (ttl) EnableTtl(name, "exp");
  }
  void EnableTtl(const std::string& name, const std::string& attr) {
    Check(store->AlterTable(name, [&](TableDef* d) {
      d->ttl.enabled = true;
      d->ttl.attribute_name = attr;
      return Status::OK();
    }));
  }
  void Put(const std::string& table, const std::string& pk, std::optional<Value> exp) {
    std::vector<std::pair<std::string, Value>> e{{"pk", S(pk)}};
    if (exp) e.emplace_back("exp", *exp);
    Check(store->PutItem(table, MakeItem(std::move(e))));
  }
  bool Has(const std::string& table, const std::string& pk) {
    std::optional<Item> out;
    Check(store->GetItem(table, Key(pk), nullptr, &out));
    return out.has_value();
  }
  TtlStats Sweep() {
    TtlStats st;
    Check(store->SweepExpiredItems(&st));
    return st;
  }
};

}  // namespace

TEST_CASE("ttl: IsTtlExpired applies DynamoDB's rule") {
  auto with = [](Value v) { return MakeItem({{"pk", S("a")}, {"exp", std::move(v)}}); };
  const int64_t now = static_cast<int64_t>(kNow);
  const int64_t max_age = static_cast<int64_t>(kTtlMaxAgeSeconds);
  CHECK(IsTtlExpired(with(NInt(now - 1)), "exp", kNow));
  CHECK(IsTtlExpired(with(NInt(now)), "exp", kNow));  // "<= now"
  CHECK_FALSE(IsTtlExpired(with(NInt(now + 1)), "exp", kNow));
  CHECK(IsTtlExpired(with(N("1699999999.5")), "exp", kNow));
  CHECK_FALSE(IsTtlExpired(with(N("1700000000.5")), "exp", kNow));
  // Five years back is the oldest value honoured; older ones are ignored.
  CHECK(IsTtlExpired(with(NInt(now - max_age)), "exp", kNow));
  CHECK_FALSE(IsTtlExpired(with(NInt(now - max_age - 1)), "exp", kNow));
  CHECK_FALSE(IsTtlExpired(with(NInt(0)), "exp", kNow));
  CHECK_FALSE(IsTtlExpired(with(NInt(-5)), "exp", kNow));
  // Milliseconds by mistake: far in the future, never expires.
  CHECK_FALSE(IsTtlExpired(with(NInt(now * 1000)), "exp", kNow));
  CHECK_FALSE(IsTtlExpired(with(N("1e100")), "exp", kNow));
  // Not a number, or missing.
  CHECK_FALSE(IsTtlExpired(with(S("1600000000")), "exp", kNow));
  CHECK_FALSE(IsTtlExpired(with(Value::MakeNS({Decimal::FromInt64(now - 10)})), "exp", kNow));
  CHECK_FALSE(IsTtlExpired(with(NInt(now - 10)), "other", kNow));
}

TEST_CASE("ttl: a sweep deletes expired items only, with the fake clock") {
  Fixture f;
  f.CreateTable("t");
  const int64_t now = static_cast<int64_t>(kNow);
  f.Put("t", "past", NInt(now - 100));
  f.Put("t", "exactly-now", NInt(now));
  f.Put("t", "future", NInt(now + 100));
  f.Put("t", "string", S(std::to_string(now - 100)));
  f.Put("t", "missing", std::nullopt);
  f.Put("t", "ancient", NInt(now - static_cast<int64_t>(kTtlMaxAgeSeconds) - 10));

  // Reads still see expired items until a sweep deletes them.
  CHECK(f.Has("t", "past"));

  TtlStats st = f.Sweep();
  CHECK(st.sweeps == 1);
  CHECK(st.items_scanned == 6);
  CHECK(st.items_deleted == 2);
  CHECK_FALSE(f.Has("t", "past"));
  CHECK_FALSE(f.Has("t", "exactly-now"));
  CHECK(f.Has("t", "future"));
  CHECK(f.Has("t", "string"));
  CHECK(f.Has("t", "missing"));
  CHECK(f.Has("t", "ancient"));
  TableDef d;
  Check(f.store->DescribeTable("t", &d));
  CHECK(d.approx_item_count == 4);

  // Time passes: the future item expires too.
  f.now = kNow + 100;
  st = f.Sweep();
  CHECK(st.items_deleted == 1);
  CHECK_FALSE(f.Has("t", "future"));
  CHECK(f.Has("t", "string"));
  CHECK(f.store->ttl_stats().items_deleted == 3);
  CHECK(f.store->ttl_stats().sweeps == 2);
}

TEST_CASE("ttl: tables without TTL, or with TTL on another attribute, are left alone") {
  Fixture f;
  f.CreateTable("off", /*ttl=*/false);
  f.CreateTable("other", /*ttl=*/false);
  f.EnableTtl("other", "expires");
  f.Put("off", "a", NInt(static_cast<int64_t>(kNow) - 10));
  f.Put("other", "a", NInt(static_cast<int64_t>(kNow) - 10));  // "exp", not "expires"
  TtlStats st = f.Sweep();
  CHECK(st.items_deleted == 0);
  CHECK(st.items_scanned == 1);  // only the TTL-enabled table is read
  CHECK(f.Has("off", "a"));
  CHECK(f.Has("other", "a"));
}

TEST_CASE("ttl: an item given a later expiry after the scan survives") {
  Fixture f;
  f.CreateTable("t");
  f.Put("t", "a", NInt(static_cast<int64_t>(kNow) - 10));
  // The first clock read of the sweep is its check of the scanned (stale)
  // item, outside the item latch: rewrite the item there, as a concurrent
  // client would, before the sweeper's Update re-checks it under the latch.
  bool armed = true;
  f.on_clock = [&] {
    if (!armed) return;
    armed = false;
    Check(f.store->PutItem(
        "t", MakeItem({{"pk", S("a")}, {"exp", NInt(static_cast<int64_t>(kNow) + 3600)}})));
  };
  TtlStats st = f.Sweep();
  f.on_clock = nullptr;
  CHECK_FALSE(armed);
  CHECK(st.items_deleted == 0);
  REQUIRE(f.Has("t", "a"));
  std::optional<Item> item;
  Check(f.store->GetItem("t", Key("a"), nullptr, &item));
  CHECK(item->Find("exp")->n() == Decimal::FromInt64(static_cast<int64_t>(kNow) + 3600));

  // Same race, but the attribute is removed: also survives.
  f.Put("t", "b", NInt(static_cast<int64_t>(kNow) - 10));
  Check(f.store->DeleteItem("t", Key("a")));
  armed = true;
  f.on_clock = [&] {
    if (!armed) return;
    armed = false;
    f.Put("t", "b", std::nullopt);
  };
  st = f.Sweep();
  f.on_clock = nullptr;
  CHECK(st.items_deleted == 0);
  CHECK(f.Has("t", "b"));
}

TEST_CASE("ttl: sweeps page through many partitions with a small byte budget") {
  Fixture f(/*interval_ms=*/0, /*rate=*/0, /*page_bytes=*/64, /*partitions=*/4);
  f.CreateTable("t");
  const int64_t now = static_cast<int64_t>(kNow);
  for (int i = 0; i < 200; i++) {
    f.Put("t", "k" + std::to_string(i), NInt(i % 2 == 0 ? now - i : now + 1 + i));
  }
  TtlStats st = f.Sweep();
  CHECK(st.items_scanned == 200);
  CHECK(st.items_deleted == 100);
  for (int i = 0; i < 200; i++) CHECK(f.Has("t", "k" + std::to_string(i)) == (i % 2 == 1));
}

TEST_CASE("ttl: deletions respect ttl_max_deletes_per_second") {
  Fixture f(/*interval_ms=*/0, /*rate=*/40);
  f.CreateTable("t");
  for (int i = 0; i < 9; i++) f.Put("t", "k" + std::to_string(i), NInt(1'699'000'000));
  auto start = std::chrono::steady_clock::now();
  TtlStats st = f.Sweep();
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(st.items_deleted == 9);
  // The first deletion is immediate, the next 8 are 25 ms apart.
  CHECK(elapsed >= std::chrono::milliseconds(195));
}

TEST_CASE("ttl: the background thread sweeps, and Close stops it") {
  Fixture f(/*interval_ms=*/10);
  f.CreateTable("t");
  f.Put("t", "a", NInt(static_cast<int64_t>(kNow) - 1));
  f.Put("t", "b", NInt(static_cast<int64_t>(kNow) + 1000));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (f.Has("t", "a") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK_FALSE(f.Has("t", "a"));
  CHECK(f.Has("t", "b"));
  CHECK(f.store->ttl_stats().items_deleted == 1);
  CHECK(f.store->ttl_stats().sweeps >= 1);
  Check(f.store->Close());
}

TEST_CASE("ttl: Close interrupts a rate-limited sweep promptly") {
  Fixture f(/*interval_ms=*/1, /*rate=*/1);
  f.CreateTable("t");
  for (int i = 0; i < 50; i++) f.Put("t", "k" + std::to_string(i), NInt(1'699'000'000));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (f.store->ttl_stats().items_deleted == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto start = std::chrono::steady_clock::now();
  Check(f.store->Close());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("ttl: settings survive reopen, a deleted table is skipped") {
  Fixture f;
  f.CreateTable("t");
  f.CreateTable("gone");
  Check(f.store->Close());
  f.store.reset();
  f.Open();
  TableDef d;
  Check(f.store->DescribeTable("t", &d));
  CHECK(d.ttl.enabled);
  CHECK(d.ttl.attribute_name == "exp");
  // AlterTable disables it again (and keeps other fields).
  Check(f.store->AlterTable("t", [](TableDef* def) {
    def->ttl = TimeToLive();
    return Status::OK();
  }));
  Check(f.store->DescribeTable("t", &d));
  CHECK_FALSE(d.ttl.enabled);
  Check(f.store->DeleteTable("gone"));
  f.Put("t", "a", NInt(static_cast<int64_t>(kNow) - 1));
  TtlStats st = f.Sweep();
  CHECK(st.items_deleted == 0);
  CHECK(f.Has("t", "a"));
}

// The TTL sweeper of TableStore (contract in table_store.h, "Time to Live")
// and the expiry rule (ttl.h). Built only on TableStore's public calls
// (ListTables, DescribeTable, Scan, Update), so the data path knows nothing
// of TTL: a sweep is an ordinary reader plus ordinary conditional deletes.
#include "engine/table/ttl.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <utility>
#include <vector>

#include "engine/table/table_store.h"

namespace basalt::table {

bool IsTtlExpired(const Item& item, std::string_view attribute, uint64_t now_seconds) {
  const Value* v = item.Find(attribute);
  if (v == nullptr || v->type() != ValueType::kN) return false;
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  const int64_t now = static_cast<int64_t>(std::min(now_seconds, kMax));
  const int64_t oldest = now - static_cast<int64_t>(kTtlMaxAgeSeconds);
  const Decimal& t = v->n();
  return t.Compare(Decimal::FromInt64(now)) <= 0 && t.Compare(Decimal::FromInt64(oldest)) >= 0;
}

namespace {

Item KeyOf(const TableDef& def, const Item& item) {
  std::vector<std::pair<std::string, Value>> entries;
  if (const Value* v = item.Find(def.partition_key.name)) {
    entries.emplace_back(def.partition_key.name, *v);
  }
  if (def.sort_key) {
    if (const Value* v = item.Find(def.sort_key->name))
      entries.emplace_back(def.sort_key->name, *v);
  }
  return AttributeMap::FromUnsorted(std::move(entries));
}

}  // namespace

uint64_t TableStore::NowSeconds() const {
  if (options_.now_seconds) return options_.now_seconds();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

TtlStats TableStore::ttl_stats() const {
  TtlStats s;
  s.sweeps = ttl_sweeps_.load();
  s.items_scanned = ttl_scanned_.load();
  s.items_deleted = ttl_deleted_.load();
  return s;
}

void TableStore::TtlLoop() {
  std::unique_lock<std::mutex> lk(ttl_mu_);
  while (!ttl_stop_) {
    ttl_cv_.wait_for(lk, std::chrono::milliseconds(options_.ttl_sweep_interval_ms),
                     [&] { return ttl_stop_.load(); });
    if (ttl_stop_) break;
    lk.unlock();
    // Errors are retried by the next sweep; there is no one to report them to.
    SweepExpiredItems().PermitUnchecked();
    lk.lock();
  }
}

bool TableStore::PaceTtlDelete() {
  if (options_.ttl_max_deletes_per_second == 0) return !ttl_stop_;
  // Evenly spaced deletions; idle time earns no burst (the schedule restarts
  // at "now"), so foreground writes never see more than the configured rate.
  const auto now = std::chrono::steady_clock::now();
  if (ttl_next_delete_ < now) {
    ttl_next_delete_ = now;
  } else {
    std::unique_lock<std::mutex> lk(ttl_mu_);
    if (ttl_cv_.wait_until(lk, ttl_next_delete_, [&] { return ttl_stop_.load(); })) return false;
  }
  ttl_next_delete_ += std::chrono::nanoseconds(1'000'000'000 / options_.ttl_max_deletes_per_second);
  return !ttl_stop_;
}

Status TableStore::SweepTable(const std::string& name, TtlStats* stats) {
  std::optional<Item> start;
  do {
    if (ttl_stop_) return Status::Aborted("table store closing");
    // Re-read the settings for every page: TTL may be disabled or pointed at
    // another attribute (after a disable) while we sweep.
    TableDef def;
    Status s = DescribeTable(name, &def);
    if (!s.ok()) return s;
    if (!def.ttl.enabled || def.ttl.attribute_name.empty()) return Status::OK();
    const std::string& attr = def.ttl.attribute_name;
    ScanPage page;
    s = Scan(name, 0, 0, start, options_.ttl_scan_page_bytes, 0, nullptr, &page);
    if (!s.ok()) return s;
    stats->items_scanned += page.count;
    ttl_scanned_.fetch_add(page.count, std::memory_order_relaxed);
    for (const Item& item : page.items) {
      if (!IsTtlExpired(item, attr, NowSeconds())) continue;
      if (!PaceTtlDelete()) return Status::Aborted("table store closing");
      UpdateResult r;
      // The page may be stale: decide again on the latest item, under its latch.
      s = Update(
          name, KeyOf(def, item),
          [&](const Item* old) {
            return old != nullptr && IsTtlExpired(*old, attr, NowSeconds())
                       ? Decision::ExpireByTtl()
                       : Decision::NoChange();
          },
          &r);
      if (!s.ok()) return s;
      if (r.outcome == Decision::Kind::kDelete) {
        stats->items_deleted++;
        ttl_deleted_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    start = std::move(page.last_evaluated_key);
  } while (start);
  return Status::OK();
}

Status TableStore::SweepExpiredItems(TtlStats* stats) {
  std::lock_guard<std::mutex> g(ttl_sweep_mu_);
  TtlStats local;
  Status first;
  for (const std::string& name : ListTables()) {
    Status s = SweepTable(name, &local);
    if (ttl_stop_) return Status::Aborted("table store closing");
    if (s.ok()) continue;
    // A table deleted mid-sweep fails with NotFound or an LSM error on its
    // dropped trees: not a sweep failure.
    TableDef unused;
    if (DescribeTable(name, &unused).IsNotFound()) continue;
    if (first.ok()) first = s;
  }
  local.sweeps = 1;
  ttl_sweeps_.fetch_add(1, std::memory_order_relaxed);
  if (stats != nullptr) *stats = local;
  return first;
}

}  // namespace basalt::table

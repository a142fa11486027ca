#include "engine/table/ttl_sweeper.h"

#include <algorithm>
#include <limits>
#include <optional>
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

Status Closing() { return Status::Aborted(Status::SubCode::kStoreClosed, "table store closing"); }

}  // namespace

uint64_t TtlSweeper::NowSeconds() const {
  if (options_.now_seconds) return options_.now_seconds();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

void TtlSweeper::Start() {
  if (options_.interval_ms == 0) return;
  // Errors are retried by the next sweep; there is no one to report them to.
  loop_.Start(options_.interval_ms, [this] { Sweep().PermitUnchecked(); });
}

TtlStats TtlSweeper::stats() const {
  TtlStats s;
  s.sweeps = sweeps_.load();
  s.items_scanned = scanned_.load();
  s.items_deleted = deleted_.load();
  return s;
}

Status TtlSweeper::SweepTable(const std::string& name, TtlStats* stats) {
  std::optional<Item> start;
  do {
    if (loop_.stopping()) return Closing();
    // Resolve for every page: TTL may be disabled or pointed at another
    // attribute (after a disable) while we sweep.
    TableRef t;
    Status s = store_->Resolve(name, &t);
    if (!s.ok()) return s;
    const TimeToLive& ttl = t->def().ttl;
    if (!ttl.enabled || ttl.attribute_name.empty()) return Status::OK();
    const std::string& attr = ttl.attribute_name;
    ScanPage page;
    ItemKey start_key;
    if (start) {
      s = t->LocateKey(*start, &start_key);
      if (!s.ok()) return s;
    }
    s = store_->Scan(*t, 0, 0, start ? &start_key : nullptr, options_.scan_page_bytes, 0, nullptr,
                     &page);
    if (!s.ok()) return s;
    stats->items_scanned += page.count;
    scanned_.fetch_add(page.count, std::memory_order_relaxed);
    for (const Item& item : page.items) {
      if (!IsTtlExpired(item, attr, NowSeconds())) continue;
      if (!loop_.Pace(options_.max_deletes_per_second)) return Closing();
      ItemKey key;
      s = t->LocateItem(item, &key);
      if (!s.ok()) return s;
      UpdateResult r;
      // The page may be stale: decide again on the latest item, under its latch.
      s = store_->Update(
          *t, key,
          [&](const Item* old) {
            return old != nullptr && IsTtlExpired(*old, attr, NowSeconds())
                       ? Decision::ExpireByTtl()
                       : Decision::NoChange();
          },
          &r);
      if (!s.ok()) return s;
      if (r.outcome == Decision::Kind::kDelete) {
        stats->items_deleted++;
        deleted_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    start = std::move(page.last_evaluated_key);
  } while (start);
  return Status::OK();
}

Status TtlSweeper::Sweep(TtlStats* stats) {
  std::lock_guard<std::mutex> g(sweep_mu_);
  TtlStats local;
  Status first;
  for (const std::string& name : store_->ListTables()) {
    Status s = SweepTable(name, &local);
    if (loop_.stopping()) return Closing();
    if (s.ok()) continue;
    // A table deleted mid-sweep fails with NotFound or an LSM error on its
    // dropped trees: not a sweep failure.
    TableRef unused;
    if (store_->Resolve(name, &unused).Is(Status::SubCode::kTableNotFound)) continue;
    if (first.ok()) first = s;
  }
  local.sweeps = 1;
  sweeps_.fetch_add(1, std::memory_order_relaxed);
  if (stats != nullptr) *stats = local;
  return first;
}

}  // namespace basalt::table

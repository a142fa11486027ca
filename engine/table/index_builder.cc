#include "engine/table/index_builder.h"

#include <optional>
#include <vector>

#include "engine/table/index_key.h"
#include "engine/table/table_store.h"
#include "engine/table/write_path.h"

namespace basalt::table {

namespace {

Status Closing() { return Status::Aborted(Status::SubCode::kStoreClosed, "table store closing"); }

const IndexDef* FindIndexById(const TableDef& def, uint32_t id) {
  for (const IndexDef& ix : def.indexes) {
    if (ix.id == id) return &ix;
  }
  return nullptr;
}

// The table or index went away: its backfill simply ends.
bool Gone(const Status& s) {
  return s.Is(Status::SubCode::kTableNotFound) || s.Is(Status::SubCode::kIndexNotFound);
}

}  // namespace

void IndexBuilder::Start() {
  if (options_.interval_ms == 0) return;
  // Errors are retried by the next pass; there is no one to report them to.
  loop_.Start(options_.interval_ms, [this] { RunOnce().PermitUnchecked(); });
}

IndexBuildStats IndexBuilder::stats() const {
  IndexBuildStats s;
  s.items_scanned = scanned_.load();
  s.violations = violations_.load();
  s.indexes_built = built_.load();
  return s;
}

Status IndexBuilder::RunOnce() {
  std::lock_guard<std::mutex> g(run_mu_);
  Status first;
  for (const std::string& name : store_->ListTables()) {
    TableRef t;
    if (!store_->Resolve(name, &t).ok()) continue;
    for (const IndexDef& ix : t->def().indexes) {
      if (!ix.backfilling) continue;
      Status s = Backfill(name, ix.id);
      if (loop_.stopping()) return Closing();
      if (!s.ok() && !Gone(s) && first.ok()) first = s;
    }
  }
  return first;
}

Status IndexBuilder::Backfill(const std::string& name, uint32_t index_id) {
  std::optional<std::string> position;  // in memory: ahead of the persisted one
  auto persisted_at = std::chrono::steady_clock::now();
  for (;;) {
    if (loop_.stopping()) return Closing();
    TableRef t;
    Status s = store_->Resolve(name, &t);
    if (!s.ok()) return s;
    const IndexDef* ix = FindIndexById(t->def(), index_id);
    if (ix == nullptr || !ix->backfilling) return Status::OK();
    if (!position) position = ix->backfill_position;

    ItemKey start;
    start.encoded = *position;
    ScanPage page;
    s = store_->Scan(*t, 0, 0, position->empty() ? nullptr : &start, 0, options_.batch_items,
                     nullptr, &page);
    if (!s.ok()) return s;
    scanned_.fetch_add(page.count, std::memory_order_relaxed);

    std::vector<ItemKey> keys;
    keys.reserve(page.items.size());
    std::string last;
    for (const Item& item : page.items) {
      ItemKey k;
      s = t->LocateItem(item, &k);
      if (!s.ok()) return s;
      last = k.encoded;
      IndexEntry entry;
      bool present;
      if (!MakeIndexEntry(t->def(), *ix, item, &entry, &present).ok()) {
        violations_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (present) keys.push_back(std::move(k));
    }
    if (!keys.empty()) {
      if (!loop_.Pace(options_.items_per_second, page.items.size())) return Closing();
      std::vector<WriteSlot> slots(keys.size());
      for (size_t i = 0; i < keys.size(); i++) {
        slots[i].table = t.get();
        slots[i].key = &keys[i];
      }
      bool committed;
      s = write_path_->Commit(
          slots,
          [&](std::span<WriteSlot> ws) {
            for (WriteSlot& w : ws) w.decision = Decision::RefreshIndex(index_id);
            return Status::OK();
          },
          &committed);
      if (!s.ok()) return s;
    }
    if (!last.empty()) position = last;

    const bool done = !page.last_evaluated_key;
    const auto now = std::chrono::steady_clock::now();
    if (done || now - persisted_at >= std::chrono::seconds(1)) {
      s = store_->AlterTable(name, [&](TableDef* d) -> Status {
        IndexDef* x = nullptr;
        for (IndexDef& i : d->indexes) {
          if (i.id == index_id) x = &i;
        }
        if (x == nullptr) return Status::NotFound(Status::SubCode::kIndexNotFound, "index gone");
        if (done) {
          x->status = IndexStatus::kActive;
          x->backfilling = false;
          x->backfill_position.clear();
        } else {
          x->backfill_position = *position;
        }
        return Status::OK();
      });
      if (!s.ok()) return s;
      persisted_at = now;
      if (done) {
        built_.fetch_add(1, std::memory_order_relaxed);
        return Status::OK();
      }
    }
  }
}

}  // namespace basalt::table

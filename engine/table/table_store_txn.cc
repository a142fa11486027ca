// TableStore's transactions (transaction.h): TransactWrite and TransactGet.
#include <utility>

#include "engine/table/table_store.h"

namespace basalt::table {

namespace {

// Runs `f` when the scope ends.
template <typename F>
class ScopeExit {
 public:
  explicit ScopeExit(F f) : f_(std::move(f)) {}
  ~ScopeExit() { f_(); }
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;

 private:
  F f_;
};

}  // namespace

Status TableStore::TransactWrite(const TxnRequest& req, TxnResult* result) {
  *result = TxnResult();
  const size_t n = req.actions.size();
  for (const TxnAction& a : req.actions) {
    if (a.table == nullptr || !a.decide) {
      return Status::InvalidArgument("TxnAction without a table or a decision");
    }
  }
  const bool with_token = !req.client_token.empty();
  if (with_token) {
    bool applied = false;
    Status s = tokens_->Begin(req.client_token, req.fingerprint, &applied);
    if (!s.ok()) return s;
    if (applied) {
      tokens_->End(req.client_token);
      result->replayed = true;
      result->committed = true;
      return Status::OK();
    }
  }
  ScopeExit end_token([&] {
    if (with_token) tokens_->End(req.client_token);
  });
  if (!in_flight_.TryAcquire(req.actions, &result->conflicts)) {
    return Status::Busy(Status::SubCode::kTransactionConflict,
                        "Transaction is ongoing for the item");
  }
  ScopeExit release([&] { in_flight_.Release(req.actions); });
  if (options_.transaction_hook) options_.transaction_hook();

  std::vector<WriteSlot> slots(n);
  for (size_t i = 0; i < n; i++) {
    slots[i].table = req.actions[i].table.get();
    slots[i].key = &req.actions[i].key;
  }
  CommitOptions co;
  if (with_token) {
    co.stage_extra = [&](lsm::WriteBatch* batch) {
      tokens_->Stage(req.client_token, req.fingerprint, batch);
    };
  }
  bool committed = false;
  Status s = write_path_->Commit(
      slots,
      [&](std::span<WriteSlot> ws) {
        for (size_t i = 0; i < ws.size(); i++) {
          ws[i].decision = req.actions[i].decide(ws[i].old_item ? &*ws[i].old_item : nullptr);
        }
        return Status::OK();
      },
      &committed, &co);
  result->failed_action = co.failed_slot;
  if (!s.ok()) return s;
  result->committed = committed;
  result->outcomes.reserve(n);
  for (WriteSlot& w : slots) {
    const Decision::Kind k = w.decision.kind;
    result->outcomes.push_back(k);
    if (committed && (k == Decision::Kind::kPut || k == Decision::Kind::kDelete)) {
      result->new_items.push_back(std::move(w.new_item));
    } else {
      result->new_items.push_back(w.old_item);
    }
    result->old_items.push_back(std::move(w.old_item));
  }
  return Status::OK();
}

Status TableStore::TransactGet(std::span<const std::pair<TableRef, ItemKey>> keys,
                               std::vector<std::optional<Item>>* items,
                               std::vector<size_t>* conflicts) {
  items->assign(keys.size(), std::nullopt);
  conflicts->clear();
  for (size_t i = 0; i < keys.size(); i++) {
    if (in_flight_.Held(*keys[i].first, keys[i].second)) conflicts->push_back(i);
  }
  if (!conflicts->empty()) {
    return Status::Busy(Status::SubCode::kTransactionConflict,
                        "Transaction is ongoing for the item");
  }
  const lsm::Snapshot* snap = db_->GetSnapshot();
  ScopeExit release([&] { db_->ReleaseSnapshot(snap); });
  for (size_t i = 0; i < keys.size(); i++) {
    Status s = GetItem(*keys[i].first, keys[i].second, snap, &(*items)[i]);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace basalt::table

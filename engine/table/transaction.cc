#include "engine/table/transaction.h"

#include "engine/base/coding.h"

namespace basalt::table {

std::string InFlightKeys::Id(uint64_t table_id, const std::string& encoded_key) {
  std::string id;
  id.reserve(8 + encoded_key.size());
  PutFixed64(&id, table_id);
  id.append(encoded_key);
  return id;
}

bool InFlightKeys::TryAcquire(std::span<const TxnAction> actions, std::vector<size_t>* held) {
  held->clear();
  std::vector<std::string> ids;
  ids.reserve(actions.size());
  for (const TxnAction& a : actions) ids.push_back(Id(a.table->id(), a.key.encoded));
  std::lock_guard<std::mutex> l(mu_);
  for (size_t i = 0; i < ids.size(); i++) {
    if (keys_.contains(ids[i])) held->push_back(i);
  }
  if (!held->empty()) return false;
  for (std::string& id : ids) keys_.insert(std::move(id));
  count_.fetch_add(actions.size(), std::memory_order_relaxed);
  return true;
}

void InFlightKeys::Release(std::span<const TxnAction> actions) {
  std::lock_guard<std::mutex> l(mu_);
  for (const TxnAction& a : actions) keys_.erase(Id(a.table->id(), a.key.encoded));
  count_.fetch_sub(actions.size(), std::memory_order_relaxed);
}

bool InFlightKeys::Held(const TableHandle& table, const ItemKey& key) const {
  if (count_.load(std::memory_order_relaxed) == 0) return false;
  const std::string id = Id(table.id(), key.encoded);
  std::lock_guard<std::mutex> l(mu_);
  return keys_.contains(id);
}

}  // namespace basalt::table

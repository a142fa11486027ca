// Transactions of the table layer: DynamoDB's TransactWriteItems and
// TransactGetItems semantics on the write path (write_path.h).
//
// A write transaction is ONE WritePath::Commit of all its actions: every key
// latched in one global order (no deadlock), every action decided on the
// item's latest version, then either nothing is written (a decision cancelled
// it) or every item, index entry and stream record — and the client token's
// record — goes into one lsm::WriteBatch (atomic in the WAL, so a crash keeps
// all or none of it, and a reader, which reads from one sequence number,
// never sees part of it).
//
// Conflicts, as DynamoDB reports them ("Transaction conflict handling" in the
// DynamoDB Developer Guide). A running write transaction holds its items from
// before it takes the latches until its batch is durable (InFlightKeys):
//   - another write transaction naming one of those items is cancelled with
//     reason TransactionConflict for it (TableStore::TransactWrite returns
//     Busy, sub-code kTransactionConflict, with the actions' indexes);
//   - a single-item write of one of them fails with
//     TransactionConflictException (the server asks TransactionHolds first;
//     a write that does not see the transaction waits on the latch instead,
//     so it is serialised after it — never interleaved);
//   - a TransactGetItems naming one of them is cancelled with
//     TransactionConflict; a GetItem, Query or Scan never conflicts (it reads
//     the last committed version).
// Only user requests conflict: the TTL sweeper and the index builder wait on
// the latches.
//
// Thread safety: InFlightKeys may be used from any number of threads.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "engine/table/item_key.h"
#include "engine/table/table_handle.h"
#include "engine/table/write_path.h"

namespace basalt::table {

// DynamoDB's limit on actions per transaction (TransactWriteItems and
// TransactGetItems; 100 since September 2022).
inline constexpr size_t kMaxTransactionActions = 100;

// One action of a write transaction.
struct TxnAction {
  TableRef table;
  ItemKey key;
  // Called once, under the latches, with the item's latest version (nullptr
  // if none). Returns kPut or kDelete (a write), kNoChange (a condition check
  // that holds, or a write that changes nothing) or kConditionFailed (cancels
  // the whole transaction). Must be quick and must not call the TableStore's
  // write methods (it runs under the latches).
  std::function<Decision(const Item* old)> decide;
};

struct TxnRequest {
  std::vector<TxnAction> actions;
  // DynamoDB's ClientRequestToken (empty: none) and what identifies the
  // request it was sent with (any bytes; client_tokens.h).
  std::string client_token;
  std::string fingerprint;
};

struct TxnResult {
  // The token's transaction was committed before (within the window):
  // nothing was done now.
  bool replayed = false;
  // false: a decision cancelled the transaction and nothing was written.
  bool committed = false;
  // Per action, in order: what its decision was, the item before (read under
  // the latch) and after (the stored item of a kPut; nullopt after a
  // kDelete; the old item otherwise).
  std::vector<Decision::Kind> outcomes;
  std::vector<std::optional<Item>> old_items;
  std::vector<std::optional<Item>> new_items;
  // With a kTransactionConflict status: the actions whose items another
  // transaction holds.
  std::vector<size_t> conflicts;
  // With an InvalidArgument status from the write itself (an index key that
  // cannot be indexed, an item collection over its limit, an invalid item):
  // the action it belongs to.
  std::optional<size_t> failed_action;
};

// The items held by running write transactions (see the file comment).
class InFlightKeys {
 public:
  // Registers every (table, key) for one transaction, unless another running
  // transaction holds one of them: then registers nothing, stores the indexes
  // of the held ones in *held and returns false.
  bool TryAcquire(std::span<const TxnAction> actions, std::vector<size_t>* held);
  // Unregisters what TryAcquire registered.
  void Release(std::span<const TxnAction> actions);
  // Whether a running transaction holds the item. One relaxed atomic load
  // when no transaction runs.
  bool Held(const TableHandle& table, const ItemKey& key) const;

 private:
  static std::string Id(uint64_t table_id, const std::string& encoded_key);

  mutable std::mutex mu_;
  std::unordered_set<std::string> keys_;  // guarded by mu_
  std::atomic<size_t> count_{0};
};

}  // namespace basalt::table

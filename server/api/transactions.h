// The core of DynamoDB's transactions, shared by TransactWriteItems /
// TransactGetItems (transactions.cc) and PartiQL's ExecuteTransaction
// (partiql.cc): validation after parsing, the commit through the table layer,
// the cancellation reasons and the response's capacity and metrics. Every
// failure is thrown as ApiError (TransactionCanceledException with
// CancellationReasons, or the request-level errors); docs/transactions.md.
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/api/capacity.h"
#include "server/api/item_writes.h"
#include "server/api/service.h"

namespace basalt::server::api {

// One action of a write transaction.
struct TransactionAction {
  std::unique_ptr<ItemWrite> write;
  // The reason code of its failed condition ("DuplicateItem" for PartiQL's
  // INSERT of an existing item).
  std::string failure_code = "ConditionalCheckFailed";
  std::string failure_message = "The conditional request failed";
  std::optional<ApiError> error;  // set by the commit: a run-time error of the action
};

struct TransactionOptions {
  ReturnCapacity capacity = ReturnCapacity::kNone;
  bool collection_metrics = false;
  std::optional<std::string> token;  // ClientRequestToken
  std::string fingerprint;           // what identifies the request with the token
};

// Parsed actions -> committed (or thrown): the 4 MB payload, the tables, two
// actions on one item, each action's key and item, then the commit. Returns
// the response's ConsumedCapacity and ItemCollectionMetrics members.
boost::json::object RunWriteTransaction(Context& ctx, std::vector<TransactionAction>& actions,
                                        const TransactionOptions& options);

// What identifies a transaction's request with its ClientRequestToken: a
// 128-bit hash of its list of actions as sent (TransactItems,
// TransactStatements).
std::string RequestFingerprint(const boost::json::array& actions);

// One read of a read transaction: a resolved table and the Key parameter.
struct TransactionRead {
  table::TableRef table;
  Item key;
};
// Two reads of one item, empty key values (ValidationException), each key
// (first failure: TransactionCanceledException with ValidationError), then
// every item from one snapshot (TransactionConflict when a write transaction
// holds one), at most 4 MB in all. Items in read order (nullopt: none).
std::vector<std::optional<Item>> RunReadTransaction(Context& ctx,
                                                    const std::vector<TransactionRead>& reads);

// ClientRequestToken (1..36 characters; a violation goes to *c), nullopt when
// absent.
std::optional<std::string> ParseClientToken(const boost::json::object& req, Constraints* c);

// The "TransactItems"-style list member `member` (JSON name, e.g.
// "TransactItems", path "transactItems"): present, 1..100 objects; a
// violation goes to *c.
const boost::json::array& RequireActionList(const boost::json::object& req, const char* member,
                                            const char* path, Constraints* c);

// The capacity of a read transaction's items: 2 units per item rounded up to
// 4 KB, per table in read order, with ReadCapacityUnits at the top level.
void AddReadTransactionCapacity(boost::json::object* resp, ReturnCapacity mode,
                                const std::vector<TransactionRead>& reads,
                                const std::vector<std::optional<Item>>& items);

}  // namespace basalt::server::api

// ItemWrite: one single-item write as DynamoDB defines it — PutItem,
// UpdateItem, DeleteItem, or an action of TransactWriteItems (Put, Update,
// Delete, ConditionCheck) — parsed once, then run by the table layer's write
// path, so that a transaction's action and the single-item operation check
// and decide exactly alike.
//
// Phases, in DynamoDB's order, each throwing ApiError:
//   constructor  JSON types, constraints (aggregated), expression parameters
//                and expressions (a ValidationException for the whole
//                request, also inside a transaction);
//   Resolve      the table (ResourceNotFoundException);
//   Locate       the key and item against the table's schema (sizes, types,
//                index keys): ValidationException — inside a transaction the
//                caller turns it into the action's ValidationError reason;
//   Decide       under the item's latch: the condition and the new item
//                (run-time errors of the update: ValidationException).
//
// Not copyable or movable: the expression placeholders point into the object.
// One object serves one request, on one thread at a time.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/table/table_store.h"
#include "server/api/errors.h"
#include "server/api/request.h"

namespace basalt::server::api {

class ItemWrite {
 public:
  enum class Kind { kPut, kUpdate, kDelete, kConditionCheck };
  // A transaction's action: no ReturnValues and no legacy parameters
  // (Expected, AttributeUpdates); TableName, the update expression and a
  // ConditionCheck's condition are required members; constraint paths are
  // prefixed ("transactItems.1.member.put.").
  struct Source {
    bool transaction = false;
    std::string prefix;
  };

  ItemWrite(Kind kind, const boost::json::object& req, const Source& source);

  // A write another front end (PartiQL) parsed: its table and the request's
  // return settings (common), the item (kPut) or key (others), its condition
  // and update. With `partiql`, PartiQL's rules for a missing item: an
  // UPDATE or an EXISTS check fails its condition (an UPDATE never creates an
  // item), and a DELETE evaluates its WHERE clause on the key alone (a DELETE
  // naming only the key is a no-op, as in DynamoDB).
  struct Parts {
    Kind kind = Kind::kPut;
    Common common;
    Item payload;
    std::shared_ptr<const expr::Condition> condition;
    std::shared_ptr<const expr::UpdatePlan> update;
    bool partiql = false;
  };
  explicit ItemWrite(Parts parts);
  ItemWrite(const ItemWrite&) = delete;
  ItemWrite& operator=(const ItemWrite&) = delete;

  void Resolve(Context& ctx);
  void Locate();
  table::Decision Decide(const Item* old);
  // The response's Attributes for ReturnValues (nullopt: none).
  std::optional<Item> Attributes(const table::UpdateResult& r) const;

  Kind kind() const { return kind_; }
  const Common& common() const { return common_; }
  const table::TableRef& table() const { return table_; }
  const table::ItemKey& key() const { return key_; }
  // The request's key attributes (of the Item for a put) — known before
  // Locate when the table is resolved; for duplicate checks.
  Item RequestKey() const;
  // The parsed item (kPut) or key (others), for size limits.
  const Item& payload() const { return kind_ == Kind::kPut ? item_ : key_item_; }

 private:
  void ParseUpdate(const boost::json::object& req);

  const Kind kind_;
  const bool transaction_;
  const bool partiql_ = false;
  Common common_;
  Item item_;      // kPut
  Item key_item_;  // the others
  Expressions e_;
  table::TableRef table_;
  table::ItemKey key_;
  std::vector<std::string> key_names_;
  std::vector<std::string> computed_;  // index key attributes an update computes
  std::vector<expr::Path> updated_;    // paths the update wrote (Decide)
};

// Runs a single-item write (PutItem, UpdateItem, DeleteItem) and builds its
// response: ConditionalCheckFailedException, TransactionConflictException
// when a running transaction holds the item, Attributes, ConsumedCapacity,
// ItemCollectionMetrics.
boost::json::object RunSingleWrite(Context& ctx, ItemWrite& w);

// RunSingleWrite without waiting for the write to be durable
// (TableStore::TryUpdateAsync). Returns false, having done nothing, when the
// item's latch is busy (use RunSingleWrite). Throws ApiError for what fails
// before the write (then done is not called). Otherwise done(response, error)
// runs exactly once with one of them non-null — on this thread or on the
// engine's committer thread; ctx and w must stay alive until then.
using SingleWriteDone = std::function<void(const boost::json::object*, const ApiError*)>;
bool StartSingleWrite(Context& ctx, ItemWrite& w, SingleWriteDone done);

// The response of a single write that ran (ConditionalCheckFailedException
// when its condition failed).
boost::json::object SingleWriteResponse(Context& ctx, const ItemWrite& w,
                                        const table::UpdateResult& r);

}  // namespace basalt::server::api

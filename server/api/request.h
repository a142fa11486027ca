// Pieces of request handling shared by the data-plane operations (items.cc,
// and the query/scan/batch handlers): the common members, the expression
// parameters, table lookup, key and item checks, capacity in responses, and
// the bridge that lets a handler's decision function run under the table
// layer's latch. Everything here throws ApiError (errors.h) on bad input.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/table/table_store.h"
#include "server/api/capacity.h"
#include "server/api/errors.h"
#include "server/api/service.h"
#include "server/api/throttle.h"
#include "server/expr/expr.h"

namespace basalt::server::api {

using table::Item;

// DynamoDB's data-plane text for a missing table (the control plane names it).
inline constexpr std::string_view kDataNotFound = "Requested resource not found";

// Throws a ValidationException carrying an expression-module error.
void CheckExpr(const Status& s);

struct Common {
  std::string table;
  ReturnCapacity capacity = ReturnCapacity::kNone;
  std::string return_values = "NONE";
  bool return_old_on_failure = false;
  bool item_collection_metrics = false;  // ReturnItemCollectionMetrics SIZE
};

// TableName (RequireTableName's checks), ReturnConsumedCapacity,
// ReturnItemCollectionMetrics, ReturnValues and
// ReturnValuesOnConditionCheckFailure; enum violations go to *c.
// table_member: a missing TableName is a constraint violation ("Member must
// not be null", as inside a transaction's action) instead of DynamoDB's
// "The parameter 'TableName' is required ..." of a top-level request.
Common ParseCommon(const boost::json::object& req, Constraints* c, bool table_member = false);

// The expression parameters of one request and what they parse to.
struct Expressions {
  std::optional<std::map<std::string, std::string>> names;
  std::optional<std::map<std::string, table::Value>> values;
  expr::Placeholders placeholders;
  std::shared_ptr<const expr::Condition> condition;
  std::shared_ptr<const expr::UpdatePlan> update;
  std::optional<std::vector<expr::Path>> projection;
};

// "Can not use both expression and non-expression parameters in the same
// request: Non-expression parameters: {..} Expression parameters: {..}".
void CheckNoMixing(const boost::json::object& req, std::initializer_list<const char*> legacy,
                   std::initializer_list<const char*> modern);

// ExpressionAttributeNames/Values: allowed only when one of `expressions` is
// present, non-empty, keys starting with '#'/':', values valid. Sets
// e->placeholders.
void ParsePlaceholderMaps(const boost::json::object& req,
                          std::initializer_list<const char*> expressions, Expressions* e);

// The entries of a legacy condition map (Expected, KeyConditions,
// QueryFilter, ScanFilter), in request order. With c != nullptr a missing or
// unknown ComparisonOperator is a constraint error at
// "<path>.<name>.member.comparisonOperator" (path: "keyConditions", ...).
std::vector<expr::LegacyCondition> ParseLegacyConditions(const boost::json::object& conditions,
                                                         std::string_view path, Constraints* c);

// ReturnConsumedCapacity alone, for requests without a TableName (batches).
ReturnCapacity ParseReturnCapacity(const boost::json::object& req, Constraints* c);

// Check() for a table-layer call of the data plane: a missing table is
// ResourceNotFoundException with the data-plane text (kDataNotFound).
void CheckData(const Status& s);

// Expected + ConditionalOperator -> a condition (nullptr when absent).
std::shared_ptr<const expr::Condition> ParseExpected(const boost::json::object& req);
// ConditionExpression, else Expected, into e->condition.
void ParseCondition(const boost::json::object& req, Expressions* e);
// ProjectionExpression, else AttributesToGet, into e->projection.
void ParseProjection(const boost::json::object& req, Expressions* e);

// The table's handle, resolved once per request (table_handle.h);
// ResourceNotFoundException kDataNotFound if absent.
table::TableRef LookupTable(Context& ctx, const std::string& name);
std::vector<std::string> KeyNames(const table::TableDef& def);
// DynamoDB's order of two key values of one type (numbers by value, strings
// and binaries by unsigned bytes), and whether a sort key value meets a key
// condition (an ExclusiveStartKey must lie inside the Query's range).
int CompareKeys(const table::Value& a, const table::Value& b);
bool SortKeySatisfies(const table::Value& v, const table::SortKeyCondition& c);

// The key attributes of the table's secondary indexes that are not table keys.
std::vector<std::string> IndexOnlyKeyNames(const table::TableDef& def);
// After an update: an index key attribute in `computed` (SET from another
// attribute or if_not_exists: expr::AssignedTypes without a type) whose new value has
// the wrong type gets DynamoDB's "The update expression attempted to update
// the secondary index key to unsupported type" (a constant of the wrong type
// gets ValidateIndexKeys' "Type mismatch for Index Key ...").
void CheckComputedIndexKeys(const table::TableDef& def, const Item& item,
                            const std::vector<std::string>& computed);
// A Key parameter validated against the table's key schema and encoded, once
// (ValidationException with DynamoDB's texts otherwise).
table::ItemKey LocateKey(const table::TableHandle& t, const Item& key);
// The key of a whole item (PutItem's checks and wording).
table::ItemKey LocateItem(const table::TableHandle& t, const Item& item);
// The "Key" member (a constraint error into *c when missing).
Item RequireKey(const boost::json::object& req, Constraints* c);
// table::ValidateItem with DynamoDB's framing of its messages (UpdateItem's
// size message when `update`).
void ValidateStoredItem(const Item& item, bool update);

// c == nullptr is true.
bool Evaluate(const expr::Condition* c, const Item* item);
// ConditionalCheckFailedException, with "Item" when ReturnValuesOnConditionCheckFailure=ALL_OLD.
[[noreturn]] void ThrowConditionFailed(const Common& common, const std::optional<Item>& old);
// Adds "ConsumedCapacity" unless the request asked for NONE.
void AddCapacity(boost::json::object* resp, const Common& common, double units, bool read,
                 const std::vector<IndexCapacity>& indexes = {});
size_t SizeOf(const std::optional<Item>& item);
// A single-item write's ConsumedCapacity: units of the larger of the old and
// new item, plus the index units (computed only when capacity was asked for).
void AddWriteCapacity(boost::json::object* resp, const Common& common, const table::TableDef& def,
                      const std::optional<Item>& old_item, const std::optional<Item>& new_item);

// Capacity enforcement (throttle.h) through ctx.capacity (nothing when null).
// The key texts of an item or key for CapacityEvent, computed only when
// the manager wants them (index: a GSI's keys instead of the table's).
CapacityKeys CapacityKeysOf(Context& ctx, const table::TableDef& def, const Item* item,
                            const table::IndexDef* index = nullptr);
// Admission before an operation: throws ProvisionedThroughputExceededException
// or ThrottlingException (with ThrottlingReasons) when out of capacity.
// index: the GSI or LSI read ("" = the table); a write checks the table and
// all its GSIs.
void AdmitCapacity(Context& ctx, const table::TableDef& def, const std::string& index,
                   CapacityKind kind, const CapacityKeys& keys = {});
// Charges read units consumed on the table or an index (an LSI's go to the table).
void ChargeRead(Context& ctx, const table::TableDef& def, const std::string& index, double units,
                const CapacityKeys& keys = {});
// Charges one item write: the larger item's units times `factor` (2 in a
// transaction) to the table, and unless `table_only` (a failed condition, a
// condition check) the index entries' units to each GSI (an LSI's to the table).
void ChargeWrite(Context& ctx, const table::TableDef& def, const Item* old_item,
                 const Item* new_item, double factor = 1, bool table_only = false);

// Runs fn under TableStore::Update; fn may throw ApiError, which is carried
// out of the table layer as a value and rethrown here.
// ItemCollectionMetrics of a write of the item with key `key` to `t`:
// {"ItemCollectionKey": {pk: value}, "SizeEstimateRangeGB": [lo, hi]}, or
// nullopt when the table has no local secondary index (DynamoDB returns
// metrics only then). AddItemCollectionMetrics sets it in *resp when the
// request asked for SIZE.
std::optional<boost::json::object> ItemCollectionMetrics(Context& ctx, const table::TableHandle& t,
                                                         const Item& key);
void AddItemCollectionMetrics(boost::json::object* resp, Context& ctx, const Common& common,
                              const table::TableHandle& t, const table::ItemKey& key);

// The Query and Scan operations (reads.cc) on a request object, for front
// ends that translate their reads into them (PartiQL's SELECT).
boost::json::object QueryOperation(Context& ctx, const boost::json::object& req);
boost::json::object ScanOperation(Context& ctx, const boost::json::object& req);

table::UpdateResult RunUpdate(Context& ctx, const table::TableHandle& t, const table::ItemKey& key,
                              const std::function<table::Decision(const Item*)>& fn);

}  // namespace basalt::server::api

// Item operations: PutItem, GetItem, UpdateItem, DeleteItem.
//
// Each write is an ItemWrite (item_writes.h) run as one TableStore::Update:
// under the item's latch the old item is read, the condition evaluated and
// the new item computed, then committed as one batch — so a condition and
// the write it guards are atomic.
#include <fmt/format.h>

#include <boost/json/array.hpp>

#include "server/api/capacity.h"
#include "server/api/errors.h"
#include "server/api/item_writes.h"
#include "server/api/json_value.h"
#include "server/api/request.h"
#include "server/api/service.h"
#include "server/expr/expr.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::Decision;
using table::TableDef;

namespace {

// ---- operations ----

json::object RunWrite(Context& ctx, const json::object& req, ItemWrite::Kind kind) {
  ItemWrite w(kind, req, {});
  w.Resolve(ctx);
  w.Locate();
  return RunSingleWrite(ctx, w);
}

json::object PutItem(Context& ctx, const json::object& req) {
  return RunWrite(ctx, req, ItemWrite::Kind::kPut);
}

json::object GetItem(Context& ctx, const json::object& req) {
  Constraints c;
  Common common = ParseCommon(req, &c);
  Item key = RequireKey(req, &c);
  auto consistent = GetBool(req, "ConsistentRead");
  c.ThrowIfAny();
  CheckNoMixing(req, {"AttributesToGet"}, {"ProjectionExpression"});
  Expressions e;
  ParsePlaceholderMaps(req, {"ProjectionExpression"}, &e);
  ParseProjection(req, &e);
  CheckExpr(expr::CheckAllUsed(e.placeholders));

  const table::TableRef t = LookupTable(ctx, common.table);
  const table::ItemKey k = LocateKey(*t, key);
  const CapacityKeys keys = CapacityKeysOf(ctx, t->def(), &key);
  AdmitCapacity(ctx, t->def(), "", CapacityKind::kRead, keys);
  std::optional<Item> item;
  CheckData(ctx.store->GetItem(*t, k, nullptr, &item));
  const double units = ReadUnits(SizeOf(item), consistent.value_or(false));
  ChargeRead(ctx, t->def(), "", units, keys);
  json::object resp;
  if (item) {
    resp["Item"] = ItemToJson(e.projection ? expr::Project(*item, *e.projection) : *item);
  }
  AddCapacity(&resp, common, units, true);
  return resp;
}

json::object DeleteItem(Context& ctx, const json::object& req) {
  return RunWrite(ctx, req, ItemWrite::Kind::kDelete);
}

json::object UpdateItem(Context& ctx, const json::object& req) {
  return RunWrite(ctx, req, ItemWrite::Kind::kUpdate);
}

}  // namespace

void RegisterItemOperations(std::map<std::string, Operation, std::less<>>* ops) {
  (*ops)["PutItem"] = PutItem;
  (*ops)["GetItem"] = GetItem;
  (*ops)["DeleteItem"] = DeleteItem;
  (*ops)["UpdateItem"] = UpdateItem;
}

}  // namespace basalt::server::api

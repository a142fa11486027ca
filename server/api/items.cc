// Item operations: PutItem, GetItem, UpdateItem, DeleteItem.
//
// Each write is one TableStore::Update: under the item's latch the old item
// is read, the condition evaluated and the new item computed, then committed
// as one batch — so a condition and the write it guards are atomic.
//
// Validation order follows DynamoDB's answers: JSON types and
// AttributeValues while parsing, then constraints (aggregated), then the
// expression parameters (mixing legacy and expression styles, empty or
// invalid placeholder maps, the expressions themselves, unused placeholders),
// then the table lookup, then the key and item checks.
#include <fmt/format.h>

#include <boost/json/array.hpp>

#include "engine/table/index_key.h"
#include "server/api/capacity.h"
#include "server/api/errors.h"
#include "server/api/json_value.h"
#include "server/api/request.h"
#include "server/api/service.h"
#include "server/expr/expr.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::Decision;
using table::TableDef;

namespace {

// PutItem and DeleteItem: ReturnValues NONE or ALL_OLD, and a condition
// (ConditionExpression or Expected) with its placeholders. (An out-parameter:
// e->placeholders points into *e, so Expressions must not be moved.)
void ParseConditionalWrite(const json::object& req, const Common& common, Expressions* e) {
  if (common.return_values != "NONE" && common.return_values != "ALL_OLD") {
    throw ValidationError("ReturnValues can only be ALL_OLD or NONE");
  }
  CheckNoMixing(req, {"Expected", "ConditionalOperator"}, {"ConditionExpression"});
  ParsePlaceholderMaps(req, {"ConditionExpression"}, e);
  ParseCondition(req, e);
  CheckExpr(expr::CheckAllUsed(e->placeholders));
}

// ---- operations ----

json::object PutItem(Context& ctx, const json::object& req) {
  Constraints c;
  Common common = ParseCommon(req, &c);
  Item item;
  auto it = req.find("Item");
  if (it == req.end() || it->value().is_null()) {
    c.Add("null", "item", "Member must not be null");
  } else {
    item = ParseItem(it->value(), "Item");
  }
  c.ThrowIfAny();
  Expressions e;
  ParseConditionalWrite(req, common, &e);

  const table::TableRef t = LookupTable(ctx, common.table);
  const table::ItemKey key = LocateItem(*t, item);
  ValidateStoredItem(item, false);
  Check(table::ValidateIndexKeys(t->def(), item));
  table::UpdateResult r = RunUpdate(ctx, *t, key, [&](const Item* old) {
    if (!Evaluate(e.condition.get(), old)) return Decision::ConditionFailed();
    return Decision::PutValidated(item);  // ValidateStoredItem above
  });
  if (r.outcome == Decision::Kind::kConditionFailed) ThrowConditionFailed(common, r.old_item);
  json::object resp;
  if (common.return_values == "ALL_OLD" && r.old_item) {
    resp["Attributes"] = ItemToJson(*r.old_item);
  }
  AddWriteCapacity(&resp, common, t->def(), r.old_item, r.new_item);
  AddItemCollectionMetrics(&resp, ctx, common, *t, key);
  return resp;
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
  std::optional<Item> item;
  CheckData(ctx.store->GetItem(*t, k, nullptr, &item));
  json::object resp;
  if (item) {
    resp["Item"] = ItemToJson(e.projection ? expr::Project(*item, *e.projection) : *item);
  }
  AddCapacity(&resp, common, ReadUnits(SizeOf(item), consistent.value_or(false)), true);
  return resp;
}

json::object DeleteItem(Context& ctx, const json::object& req) {
  Constraints c;
  Common common = ParseCommon(req, &c);
  Item key = RequireKey(req, &c);
  c.ThrowIfAny();
  Expressions e;
  ParseConditionalWrite(req, common, &e);

  const table::TableRef t = LookupTable(ctx, common.table);
  const table::ItemKey k = LocateKey(*t, key);
  table::UpdateResult r = RunUpdate(ctx, *t, k, [&](const Item* old) {
    if (!Evaluate(e.condition.get(), old)) return Decision::ConditionFailed();
    return old == nullptr ? Decision::NoChange() : Decision::Delete();
  });
  if (r.outcome == Decision::Kind::kConditionFailed) ThrowConditionFailed(common, r.old_item);
  json::object resp;
  if (common.return_values == "ALL_OLD" && r.old_item) {
    resp["Attributes"] = ItemToJson(*r.old_item);
  }
  AddWriteCapacity(&resp, common, t->def(), r.old_item, r.new_item);
  AddItemCollectionMetrics(&resp, ctx, common, *t, k);
  return resp;
}

json::object UpdateItem(Context& ctx, const json::object& req) {
  Constraints c;
  Common common = ParseCommon(req, &c);
  Item key = RequireKey(req, &c);
  c.ThrowIfAny();
  CheckNoMixing(req, {"Expected", "ConditionalOperator", "AttributeUpdates"},
                {"ConditionExpression", "UpdateExpression"});
  Expressions e;
  ParsePlaceholderMaps(req, {"UpdateExpression", "ConditionExpression"}, &e);
  if (auto ue = GetString(req, "UpdateExpression")) {
    CheckExpr(expr::ParseUpdate(*ue, &e.placeholders, &e.update));
  } else if (const json::object* au = GetObject(req, "AttributeUpdates")) {
    std::vector<expr::AttributeUpdate> updates;
    for (const auto& kv : *au) {
      const json::object& u = AsObject(kv.value());
      expr::AttributeUpdate a;
      a.name = std::string(kv.key());
      if (auto action = GetString(u, "Action")) {
        if (*action != "PUT" && *action != "DELETE" && *action != "ADD") {
          Constraints ac;
          ac.Add(Quote(*action), fmt::format("attributeUpdates.{}.member.action", a.name),
                 "Member must satisfy enum value set: [ADD, PUT, DELETE]");
          ac.ThrowIfAny();
        }
        a.action = *action;
      }
      if (const auto vit = u.find("Value"); vit != u.end() && !vit->value().is_null()) {
        a.value = ParseValue(vit->value());
      }
      updates.push_back(std::move(a));
    }
    CheckExpr(expr::UpdateFromLegacy(updates, &e.update));
  }
  ParseCondition(req, &e);
  CheckExpr(expr::CheckAllUsed(e.placeholders));

  const table::TableRef t = LookupTable(ctx, common.table);
  const table::ItemKey k = LocateKey(*t, key);
  const std::vector<std::string> key_names = KeyNames(t->def());
  // DynamoDB's order, before the item is read: table key updates, index key
  // types known from the expression, document paths into index keys.
  std::vector<std::string> computed;
  if (e.update && !t->def().indexes.empty()) {
    CheckExpr(expr::CheckNoKeyUpdate(*e.update, key_names));
    for (const expr::AssignedType& a : expr::AssignedTypes(*e.update)) {
      if (a.type) {
        Check(table::CheckIndexKeyType(t->def(), a.name, *a.type));
      } else {
        computed.push_back(a.name);
      }
    }
    CheckExpr(expr::CheckIndexKeyPaths(*e.update, IndexOnlyKeyNames(t->def())));
  }
  std::vector<expr::Path> updated;
  table::UpdateResult r = RunUpdate(ctx, *t, k, [&](const Item* old) {
    if (!Evaluate(e.condition.get(), old)) return Decision::ConditionFailed();
    Item next = old != nullptr ? *old : key;
    if (e.update) {
      Item base = next;
      updated.clear();
      CheckExpr(expr::ApplyUpdate(*e.update, &base, key_names, &next, &updated));
    }
    ValidateStoredItem(next, true);
    CheckComputedIndexKeys(t->def(), next, computed);
    Check(table::ValidateIndexKeys(t->def(), next, table::IndexKeyCheck::kUpdate));
    if (old != nullptr && next == *old) return Decision::NoChange();
    return Decision::PutValidated(std::move(next));  // ValidateStoredItem above
  });
  if (r.outcome == Decision::Kind::kConditionFailed) ThrowConditionFailed(common, r.old_item);
  json::object resp;
  const std::string& rv = common.return_values;
  std::optional<Item> attrs;
  if (rv == "ALL_OLD") {
    attrs = r.old_item;
  } else if (rv == "ALL_NEW") {
    attrs = r.new_item;
  } else if (rv == "UPDATED_OLD" && r.old_item) {
    attrs = expr::Project(*r.old_item, updated);
  } else if (rv == "UPDATED_NEW" && r.new_item) {
    attrs = expr::Project(*r.new_item, updated);
  }
  if (attrs && !attrs->empty()) resp["Attributes"] = ItemToJson(*attrs);
  AddWriteCapacity(&resp, common, t->def(), r.old_item, r.new_item);
  AddItemCollectionMetrics(&resp, ctx, common, *t, k);
  return resp;
}

}  // namespace

void RegisterItemOperations(std::map<std::string, Operation, std::less<>>* ops) {
  (*ops)["PutItem"] = PutItem;
  (*ops)["GetItem"] = GetItem;
  (*ops)["DeleteItem"] = DeleteItem;
  (*ops)["UpdateItem"] = UpdateItem;
}

}  // namespace basalt::server::api

// ItemWrite (item_writes.h) and the single-item write operations' runner.
//
// Validation order follows DynamoDB's answers: JSON types and
// AttributeValues while parsing, then constraints (aggregated), then the
// expression parameters (mixing legacy and expression styles, empty or
// invalid placeholder maps, the expressions themselves, unused placeholders),
// then the table lookup, then the key and item checks.
#include "server/api/item_writes.h"

#include <fmt/format.h>

#include "engine/table/index_key.h"
#include "server/api/json_value.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::Decision;

ItemWrite::ItemWrite(Kind kind, const json::object& req, const Source& source)
    : kind_(kind), transaction_(source.transaction) {
  Constraints c(source.prefix);
  common_ = ParseCommon(req, &c, transaction_);
  if (kind_ == Kind::kPut) {
    auto it = req.find("Item");
    if (it == req.end() || it->value().is_null()) {
      c.Add("null", "item", "Member must not be null");
    } else {
      item_ = ParseItem(it->value(), "Item");
    }
  } else {
    key_item_ = RequireKey(req, &c);
  }
  if (transaction_ && kind_ == Kind::kUpdate && !GetString(req, "UpdateExpression")) {
    c.Add("null", "updateExpression", "Member must not be null");
  }
  if (transaction_ && kind_ == Kind::kConditionCheck && !GetString(req, "ConditionExpression")) {
    c.Add("null", "conditionExpression", "Member must not be null");
  }
  c.ThrowIfAny();
  if (kind_ == Kind::kUpdate) {
    ParseUpdate(req);
    return;
  }
  if (!transaction_) {
    if (common_.return_values != "NONE" && common_.return_values != "ALL_OLD") {
      throw ValidationError("ReturnValues can only be ALL_OLD or NONE");
    }
    CheckNoMixing(req, {"Expected", "ConditionalOperator"}, {"ConditionExpression"});
  }
  ParsePlaceholderMaps(req, {"ConditionExpression"}, &e_);
  ParseCondition(req, &e_);
  CheckExpr(expr::CheckAllUsed(e_.placeholders));
}

ItemWrite::ItemWrite(Parts parts)
    : kind_(parts.kind), transaction_(false), partiql_(parts.partiql) {
  common_ = std::move(parts.common);
  (kind_ == Kind::kPut ? item_ : key_item_) = std::move(parts.payload);
  e_.condition = std::move(parts.condition);
  e_.update = std::move(parts.update);
}

void ItemWrite::ParseUpdate(const json::object& req) {
  if (!transaction_) {
    CheckNoMixing(req, {"Expected", "ConditionalOperator", "AttributeUpdates"},
                  {"ConditionExpression", "UpdateExpression"});
  }
  ParsePlaceholderMaps(req, {"UpdateExpression", "ConditionExpression"}, &e_);
  if (auto ue = GetString(req, "UpdateExpression")) {
    CheckExpr(expr::ParseUpdate(*ue, &e_.placeholders, &e_.update));
  } else if (const json::object* au = transaction_ ? nullptr : GetObject(req, "AttributeUpdates")) {
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
        // As an item's values are (an empty set, a bad number: DynamoDB's texts).
        Status s = table::ValidateValue(*a.value);
        if (!s.ok()) throw ValidationError(std::string(s.message()));
      }
      updates.push_back(std::move(a));
    }
    CheckExpr(expr::UpdateFromLegacy(updates, &e_.update));
  }
  ParseCondition(req, &e_);
  CheckExpr(expr::CheckAllUsed(e_.placeholders));
}

void ItemWrite::Resolve(Context& ctx) { table_ = LookupTable(ctx, common_.table); }

Item ItemWrite::RequestKey() const {
  Item k;
  for (const table::KeyAttribute* a : table_->def().KeyAttributes()) {
    if (const table::Value* v = payload().Find(a->name)) k.Set(a->name, *v);
  }
  return k;
}

void ItemWrite::Locate() {
  const table::TableDef& def = table_->def();
  if (kind_ == Kind::kPut) {
    key_ = LocateItem(*table_, item_);
    ValidateStoredItem(item_, false);
    Check(table::ValidateIndexKeys(def, item_));
    return;
  }
  key_ = LocateKey(*table_, key_item_);
  if (kind_ != Kind::kUpdate) return;
  key_names_ = KeyNames(def);
  // DynamoDB's order, before the item is read: table key updates, index key
  // types known from the expression, document paths into index keys.
  if (e_.update && !def.indexes.empty()) {
    CheckExpr(expr::CheckNoKeyUpdate(*e_.update, key_names_));
    for (const expr::AssignedType& a : expr::AssignedTypes(*e_.update)) {
      if (a.type) {
        Check(table::CheckIndexKeyType(def, a.name, *a.type));
      } else {
        computed_.push_back(a.name);
      }
    }
    CheckExpr(expr::CheckIndexKeyPaths(*e_.update, IndexOnlyKeyNames(def)));
  }
}

Decision ItemWrite::Decide(const Item* old) {
  if (partiql_ && old == nullptr) {
    if (kind_ == Kind::kDelete) {
      return Evaluate(e_.condition.get(), &key_item_) ? Decision::NoChange()
                                                      : Decision::ConditionFailed();
    }
    if (kind_ != Kind::kPut) return Decision::ConditionFailed();
  }
  if (!Evaluate(e_.condition.get(), old)) return Decision::ConditionFailed();
  switch (kind_) {
    case Kind::kPut:
      return Decision::PutValidated(item_);  // ValidateStoredItem in Locate
    case Kind::kDelete:
      return old == nullptr ? Decision::NoChange() : Decision::Delete();
    case Kind::kConditionCheck:
      return Decision::NoChange();
    case Kind::kUpdate:
      break;
  }
  // An update that only removes changes nothing on a missing item, and
  // DynamoDB does not create the item then.
  if (old == nullptr && e_.update && expr::RemovesOnly(*e_.update)) {
    CheckExpr(expr::CheckNoKeyUpdate(*e_.update, key_names_));
    return Decision::NoChange();
  }
  Item next = old != nullptr ? *old : key_item_;
  if (e_.update) {
    Item base = next;
    updated_.clear();
    CheckExpr(expr::ApplyUpdate(*e_.update, &base, key_names_, &next, &updated_));
  }
  const table::TableDef& def = table_->def();
  ValidateStoredItem(next, true);
  CheckComputedIndexKeys(def, next, computed_);
  Check(table::ValidateIndexKeys(def, next, table::IndexKeyCheck::kUpdate));
  if (old != nullptr && next == *old) return Decision::NoChange();
  return Decision::PutValidated(std::move(next));  // ValidateStoredItem above
}

std::optional<Item> ItemWrite::Attributes(const table::UpdateResult& r) const {
  const std::string& rv = common_.return_values;
  if (rv == "ALL_OLD") return r.old_item;
  if (rv == "ALL_NEW") return r.new_item;
  if (rv == "UPDATED_OLD" && r.old_item) return expr::Project(*r.old_item, updated_);
  if (rv == "UPDATED_NEW" && r.new_item) return expr::Project(*r.new_item, updated_);
  return std::nullopt;
}

namespace {
// Capacity admission of a single-item write (throttle.h).
void AdmitWrite(Context& ctx, const ItemWrite& w) {
  if (ctx.capacity == nullptr) return;
  const Item key = w.RequestKey();
  AdmitCapacity(ctx, w.table()->def(), "", CapacityKind::kWrite,
                CapacityKeysOf(ctx, w.table()->def(), &key));
}
}  // namespace

json::object RunSingleWrite(Context& ctx, ItemWrite& w) {
  const table::TableHandle& t = *w.table();
  if (ctx.store->TransactionHolds(t, w.key())) throw TransactionConflict();
  AdmitWrite(ctx, w);
  table::UpdateResult r =
      RunUpdate(ctx, t, w.key(), [&](const Item* old) { return w.Decide(old); });
  return SingleWriteResponse(ctx, w, r);
}

bool StartSingleWrite(Context& ctx, ItemWrite& w, SingleWriteDone done) {
  const table::TableHandle& t = *w.table();
  if (ctx.store->TransactionHolds(t, w.key())) throw TransactionConflict();
  AdmitWrite(ctx, w);
  // Decide's error, kept for the completion (it must not cross the engine).
  auto error = std::make_shared<std::optional<ApiError>>();
  return ctx.store->TryUpdateAsync(
      t, w.key(),
      [&w, error](const Item* old) -> Decision {
        try {
          return w.Decide(old);
        } catch (const ApiError& e) {
          *error = e;
          return Decision::NoChange();
        }
      },
      [&ctx, &w, error, done = std::move(done)](Status s, table::UpdateResult r) {
        // done is called once, outside the try: it runs on the engine's
        // committer thread, where nothing may escape twice or at all.
        std::optional<json::object> resp;
        try {
          if (*error) throw **error;
          CheckData(s);
          resp = SingleWriteResponse(ctx, w, r);
        } catch (const ApiError& e) {
          *error = e;
        } catch (const std::exception& e) {
          *error = InternalError(e.what());
        }
        if (resp) {
          done(&*resp, nullptr);
        } else {
          done(nullptr, &**error);
        }
      });
}

json::object SingleWriteResponse(Context& ctx, const ItemWrite& w, const table::UpdateResult& r) {
  const table::TableHandle& t = *w.table();
  // Charged whether or not the condition held (a failed one: the item's units).
  const bool failed = r.outcome == Decision::Kind::kConditionFailed;
  ChargeWrite(ctx, t.def(), r.old_item ? &*r.old_item : nullptr,
              !failed && r.new_item ? &*r.new_item : nullptr, 1, failed);
  if (failed) ThrowConditionFailed(w.common(), r.old_item);
  json::object resp;
  std::optional<Item> attrs = w.Attributes(r);
  if (attrs && !attrs->empty()) resp["Attributes"] = ItemToJson(*attrs);
  AddWriteCapacity(&resp, w.common(), t.def(), r.old_item, r.new_item);
  AddItemCollectionMetrics(&resp, ctx, w.common(), t, w.key());
  return resp;
}

}  // namespace basalt::server::api

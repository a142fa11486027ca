// Item operations: PutItem, GetItem, UpdateItem, DeleteItem.
//
// Each write is one TableStore::Update: under the item's latch the old item
// is read, the condition evaluated and the new item computed, then committed
// as one batch — so a condition and the write it guards are atomic.
//
// Validation order follows DynamoDB (DYNAMODB.md 4.1): JSON types and
// AttributeValues while parsing, then constraints (aggregated), then the
// expression parameters (mixing legacy and expression styles, empty or
// invalid placeholder maps, the expressions themselves, unused placeholders),
// then the table lookup, then the key and item checks.
#include <fmt/format.h>

#include <boost/json/array.hpp>

#include "server/api/capacity.h"
#include "server/api/errors.h"
#include "server/api/json_value.h"
#include "server/api/service.h"
#include "server/expr/expr.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::Decision;
using table::TableDef;

namespace {

constexpr std::string_view kDataNotFound = "Requested resource not found";

// Throws a ValidationException for an expression-module error.
void CheckExpr(const Status& s) {
  if (!s.ok()) throw ValidationError(std::string(s.message()));
}

struct Common {
  std::string table;
  ReturnCapacity capacity = ReturnCapacity::kNone;
  std::string return_values = "NONE";
  bool return_old_on_failure = false;
};

// TableName, ReturnConsumedCapacity, ReturnItemCollectionMetrics,
// ReturnValues and ReturnValuesOnConditionCheckFailure with their enum checks.
Common ParseCommon(const json::object& req, Constraints* c) {
  Common out;
  out.table = RequireTableName(req);
  if (auto rcc = GetString(req, "ReturnConsumedCapacity")) {
    if (*rcc != "INDEXES" && *rcc != "TOTAL" && *rcc != "NONE") {
      c->Add(Quote(*rcc), "returnConsumedCapacity",
             "Member must satisfy enum value set: [INDEXES, TOTAL, NONE]");
    }
    out.capacity = ReturnCapacityFromName(*rcc);
  }
  if (auto ricm = GetString(req, "ReturnItemCollectionMetrics")) {
    if (*ricm != "SIZE" && *ricm != "NONE") {
      c->Add(Quote(*ricm), "returnItemCollectionMetrics",
             "Member must satisfy enum value set: [SIZE, NONE]");
    }
  }
  if (auto rv = GetString(req, "ReturnValues")) {
    if (*rv != "NONE" && *rv != "ALL_OLD" && *rv != "UPDATED_OLD" && *rv != "ALL_NEW" &&
        *rv != "UPDATED_NEW") {
      c->Add(Quote(*rv), "returnValues",
             "Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, "
             "UPDATED_NEW]");
    }
    out.return_values = *rv;
  }
  if (auto rf = GetString(req, "ReturnValuesOnConditionCheckFailure")) {
    if (*rf != "ALL_OLD" && *rf != "NONE") {
      c->Add(Quote(*rf), "returnValuesOnConditionCheckFailure",
             "Member must satisfy enum value set: [ALL_OLD, NONE]");
    }
    out.return_old_on_failure = *rf == "ALL_OLD";
  }
  return out;
}

// The expression parameters of one request and what they parse to.
struct Expressions {
  std::optional<std::map<std::string, std::string>> names;
  std::optional<std::map<std::string, table::Value>> values;
  expr::Placeholders placeholders;
  std::shared_ptr<const expr::Condition> condition;
  std::shared_ptr<const expr::UpdatePlan> update;
  std::optional<std::vector<expr::Path>> projection;
};

// Rejects a request mixing legacy and expression parameters, as DynamoDB.
void CheckNoMixing(const json::object& req, std::initializer_list<const char*> legacy,
                   std::initializer_list<const char*> modern) {
  std::vector<std::string> l, m;
  for (const char* k : legacy) {
    if (req.contains(k) && !req.at(k).is_null()) l.emplace_back(k);
  }
  for (const char* k : modern) {
    if (req.contains(k) && !req.at(k).is_null()) m.emplace_back(k);
  }
  if (!l.empty() && !m.empty()) {
    throw ValidationError(fmt::format(
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
        fmt::join(l, ", "), fmt::join(m, ", ")));
  }
}

// ExpressionAttributeNames/Values: present only with expressions, non-empty,
// keys of the right form, values valid. `expressions`: the request's
// expression parameters, named in DynamoDB's message for values sent without
// any ("...: ConditionExpression is null", "...: UpdateExpression and
// ConditionExpression are null").
void ParsePlaceholderMaps(const json::object& req, std::initializer_list<const char*> expressions,
                          Expressions* e) {
  e->names = GetNameMap(req, "ExpressionAttributeNames");
  e->values = GetValueMap(req, "ExpressionAttributeValues");
  bool uses_expressions = false;
  for (const char* x : expressions) {
    if (req.contains(x) && !req.at(x).is_null()) uses_expressions = true;
  }
  if (!uses_expressions) {
    if (e->names) {
      throw ValidationError(
          "ExpressionAttributeNames can only be specified when using expressions");
    }
    if (e->values) {
      std::vector<std::string> names(expressions.begin(), expressions.end());
      throw ValidationError(fmt::format(
          "ExpressionAttributeValues can only be specified when using expressions: {} {} null",
          fmt::join(names, " and "), names.size() == 1 ? "is" : "are"));
    }
    return;
  }
  if (e->names) {
    if (e->names->empty()) throw ValidationError("ExpressionAttributeNames must not be empty");
    for (const auto& [k, v] : *e->names) {
      if (k.size() < 2 || k[0] != '#') {
        throw ValidationError(fmt::format(
            "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{}\"", k));
      }
    }
  }
  if (e->values) {
    if (e->values->empty()) throw ValidationError("ExpressionAttributeValues must not be empty");
    for (const auto& [k, v] : *e->values) {
      if (k.size() < 2 || k[0] != ':') {
        throw ValidationError(fmt::format(
            "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{}\"", k));
      }
      Status s = table::ValidateValue(v);
      if (!s.ok()) {
        throw ValidationError(fmt::format(
            "ExpressionAttributeValues contains invalid value: {} for key {}", s.message(), k));
      }
    }
  }
  e->placeholders.names = e->names ? &*e->names : nullptr;
  e->placeholders.values = e->values ? &*e->values : nullptr;
}

// Expected (+ ConditionalOperator) -> a condition.
std::shared_ptr<const expr::Condition> ParseExpected(const json::object& req) {
  const json::object* expected = GetObject(req, "Expected");
  auto op = GetString(req, "ConditionalOperator");
  if (op && *op != "AND" && *op != "OR") {
    Constraints c;
    c.Add(Quote(*op), "conditionalOperator", "Member must satisfy enum value set: [OR, AND]");
    c.ThrowIfAny();
  }
  if (expected == nullptr) {
    if (op) {
      throw ValidationError(
          "ConditionalOperator can only be used when Filter or Expected has two or more elements");
    }
    return nullptr;
  }
  std::vector<expr::LegacyCondition> entries;
  for (const auto& kv : *expected) {
    const json::object& e = AsObject(kv.value());
    expr::LegacyCondition lc;
    lc.name = std::string(kv.key());
    if (const auto it = e.find("Value"); it != e.end() && !it->value().is_null()) {
      lc.value = ParseValue(it->value());
    }
    lc.exists = GetBool(e, "Exists");
    lc.comparison_operator = GetString(e, "ComparisonOperator");
    if (const json::array* list = GetArray(e, "AttributeValueList")) {
      std::vector<table::Value> vals;
      for (const auto& v : *list) vals.push_back(ParseValue(v));
      lc.attribute_value_list = std::move(vals);
    }
    entries.push_back(std::move(lc));
  }
  std::shared_ptr<const expr::Condition> cond;
  CheckExpr(expr::ConditionFromLegacy(entries, op.value_or(""), "Expected", &cond));
  return cond;
}

// ConditionExpression or Expected.
void ParseCondition(const json::object& req, Expressions* e) {
  if (auto ce = GetString(req, "ConditionExpression")) {
    CheckExpr(expr::ParseCondition(*ce, "ConditionExpression", &e->placeholders, &e->condition));
  } else {
    e->condition = ParseExpected(req);
  }
}

// ProjectionExpression or AttributesToGet.
void ParseProjection(const json::object& req, Expressions* e) {
  if (auto pe = GetString(req, "ProjectionExpression")) {
    std::vector<expr::Path> paths;
    CheckExpr(expr::ParseProjection(*pe, &e->placeholders, &paths));
    e->projection = std::move(paths);
  } else if (const json::array* atg = GetArray(req, "AttributesToGet")) {
    if (atg->empty()) {
      Constraints c;
      c.Add("[]", "attributesToGet", "Member must have length greater than or equal to 1");
      c.ThrowIfAny();
    }
    std::vector<expr::Path> paths;
    std::set<std::string> seen;
    for (const auto& v : *atg) {
      std::string name = AsString(v);
      if (!seen.insert(name).second) {
        throw ValidationError(fmt::format(
            "One or more parameter values were invalid: Duplicate value in attribute name: {}",
            name));
      }
      paths.push_back({expr::PathElement{name, false, 0}});
    }
    e->projection = std::move(paths);
  }
}

TableDef LookupTable(Context& ctx, const std::string& name) {
  TableDef def;
  Status s = ctx.store->DescribeTable(name, &def);
  if (s.IsNotFound()) throw ResourceNotFound(std::string(kDataNotFound));
  Check(s);
  return def;
}

std::vector<std::string> KeyNames(const TableDef& def) {
  std::vector<std::string> k{def.partition_key.name};
  if (def.sort_key) k.push_back(def.sort_key->name);
  return k;
}

Item KeyOf(const TableDef& def, const Item& item) {
  Item key;
  for (const auto& n : KeyNames(def)) {
    if (const table::Value* v = item.Find(n)) key.Set(n, *v);
  }
  return key;
}

Item RequireKey(const json::object& req, Constraints* c) {
  auto it = req.find("Key");
  if (it == req.end() || it->value().is_null()) {
    c->Add("null", "key", "Member must not be null");
    return {};
  }
  return ParseItem(it->value(), "Key");
}

void ValidateStoredItem(const Item& item, bool update) {
  Status s = table::ValidateItem(item);
  if (s.ok()) return;
  std::string msg(s.message());
  if (msg == table::kNestingTooDeepMessage) msg = "1 validation error detected: " + msg;
  if (update && msg == table::kItemTooLargeMessage) msg = table::kUpdateItemTooLargeMessage;
  throw ValidationError(std::move(msg));
}

bool Evaluate(const expr::Condition* c, const Item* item) {
  if (c == nullptr) return true;
  bool ok = false;
  CheckExpr(expr::EvaluateCondition(*c, item, &ok));
  return ok;
}

[[noreturn]] void ThrowConditionFailed(const Common& common, const std::optional<Item>& old) {
  ApiError e = ConditionalCheckFailed();
  if (common.return_old_on_failure && old) e.extra["Item"] = ItemToJson(*old);
  throw e;
}

void AddCapacity(json::object* resp, const Common& common, double units, bool read,
                 const std::vector<IndexCapacity>& indexes = {}) {
  if (common.capacity == ReturnCapacity::kNone) return;
  (*resp)["ConsumedCapacity"] = CapacityJson(common.table, units, common.capacity, read, indexes);
}

size_t SizeOf(const std::optional<Item>& item) { return item ? table::ItemSize(*item) : 0; }

// Runs fn under TableStore::Update, letting fn throw ApiError: the error is
// carried out of the engine as a value and rethrown here.
table::UpdateResult RunUpdate(Context& ctx, const std::string& table, const Item& key,
                              const std::function<Decision(const Item*)>& fn) {
  std::optional<ApiError> error;
  table::UpdateResult r;
  Status s = ctx.store->Update(
      table, key,
      [&](const Item* old) -> Decision {
        try {
          return fn(old);
        } catch (const ApiError& e) {
          error = e;
          return Decision::NoChange();
        }
      },
      &r);
  if (error) throw *error;
  if (s.IsNotFound()) throw ResourceNotFound(std::string(kDataNotFound));
  Check(s);
  return r;
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
  if (common.return_values != "NONE" && common.return_values != "ALL_OLD") {
    throw ValidationError("ReturnValues can only be ALL_OLD or NONE");
  }
  CheckNoMixing(req, {"Expected", "ConditionalOperator"}, {"ConditionExpression"});
  Expressions e;
  ParsePlaceholderMaps(req, {"ConditionExpression"}, &e);
  ParseCondition(req, &e);
  CheckExpr(expr::CheckAllUsed(e.placeholders));

  TableDef def = LookupTable(ctx, common.table);
  Check(table::TableStore::ValidateItemKey(def, item));
  ValidateStoredItem(item, false);
  table::UpdateResult r = RunUpdate(ctx, common.table, KeyOf(def, item), [&](const Item* old) {
    if (!Evaluate(e.condition.get(), old)) return Decision::ConditionFailed();
    return Decision::Put(item);
  });
  if (r.outcome == Decision::Kind::kConditionFailed) ThrowConditionFailed(common, r.old_item);
  json::object resp;
  if (common.return_values == "ALL_OLD" && r.old_item) {
    resp["Attributes"] = ItemToJson(*r.old_item);
  }
  AddCapacity(&resp, common, WriteUnits(std::max(SizeOf(r.old_item), SizeOf(r.new_item))), false,
              IndexWriteUnits(def, r.old_item, r.new_item));
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

  TableDef def = LookupTable(ctx, common.table);
  Check(table::TableStore::ValidateKeyOnly(def, key));
  std::optional<Item> item;
  Status s = ctx.store->GetItem(common.table, key, nullptr, &item);
  if (s.IsNotFound()) throw ResourceNotFound(std::string(kDataNotFound));
  Check(s);
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
  if (common.return_values != "NONE" && common.return_values != "ALL_OLD") {
    throw ValidationError("ReturnValues can only be ALL_OLD or NONE");
  }
  CheckNoMixing(req, {"Expected", "ConditionalOperator"}, {"ConditionExpression"});
  Expressions e;
  ParsePlaceholderMaps(req, {"ConditionExpression"}, &e);
  ParseCondition(req, &e);
  CheckExpr(expr::CheckAllUsed(e.placeholders));

  TableDef def = LookupTable(ctx, common.table);
  Check(table::TableStore::ValidateKeyOnly(def, key));
  table::UpdateResult r = RunUpdate(ctx, common.table, key, [&](const Item* old) {
    if (!Evaluate(e.condition.get(), old)) return Decision::ConditionFailed();
    return old == nullptr ? Decision::NoChange() : Decision::Delete();
  });
  if (r.outcome == Decision::Kind::kConditionFailed) ThrowConditionFailed(common, r.old_item);
  json::object resp;
  if (common.return_values == "ALL_OLD" && r.old_item) {
    resp["Attributes"] = ItemToJson(*r.old_item);
  }
  AddCapacity(&resp, common, WriteUnits(SizeOf(r.old_item)), false,
              IndexWriteUnits(def, r.old_item, r.new_item));
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

  TableDef def = LookupTable(ctx, common.table);
  Check(table::TableStore::ValidateKeyOnly(def, key));
  const std::vector<std::string> key_names = KeyNames(def);
  std::vector<expr::Path> updated;
  table::UpdateResult r = RunUpdate(ctx, common.table, key, [&](const Item* old) {
    if (!Evaluate(e.condition.get(), old)) return Decision::ConditionFailed();
    Item next = old != nullptr ? *old : key;
    if (e.update) {
      Item base = next;
      updated.clear();
      CheckExpr(expr::ApplyUpdate(*e.update, &base, key_names, &next, &updated));
    }
    ValidateStoredItem(next, true);
    if (old != nullptr && next == *old) return Decision::NoChange();
    return Decision::Put(std::move(next));
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
  AddCapacity(&resp, common, WriteUnits(std::max(SizeOf(r.old_item), SizeOf(r.new_item))), false,
              IndexWriteUnits(def, r.old_item, r.new_item));
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

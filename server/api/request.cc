// Request helpers shared by the data-plane handlers (see request.h).
#include "server/api/request.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "engine/table/item_collection.h"
#include "server/api/json_value.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::Decision;
using table::TableDef;

// Throws a ValidationException for an expression-module error. The message
// may quote the request's expression or names; ValidUtf8 keeps the body valid
// UTF-8 whatever the module cut out of them.
void CheckExpr(const Status& s) {
  if (!s.ok()) throw ValidationError(ValidUtf8(s.message()));
}

Common ParseCommon(const json::object& req, Constraints* c, bool table_member) {
  Common out;
  if (table_member && (!req.contains("TableName") || req.at("TableName").is_null())) {
    c->Add("null", "tableName", "Member must not be null");
  } else {
    out.table = RequireTableName(req);
  }
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
    out.item_collection_metrics = *ricm == "SIZE";
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
      // The name a placeholder stands for obeys the attribute name limits. A
      // too long one gets the plain message (DynamoDB's observed answer to
      // SET #n = :v); an empty one is reported as an invalid value of the
      // map, in the form DynamoDB gives an invalid ExpressionAttributeValues
      // entry ("... contains invalid value: <why> for key <key>").
      Status s = expr::CheckAttributeName(v);
      if (!s.ok() && v.empty()) {
        throw ValidationError(fmt::format(
            "ExpressionAttributeNames contains invalid value: {} for key {}", s.message(), k));
      }
      CheckExpr(s);
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

std::vector<expr::LegacyCondition> ParseLegacyConditions(const json::object& conditions,
                                                         std::string_view path, Constraints* c) {
  static constexpr std::string_view kOperators[] = {
      "IN",       "NULL", "BETWEEN", "LT",          "NOT_CONTAINS", "EQ",      "GT",
      "NOT_NULL", "NE",   "LE",      "BEGINS_WITH", "GE",           "CONTAINS"};
  std::vector<expr::LegacyCondition> entries;
  for (const auto& kv : conditions) {
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
    if (c != nullptr) {
      const std::string at = fmt::format("{}.{}.member.comparisonOperator", path, lc.name);
      if (!lc.comparison_operator) {
        c->Add("null", at, "Member must not be null");
      } else if (std::find(std::begin(kOperators), std::end(kOperators), *lc.comparison_operator) ==
                 std::end(kOperators)) {
        c->Add(
            Quote(*lc.comparison_operator), at,
            fmt::format("Member must satisfy enum value set: [{}]", fmt::join(kOperators, ", ")));
      }
    }
    entries.push_back(std::move(lc));
  }
  return entries;
}

ReturnCapacity ParseReturnCapacity(const json::object& req, Constraints* c) {
  auto rcc = GetString(req, "ReturnConsumedCapacity");
  if (!rcc) return ReturnCapacity::kNone;
  if (*rcc != "INDEXES" && *rcc != "TOTAL" && *rcc != "NONE") {
    c->Add(Quote(*rcc), "returnConsumedCapacity",
           "Member must satisfy enum value set: [INDEXES, TOTAL, NONE]");
  }
  return ReturnCapacityFromName(*rcc);
}

void CheckData(const Status& s) {
  if (s.Is(Status::SubCode::kTableNotFound)) throw ResourceNotFound(std::string(kDataNotFound));
  Check(s);
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
  // An empty Expected is no condition at all; with ConditionalOperator it
  // is refused as a missing one is (DynamoDB's answer).
  if (expected == nullptr || expected->empty()) {
    if (op) {
      throw ValidationError(
          "ConditionalOperator can only be used when Filter or Expected has two or more elements");
    }
    return nullptr;
  }
  std::vector<expr::LegacyCondition> entries =
      ParseLegacyConditions(*expected, "expected", nullptr);
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
      CheckExpr(expr::CheckAttributeName(name));
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

table::TableRef LookupTable(Context& ctx, const std::string& name) {
  table::TableRef t;
  CheckData(ctx.store->Resolve(name, &t));
  return t;
}

table::ItemKey LocateKey(const table::TableHandle& t, const Item& key) {
  table::ItemKey k;
  Check(t.LocateKey(key, &k));
  return k;
}

table::ItemKey LocateItem(const table::TableHandle& t, const Item& item) {
  table::ItemKey k;
  Check(t.LocateItem(item, &k));
  return k;
}

std::vector<std::string> KeyNames(const TableDef& def) {
  std::vector<std::string> k{def.partition_key.name};
  if (def.sort_key) k.push_back(def.sort_key->name);
  return k;
}

std::vector<std::string> IndexOnlyKeyNames(const TableDef& def) {
  const std::vector<std::string> table_keys = KeyNames(def);
  std::vector<std::string> out;
  for (const table::IndexDef& ix : def.indexes) {
    for (const auto* keys : {&ix.partition_key, &ix.sort_key}) {
      for (const table::KeyAttribute& k : *keys) {
        if (std::find(table_keys.begin(), table_keys.end(), k.name) == table_keys.end() &&
            std::find(out.begin(), out.end(), k.name) == out.end()) {
          out.push_back(k.name);
        }
      }
    }
  }
  return out;
}

void CheckComputedIndexKeys(const TableDef& def, const Item& item,
                            const std::vector<std::string>& computed) {
  for (const table::IndexDef& ix : def.indexes) {
    for (const auto* keys : {&ix.partition_key, &ix.sort_key}) {
      for (const table::KeyAttribute& k : *keys) {
        const table::Value* v = item.Find(k.name);
        if (v == nullptr || v->type() == k.type ||
            std::find(computed.begin(), computed.end(), k.name) == computed.end()) {
          continue;
        }
        throw ValidationError(
            "The update expression attempted to update the secondary index key to unsupported "
            "type");
      }
    }
  }
}

// DynamoDB's order of two key values of one type: numbers by value, strings
// and binaries by unsigned bytes.
int CompareKeys(const table::Value& a, const table::Value& b) {
  if (a.type() == table::ValueType::kN) return a.n().Compare(b.n());
  return a.bytes().compare(b.bytes());
}

bool SortKeySatisfies(const table::Value& v, const table::SortKeyCondition& c) {
  const int c1 = c.op == table::SortKeyOp::kAll ? 0 : CompareKeys(v, c.a);
  switch (c.op) {
    case table::SortKeyOp::kEq:
      return c1 == 0;
    case table::SortKeyOp::kLt:
      return c1 < 0;
    case table::SortKeyOp::kLe:
      return c1 <= 0;
    case table::SortKeyOp::kGt:
      return c1 > 0;
    case table::SortKeyOp::kGe:
      return c1 >= 0;
    case table::SortKeyOp::kBetween:
      return c1 >= 0 && CompareKeys(v, *c.b) <= 0;
    case table::SortKeyOp::kBeginsWith:
      return v.bytes().starts_with(c.a.bytes());
    case table::SortKeyOp::kAll:
      return true;
  }
  return true;
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
  // DynamoDB frames the depth error as a constraint error, and words the size
  // error of an UpdateItem differently.
  if (s.Is(Status::SubCode::kNestingTooDeep)) msg = "1 validation error detected: " + msg;
  if (update && s.Is(Status::SubCode::kItemTooLarge)) msg = table::kUpdateItemTooLargeMessage;
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
                 const std::vector<IndexCapacity>& indexes) {
  if (common.capacity == ReturnCapacity::kNone) return;
  (*resp)["ConsumedCapacity"] = CapacityJson(common.table, units, common.capacity, read, indexes);
}

size_t SizeOf(const std::optional<Item>& item) { return item ? table::ItemSize(*item) : 0; }

CapacityKeys CapacityKeysOf(Context& ctx, const TableDef& def, const Item* item,
                            const table::IndexDef* index) {
  if (ctx.capacity == nullptr || item == nullptr || !ctx.capacity->WantsKeys(def.name)) return {};
  return CapacityManager::KeysOf(def, index, *item);
}

void AdmitCapacity(Context& ctx, const TableDef& def, const std::string& index, CapacityKind kind,
                   const CapacityKeys& keys) {
  if (ctx.capacity != nullptr) ctx.capacity->Admit(def, index, kind, keys);
}

void ChargeRead(Context& ctx, const TableDef& def, const std::string& index, double units,
                const CapacityKeys& keys) {
  if (ctx.capacity != nullptr) ctx.capacity->Charge(def, index, CapacityKind::kRead, units, keys);
}

void ChargeWrite(Context& ctx, const TableDef& def, const Item* old_item, const Item* new_item,
                 double factor, bool table_only) {
  if (ctx.capacity == nullptr) return;
  const size_t bytes = std::max(old_item != nullptr ? table::ItemSize(*old_item) : 0,
                                new_item != nullptr ? table::ItemSize(*new_item) : 0);
  double table_units = factor * WriteUnits(bytes);
  const Item* any = new_item != nullptr ? new_item : old_item;
  std::vector<IndexCapacity> indexes;
  if (!table_only) indexes = IndexWriteUnits(def, old_item, new_item);
  for (const IndexCapacity& ix : indexes) {
    if (!ix.global) table_units += ix.units;
  }
  ctx.capacity->Charge(def, "", CapacityKind::kWrite, table_units, CapacityKeysOf(ctx, def, any));
  for (const IndexCapacity& ix : indexes) {
    if (!ix.global || ix.units <= 0) continue;
    const table::IndexDef* d = def.FindIndex(ix.name);
    // The entry's keys: the new item's, or the removed entry's.
    const Item* keyed = new_item;
    if (d != nullptr && (keyed == nullptr || keyed->Find(d->partition_key[0].name) == nullptr)) {
      keyed = old_item;
    }
    ctx.capacity->Charge(def, ix.name, CapacityKind::kWrite, ix.units,
                         CapacityKeysOf(ctx, def, keyed, d));
  }
}

void AddWriteCapacity(json::object* resp, const Common& common, const TableDef& def,
                      const std::optional<Item>& old_item, const std::optional<Item>& new_item) {
  if (common.capacity == ReturnCapacity::kNone) return;
  AddCapacity(
      resp, common, WriteUnits(std::max(SizeOf(old_item), SizeOf(new_item))), false,
      IndexWriteUnits(def, old_item ? &*old_item : nullptr, new_item ? &*new_item : nullptr));
}

std::optional<json::object> ItemCollectionMetrics(Context& ctx, const table::TableHandle& t,
                                                  const Item& key) {
  if (!table::HasLocalIndex(t.def())) return std::nullopt;
  const std::string& pk_name = t.def().partition_key.name;
  const table::Value* pk = key.Find(pk_name);
  if (pk == nullptr) return std::nullopt;
  uint64_t bytes = 0;
  CheckData(ctx.store->ItemCollectionSize(t, *pk, &bytes));
  const std::array<double, 2> gb = table::SizeEstimateRangeGB(bytes);
  return json::object{{"ItemCollectionKey", json::object{{pk_name, ValueToJson(*pk)}}},
                      {"SizeEstimateRangeGB", json::array{gb[0], gb[1]}}};
}

void AddItemCollectionMetrics(json::object* resp, Context& ctx, const Common& common,
                              const table::TableHandle& t, const table::ItemKey& key) {
  if (!common.item_collection_metrics) return;
  if (auto m = ItemCollectionMetrics(ctx, t, key.attributes)) {
    (*resp)["ItemCollectionMetrics"] = std::move(*m);
  }
}

// Runs fn under TableStore::Update, letting fn throw ApiError: the error is
// carried out of the engine as a value and rethrown here.
table::UpdateResult RunUpdate(Context& ctx, const table::TableHandle& t, const table::ItemKey& key,
                              const std::function<Decision(const Item*)>& fn) {
  std::optional<ApiError> error;
  table::UpdateResult r;
  Status s = ctx.store->Update(
      t, key,
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
  CheckData(s);
  return r;
}

}  // namespace basalt::server::api

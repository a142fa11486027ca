// PartiQL: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction
// (the DynamoDB API Reference; the dialect in docs/partiql.md).
//
// Every statement is parsed by server/partiql into an AST and then served by
// the operations of the JSON API, so results, errors, capacity, indexes and
// streams are theirs:
//   SELECT   full-key equalities (or an IN / OR of them) -> point reads;
//            a partition key equality -> Query (the sort key condition as
//            its key condition, ORDER BY as ScanIndexForward); otherwise a
//            Scan. The whole WHERE clause filters what they return; Limit
//            and NextToken page as Query/Scan do (Limit counts items read).
//   INSERT   PutItem with attribute_not_exists(<partition key>):
//            DuplicateItemException when the item exists.
//   UPDATE   UpdateItem of the key the WHERE clause names (equality on every
//            key attribute), the whole clause as its condition; an UPDATE
//            never creates an item (ConditionalCheckFailedException).
//   DELETE   DeleteItem likewise; a DELETE of a missing item is a no-op.
//   EXISTS   (ExecuteTransaction) a ConditionCheck.
// ExecuteTransaction runs through the same transaction core as
// TransactWriteItems / TransactGetItems (transactions.h).
#include "server/partiql/partiql.h"

#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <memory>

#include "engine/base/coding.h"
#include "engine/base/utf8.h"
#include "server/api/capacity.h"
#include "server/api/errors.h"
#include "server/api/item_writes.h"
#include "server/api/json_value.h"
#include "server/api/request.h"
#include "server/api/service.h"
#include "server/api/transactions.h"

namespace basalt::server::api {

namespace json = boost::json;
using partiql::Statement;

namespace {

constexpr size_t kMaxBatchStatements = 25;
constexpr std::string_view kBadNextToken = "Given NextToken is invalid for this account";

// ---- common pieces ----

// Statement + Parameters of one request object (ExecuteStatement, or one entry
// of a batch or transaction). Constraint paths under `prefix`.
struct ParsedStatement {
  Statement stmt;
  bool consistent = false;
  bool return_old_on_failure = false;
};

void CheckStatementMembers(const json::object& req, Constraints* c, std::string* text,
                           std::vector<table::Value>* params) {
  auto statement = GetString(req, "Statement");
  if (!statement) {
    c->Add("null", "statement", "Member must not be null");
  } else if (statement->empty()) {
    c->Add("''", "statement", "Member must have length greater than or equal to 1");
  } else if (Utf8Length(*statement) > partiql::kMaxStatementLength) {
    c->Add(Quote(*statement), "statement", "Member must have length less than or equal to 8192");
  } else {
    *text = *statement;
  }
  if (const json::array* p = GetArray(req, "Parameters")) {
    if (p->empty())
      c->Add("'[]'", "parameters", "Member must have length greater than or equal to 1");
    for (const json::value& v : *p) params->push_back(ParseValue(v));
  }
  if (auto rf = GetString(req, "ReturnValuesOnConditionCheckFailure")) {
    if (*rf != "ALL_OLD" && *rf != "NONE") {
      c->Add(Quote(*rf), "returnValuesOnConditionCheckFailure",
             "Member must satisfy enum value set: [ALL_OLD, NONE]");
    }
  }
}

// Parses req's statement (constraints already checked); ValidationException
// with DynamoDB's message on a parse error.
ParsedStatement ParseStatement(const json::object& req, const std::string& text,
                               const std::vector<table::Value>& params) {
  ParsedStatement p;
  Status s = partiql::Parse(text, params, &p.stmt);
  if (!s.ok()) throw ValidationError(std::string(s.message()));
  p.consistent = GetBool(req, "ConsistentRead").value_or(false);
  p.return_old_on_failure = GetString(req, "ReturnValuesOnConditionCheckFailure") == "ALL_OLD";
  return p;
}

bool IsRead(const Statement& s) { return s.kind == Statement::Kind::kSelect && !s.exists; }

std::optional<std::string> SortKeyName(const table::TableDef& def) {
  if (!def.sort_key) return std::nullopt;
  return def.sort_key->name;
}

// The key a write (or a transaction's read) names.
Item KeyOf(const Statement& s, const table::TableDef& def) {
  Item key;
  Status st = partiql::KeyForWrite(s.where.get(), def.partition_key.name, SortKeyName(def), &key);
  if (!st.ok()) throw ValidationError(std::string(st.message()));
  return key;
}

std::shared_ptr<const expr::Condition> WhereCondition(const Statement& s) {
  std::shared_ptr<const expr::Condition> c;
  if (s.where) CheckExpr(partiql::ToCondition(*s.where, &c));
  return c;
}

// attribute_not_exists(<partition key>): INSERT's condition.
std::shared_ptr<const expr::Condition> NotExists(const std::string& pk) {
  const std::map<std::string, std::string> names{{"#k", pk}};
  expr::Placeholders p;
  p.names = &names;
  std::shared_ptr<const expr::Condition> c;
  CheckExpr(expr::ParseCondition("attribute_not_exists(#k)", "ConditionExpression", &p, &c));
  return c;
}

const char* ReturnValuesOf(Statement::Returning r) {
  switch (r) {
    case Statement::Returning::kAllOld:
      return "ALL_OLD";
    case Statement::Returning::kModifiedOld:
      return "UPDATED_OLD";
    case Statement::Returning::kAllNew:
      return "ALL_NEW";
    case Statement::Returning::kModifiedNew:
      return "UPDATED_NEW";
    case Statement::Returning::kNone:
      break;
  }
  return "NONE";
}

// A write statement as an ItemWrite (resolved and located by its runner).
std::unique_ptr<ItemWrite> MakeWrite(Context& ctx, const ParsedStatement& p,
                                     ReturnCapacity capacity) {
  const Statement& s = p.stmt;
  if (s.index) throw ValidationError("Index is not supported for write statements");
  ItemWrite::Parts parts;
  parts.common.table = s.table;
  parts.common.capacity = capacity;
  parts.common.return_values = ReturnValuesOf(s.returning);
  parts.common.return_old_on_failure = p.return_old_on_failure;
  parts.partiql = true;
  const table::TableRef t = LookupTable(ctx, s.table);
  switch (s.kind) {
    case Statement::Kind::kInsert:
      parts.kind = ItemWrite::Kind::kPut;
      parts.payload = s.item;
      parts.condition = NotExists(t->def().partition_key.name);
      break;
    case Statement::Kind::kUpdate:
      parts.kind = ItemWrite::Kind::kUpdate;
      parts.payload = KeyOf(s, t->def());
      parts.condition = WhereCondition(s);
      parts.update = s.update;
      break;
    case Statement::Kind::kDelete:
      parts.kind = ItemWrite::Kind::kDelete;
      parts.payload = KeyOf(s, t->def());
      parts.condition = WhereCondition(s);
      break;
    case Statement::Kind::kSelect:  // EXISTS(SELECT ...)
      parts.kind = ItemWrite::Kind::kConditionCheck;
      parts.payload = KeyOf(s, t->def());
      parts.condition = WhereCondition(s);
      break;
  }
  return std::make_unique<ItemWrite>(std::move(parts));
}

// ---- SELECT ----

// NextToken: the LastEvaluatedKey of the page, as its JSON text in hex (an
// opaque token to clients).
std::string EncodeNextToken(const json::value& last) {
  const std::string text = json::serialize(last);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

json::value DecodeNextToken(const std::string& token) {
  if (token.size() % 2 != 0) throw ValidationError(std::string(kBadNextToken));
  std::string text;
  for (size_t i = 0; i < token.size(); i += 2) {
    auto nibble = [&](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      throw ValidationError(std::string(kBadNextToken));
    };
    text.push_back(static_cast<char>(nibble(token[i]) << 4 | nibble(token[i + 1])));
  }
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) throw ValidationError(std::string(kBadNextToken));
  return v;
}

json::object ValuesJson(const std::vector<std::pair<std::string, table::Value>>& values) {
  json::object o;
  for (const auto& [k, v] : values) o[k] = ValueToJson(v);
  return o;
}

// The key condition expression of a Query on partition key `pk` with sort
// key condition `sort` (placeholders #p, #s, :p, :a, :b).
void AddKeyCondition(const std::string& pk, const std::optional<std::string>& sk,
                     const table::Value& pk_value, const table::SortKeyCondition& sort,
                     json::object* req) {
  std::string text = "#p = :p";
  json::object names{{"#p", pk}};
  std::vector<std::pair<std::string, table::Value>> values{{":p", pk_value}};
  if (sk && sort.op != table::SortKeyOp::kAll) {
    names["#s"] = *sk;
    values.emplace_back(":a", sort.a);
    switch (sort.op) {
      case table::SortKeyOp::kEq:
        text += " AND #s = :a";
        break;
      case table::SortKeyOp::kLt:
        text += " AND #s < :a";
        break;
      case table::SortKeyOp::kLe:
        text += " AND #s <= :a";
        break;
      case table::SortKeyOp::kGt:
        text += " AND #s > :a";
        break;
      case table::SortKeyOp::kGe:
        text += " AND #s >= :a";
        break;
      case table::SortKeyOp::kBetween:
        text += " AND #s BETWEEN :a AND :b";
        values.emplace_back(":b", *sort.b);
        break;
      case table::SortKeyOp::kBeginsWith:
        text += " AND begins_with(#s, :a)";
        break;
      case table::SortKeyOp::kAll:
        break;
    }
  }
  (*req)["KeyConditionExpression"] = text;
  (*req)["ExpressionAttributeNames"] = std::move(names);
  (*req)["ExpressionAttributeValues"] = ValuesJson(values);
}

// Filters and projects the items a Query/Scan/point read returned.
void AddItems(const ParsedStatement& p, const expr::Condition* where, const json::array& items,
              json::array* out) {
  for (const json::value& v : items) {
    const Item item = ParseItem(v, "Item");
    if (!Evaluate(where, &item)) continue;
    const Item shown = p.stmt.select_all ? item : expr::Project(item, p.stmt.projection);
    out->push_back(ItemToJson(shown));
  }
}

json::object Select(Context& ctx, const ParsedStatement& p, const json::object& req,
                    ReturnCapacity capacity) {
  const Statement& s = p.stmt;
  const table::TableRef t = LookupTable(ctx, s.table);
  const table::TableDef& def = t->def();
  const table::IndexDef* ix = nullptr;
  if (s.index) {
    ix = def.FindIndex(*s.index);
    if (ix == nullptr) throw ValidationError("The table does not have the specified index");
  }
  const std::string pk = ix ? ix->partition_key[0].name : def.partition_key.name;
  std::optional<std::string> sk;
  if (ix && !ix->sort_key.empty()) sk = ix->sort_key[0].name;
  if (!ix) sk = SortKeyName(def);
  const std::shared_ptr<const expr::Condition> where = WhereCondition(s);
  partiql::KeyPlan plan;
  if (s.where) CheckExpr(partiql::PlanKeys(*s.where, pk, sk, &plan));
  // An index with a multi-attribute key is read by Query only on its first
  // key attributes' plan; anything else scans it.
  if (ix && (ix->partition_key.size() > 1 || ix->sort_key.size() > 1) &&
      plan.kind != partiql::KeyPlan::Kind::kScan) {
    plan = partiql::KeyPlan();
  }
  if (ix && plan.kind == partiql::KeyPlan::Kind::kKeys) {
    // Index keys are not unique: read them by Query when one partition key
    // value is named, else scan.
    bool one_pk = !plan.keys.empty();
    for (const Item& k : plan.keys) one_pk = one_pk && *k.Find(pk) == *plan.keys[0].Find(pk);
    if (one_pk) {
      const table::Value v = *plan.keys[0].Find(pk);
      plan = partiql::KeyPlan();
      plan.kind = partiql::KeyPlan::Kind::kQuery;
      plan.pk = v;
    } else {
      plan = partiql::KeyPlan();
    }
  }
  if (s.order_by) {
    const bool on_sort_key = sk && s.order_by->size() == 1 && (*s.order_by)[0].name == *sk;
    if (plan.kind != partiql::KeyPlan::Kind::kQuery || !on_sort_key) {
      throw ValidationError(
          "ORDER BY is supported only on the sort key of a statement whose WHERE clause has an "
          "equality on the partition key");
    }
  }
  json::object resp;
  json::array items;
  if (plan.kind == partiql::KeyPlan::Kind::kKeys) {
    double units = 0;
    AdmitCapacity(ctx, def, "", CapacityKind::kRead,
                  plan.keys.size() == 1 ? CapacityKeysOf(ctx, def, &plan.keys[0]) : CapacityKeys());
    for (const Item& key : plan.keys) {
      table::ItemKey located;
      if (!t->LocateKey(key, &located).ok()) continue;  // a value of another type matches nothing
      std::optional<Item> item;
      CheckData(ctx.store->GetItem(*t, located, nullptr, &item));
      const double item_units = ReadUnits(SizeOf(item), p.consistent);
      units += item_units;
      ChargeRead(ctx, def, "", item_units, CapacityKeysOf(ctx, def, &key));
      if (!item || !Evaluate(where.get(), &*item)) continue;
      items.push_back(ItemToJson(s.select_all ? *item : expr::Project(*item, s.projection)));
    }
    resp["Items"] = std::move(items);
    Common common;
    common.table = s.table;
    common.capacity = capacity;
    AddCapacity(&resp, common, units, true);
    return resp;
  }
  json::object r{{"TableName", s.table}, {"ConsistentRead", p.consistent}};
  if (s.index) r["IndexName"] = *s.index;
  if (capacity != ReturnCapacity::kNone) {
    r["ReturnConsumedCapacity"] = capacity == ReturnCapacity::kIndexes ? "INDEXES" : "TOTAL";
  }
  if (auto limit = GetInt(req, "Limit")) r["Limit"] = *limit;
  if (auto token = GetString(req, "NextToken")) r["ExclusiveStartKey"] = DecodeNextToken(*token);
  json::object page;
  if (plan.kind == partiql::KeyPlan::Kind::kQuery) {
    AddKeyCondition(pk, sk, plan.pk, plan.sort, &r);
    if (s.order_by && s.order_desc) r["ScanIndexForward"] = false;
    page = QueryOperation(ctx, r);
  } else {
    page = ScanOperation(ctx, r);
  }
  AddItems(p, where.get(), page["Items"].as_array(), &items);
  resp["Items"] = std::move(items);
  if (auto* last = page.if_contains("LastEvaluatedKey")) {
    resp["NextToken"] = EncodeNextToken(*last);
    resp["LastEvaluatedKey"] = *last;
  }
  if (auto* cc = page.if_contains("ConsumedCapacity")) resp["ConsumedCapacity"] = *cc;
  return resp;
}

// ---- writes ----

// Runs one write statement; DuplicateItemException for an INSERT of an
// existing item.
json::object Write(Context& ctx, const ParsedStatement& p, ReturnCapacity capacity) {
  std::unique_ptr<ItemWrite> w = MakeWrite(ctx, p, capacity);
  w->Resolve(ctx);
  w->Locate();
  json::object single;
  try {
    single = RunSingleWrite(ctx, *w);
  } catch (const ApiError& e) {
    if (p.stmt.kind == Statement::Kind::kInsert && e.type == "ConditionalCheckFailedException") {
      throw DynamoError("DuplicateItemException", "Duplicate primary key exists in table");
    }
    throw;
  }
  json::object resp;
  json::array items;
  if (auto* attrs = single.if_contains("Attributes")) items.push_back(*attrs);
  resp["Items"] = std::move(items);
  if (auto* cc = single.if_contains("ConsumedCapacity")) resp["ConsumedCapacity"] = *cc;
  return resp;
}

json::object Execute(Context& ctx, const ParsedStatement& p, const json::object& req,
                     ReturnCapacity capacity) {
  if (p.stmt.exists) {
    throw ValidationError("EXISTS can only be used in ExecuteTransaction write requests.");
  }
  return IsRead(p.stmt) ? Select(ctx, p, req, capacity) : Write(ctx, p, capacity);
}

// ---- operations ----

json::object ExecuteStatement(Context& ctx, const json::object& req) {
  Constraints c;
  std::string text;
  std::vector<table::Value> params;
  CheckStatementMembers(req, &c, &text, &params);
  const ReturnCapacity capacity = ParseReturnCapacity(req, &c);
  if (auto limit = GetInt(req, "Limit"); limit && *limit < 1) {
    c.Add(Quote(std::to_string(*limit)), "limit",
          "Member must have value greater than or equal to 1");
  }
  c.ThrowIfAny();
  const ParsedStatement p = ParseStatement(req, text, params);
  return Execute(ctx, p, req, capacity);
}

// One entry of BatchExecuteStatement's Responses for an error.
json::object BatchError(const ApiError& e, const std::string& table, bool ran) {
  static const std::map<std::string, std::string, std::less<>> kCodes = {
      {"ConditionalCheckFailedException", "ConditionalCheckFailed"},
      {"DuplicateItemException", "DuplicateItem"},
      {"ValidationException", "ValidationError"},
      {"ResourceNotFoundException", "ResourceNotFound"},
      {"TransactionConflictException", "TransactionConflict"},
      {"ItemCollectionSizeLimitExceededException", "ItemCollectionSizeLimitExceeded"},
      {"ProvisionedThroughputExceededException", "ProvisionedThroughputExceeded"},
      {"ThrottlingException", "ThrottlingError"}};
  auto it = kCodes.find(e.type);
  json::object out{
      {"Error", json::object{{"Code", it != kCodes.end() ? it->second : "InternalServerError"},
                             {"Message", e.message}}}};
  // DynamoDB names the table of a statement that ran and failed, not of
  // one refused by validation.
  if (ran && e.type != "ValidationException") out["TableName"] = table;
  return out;
}

json::object BatchExecuteStatement(Context& ctx, const json::object& req) {
  Constraints c;
  const ReturnCapacity capacity = ParseReturnCapacity(req, &c);
  const json::array* list = GetArray(req, "Statements");
  if (list == nullptr) {
    c.Add("null", "statements", "Member must not be null");
  } else if (list->empty()) {
    c.Add("'[]'", "statements", "Member must have length greater than or equal to 1");
  } else if (list->size() > kMaxBatchStatements) {
    c.AddRaw(fmt::format(
        "Value at 'statements' failed to satisfy constraint: Member must have length less than "
        "or equal to {}",
        kMaxBatchStatements));
  }
  std::vector<std::string> texts;
  std::vector<std::vector<table::Value>> params;
  if (list != nullptr) {
    for (size_t i = 0; i < list->size(); i++) {
      Constraints sc(fmt::format("statements.{}.member.", i + 1));
      texts.emplace_back();
      params.emplace_back();
      CheckStatementMembers(AsObject((*list)[i]), &sc, &texts.back(), &params.back());
      sc.ThrowIfAny();
    }
  }
  c.ThrowIfAny();

  const size_t n = list->size();
  std::vector<std::optional<ParsedStatement>> parsed(n);
  std::vector<std::optional<ApiError>> errors(n);
  bool reads = false, writes = false;
  for (size_t i = 0; i < n; i++) {
    try {
      parsed[i] = ParseStatement((*list)[i].as_object(), texts[i], params[i]);
      (IsRead(parsed[i]->stmt) ? reads : writes) = true;
    } catch (const ApiError& e) {
      errors[i] = e;
    }
  }
  if (reads && writes) {
    throw ValidationError("Read and write requests together in the same batch is not supported.");
  }
  json::array responses;
  std::vector<TableUnits> units;
  auto charge = [&](const json::object& resp) {
    const json::value* cc = resp.if_contains("ConsumedCapacity");
    if (cc == nullptr || !cc->is_object()) return;
    const std::string table(cc->as_object().at("TableName").as_string());
    const double u = cc->as_object().at("CapacityUnits").to_number<double>();
    for (TableUnits& t : units) {
      if (t.table == table) {
        t.units += u;
        return;
      }
    }
    units.push_back({table, u, {}});
  };
  for (size_t i = 0; i < n; i++) {
    if (errors[i]) {
      responses.push_back(BatchError(*errors[i], "", false));
      continue;
    }
    const ParsedStatement& p = *parsed[i];
    const Statement& s = p.stmt;
    try {
      if (s.exists) {
        throw ValidationError("EXISTS can only be used in ExecuteTransaction write requests.");
      }
      if (IsRead(s)) {
        // A point read: the full key, on the table.
        const table::TableRef t = LookupTable(ctx, s.table);
        Item key;
        if (s.index || !partiql::KeyForWrite(s.where.get(), t->def().partition_key.name,
                                             SortKeyName(t->def()), &key)
                            .ok()) {
          throw ValidationError(
              "Select statements within BatchExecuteStatement must specify the primary key in "
              "the where clause.");
        }
        const json::object r = Select(ctx, p, json::object(), capacity);
        charge(r);
        json::object entry{{"TableName", s.table}};
        const json::array& items = r.at("Items").as_array();
        if (!items.empty()) entry["Item"] = items[0];
        responses.push_back(std::move(entry));
      } else {
        const json::object r = Write(ctx, p, capacity);
        charge(r);
        responses.push_back(json::object{{"TableName", s.table}});
      }
    } catch (const ApiError& e) {
      responses.push_back(BatchError(e, s.table, true));
    }
  }
  json::object resp{{"Responses", std::move(responses)}};
  AddCapacityList(&resp, capacity, units, reads);
  return resp;
}

json::object ExecuteTransaction(Context& ctx, const json::object& req) {
  Constraints c;
  TransactionOptions options;
  options.token = ParseClientToken(req, &c);
  options.capacity = ParseReturnCapacity(req, &c);
  const json::array& list = RequireActionList(req, "TransactStatements", "transactStatements", &c);
  std::vector<std::string> texts(list.size());
  std::vector<std::vector<table::Value>> params(list.size());
  for (size_t i = 0; i < list.size(); i++) {
    Constraints sc(fmt::format("transactStatements.{}.member.", i + 1));
    CheckStatementMembers(list[i].as_object(), &sc, &texts[i], &params[i]);
    sc.ThrowIfAny();
  }
  c.ThrowIfAny();

  const size_t n = list.size();
  std::vector<ParsedStatement> parsed;
  bool reads = false, writes = false;
  for (size_t i = 0; i < n; i++) {
    parsed.push_back(ParseStatement(list[i].as_object(), texts[i], params[i]));
    const Statement& s = parsed.back().stmt;
    if (s.returning != Statement::Returning::kNone) {
      throw ValidationError(fmt::format(
          "Validation failed in TransactStatements[{}]: RETURNING clause is not supported in "
          "ExecuteTransaction.",
          i));
    }
    if (IsRead(s) && s.index) {
      throw ValidationError(fmt::format(
          "Validation failed in TransactStatements[{}]: Reads on indices are not supported within "
          "transactions.",
          i));
    }
    if (IsRead(s)) {
      reads = true;
    } else if (!s.exists) {
      writes = true;
    }
  }
  if (reads && writes) {
    throw ValidationError(
        "ExecuteTransaction API does not support both read and write operations in the same "
        "request.");
  }
  json::object resp;
  if (reads) {
    for (const ParsedStatement& p : parsed) {
      if (p.stmt.exists) {
        throw ValidationError("EXISTS can only be used in ExecuteTransaction write requests.");
      }
    }
    std::vector<TransactionRead> keys;
    std::vector<std::shared_ptr<const expr::Condition>> wheres;
    for (const ParsedStatement& p : parsed) {
      const table::TableRef t = LookupTable(ctx, p.stmt.table);
      Item key;
      if (!partiql::KeyForWrite(p.stmt.where.get(), t->def().partition_key.name,
                                SortKeyName(t->def()), &key)
               .ok()) {
        throw ValidationError(
            "Select statements within ExecuteTransaction must specify the primary key in the "
            "where clause.");
      }
      keys.push_back({t, std::move(key)});
      wheres.push_back(WhereCondition(p.stmt));
    }
    const std::vector<std::optional<Item>> found = RunReadTransaction(ctx, keys);
    json::array responses;
    for (size_t i = 0; i < n; i++) {
      json::object r;
      if (found[i] && Evaluate(wheres[i].get(), &*found[i])) {
        const Statement& s = parsed[i].stmt;
        r["Item"] = ItemToJson(s.select_all ? *found[i] : expr::Project(*found[i], s.projection));
      }
      responses.push_back(std::move(r));
    }
    resp["Responses"] = std::move(responses);
    AddReadTransactionCapacity(&resp, options.capacity, keys, found);
    return resp;
  }
  std::vector<TransactionAction> actions(n);
  for (size_t i = 0; i < n; i++) {
    actions[i].write = MakeWrite(ctx, parsed[i], options.capacity);
    if (parsed[i].stmt.kind == Statement::Kind::kInsert) {
      actions[i].failure_code = "DuplicateItem";
      actions[i].failure_message = "Duplicate primary key exists in table";
    }
  }
  if (options.token) options.fingerprint = RequestFingerprint(list);
  resp = RunWriteTransaction(ctx, actions, options);
  resp["Responses"] = json::array();
  return resp;
}

}  // namespace

void RegisterPartiqlOperations(std::map<std::string, Operation, std::less<>>* ops) {
  (*ops)["ExecuteStatement"] = ExecuteStatement;
  (*ops)["BatchExecuteStatement"] = BatchExecuteStatement;
  (*ops)["ExecuteTransaction"] = ExecuteTransaction;
}

}  // namespace basalt::server::api

// Transactions: TransactWriteItems and TransactGetItems (the DynamoDB API
// Reference; behaviour as DynamoDB answers, see docs/transactions.md).
//
// TransactWriteItems, in DynamoDB's order:
//   1. constraints of the request (TransactItems 1..100, ClientRequestToken
//      1..36 characters, enums) and of every action, aggregated;
//   2. every action's expressions (a ValidationException for the request);
//   3. the 4 MB request payload limit;
//   4. the tables (ResourceNotFoundException);
//   5. two actions on one item: ValidationException;
//   6. each action's key and item against its table: the first failure
//      cancels the transaction with reason ValidationError, every other
//      action reported None (an empty key value or an oversized Put item is
//      a ValidationException for the request instead, as DynamoDB);
//   7. the client token (idempotency), then ONE commit through the table
//      layer (TableStore::TransactWrite): every condition is evaluated and
//      every failure reported (ConditionalCheckFailed, with the item when
//      ReturnValuesOnConditionCheckFailure is ALL_OLD; ValidationError for an
//      update's run-time error), or everything is written in one batch.
// TransactGetItems reads every item from one snapshot.
#include "server/api/transactions.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <memory>
#include <unordered_set>

#include "engine/base/coding.h"
#include "engine/table/index_key.h"
#include "server/api/capacity.h"
#include "server/api/errors.h"
#include "server/api/item_writes.h"
#include "server/api/json_value.h"
#include "server/api/request.h"
#include "server/api/service.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::Decision;

namespace {

// DynamoDB's limit on a transaction's request payload (TransactWriteItems).
constexpr size_t kMaxTransactionPayload = size_t{4} << 20;
// TransactGetItems: the items read may not exceed 4 MB together.
constexpr size_t kMaxTransactionResponse = size_t{4} << 20;

// One cancellation reason of TransactionCanceledException.
struct Reason {
  std::string code = "None";
  std::string message;
  std::optional<Item> item;
};

[[noreturn]] void ThrowCancelled(const std::vector<Reason>& reasons) {
  std::vector<std::string_view> codes;
  json::array list;
  for (const Reason& r : reasons) {
    codes.push_back(r.code);
    json::object o{{"Code", r.code}};
    if (!r.message.empty()) o["Message"] = r.message;
    if (r.item) o["Item"] = ItemToJson(*r.item);
    list.push_back(std::move(o));
  }
  ApiError e = DynamoError(
      "TransactionCanceledException",
      fmt::format(
          "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
          fmt::join(codes, ", ")));
  e.capital_message = true;
  e.extra["CancellationReasons"] = std::move(list);
  throw e;
}

// Cancels with `code` for the actions in `at` and None for the others.
[[noreturn]] void ThrowCancelledAt(size_t n, const std::vector<size_t>& at, const char* code,
                                   const std::string& message) {
  std::vector<Reason> reasons(n);
  for (size_t i : at) reasons[i] = {code, message, std::nullopt};
  ThrowCancelled(reasons);
}

// Keys of one table and item, for the duplicate check.
struct TargetKey {
  uint64_t table_id;
  Item key;
  bool operator==(const TargetKey&) const = default;
};

// The key as bytes that are equal exactly when the keys are (numbers by
// value); nullopt when a key value is not S, N or B (compared with == then).
std::optional<std::string> CanonicalKey(const TargetKey& k) {
  std::string out;
  PutFixed64(&out, k.table_id);
  for (const auto& [name, v] : k.key) {
    PutFixed32(&out, static_cast<uint32_t>(name.size()));
    out += name;
    out.push_back(static_cast<char>(v.type()));
    std::string bytes;
    switch (v.type()) {
      case table::ValueType::kS:
        bytes = v.s();
        break;
      case table::ValueType::kB:
        bytes = v.b();
        break;
      case table::ValueType::kN:
        v.n().EncodeOrdered(&bytes);
        break;
      default:
        return std::nullopt;
    }
    PutFixed32(&out, static_cast<uint32_t>(bytes.size()));
    out += bytes;
  }
  return out;
}

void CheckNoDuplicates(const std::vector<TargetKey>& keys) {
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < keys.size(); i++) {
    bool duplicate = false;
    if (std::optional<std::string> c = CanonicalKey(keys[i])) {
      duplicate = !seen.insert(std::move(*c)).second;
    } else {
      for (size_t j = 0; j < i && !duplicate; j++) duplicate = keys[i] == keys[j];
    }
    if (duplicate) {
      throw ValidationError("Transaction request cannot include multiple operations on one item");
    }
  }
}

// Whether the key (of a Put item: also the index keys) holds an empty string
// or binary: DynamoDB rejects the whole request then, not the action.
bool HasEmptyKeyValue(const table::TableDef& def, const Item& payload, bool with_indexes) {
  auto empty = [&](const std::string& name) {
    const table::Value* v = payload.Find(name);
    return v != nullptr && ((v->type() == table::ValueType::kS && v->s().empty()) ||
                            (v->type() == table::ValueType::kB && v->b().empty()));
  };
  for (const table::KeyAttribute* a : def.KeyAttributes()) {
    if (empty(a->name)) return true;
  }
  if (!with_indexes) return false;
  for (const std::string& name : IndexOnlyKeyNames(def)) {
    if (empty(name)) return true;
  }
  return false;
}

// Locates every action; the first ValidationException cancels the
// transaction with reason ValidationError for that action (None for the
// others). `locate(i)` locates action i (throwing ApiError).
template <typename Locate>
void LocateAll(size_t n, Locate&& locate) {
  for (size_t i = 0; i < n; i++) {
    try {
      locate(i);
    } catch (const ApiError& e) {
      if (e.type != "ValidationException") throw;
      std::vector<Reason> reasons(n);
      reasons[i] = {"ValidationError", e.message, std::nullopt};
      ThrowCancelled(reasons);
    }
  }
}

// Transactional capacity entries also carry ReadCapacityUnits or
// WriteCapacityUnits at the top level (DynamoDB's TransactWriteItems and
// TransactGetItems responses).
void MirrorUnits(json::object* resp, bool read) {
  auto it = resp->find("ConsumedCapacity");
  if (it == resp->end()) return;
  for (json::value& v : it->value().as_array()) {
    json::object& o = v.as_object();
    o[read ? "ReadCapacityUnits" : "WriteCapacityUnits"] = o["CapacityUnits"];
  }
}

// The index of each action's table in `units`, adding tables in request order.
size_t TableSlot(std::vector<TableUnits>* units, const std::string& table) {
  for (size_t i = 0; i < units->size(); i++) {
    if ((*units)[i].table == table) return i;
  }
  units->push_back({table, 0, {}});
  return units->size() - 1;
}

}  // namespace

std::string RequestFingerprint(const json::array& items) {
  const std::string text = json::serialize(items);
  const XXH128_hash_t h = XXH3_128bits(text.data(), text.size());
  std::string out(16, '\0');
  for (int i = 0; i < 8; i++) {
    out[i] = static_cast<char>(h.low64 >> (8 * i));
    out[8 + i] = static_cast<char>(h.high64 >> (8 * i));
  }
  return out;
}

namespace {

// ---- TransactWriteItems ----

ItemWrite::Kind ActionKind(const json::object& item, size_t index, const json::object** body) {
  static const std::pair<const char*, ItemWrite::Kind> kKinds[] = {
      {"ConditionCheck", ItemWrite::Kind::kConditionCheck},
      {"Put", ItemWrite::Kind::kPut},
      {"Delete", ItemWrite::Kind::kDelete},
      {"Update", ItemWrite::Kind::kUpdate}};
  int found = 0;
  ItemWrite::Kind kind = ItemWrite::Kind::kPut;
  for (const auto& [name, k] : kKinds) {
    if (const json::object* o = GetObject(item, name)) {
      found++;
      kind = k;
      *body = o;
    }
  }
  if (found > 1) {
    throw ValidationError("TransactItems can only contain one of Check, Put, Update or Delete");
  }
  if (found == 0) {
    throw ValidationError(fmt::format(
        "Invalid Request: TransactWriteRequest should contain Delete or Put or Update request "
        "(TransactItems[{}])",
        index));
  }
  return kind;
}

const char* MemberName(ItemWrite::Kind kind) {
  switch (kind) {
    case ItemWrite::Kind::kPut:
      return "put";
    case ItemWrite::Kind::kUpdate:
      return "update";
    case ItemWrite::Kind::kDelete:
      return "delete";
    case ItemWrite::Kind::kConditionCheck:
      break;
  }
  return "conditionCheck";
}

json::object TransactWriteItems(Context& ctx, const json::object& req) {
  Constraints c;
  TransactionOptions options;
  // DynamoDB lists the token's violation before the enums' (observed).
  options.token = ParseClientToken(req, &c);
  options.capacity = ParseReturnCapacity(req, &c);
  if (auto ricm = GetString(req, "ReturnItemCollectionMetrics")) {
    if (*ricm != "SIZE" && *ricm != "NONE") {
      c.Add(Quote(*ricm), "returnItemCollectionMetrics",
            "Member must satisfy enum value set: [SIZE, NONE]");
    }
    options.collection_metrics = *ricm == "SIZE";
  }
  const json::array& items = RequireActionList(req, "TransactItems", "transactItems", &c);
  c.ThrowIfAny();

  std::vector<TransactionAction> actions(items.size());
  for (size_t i = 0; i < items.size(); i++) {
    const json::object* body = nullptr;
    const ItemWrite::Kind kind = ActionKind(items[i].as_object(), i, &body);
    ItemWrite::Source source{true,
                             fmt::format("transactItems.{}.member.{}.", i + 1, MemberName(kind))};
    actions[i].write = std::make_unique<ItemWrite>(kind, *body, source);
  }
  if (options.token) options.fingerprint = RequestFingerprint(items);
  return RunWriteTransaction(ctx, actions, options);
}

// ---- TransactGetItems ----

json::object TransactGetItems(Context& ctx, const json::object& req) {
  Constraints c;
  const ReturnCapacity mode = ParseReturnCapacity(req, &c);
  const json::array& items = RequireActionList(req, "TransactItems", "transactItems", &c);
  c.ThrowIfAny();
  const size_t n = items.size();
  struct Get {
    Common common;
    Item key;
    Expressions e;
  };
  std::vector<std::unique_ptr<Get>> gets;
  for (size_t i = 0; i < n; i++) {
    const json::object* body = GetObject(items[i].as_object(), "Get");
    if (body == nullptr) {
      Constraints gc;
      gc.Add("null", fmt::format("transactItems.{}.member.get", i + 1), "Member must not be null");
      gc.ThrowIfAny();
    }
    auto g = std::make_unique<Get>();
    Constraints gc(fmt::format("transactItems.{}.member.get.", i + 1));
    g->common = ParseCommon(*body, &gc, true);
    g->key = RequireKey(*body, &gc);
    gc.ThrowIfAny();
    ParsePlaceholderMaps(*body, {"ProjectionExpression"}, &g->e);
    ParseProjection(*body, &g->e);
    CheckExpr(expr::CheckAllUsed(g->e.placeholders));
    gets.push_back(std::move(g));
  }
  std::vector<TransactionRead> reads;
  for (const auto& g : gets) reads.push_back({LookupTable(ctx, g->common.table), g->key});
  const std::vector<std::optional<Item>> found = RunReadTransaction(ctx, reads);
  json::object resp;
  json::array responses;
  for (size_t i = 0; i < n; i++) {
    json::object r;
    if (found[i]) {
      Item out =
          gets[i]->e.projection ? expr::Project(*found[i], *gets[i]->e.projection) : *found[i];
      if (!out.empty()) r["Item"] = ItemToJson(out);
    }
    responses.push_back(std::move(r));
  }
  resp["Responses"] = std::move(responses);
  AddReadTransactionCapacity(&resp, mode, reads, found);
  return resp;
}

}  // namespace

// ---- the shared core (transactions.h) ----

std::optional<std::string> ParseClientToken(const json::object& req, Constraints* c) {
  std::optional<std::string> token = GetString(req, "ClientRequestToken");
  if (token && token->empty()) {
    c->Add("''", "clientRequestToken", "Member must have length greater than or equal to 1");
  } else if (token && token->size() > 36) {
    c->Add(Quote(*token), "clientRequestToken", "Member must have length less than or equal to 36");
  }
  return token;
}

const json::array& RequireActionList(const json::object& req, const char* member, const char* path,
                                     Constraints* c) {
  static const json::array kEmpty;
  const json::array* items = GetArray(req, member);
  if (items == nullptr) {
    c->Add("null", path, "Member must not be null");
    return kEmpty;
  }
  if (items->empty()) {
    c->Add("'[]'", path, "Member must have length greater than or equal to 1");
  } else if (items->size() > table::kMaxTransactionActions) {
    // DynamoDB's older wording echoes every item here (a Java dump); its
    // newer one (rolled out since 2026-10) names the member as sent and leaves
    // the value out, as this does.
    c->AddRaw(fmt::format(
        "Value at '{}' failed to satisfy constraint: Member must have length less than or "
        "equal to {}",
        member, table::kMaxTransactionActions));
  }
  for (const json::value& v : *items) AsObject(v);  // SerializationException otherwise
  return *items;
}

json::object RunWriteTransaction(Context& ctx, std::vector<TransactionAction>& actions,
                                 const TransactionOptions& options) {
  const size_t n = actions.size();
  size_t payload = 0;
  for (const TransactionAction& a : actions) payload += table::ItemSize(a.write->payload());
  if (payload > kMaxTransactionPayload) {
    throw ValidationError(
        fmt::format("Transaction payload size cannot exceed 4MB. Payload Size: {}", payload));
  }
  std::vector<TargetKey> targets;
  for (TransactionAction& a : actions) {
    a.write->Resolve(ctx);
    targets.push_back({a.write->table()->id(), a.write->RequestKey()});
  }
  CheckNoDuplicates(targets);
  for (TransactionAction& a : actions) {
    const ItemWrite& w = *a.write;
    const bool put = w.kind() == ItemWrite::Kind::kPut;
    if (HasEmptyKeyValue(w.table()->def(), w.payload(), put)) a.write->Locate();
    if (put) ValidateStoredItem(w.payload(), false);
  }
  LocateAll(n, [&](size_t i) { actions[i].write->Locate(); });
  // Capacity (throttle.h): every action's table (and its GSIs) must have write
  // capacity left, else the whole transaction is refused.
  for (const TransactionAction& a : actions) {
    if (ctx.capacity == nullptr) break;
    const Item key = a.write->RequestKey();
    const table::TableDef& def = a.write->table()->def();
    AdmitCapacity(ctx, def, "", CapacityKind::kWrite, CapacityKeysOf(ctx, def, &key));
  }

  table::TxnRequest txn;
  txn.actions.reserve(n);
  for (TransactionAction& a : actions) {
    ItemWrite* w = a.write.get();
    std::optional<ApiError>* error = &a.error;
    txn.actions.push_back({w->table(), w->key(), [w, error](const Item* old) -> Decision {
                             try {
                               return w->Decide(old);
                             } catch (const ApiError& e) {
                               *error = e;
                               return Decision::ConditionFailed();
                             }
                           }});
  }
  if (options.token) {
    txn.client_token = *options.token;
    txn.fingerprint = options.fingerprint;
  }
  table::TxnResult r;
  Status s = ctx.store->TransactWrite(txn, &r);
  if (s.Is(Status::SubCode::kTransactionConflict)) {
    ThrowCancelledAt(n, r.conflicts, "TransactionConflict", "Transaction is ongoing for the item");
  }
  if (s.Is(Status::SubCode::kTransactionInProgress)) {
    ApiError e =
        DynamoError("TransactionInProgressException",
                    "The transaction with the given request token is already in progress.");
    e.capital_message = true;
    throw e;
  }
  if (s.Is(Status::SubCode::kIdempotentMismatch)) {
    ApiError e = DynamoError("IdempotentParameterMismatchException",
                             "Specified idempotent token was used with different request "
                             "parameters within the idempotency window");
    e.capital_message = true;
    throw e;
  }
  if (!s.ok() && r.failed_action && s.IsInvalidArgument()) {
    const bool collection = s.Is(Status::SubCode::kItemCollectionTooLarge);
    ThrowCancelledAt(
        n, {*r.failed_action}, collection ? "ItemCollectionSizeLimitExceeded" : "ValidationError",
        collection ? std::string("Collection size exceeded.") : std::string(s.message()));
  }
  CheckData(s);
  if (!r.replayed && !r.committed) {
    std::vector<Reason> reasons(n);
    for (size_t i = 0; i < n; i++) {
      if (actions[i].error) {
        reasons[i] = {"ValidationError", actions[i].error->message, std::nullopt};
      } else if (r.outcomes[i] == Decision::Kind::kConditionFailed) {
        reasons[i] = {actions[i].failure_code, actions[i].failure_message, std::nullopt};
        if (actions[i].write->common().return_old_on_failure) reasons[i].item = r.old_items[i];
      }
    }
    ThrowCancelled(reasons);
  }

  if (!r.replayed) {
    // Charged as DynamoDB counts a transaction: the table's write twice
    // (prepare and commit), the index entries once.
    for (size_t i = 0; i < n; i++) {
      const ItemWrite& w = *actions[i].write;
      const Item* old = r.old_items[i] ? &*r.old_items[i] : nullptr;
      const Item* next = r.new_items[i] ? &*r.new_items[i] : nullptr;
      const bool check = w.kind() == ItemWrite::Kind::kConditionCheck;
      ChargeWrite(ctx, w.table()->def(), old, check ? nullptr : next, 2, check);
    }
  }
  json::object resp;
  if (options.capacity != ReturnCapacity::kNone && r.replayed) {
    // DynamoDB: a repeated call reports the read units of reading the items.
    std::vector<std::pair<table::TableRef, table::ItemKey>> keys;
    for (const TransactionAction& a : actions) keys.emplace_back(a.write->table(), a.write->key());
    std::vector<std::optional<Item>> current;
    std::vector<size_t> conflicts;
    Status gs = ctx.store->TransactGet(keys, &current, &conflicts);
    if (!gs.Is(Status::SubCode::kTransactionConflict)) CheckData(gs);
    std::vector<TableUnits> units;
    for (size_t i = 0; i < n; i++) {
      const size_t bytes = i < current.size() ? SizeOf(current[i]) : 0;
      units[TableSlot(&units, actions[i].write->common().table)].units +=
          2 * ReadUnits(bytes, true);
    }
    AddCapacityList(&resp, options.capacity, units, true);
    MirrorUnits(&resp, true);
    return resp;
  }
  if (options.capacity != ReturnCapacity::kNone) {
    std::vector<TableUnits> units;
    for (size_t i = 0; i < n; i++) {
      const ItemWrite& w = *actions[i].write;
      TableUnits& tu = units[TableSlot(&units, w.common().table)];
      const Item* old = r.old_items[i] ? &*r.old_items[i] : nullptr;
      const Item* next = r.new_items[i] ? &*r.new_items[i] : nullptr;
      if (w.kind() == ItemWrite::Kind::kConditionCheck) {
        tu.units += 2 * WriteUnits(old ? table::ItemSize(*old) : 0);
        continue;
      }
      // The table's write is prepared and committed (twice the units); the
      // index entries are written once.
      const double before = tu.units;
      tu.AddWrite(w.table()->def(), old, next);
      tu.units += tu.units - before;
    }
    AddCapacityList(&resp, options.capacity, units, false);
    MirrorUnits(&resp, false);
  }
  if (options.collection_metrics && !r.replayed) {
    json::object per_table;
    for (const TransactionAction& a : actions) {
      const ItemWrite& w = *a.write;
      if (w.kind() == ItemWrite::Kind::kConditionCheck) continue;
      if (auto m = ItemCollectionMetrics(ctx, *w.table(), w.key().attributes)) {
        json::value& list = per_table[w.common().table];
        if (!list.is_array()) list = json::array();
        list.as_array().push_back(std::move(*m));
      }
    }
    if (!per_table.empty()) resp["ItemCollectionMetrics"] = std::move(per_table);
  }
  return resp;
}

std::vector<std::optional<Item>> RunReadTransaction(Context& ctx,
                                                    const std::vector<TransactionRead>& reads) {
  const size_t n = reads.size();
  std::vector<TargetKey> targets;
  for (const TransactionRead& r : reads) {
    Item k;
    for (const table::KeyAttribute* a : r.table->def().KeyAttributes()) {
      if (const table::Value* v = r.key.Find(a->name)) k.Set(a->name, *v);
    }
    targets.push_back({r.table->id(), std::move(k)});
  }
  CheckNoDuplicates(targets);
  for (const TransactionRead& r : reads) {
    if (HasEmptyKeyValue(r.table->def(), r.key, false)) LocateKey(*r.table, r.key);
  }
  for (const TransactionRead& r : reads) {  // capacity (throttle.h)
    AdmitCapacity(ctx, r.table->def(), "", CapacityKind::kRead,
                  CapacityKeysOf(ctx, r.table->def(), &r.key));
  }
  std::vector<std::pair<table::TableRef, table::ItemKey>> keys(n);
  LocateAll(n, [&](size_t i) {
    keys[i] = {reads[i].table, LocateKey(*reads[i].table, reads[i].key)};
  });
  std::vector<std::optional<Item>> found;
  std::vector<size_t> conflicts;
  Status s = ctx.store->TransactGet(keys, &found, &conflicts);
  if (s.Is(Status::SubCode::kTransactionConflict)) {
    ThrowCancelledAt(n, conflicts, "TransactionConflict", "Transaction is ongoing for the item");
  }
  CheckData(s);
  for (size_t i = 0; i < n && i < found.size(); i++) {  // twice, as a transaction
    ChargeRead(ctx, reads[i].table->def(), "", 2 * ReadUnits(SizeOf(found[i]), true),
               CapacityKeysOf(ctx, reads[i].table->def(), &reads[i].key));
  }
  size_t bytes = 0;
  for (const auto& item : found) bytes += SizeOf(item);
  if (bytes > kMaxTransactionResponse) {
    throw ValidationError(
        fmt::format("Payload in response is too large. Response size: {}", bytes));
  }
  return found;
}

void AddReadTransactionCapacity(json::object* resp, ReturnCapacity mode,
                                const std::vector<TransactionRead>& reads,
                                const std::vector<std::optional<Item>>& items) {
  if (mode == ReturnCapacity::kNone) return;
  std::vector<TableUnits> units;
  for (size_t i = 0; i < reads.size(); i++) {
    units[TableSlot(&units, reads[i].table->def().name)].units +=
        2 * ReadUnits(SizeOf(items[i]), true);
  }
  AddCapacityList(resp, mode, units, true);
  MirrorUnits(resp, true);
}

void RegisterTransactionOperations(std::map<std::string, Operation, std::less<>>* ops) {
  (*ops)["TransactWriteItems"] = TransactWriteItems;
  (*ops)["TransactGetItems"] = TransactGetItems;
}

}  // namespace basalt::server::api

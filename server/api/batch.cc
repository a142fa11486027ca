// Batch operations: BatchGetItem and BatchWriteItem.
//
// Contract. Every request of a batch is validated (constraints, expressions,
// tables, keys, items, duplicates) before anything is read or written, so a
// bad request changes nothing. BatchWriteItem then commits all its puts and
// deletes with one TableStore::WriteAtomically: DynamoDB does not promise
// atomicity, but all-or-nothing is a correct (stronger) behaviour and costs one
// WAL write. BatchGetItem reads key by key and stops adding items once the
// response would pass 16 MB; the keys left over are returned in
// UnprocessedKeys with the table's read parameters, for the client to retry.
// UnprocessedItems / UnprocessedKeys are always present ({} when empty).
//
// Capacity, one ConsumedCapacity entry per table (the Developer Guide's
// capacity pages):
// BatchGetItem rounds each item up to 4 KB separately (a missing item costs
// as a 0-byte read), halved unless the table's ConsistentRead; BatchWriteItem
// rounds each write up to 1 KB separately, on the larger of the old and new
// item, and charges secondary indexes as single writes do.
//
// Messages are DynamoDB's observed answers (in batch writes a missing or
// mistyped key attribute is the bare "The provided key element does not match
// the schema").
#include <fmt/format.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <optional>
#include <set>

#include "engine/table/index_key.h"
#include "engine/table/key_codec.h"
#include "server/api/capacity.h"
#include "server/api/errors.h"
#include "server/api/json_value.h"
#include "server/api/request.h"
#include "server/api/service.h"
#include "server/expr/expr.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::TableDef;

namespace {

constexpr size_t kMaxBatchGetKeys = 100;
constexpr size_t kMaxBatchWriteRequests = 25;
// DynamoDB's BatchGetItem response limit.
constexpr size_t kMaxBatchGetBytes = size_t{16} << 20;
constexpr std::string_view kTableNamePattern = "[a-zA-Z0-9_.-]+";

// A request value quoted for a constraint message, cut short: the members
// can hold megabytes of items.
std::string Shown(const json::value& v) {
  std::string s = json::serialize(v);
  if (s.size() > 1024) s = s.substr(0, 1024) + "...";
  return Quote(s);
}

bool ValidTableName(std::string_view n) {
  if (n.size() < 3 || n.size() > 255) return false;
  for (char ch : n) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '_' || ch == '.' || ch == '-')) {
      return false;
    }
  }
  return true;
}

// RequestItems: present, non-empty, table names valid (constraint errors).
const json::object* RequireRequestItems(const json::object& req, Constraints* c) {
  const json::object* items = GetObject(req, "RequestItems");
  if (items == nullptr) {
    c->Add("null", "requestItems", "Member must not be null");
    return nullptr;
  }
  if (items->empty()) {
    c->Add(Quote("{}"), "requestItems", "Member must have length greater than or equal to 1");
  }
  for (const auto& kv : *items) {
    if (!ValidTableName(kv.key())) {
      c->Add(Shown(*items), "requestItems",
             fmt::format("Map keys must satisfy constraint: [Member must have length less than or "
                         "equal to 255, Member must have length greater than or equal to 3, "
                         "Member must satisfy regular expression pattern: {}]",
                         kTableNamePattern));
      break;
    }
  }
  return items;
}

bool ContainsKey(const std::vector<Item>& keys, const Item& key) {
  for (const Item& k : keys) {
    if (k == key) return true;
  }
  return false;
}

// ---- BatchGetItem ----

struct GetTable {
  std::string name;
  const json::object* request = nullptr;
  std::vector<Item> keys;
  bool consistent = false;
  Expressions e;  // points into itself: GetTable must not move once parsed
};

json::object BatchGetItem(Context& ctx, const json::object& req) {
  Constraints c;
  const ReturnCapacity mode = ParseReturnCapacity(req, &c);
  const json::object* request_items = RequireRequestItems(req, &c);
  std::vector<GetTable> tables;
  if (request_items != nullptr) {
    tables.reserve(request_items->size());
    for (const auto& kv : *request_items) {
      GetTable t;
      t.name = std::string(kv.key());
      t.request = &AsObject(kv.value());
      const std::string path = fmt::format("requestItems.{}.member.keys", t.name);
      const json::array* keys = GetArray(*t.request, "Keys");
      if (keys == nullptr) {
        c.Add("null", path, "Member must not be null");
      } else {
        if (keys->empty())
          c.Add(Quote("[]"), path, "Member must have length greater than or equal to 1");
        if (keys->size() > kMaxBatchGetKeys) {
          c.Add(Shown(*keys), path, "Member must have length less than or equal to 100");
        }
        for (const auto& k : *keys) t.keys.push_back(ParseItem(k, "Key"));
      }
      t.consistent = GetBool(*t.request, "ConsistentRead").value_or(false);
      tables.push_back(std::move(t));
    }
  }
  c.ThrowIfAny();

  size_t total = 0;
  for (GetTable& t : tables) {
    CheckNoMixing(*t.request, {"AttributesToGet"}, {"ProjectionExpression"});
    std::vector<Item> seen;
    for (const Item& key : t.keys) {
      for (const auto& [name, v] : key) {
        Status s = table::ValidateValue(v);
        if (!s.ok()) throw ValidationError(std::string(s.message()));
      }
      if (ContainsKey(seen, key)) throw ValidationError(std::string(table::kDuplicateKeysMessage));
      seen.push_back(key);
      if (++total > kMaxBatchGetKeys) {
        throw ValidationError("Too many items requested for the BatchGetItem call");
      }
    }
    ParsePlaceholderMaps(*t.request, {"ProjectionExpression"}, &t.e);
    ParseProjection(*t.request, &t.e);
    CheckExpr(expr::CheckAllUsed(t.e.placeholders));
  }

  // Every table resolved and every key located before anything is read.
  std::vector<table::TableRef> handles;
  std::vector<std::vector<table::ItemKey>> located(tables.size());
  for (size_t i = 0; i < tables.size(); i++) {
    handles.push_back(LookupTable(ctx, tables[i].name));
    for (const Item& key : tables[i].keys) located[i].push_back(LocateKey(*handles.back(), key));
  }

  // Capacity (throttle.h): the keys of a table out of read capacity are
  // returned unprocessed; when every table is, the request is refused.
  std::vector<bool> throttled(tables.size(), false);
  if (ctx.capacity != nullptr) {
    std::optional<ApiError> refusal;
    for (size_t ti = 0; ti < tables.size(); ti++) {
      ApiError e;
      if (!ctx.capacity->TryAdmit(handles[ti]->def(), "", CapacityKind::kRead, {}, &e)) {
        throttled[ti] = true;
        if (!refusal) refusal = std::move(e);
      }
    }
    if (refusal && std::find(throttled.begin(), throttled.end(), false) == throttled.end()) {
      throw *refusal;
    }
  }

  json::object responses;
  json::object unprocessed;
  std::vector<TableUnits> units;
  size_t bytes = 0;
  bool full = false;
  for (size_t ti = 0; ti < tables.size(); ti++) {
    const GetTable& t = tables[ti];
    json::array& out = responses[t.name].emplace_array();
    TableUnits tu{t.name, 0, {}};
    json::array left;
    for (size_t ki = 0; ki < t.keys.size(); ki++) {
      const Item& key = t.keys[ki];
      if (full || throttled[ti]) {
        left.push_back(ItemToJson(key));
        continue;
      }
      std::optional<Item> item;
      CheckData(ctx.store->GetItem(*handles[ti], located[ti][ki], nullptr, &item));
      const double item_units = ReadUnits(SizeOf(item), t.consistent);
      if (item) {
        Item shown = t.e.projection ? expr::Project(*item, *t.e.projection) : std::move(*item);
        const size_t size = table::ItemSize(shown);
        if (bytes + size > kMaxBatchGetBytes) {
          // Not returned, so not charged: the client reads it again.
          full = true;
          left.push_back(ItemToJson(key));
          continue;
        }
        bytes += size;
        out.push_back(ItemToJson(shown));
      }
      tu.units += item_units;
      ChargeRead(ctx, handles[ti]->def(), "", item_units,
                 CapacityKeysOf(ctx, handles[ti]->def(), &key));
    }
    if (!left.empty()) {
      // The key list plus the table's read parameters, as the client sent them.
      json::object again;
      for (const char* k : {"AttributesToGet", "ConsistentRead", "ExpressionAttributeNames",
                            "ProjectionExpression"}) {
        if (const auto* v = t.request->if_contains(k); v != nullptr && !v->is_null()) again[k] = *v;
      }
      again["Keys"] = std::move(left);
      unprocessed[t.name] = std::move(again);
    }
    units.push_back(std::move(tu));
  }
  json::object resp;
  resp["Responses"] = std::move(responses);
  resp["UnprocessedKeys"] = std::move(unprocessed);
  AddCapacityList(&resp, mode, units, true);
  return resp;
}

// ---- BatchWriteItem ----

json::object BatchWriteItem(Context& ctx, const json::object& req) {
  Constraints c;
  const ReturnCapacity mode = ParseReturnCapacity(req, &c);
  bool collection_metrics = false;
  if (auto ricm = GetString(req, "ReturnItemCollectionMetrics")) {
    if (*ricm != "SIZE" && *ricm != "NONE") {
      c.Add(Quote(*ricm), "returnItemCollectionMetrics",
            "Member must satisfy enum value set: [SIZE, NONE]");
    }
    collection_metrics = *ricm == "SIZE";
  }
  const json::object* request_items = RequireRequestItems(req, &c);
  std::vector<table::WriteOp> ops;
  std::vector<size_t> op_table;  // index into `tables` of each op
  std::vector<Item> op_items;    // the request's item (put) or key (delete) of each op
  std::vector<std::string> tables;
  bool empty_request = false;
  if (request_items != nullptr) {
    for (const auto& kv : *request_items) {
      const std::string name(kv.key());
      const json::array* list = kv.value().is_array() ? &kv.value().get_array() : nullptr;
      if (list == nullptr) list = GetArray(*request_items, name);  // type error if not a list
      if (list == nullptr) {
        c.Add("null", fmt::format("requestItems.{}.member", name), "Member must not be null");
        continue;
      }
      if (list->empty() || list->size() > kMaxBatchWriteRequests) {
        c.Add(Shown(*request_items), "requestItems",
              "Map value must satisfy constraint: [Member must have length less than or equal "
              "to 25, Member must have length greater than or equal to 1]");
      }
      tables.push_back(name);
      for (size_t i = 0; i < list->size(); ++i) {
        const json::object& r = AsObject((*list)[i]);
        const json::object* put = GetObject(r, "PutRequest");
        const json::object* del = GetObject(r, "DeleteRequest");
        table::WriteOp op;
        Item item;
        const std::string at = fmt::format("requestItems.{}.member.{}.member", name, i + 1);
        if (put != nullptr) {
          op.kind = table::WriteOp::Kind::kPut;
          const auto it = put->find("Item");
          if (it == put->end() || it->value().is_null()) {
            c.Add("null", at + ".putRequest.item", "Member must not be null");
          } else {
            item = ParseItem(it->value(), "Item");
          }
        } else if (del != nullptr) {
          op.kind = table::WriteOp::Kind::kDelete;
          const auto it = del->find("Key");
          if (it == del->end() || it->value().is_null()) {
            c.Add("null", at + ".deleteRequest.key", "Member must not be null");
          } else {
            item = ParseItem(it->value(), "Key");
          }
        }
        // DynamoDB's (odd) text for a request with neither or both members.
        if ((put == nullptr) == (del == nullptr)) empty_request = true;
        ops.push_back(std::move(op));
        op_items.push_back(std::move(item));
        op_table.push_back(tables.size() - 1);
      }
    }
  }
  c.ThrowIfAny();
  if (empty_request) {
    throw ValidationError(
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
        "supported datatypes");
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].kind == table::WriteOp::Kind::kPut) {
      ValidateStoredItem(op_items[i], false);
    } else {
      for (const auto& [name, v] : op_items[i]) {
        Status s = table::ValidateValue(v);
        if (!s.ok()) throw ValidationError(std::string(s.message()));
      }
    }
  }
  if (ops.size() > kMaxBatchWriteRequests) {
    throw ValidationError("Too many items requested for the BatchWriteItem call");
  }

  std::vector<table::TableRef> handles;
  for (const std::string& t : tables) handles.push_back(LookupTable(ctx, t));
  // Capacity (throttle.h): the requests of a table out of write capacity (its
  // own or a GSI's) are returned unprocessed, as the client sent them; when
  // every table is, the request is refused.
  json::object unprocessed;
  if (ctx.capacity != nullptr) {
    std::vector<bool> throttled(tables.size(), false);
    std::optional<ApiError> refusal;
    for (size_t ti = 0; ti < tables.size(); ti++) {
      ApiError e;
      if (!ctx.capacity->TryAdmit(handles[ti]->def(), "", CapacityKind::kWrite, {}, &e)) {
        throttled[ti] = true;
        if (!refusal) refusal = std::move(e);
        unprocessed[tables[ti]] = request_items->at(tables[ti]);
      }
    }
    if (refusal) {
      if (std::find(throttled.begin(), throttled.end(), false) == throttled.end()) throw *refusal;
      size_t kept = 0;
      for (size_t i = 0; i < ops.size(); ++i) {
        if (throttled[op_table[i]]) continue;
        ops[kept] = std::move(ops[i]);
        op_items[kept] = std::move(op_items[i]);
        op_table[kept] = op_table[i];
        kept++;
      }
      ops.resize(kept);
      op_items.resize(kept);
      op_table.resize(kept);
    }
  }
  std::set<std::pair<size_t, std::string>> seen;  // (table, encoded key)
  for (size_t i = 0; i < ops.size(); ++i) {
    table::WriteOp& op = ops[i];
    op.table = handles[op_table[i]];
    const bool put = op.kind == table::WriteOp::Kind::kPut;
    Status s = put ? op.table->LocateItem(op_items[i], &op.key)
                   : op.table->LocateKey(op_items[i], &op.key);
    // In batch writes DynamoDB words a missing or mistyped key attribute of
    // a put as a Key mismatch.
    if (s.Is(Status::SubCode::kItemKeyInvalid)) {
      throw ValidationError(std::string(table::kKeySchemaMismatchMessage));
    }
    Check(s);
    if (!seen.emplace(op_table[i], op.key.encoded).second) {
      throw ValidationError(std::string(table::kDuplicateKeysMessage));
    }
    if (put) {
      // One bad item rejects the whole batch, before anything is written.
      Check(table::ValidateIndexKeys(op.table->def(), op_items[i]));
      op.item = std::move(op_items[i]);
      op.item_validated = true;  // ValidateStoredItem above
    }
  }

  table::WriteAtomicallyResult result;
  CheckData(ctx.store->WriteAtomically(ops, &result));

  std::vector<TableUnits> units;
  for (const std::string& t : tables) {
    if (!unprocessed.contains(t)) units.push_back({t, 0, {}});
  }
  // The put item is read in place, not copied.
  for (size_t i = 0; i < ops.size(); ++i) {
    const Item* old = result.old_items[i] ? &*result.old_items[i] : nullptr;
    const Item* next = ops[i].kind == table::WriteOp::Kind::kPut ? &ops[i].item : nullptr;
    const table::TableDef& def = handles[op_table[i]]->def();
    ChargeWrite(ctx, def, old, next);
    if (mode == ReturnCapacity::kNone) continue;
    for (TableUnits& tu : units) {
      if (tu.table == def.name) tu.AddWrite(def, old, next);
    }
  }
  json::object resp;
  resp["UnprocessedItems"] = std::move(unprocessed);
  AddCapacityList(&resp, mode, units, false);
  if (collection_metrics) {
    // Per table (with LSIs), each item collection the batch wrote to, once.
    json::object metrics;
    std::set<std::pair<size_t, std::string>> collections;
    for (size_t i = 0; i < ops.size(); ++i) {
      const table::TableHandle& t = *handles[op_table[i]];
      const table::Value* pk = ops[i].key.attributes.Find(t.def().partition_key.name);
      std::string encoded;
      if (pk == nullptr || !table::EncodeKeyPart(*pk, &encoded).ok() ||
          !collections.emplace(op_table[i], std::move(encoded)).second) {
        continue;
      }
      if (auto m = ItemCollectionMetrics(ctx, t, ops[i].key.attributes)) {
        json::value& list = metrics[tables[op_table[i]]];
        if (!list.is_array()) list = json::array();
        list.get_array().push_back(std::move(*m));
      }
    }
    if (!metrics.empty()) resp["ItemCollectionMetrics"] = std::move(metrics);
  }
  return resp;
}

}  // namespace

void RegisterBatchOperations(std::map<std::string, Operation, std::less<>>* ops) {
  (*ops)["BatchGetItem"] = BatchGetItem;
  (*ops)["BatchWriteItem"] = BatchWriteItem;
}

}  // namespace basalt::server::api

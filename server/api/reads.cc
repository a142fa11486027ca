// Read operations over many items: Query and Scan.
//
// Contract. One call reads one page from the table layer (TableStore::Query
// within one partition key, TableStore::Scan over a hash range), which stops
// after Limit items or once the items read reach 1 MB (table::ItemSize, the
// size DynamoDB meters); then the filter picks the items to return. So Limit
// and the 1 MB count items READ, Count is after the filter, ScannedCount
// before it, and a filter may leave a page empty while LastEvaluatedKey says
// more may follow. LastEvaluatedKey is also returned when the page stopped
// exactly at Limit with nothing left, as DynamoDB does. Capacity: the sizes
// of all items read, summed, rounded up to 4 KB once; halved unless
// ConsistentRead (DynamoDB Developer Guide, "DynamoDB read and write
// operations"); Select=COUNT costs the same (observed behaviour of DynamoDB).
// A COUNT request builds no response items.
//
// Parallel scan: segment i of n covers the partition hashes
// [floor(i * 2^64 / n), floor((i + 1) * 2^64 / n)); segments are disjoint and
// cover the hash space, and the table layer resumes across partition splits
// after the last key read, so the segments together return every item once.
//
// Validation order follows DynamoDB (observed behaviour): JSON types while
// parsing, aggregated constraints, semantic checks (mixing styles, placeholder
// maps, expressions, Select vs projection, Segment/TotalSegments), the table
// lookup, then the checks that need the key schema (key condition,
// ExclusiveStartKey, filters on key attributes in a Query). Messages are
// DynamoDB's exact texts, as DynamoDB answers invalid Query and Scan requests
// (observed behaviour of DynamoDB).
//
// Secondary indexes (IndexName): the same, over the index's entries, with the
// index's key schema, Select and projection rules (index_reads.h). An LSI
// read that needs attributes its projection lacks fetches each item from the
// table, charged to the table; the entries read are charged to the index.
#include <fmt/format.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <map>

#include "engine/table/index_key.h"
#include "engine/table/key_codec.h"
#include "server/api/capacity.h"
#include "server/api/errors.h"
#include "server/api/index_reads.h"
#include "server/api/json_value.h"
#include "server/api/request.h"
#include "server/api/service.h"
#include "server/expr/ast.h"
#include "server/expr/expr.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::TableDef;

namespace {

// DynamoDB's page size: data read per Query/Scan call.
constexpr size_t kPageBytes = size_t{1} << 20;
constexpr int64_t kMaxTotalSegments = 1000000;
constexpr std::string_view kSelectValues =
    "Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, "
    "ALL_PROJECTED_ATTRIBUTES]";
constexpr std::string_view kBadStartKey = "The provided starting key is invalid";

// What Query and Scan share.
struct ReadRequest {
  Common common;
  std::optional<int64_t> limit;
  std::string select;  // "" when absent
  bool consistent = false;
  std::optional<std::string> index;
  std::optional<Item> start_key;
  Expressions e;
  std::shared_ptr<const expr::Condition> filter;
  // Top-level attribute names the filter reads (for Query's key check) and
  // the parameter that named them ("Filter Expression" or "QueryFilter").
  std::vector<std::string> filter_heads;
  std::string filter_param;
};

void CollectHeads(const expr::Operand& o, std::vector<std::string>* out) {
  if (!o.path.empty()) out->push_back(o.path[0].name);
  for (const auto& a : o.args) CollectHeads(a, out);
}

void CollectHeads(const expr::CondNode& n, std::vector<std::string>* out) {
  for (const auto& o : n.operands) CollectHeads(o, out);
  for (const auto& c : n.children) CollectHeads(*c, out);
}

// The constraint checks shared by Query and Scan; `filter_member` is
// "QueryFilter" or "ScanFilter".
ReadRequest ParseReadConstraints(const json::object& req, const char* filter_member, Constraints* c,
                                 std::vector<expr::LegacyCondition>* legacy_filter) {
  ReadRequest r;
  r.common = ParseCommon(req, c);
  r.limit = GetInt(req, "Limit");
  if (r.limit && *r.limit < 1) {
    c->Add(Quote(std::to_string(*r.limit)), "limit",
           "Member must have value greater than or equal to 1");
  }
  if (auto sel = GetString(req, "Select")) {
    if (*sel != "SPECIFIC_ATTRIBUTES" && *sel != "COUNT" && *sel != "ALL_ATTRIBUTES" &&
        *sel != "ALL_PROJECTED_ATTRIBUTES") {
      c->Add(Quote(*sel), "select", kSelectValues);
    }
    r.select = *sel;
  }
  r.consistent = GetBool(req, "ConsistentRead").value_or(false);
  if (auto ix = GetString(req, "IndexName")) {
    if (ix->size() < 3) {
      c->Add(Quote(*ix), "indexName", "Member must have length greater than or equal to 3");
    }
    if (ix->size() > 255) {
      c->Add(Quote(*ix), "indexName", "Member must have length less than or equal to 255");
    }
    bool ok = !ix->empty();
    for (char ch : *ix) {
      ok &= (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '_' || ch == '.' || ch == '-';
    }
    if (!ok) {
      c->Add(Quote(*ix), "indexName",
             "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
    }
    r.index = *ix;
  }
  if (const auto it = req.find("ExclusiveStartKey"); it != req.end() && !it->value().is_null()) {
    r.start_key = ParseItem(it->value(), "ExclusiveStartKey");
  }
  if (auto op = GetString(req, "ConditionalOperator")) {
    if (*op != "AND" && *op != "OR") {
      c->Add(Quote(*op), "conditionalOperator", "Member must satisfy enum value set: [OR, AND]");
    }
  }
  if (const json::object* f = GetObject(req, filter_member)) {
    std::string path(filter_member);
    path[0] = static_cast<char>(path[0] - 'A' + 'a');
    *legacy_filter = ParseLegacyConditions(*f, path, c);
  }
  return r;
}

// Mixing, placeholder maps, the filter and projection, Select. A Query's
// KeyConditionExpression is parsed here for syntax and placeholders only; its
// key rules need the table's key schema (checked after the lookup).
void ParseReadSemantics(const json::object& req, const char* filter_member, bool query,
                        std::vector<expr::LegacyCondition> legacy_filter, ReadRequest* r) {
  if (query) {
    // KeyConditions alone beside expressions is not "mixing" (observed
    // behaviour of DynamoDB).
    const bool kce =
        req.contains("KeyConditionExpression") && !req.at("KeyConditionExpression").is_null();
    if (kce) {
      CheckNoMixing(req, {"AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions"},
                    {"ProjectionExpression", "FilterExpression", "KeyConditionExpression"});
    } else {
      CheckNoMixing(req, {"AttributesToGet", "QueryFilter", "ConditionalOperator"},
                    {"ProjectionExpression", "FilterExpression", "KeyConditionExpression"});
    }
  } else {
    CheckNoMixing(req, {"AttributesToGet", "ScanFilter", "ConditionalOperator"},
                  {"ProjectionExpression", "FilterExpression"});
  }
  // DynamoDB names only the expressions that take values in this message.
  auto present = [&](const char* k) { return req.contains(k) && !req.at(k).is_null(); };
  if (present("ExpressionAttributeValues") && !present("FilterExpression") &&
      !(query && present("KeyConditionExpression")) &&
      (present("ProjectionExpression") || !present("ExpressionAttributeNames"))) {
    throw ValidationError(
        query ? "ExpressionAttributeValues can only be specified when using expressions: "
                "FilterExpression and KeyConditionExpression are null"
              : "ExpressionAttributeValues can only be specified when using expressions: "
                "FilterExpression is null");
  }
  if (query) {
    ParsePlaceholderMaps(
        req, {"FilterExpression", "KeyConditionExpression", "ProjectionExpression"}, &r->e);
  } else {
    ParsePlaceholderMaps(req, {"FilterExpression", "ProjectionExpression"}, &r->e);
  }
  if (query && !present("KeyConditions") && !present("KeyConditionExpression")) {
    throw ValidationError(
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the "
        "request.");
  }
  if (query) {
    if (auto kce = GetString(req, "KeyConditionExpression")) {
      std::shared_ptr<const expr::Condition> unused;
      CheckExpr(expr::ParseCondition(*kce, "KeyConditionExpression", &r->e.placeholders, &unused));
    }
  }
  auto op = GetString(req, "ConditionalOperator");
  if (auto fe = GetString(req, "FilterExpression")) {
    CheckExpr(expr::ParseCondition(*fe, "FilterExpression", &r->e.placeholders, &r->filter));
    CollectHeads(r->filter->root, &r->filter_heads);
    r->filter_param = "Filter Expression";
  } else if (present(filter_member)) {
    for (const auto& lc : legacy_filter) r->filter_heads.push_back(lc.name);
    r->filter_param = filter_member;
    CheckExpr(expr::ConditionFromLegacy(legacy_filter, op.value_or(""), filter_member, &r->filter));
  } else if (op) {
    throw ValidationError(
        "ConditionalOperator can only be used when Filter or Expected has two or more elements");
  }
  ParseProjection(req, &r->e);
  CheckExpr(expr::CheckAllUsed(r->e.placeholders));

  // Select against the projection (texts as DynamoDB answers).
  if (r->e.projection && !r->select.empty() && r->select != "SPECIFIC_ATTRIBUTES") {
    const char* what = present("ProjectionExpression") ? "ProjectionExpression" : "AttributesToGet";
    const std::string choice = r->select == "COUNT" ? "only the Count" : r->select;
    throw ValidationError(
        fmt::format("Cannot specify the {} when choosing to get {}", what, choice));
  }
  if (r->select == "SPECIFIC_ATTRIBUTES" && !r->e.projection) {
    throw ValidationError(
        "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
        "SPECIFIC_ATTRIBUTES");
  }
  if (r->select == "ALL_PROJECTED_ATTRIBUTES" && !r->index) {
    throw ValidationError(
        "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName");
  }
  if (r->start_key) {
    for (const auto& [name, v] : *r->start_key) {
      Status s = table::ValidateValue(v);
      if (!s.ok()) throw ValidationError(fmt::format("{}: {}", kBadStartKey, s.message()));
    }
  }
}

// Filters, projects and answers one page read from the table layer. For an
// index read (ix set) the page holds index entries (or, with fetch, the
// items read from the table, whose units are table_units).
// fetched: the page holds the LSI entries' whole items, read from the table
// (index_reads.h); unless the request asked for all attributes or named its
// own, the answer is cut back to the index's projection.
// The units are charged (throttle.h) with `keys`: the Query's partition key.
// scan_units: a table Scan's units (ScanUnits), else the page's size decides.
json::object Respond(Context& ctx, const ReadRequest& r, const TableDef& def,
                     const table::IndexDef* ix, table::Page& page, const CapacityKeys& keys,
                     double table_units = 0, bool fetched = false,
                     std::optional<double> scan_units = std::nullopt) {
  const bool count_only = r.select == "COUNT";
  const bool to_index = fetched && !r.e.projection && r.select != "ALL_ATTRIBUTES";
  json::array items;
  size_t count = 0;
  for (const Item& item : page.items) {
    if (!Evaluate(r.filter.get(), &item)) continue;
    ++count;
    if (count_only) continue;
    if (r.e.projection) {
      items.push_back(ItemToJson(expr::Project(item, *r.e.projection)));
    } else if (to_index) {
      items.push_back(ItemToJson(table::ProjectForIndex(def, *ix, item)));
    } else {
      items.push_back(ItemToJson(item));
    }
  }
  json::object resp;
  if (!count_only) resp["Items"] = std::move(items);
  resp["Count"] = count;
  resp["ScannedCount"] = page.count;
  std::optional<Item> last = std::move(page.last_evaluated_key);
  // DynamoDB answers a LastEvaluatedKey whenever Limit stopped the page, even
  // when nothing follows.
  if (!last && r.limit && page.count == static_cast<size_t>(*r.limit) && !page.items.empty()) {
    last = ix != nullptr ? table::IndexEntryKeyAttributes(def, *ix, page.items.back())
                         : table::ExtractKey(def, page.items.back());
  }
  if (last) resp["LastEvaluatedKey"] = ItemToJson(*last);
  if (ix == nullptr) {
    const double units = scan_units.value_or(ReadUnits(page.bytes, r.consistent));
    ChargeRead(ctx, def, "", units, keys);
    AddCapacity(&resp, r.common, units, true);
  } else {
    // The entries read are charged to the index (a GSI read is eventually
    // consistent), fetched items to the table.
    const double units = ReadUnits(page.bytes, r.consistent && !ix->global());
    ChargeRead(ctx, def, ix->name, units, keys);
    ChargeRead(ctx, def, "", table_units, keys);
    AddCapacity(&resp, r.common, table_units, true, {{ix->name, ix->global(), units}});
  }
  return resp;
}

// The ExclusiveStartKey of a Query, located once: exactly the table's key
// attributes, the partition key of the query, a sort key inside the condition.
table::ItemKey LocateQueryStartKey(const table::TableHandle& t, const expr::KeyCondition& kc,
                                   const Item& key) {
  const TableDef& def = t.def();
  const std::vector<std::string> names = KeyNames(def);
  if (key.size() != names.size()) throw ValidationError(std::string(kBadStartKey));
  for (const auto& n : names) {
    if (!key.Contains(n)) throw ValidationError(std::string(kBadStartKey));
  }
  table::ItemKey located;
  Status s = t.LocateKey(key, &located);
  if (!s.ok()) {
    if (s.Is(Status::SubCode::kKeySchemaMismatch)) throw ValidationError(std::string(s.message()));
    throw ValidationError(fmt::format("{}: {}", kBadStartKey, s.message()));
  }
  const bool pk_matches = *key.Find(def.partition_key.name) == kc.pk;
  if (!def.sort_key) {
    // A Query of a table without a sort key names one item: DynamoDB refuses
    // to restart it at all (observed answer).
    const table::Value& v = *key.Find(def.partition_key.name);
    std::string shown = table::ValueTypeName(v.type());
    shown += ":";
    shown += v.type() == table::ValueType::kN   ? v.n().ToString()
             : v.type() == table::ValueType::kS ? v.s()
                                                : Base64Encode(v.b());
    throw ValidationError(fmt::format("{}: ExclusiveStartKey: {{{}=AttributeValue: {{{}}}}}",
                                      "The provided exclusive start key is invalid",
                                      def.partition_key.name, shown));
  }
  if (kc.sk.op == table::SortKeyOp::kAll) {
    if (!pk_matches) {
      throw ValidationError(
          "The provided starting key is outside query boundaries based on provided conditions");
    }
    return located;
  }
  const bool in_range = SortKeySatisfies(*key.Find(def.sort_key->name), kc.sk);
  if (!in_range) {
    throw ValidationError("The provided starting key does not match the range key predicate");
  }
  if (!pk_matches) {
    throw ValidationError("The query can return at most one row and cannot be restarted");
  }
  return located;
}

size_t PageLimit(const ReadRequest& r) { return r.limit ? static_cast<size_t>(*r.limit) : 0; }

// ---- operations ----

json::object Query(Context& ctx, const json::object& req) {
  Constraints c;
  std::vector<expr::LegacyCondition> legacy_filter;
  ReadRequest r = ParseReadConstraints(req, "QueryFilter", &c, &legacy_filter);
  const bool forward = GetBool(req, "ScanIndexForward").value_or(true);
  std::vector<expr::LegacyCondition> legacy_keys;
  if (const json::object* kc = GetObject(req, "KeyConditions")) {
    legacy_keys = ParseLegacyConditions(*kc, "keyConditions", &c);
  }
  c.ThrowIfAny();
  ParseReadSemantics(req, "QueryFilter", /*query=*/true, std::move(legacy_filter), &r);

  const table::TableRef t = LookupTable(ctx, r.common.table);
  if (r.filter && !t->def().indexes.empty()) {
    CheckExpr(expr::CheckIndexKeyPaths(*r.filter, IndexOnlyKeyNames(t->def())));
  }
  const TableDef& def = t->def();
  IndexRead ir;
  if (r.index) {
    ir = ResolveIndexRead(def, *r.index, r.select, r.consistent, r.e.projection, r.filter_heads);
  }
  const expr::KeySchema schema =
      ir.index != nullptr ? expr::KeySchema::Of(*ir.index) : expr::KeySchema::Of(def);
  expr::KeyCondition kc;
  if (auto kce = GetString(req, "KeyConditionExpression")) {
    CheckExpr(expr::ParseKeyCondition(*kce, &r.e.placeholders, schema, &kc));
  } else {
    CheckExpr(expr::KeyConditionFromLegacy(legacy_keys, schema, &kc));
  }
  // A filter may not read the key attributes of what is queried.
  for (const auto* keys : {&schema.hash, &schema.range}) {
    for (const auto& k : *keys) {
      if (std::find(r.filter_heads.begin(), r.filter_heads.end(), k.name) != r.filter_heads.end()) {
        throw ValidationError(
            fmt::format("{} can only contain non-primary key attributes: Primary key attribute: {}",
                        r.filter_param, k.name));
      }
    }
  }

  CapacityKeys keys;
  if (ctx.capacity != nullptr && ctx.capacity->WantsKeys(def.name)) {
    keys.partition_key =
        json::serialize(ValueToJson(kc.pk_values.empty() ? kc.pk : kc.pk_values[0]));
  }
  AdmitCapacity(ctx, def, r.index.value_or(""), CapacityKind::kRead, keys);
  table::QueryPage page;
  if (ir.index == nullptr) {
    std::optional<table::ItemKey> start;
    if (r.start_key) start = LocateQueryStartKey(*t, kc, *r.start_key);
    CheckData(ctx.store->Query(*t, kc.pk, kc.sk, forward, start ? &*start : nullptr, kPageBytes,
                               PageLimit(r), nullptr, &page));
    return Respond(ctx, r, def, nullptr, page, keys);
  }
  std::optional<std::string> start;
  if (r.start_key) start = LocateIndexQueryStartKey(def, *ir.index, kc, *r.start_key);
  table::IndexQuery q{kc.pk_values, kc.sk_equal, kc.sk};
  CheckData(ctx.store->QueryIndex(*t, *ir.index, q, forward, start ? &*start : nullptr, kPageBytes,
                                  PageLimit(r), nullptr, &page));
  double table_units = 0;
  if (ir.fetch) FetchFromTable(ctx, *t, r.consistent, &page.items, &table_units);
  return Respond(ctx, r, def, ir.index, page, keys, table_units, ir.fetch);
}

// The read units of a page of a table Scan. DynamoDB charges a Scan per
// partition it reads, each partition's bytes rounded up to 4 KB (at least one
// unit each): a consistent Scan of a new on-demand table holding one tiny
// item costs 4 units, 2 eventually consistent (observed on DynamoDB and
// recorded by ScyllaDB's Alternator suite,
// test_returnconsumedcapacity.py::test_scan_consumed_capacity, which runs
// against DynamoDB too). That is one unit per partition of a table with 4
// partitions: a new on-demand table serves 12,000 read / 4,000 write units at
// once, i.e. 4 partitions of DynamoDB's 3,000 RCU / 1,000 WCU each; a
// provisioned table has ceil(RCU / 3,000 + WCU / 1,000) partitions, at least
// one. Basalt's own partitions split by size, not by throughput, so the
// charge follows that many virtual partitions, equal slices of the hash
// space: each slice the page read (from its start position to the hash of its
// last item, or to the end of the segment when the page exhausted it) costs
// ReadUnits of the bytes read in it.
uint64_t VirtualPartitions(const TableDef& def) {
  if (def.billing_mode == table::BillingMode::kPayPerRequest) return 4;
  // ceil(RCU / 3,000 + WCU / 1,000), in integers.
  const uint64_t n = (def.provisioned.read_units + 3 * def.provisioned.write_units + 2999) / 3000;
  return std::clamp<uint64_t>(n, 1, 1024);
}

double ScanUnits(const TableDef& def, const table::Page& page, uint64_t from, uint64_t hi,
                 bool consistent) {
  using u128 = unsigned __int128;
  const uint64_t n = VirtualPartitions(def);
  auto slice = [n](uint64_t h) { return static_cast<uint64_t>((static_cast<u128>(h) * n) >> 64); };
  std::map<uint64_t, size_t> bytes;  // slice -> bytes read in it
  uint64_t last_hash = from;
  for (const Item& item : page.items) {
    const table::Value* pk = item.Find(def.partition_key.name);
    if (pk == nullptr) continue;
    last_hash = table::PartitionHash(*pk);
    bytes[slice(last_hash)] += table::ItemSize(item);
  }
  const uint64_t first = slice(from);
  // hi == 0 stands for 2^64 (the whole rest of the hash space).
  const uint64_t last =
      page.last_evaluated_key ? slice(last_hash) : (hi == 0 ? n - 1 : slice(hi - 1));
  double units = 0;
  for (uint64_t q = first; q <= last; q++) {
    auto it = bytes.find(q);
    units += ReadUnits(it == bytes.end() ? 0 : it->second, consistent);
  }
  return units;
}

json::object Scan(Context& ctx, const json::object& req) {
  Constraints c;
  std::vector<expr::LegacyCondition> legacy_filter;
  ReadRequest r = ParseReadConstraints(req, "ScanFilter", &c, &legacy_filter);
  auto segment = GetInt(req, "Segment");
  auto total = GetInt(req, "TotalSegments");
  if (segment && *segment < 0) {
    c.Add(Quote(std::to_string(*segment)), "segment",
          "Member must have value greater than or equal to 0");
  }
  if (segment && *segment > kMaxTotalSegments - 1) {
    c.Add(Quote(std::to_string(*segment)), "segment",
          "Member must have value less than or equal to 999999");
  }
  if (total && *total < 1) {
    c.Add(Quote(std::to_string(*total)), "totalSegments",
          "Member must have value greater than or equal to 1");
  }
  if (total && *total > kMaxTotalSegments) {
    c.Add(Quote(std::to_string(*total)), "totalSegments",
          "Member must have value less than or equal to 1000000");
  }
  c.ThrowIfAny();
  ParseReadSemantics(req, "ScanFilter", /*query=*/false, std::move(legacy_filter), &r);
  if (segment && !total) {
    throw ValidationError(
        "The TotalSegments parameter is required but was not present in the request when Segment "
        "parameter is present");
  }
  if (total && !segment) {
    throw ValidationError(
        "The Segment parameter is required but was not present in the request when parameter "
        "TotalSegments is present");
  }
  if (total && *segment >= *total) {
    throw ValidationError(fmt::format(
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
        "Segment: {} is not less than TotalSegments: {}",
        *segment, *total));
  }

  const table::TableRef t = LookupTable(ctx, r.common.table);
  if (r.filter && !t->def().indexes.empty()) {
    CheckExpr(expr::CheckIndexKeyPaths(*r.filter, IndexOnlyKeyNames(t->def())));
  }
  const TableDef& def = t->def();
  IndexRead ir;
  if (r.index) {
    if (r.start_key && def.FindIndex(*r.index) == nullptr) {
      throw ValidationError(std::string(kBadStartKey));
    }
    ir = ResolveIndexRead(def, *r.index, r.select, r.consistent, r.e.projection, r.filter_heads);
  }
  // Segment i of n: hashes [floor(i * 2^64 / n), floor((i + 1) * 2^64 / n));
  // hi == 0 stands for 2^64.
  uint64_t lo = 0, hi = 0;
  if (total) {
    using u128 = unsigned __int128;
    const u128 n = static_cast<u128>(*total);
    lo = static_cast<uint64_t>((static_cast<u128>(*segment) << 64) / n);
    hi = *segment + 1 == *total
             ? 0
             : static_cast<uint64_t>((static_cast<u128>(*segment + 1) << 64) / n);
  }
  std::optional<table::ItemKey> start;
  if (r.start_key) {
    start.emplace();
    if (ir.index != nullptr) {
      start->encoded = LocateIndexStartKey(def, *ir.index, *r.start_key, &start->hash);
    } else {
      Status s = t->LocateKey(*r.start_key, &*start);
      if (!s.ok()) throw ValidationError(fmt::format("{}: {}", kBadStartKey, s.message()));
    }
    const uint64_t h = start->hash;
    if (h < lo || (hi != 0 && h >= hi)) {
      throw ValidationError(fmt::format(
          "{}: Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment. "
          "TotalSegments: {} Segment: {}",
          kBadStartKey, *total, *segment));
    }
  }

  const CapacityKeys keys;  // a Scan reads no one partition
  AdmitCapacity(ctx, def, r.index.value_or(""), CapacityKind::kRead, keys);
  table::ScanPage page;
  if (ir.index == nullptr) {
    CheckData(ctx.store->Scan(*t, lo, hi, start ? &*start : nullptr, kPageBytes, PageLimit(r),
                              nullptr, &page));
    const double units = ScanUnits(def, page, start ? start->hash : lo, hi, r.consistent);
    return Respond(ctx, r, def, nullptr, page, keys, 0, false, units);
  }
  CheckData(ctx.store->ScanIndex(*t, *ir.index, lo, hi, start ? &start->encoded : nullptr,
                                 kPageBytes, PageLimit(r), nullptr, &page));
  double table_units = 0;
  if (ir.fetch) FetchFromTable(ctx, *t, r.consistent, &page.items, &table_units);
  return Respond(ctx, r, def, ir.index, page, keys, table_units, ir.fetch);
}

}  // namespace

json::object QueryOperation(Context& ctx, const json::object& req) { return Query(ctx, req); }
json::object ScanOperation(Context& ctx, const json::object& req) { return Scan(ctx, req); }

void RegisterReadOperations(std::map<std::string, Operation, std::less<>>* ops) {
  (*ops)["Query"] = Query;
  (*ops)["Scan"] = Scan;
}

}  // namespace basalt::server::api

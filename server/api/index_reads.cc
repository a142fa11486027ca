#include "server/api/index_reads.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "engine/table/index_key.h"
#include "server/api/capacity.h"

namespace basalt::server::api {

using table::IndexDef;
using table::TableDef;

namespace {

constexpr std::string_view kBadStartKey = "The provided starting key is invalid";

// The attributes an index entry holds; nullopt for projection ALL (all).
std::optional<std::set<std::string>> Projected(const TableDef& def, const IndexDef& ix) {
  if (ix.projection == table::ProjectionType::kAll) return std::nullopt;
  std::set<std::string> names;
  for (const table::KeyAttribute* k : def.KeyAttributes()) names.insert(k->name);
  for (const auto* keys : {&ix.partition_key, &ix.sort_key}) {
    for (const auto& k : *keys) names.insert(k.name);
  }
  if (ix.projection == table::ProjectionType::kInclude) {
    names.insert(ix.non_key_attributes.begin(), ix.non_key_attributes.end());
  }
  return names;
}

// The first of `attrs` the projection lacks, or nullopt.
std::optional<std::string> FirstMissing(const std::optional<std::set<std::string>>& projected,
                                        const std::vector<std::string>& attrs) {
  if (!projected) return std::nullopt;
  for (const std::string& a : attrs) {
    if (projected->count(a) == 0) return a;
  }
  return std::nullopt;
}

}  // namespace

IndexRead ResolveIndexRead(const TableDef& def, const std::string& name, const std::string& select,
                           bool consistent,
                           const std::optional<std::vector<expr::Path>>& projection,
                           const std::vector<std::string>& filter_heads) {
  IndexRead r;
  r.index = def.FindIndex(name);
  if (r.index == nullptr) {
    throw ValidationError("The table does not have the specified index: " + name);
  }
  const IndexDef& ix = *r.index;
  if (ix.backfilling) {
    // Only a GSI added by UpdateTable backfills in DynamoDB; an LSI does here
    // only while a data directory of an older release is upgraded
    // (docs/indexes.md), with the same words.
    throw ValidationError(fmt::format("Cannot read from backfilling {} secondary index: {}",
                                      ix.global() ? "global" : "local", ix.name));
  }
  if (ix.global() && consistent) {
    throw ValidationError("Consistent reads are not supported on global secondary indexes");
  }
  const auto projected = Projected(def, ix);
  std::vector<std::string> wanted;
  if (projection) {
    for (const expr::Path& p : *projection) wanted.push_back(p[0].name);
  }
  if (ix.global()) {
    if (select == "ALL_ATTRIBUTES" && projected) {
      throw ValidationError(fmt::format(
          "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not "
          "supported for global secondary index {} because its projection type is not ALL",
          ix.name));
    }
    if (auto missing = FirstMissing(projected, wanted)) {
      throw ValidationError(fmt::format(
          "One or more parameter values were invalid: Global secondary index {} does not "
          "project [{}]",
          ix.name, *missing));
    }
    if (auto missing = FirstMissing(projected, filter_heads)) {
      throw ValidationError(fmt::format(
          "One or more parameter values were invalid: Secondary index {} does not project one "
          "or more filter attributes: [{}]",
          ix.name, *missing));
    }
    return r;
  }
  // An LSI reads what its projection lacks from the table.
  r.fetch = projected && (select == "ALL_ATTRIBUTES" || FirstMissing(projected, wanted) ||
                          FirstMissing(projected, filter_heads));
  return r;
}

std::string LocateIndexStartKey(const TableDef& def, const IndexDef& ix, const Item& key,
                                uint64_t* hash) {
  // Exactly the index's and the table's key attributes.
  const Item keys = table::IndexEntryKeyAttributes(def, ix, key);
  if (keys.size() != key.size()) throw ValidationError(std::string(kBadStartKey));
  std::set<std::string> want;
  for (const table::KeyAttribute* k : def.KeyAttributes()) want.insert(k->name);
  for (const auto* list : {&ix.partition_key, &ix.sort_key}) {
    for (const auto& k : *list) want.insert(k.name);
  }
  if (want.size() != key.size()) throw ValidationError(std::string(kBadStartKey));
  for (const std::string& n : want) {
    if (!key.Contains(n)) throw ValidationError(std::string(kBadStartKey));
  }
  std::string encoded;
  Status s = table::EncodeIndexEntryKey(def, ix, key, &encoded, hash);
  if (!s.ok()) throw ValidationError(std::string(table::kKeySchemaMismatchMessage));
  // The table's key attributes follow the table's rules too.
  s = table::ValidateKeyOnly(def, table::ExtractKey(def, key));
  if (!s.ok()) throw ValidationError(std::string(table::kKeySchemaMismatchMessage));
  return encoded;
}

std::string LocateIndexQueryStartKey(const TableDef& def, const IndexDef& ix,
                                     const expr::KeyCondition& kc, const Item& key) {
  uint64_t hash;
  std::string encoded = LocateIndexStartKey(def, ix, key, &hash);
  bool pk_matches = true;
  for (size_t i = 0; i < ix.partition_key.size(); i++) {
    pk_matches = pk_matches && *key.Find(ix.partition_key[i].name) == kc.pk_values[i];
  }
  bool in_range = true;
  for (size_t i = 0; i < kc.sk_equal.size(); i++) {
    in_range = in_range && *key.Find(ix.sort_key[i].name) == kc.sk_equal[i];
  }
  const bool has_condition = !kc.sk_equal.empty() || kc.sk.op != table::SortKeyOp::kAll;
  if (!has_condition) {
    if (!pk_matches) {
      throw ValidationError(
          "The provided starting key is outside query boundaries based on provided conditions");
    }
    return encoded;
  }
  if (kc.sk.op != table::SortKeyOp::kAll) {
    in_range = in_range && SortKeySatisfies(*key.Find(ix.sort_key[kc.sk_equal.size()].name), kc.sk);
  }
  if (!in_range) {
    throw ValidationError("The provided starting key does not match the range key predicate");
  }
  if (!pk_matches) {
    throw ValidationError("The query can return at most one row and cannot be restarted");
  }
  return encoded;
}

void FetchFromTable(Context& ctx, const table::TableHandle& t, bool consistent,
                    std::vector<Item>* items, double* table_units) {
  std::vector<Item> out;
  out.reserve(items->size());
  for (const Item& entry : *items) {
    table::ItemKey key;
    Check(t.LocateKey(t.KeyOf(entry), &key));
    std::optional<Item> item;
    CheckData(ctx.store->GetItem(t, key, nullptr, &item));
    *table_units += ReadUnits(SizeOf(item), consistent);
    if (item) out.push_back(std::move(*item));
  }
  *items = std::move(out);
}

}  // namespace basalt::server::api

#include "server/api/index_json.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <optional>
#include <set>

#include "server/api/json_value.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::IndexDef;
using table::KeyAttribute;
using table::ProjectionType;

namespace {

constexpr size_t kMaxNonKeyPerIndex = 20;
constexpr size_t kMaxProjectedNonKey = 100;  // over all indexes of a table

ProjectionType ProjectionFromName(std::string_view name) {
  if (name == "KEYS_ONLY") return ProjectionType::kKeysOnly;
  if (name == "INCLUDE") return ProjectionType::kInclude;
  return ProjectionType::kAll;
}

// A stored capacity value (0 when absent or not a non-negative integer).
uint64_t Units(const json::value* v) {
  if (v == nullptr) return 0;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() > 0) return static_cast<uint64_t>(v->get_int64());
  return 0;
}

json::array KeySchemaJson(const IndexDef& ix) {
  json::array ks;
  for (const auto& k : ix.partition_key) {
    ks.push_back({{"AttributeName", k.name}, {"KeyType", "HASH"}});
  }
  for (const auto& k : ix.sort_key) ks.push_back({{"AttributeName", k.name}, {"KeyType", "RANGE"}});
  return ks;
}

// One index of a request after its constraint checks.
struct RawIndex {
  bool local = false;
  std::optional<std::string> name;
  std::vector<KeyElement> keys;
  std::optional<std::string> projection_type;
  std::optional<std::vector<std::string>> non_key;
  std::optional<Throughput> throughput;
  std::optional<table::OnDemandThroughput> on_demand;
};

RawIndex ParseRawIndex(Constraints* c, const json::object& ix, const std::string& path,
                       bool local) {
  RawIndex r;
  r.local = local;
  r.name = GetString(ix, "IndexName");
  CheckIndexName(c, r.name, path + ".indexName");
  r.keys = ParseKeySchema(c, GetArray(ix, "KeySchema"), path + ".keySchema", local ? 2 : 8);
  const json::object* p = GetObject(ix, "Projection");
  if (p == nullptr) {
    c->Add("null", path + ".projection", "Member must not be null");
  } else {
    r.projection_type = GetString(*p, "ProjectionType");
    if (r.projection_type && *r.projection_type != "ALL" && *r.projection_type != "INCLUDE" &&
        *r.projection_type != "KEYS_ONLY") {
      c->Add(Quote(*r.projection_type), path + ".projection.projectionType",
             "Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]");
    }
    if (const json::array* nk = GetArray(*p, "NonKeyAttributes")) {
      std::vector<std::string> names;
      for (const auto& v : *nk) names.push_back(AsString(v));
      const std::string at = path + ".projection.nonKeyAttributes";
      if (names.empty()) {
        c->Add("'[]'", at, "Member must have length greater than or equal to 1");
      } else if (names.size() > kMaxNonKeyPerIndex) {
        c->Add("'[...]'", at, "Member must have length less than or equal to 20");
      }
      for (const auto& n : names) {
        if (n.empty() || n.size() > 255) {
          c->Add(Quote(n), at,
                 "Member must satisfy constraint: [Member must have length less than or equal "
                 "to 255, Member must have length greater than or equal to 1]");
          break;
        }
      }
      r.non_key = std::move(names);
    }
  }
  r.throughput =
      ParseThroughput(c, GetObject(ix, "ProvisionedThroughput"), path + ".provisionedThroughput");
  if (!local) r.on_demand = ParseOnDemand(GetObject(ix, "OnDemandThroughput"), {});
  return r;
}

// The semantic checks of one index, in DynamoDB's order, and its definition.
IndexDef CheckIndex(const RawIndex& r, const std::vector<KeyElement>& table_keys,
                    const std::vector<KeyAttribute>& defs, bool pay_per_request) {
  const std::string& name = *r.name;
  if (r.local) {
    CheckKeySchema(r.keys, defs);
    if (table_keys.size() != 2) {
      throw ValidationError(std::string(kInvalid) +
                            "Table KeySchema does not have a range key, which is required when "
                            "specifying a LocalSecondaryIndex");
    }
    if (r.keys.size() != 2) {
      throw ValidationError(
          fmt::format("{}Index KeySchema does not have a range key for index: {}", kInvalid, name));
    }
    if (r.keys[0].name != table_keys[0].name) {
      throw ValidationError(fmt::format(
          "{}Index KeySchema does not have the same leading hash key as table KeySchema for "
          "index: {}. index hash key: {}, table hash key: {}",
          kInvalid, name, r.keys[0].name, table_keys[0].name));
    }
  } else {
    CheckGsiKeySchema(r.keys, defs);
  }
  if (!r.projection_type) {
    throw ValidationError(std::string(kInvalid) + "Unknown ProjectionType: null");
  }
  if (r.non_key && *r.projection_type != "INCLUDE") {
    throw ValidationError(fmt::format("{}ProjectionType is {}, but NonKeyAttributes is specified",
                                      kInvalid, *r.projection_type));
  }
  if (!r.non_key && *r.projection_type == "INCLUDE") {
    throw ValidationError(std::string(kInvalid) +
                          "ProjectionType is INCLUDE, but NonKeyAttributes is not specified");
  }
  if (r.non_key) {
    std::set<std::string> seen;
    for (const auto& n : *r.non_key) {
      if (!seen.insert(n).second) {
        throw ValidationError(
            fmt::format("{}Duplicate element in NonKeyAttributes: {}", kInvalid, n));
      }
    }
  }
  if (!r.local && pay_per_request && r.throughput) {
    throw ValidationError(fmt::format(
        "{}ProvisionedThroughput should not be specified for index: {} when BillingMode is "
        "PAY_PER_REQUEST",
        kInvalid, name));
  }
  if (!r.local && !pay_per_request && !r.throughput) {
    throw ValidationError(
        fmt::format("{}ProvisionedThroughput is not specified for index: {}", kInvalid, name));
  }
  IndexDef def;
  def.name = name;
  def.kind = r.local ? table::IndexKind::kLocal : table::IndexKind::kGlobal;
  for (const KeyElement& k : r.keys) {
    (k.key_type == "HASH" ? def.partition_key : def.sort_key)
        .push_back({k.name, DefinedType(defs, k.name)});
  }
  def.projection = ProjectionFromName(*r.projection_type);
  def.non_key_attributes = r.non_key.value_or(std::vector<std::string>{});
  if (r.throughput) {
    CheckThroughputBounds(*r.throughput);
    if (!r.local) ApplyThroughput(*r.throughput, 0, &def.provisioned);
  }
  if (r.on_demand) def.on_demand = *r.on_demand;
  return def;
}

}  // namespace

std::vector<std::vector<KeyElement>> IndexKeyElements(const json::object& req, Constraints* c,
                                                      std::string_view member_path) {
  std::vector<std::vector<KeyElement>> out;
  for (const char* kind : {"GlobalSecondaryIndexes", "LocalSecondaryIndexes"}) {
    const json::value* list = req.if_contains(kind);
    if (list == nullptr || !list->is_array()) continue;
    const std::string_view lower =
        kind[0] == 'G' ? "globalSecondaryIndexes" : "localSecondaryIndexes";
    for (size_t i = 0; i < list->get_array().size(); i++) {
      const json::value& ix = list->get_array()[i];
      std::vector<KeyElement>& elements = out.emplace_back();
      const json::value* keys = ix.is_object() ? ix.get_object().if_contains("KeySchema") : nullptr;
      if (keys == nullptr || !keys->is_array()) continue;
      for (size_t j = 0; j < keys->get_array().size(); j++) {
        const json::value& k = keys->get_array()[j];
        if (!k.is_object()) continue;
        const json::value* n = k.get_object().if_contains("AttributeName");
        const json::value* t = k.get_object().if_contains("KeyType");
        if (n == nullptr || !n->is_string()) continue;
        if (c != nullptr && n->get_string().size() > 255) {
          const std::string member = member_path.empty() ? fmt::format("{}.{}.member", lower, i + 1)
                                                         : std::string(member_path);
          c->Add(Quote(n->get_string()),
                 fmt::format("{}.keySchema.{}.member.attributeName", member, j + 1),
                 "Member must have length less than or equal to 255");
        }
        elements.push_back({std::string(n->get_string()),
                            t != nullptr && t->is_string() ? std::string(t->get_string()) : ""});
      }
    }
  }
  return out;
}

std::vector<IndexDef> ParseIndexes(const json::object& req,
                                   const std::vector<KeyElement>& table_keys,
                                   const std::vector<KeyAttribute>& defs, bool pay_per_request,
                                   size_t existing_non_key, std::string_view member_path) {
  // Constraints first, GSIs before LSIs, aggregated over all indexes (as
  // DynamoDB lists them).
  Constraints c;
  std::vector<RawIndex> raw;
  for (const char* kind : {"GlobalSecondaryIndexes", "LocalSecondaryIndexes"}) {
    const json::array* list = GetArray(req, kind);
    if (list == nullptr) continue;
    const bool local = std::string_view(kind) == "LocalSecondaryIndexes";
    const std::string lower = local ? "localSecondaryIndexes" : "globalSecondaryIndexes";
    for (size_t i = 0; i < list->size(); i++) {
      raw.push_back(ParseRawIndex(&c, AsObject((*list)[i]),
                                  member_path.empty() ? fmt::format("{}.{}.member", lower, i + 1)
                                                      : std::string(member_path),
                                  local));
    }
  }
  c.ThrowIfAny();
  // Then the semantic checks: LSIs, then GSIs.
  std::vector<IndexDef> out;
  std::set<std::string> names;
  size_t non_key = existing_non_key;
  for (const bool local : {true, false}) {
    const char* kind = local ? "LocalSecondaryIndexes" : "GlobalSecondaryIndexes";
    const json::array* list = GetArray(req, kind);
    if (list == nullptr) continue;
    if (list->empty()) throw ValidationError(fmt::format("{}List of {} is empty", kInvalid, kind));
    size_t count = 0;
    for (const RawIndex& r : raw) {
      if (r.local != local) continue;
      IndexDef def = CheckIndex(r, table_keys, defs, pay_per_request);
      if (!names.insert(def.name).second) {
        throw ValidationError(fmt::format("{}Duplicate index name: {}", kInvalid, def.name));
      }
      non_key += def.non_key_attributes.size();
      out.push_back(std::move(def));
      count++;
    }
    if (local && count > 5) {
      throw ValidationError(std::string(kInvalid) +
                            "Number of LocalSecondaryIndexes exceeds per-table limit of 5");
    }
    if (!local && count > 20) {
      throw ValidationError(std::string(kInvalid) +
                            "GlobalSecondaryIndex count exceeds the per-table limit of 20");
    }
  }
  // The DynamoDB Developer Guide's quota: at most 100 attributes projected
  // into all the indexes of a table (INCLUDE lists; one attribute in two
  // indexes counts twice).
  if (non_key > kMaxProjectedNonKey) {
    throw ValidationError(std::string(kInvalid) +
                          "Number of projected attributes in all indexes exceeds limit of 100");
  }
  return out;
}

json::array IndexesJson(const std::string& table_arn, const table::TableDef& d, bool global,
                        std::optional<table::IndexStatus> status_of, std::string_view only) {
  json::array out;
  const bool ppr = d.billing_mode == table::BillingMode::kPayPerRequest;
  for (const IndexDef& ix : d.indexes) {
    if (ix.global() != global) continue;
    json::object projection{{"ProjectionType", table::ProjectionTypeName(ix.projection)}};
    if (!ix.non_key_attributes.empty()) {
      // DynamoDB lists them sorted by name.
      std::vector<std::string> sorted = ix.non_key_attributes;
      std::sort(sorted.begin(), sorted.end());
      json::array names;
      for (const auto& n : sorted) names.emplace_back(n);
      projection["NonKeyAttributes"] = std::move(names);
    }
    json::object o{{"IndexName", ix.name},
                   {"KeySchema", KeySchemaJson(ix)},
                   {"Projection", std::move(projection)}};
    o["IndexSizeBytes"] = ix.approx_size_bytes;
    o["ItemCount"] = ix.approx_item_count;
    o["IndexArn"] = fmt::format("{}/index/{}", table_arn, ix.name);
    if (global) {
      const table::IndexStatus status =
          status_of && (only.empty() || only == ix.name) ? *status_of : ix.status;
      o["IndexStatus"] = table::IndexStatusName(status);
      // Backfilling: shown only while an index added to a table fills.
      if (status == table::IndexStatus::kCreating && ix.backfilling) o["Backfilling"] = true;
      o["ProvisionedThroughput"] = ThroughputJson(ix.provisioned);
      if (ix.on_demand.max_read_request_units || ix.on_demand.max_write_request_units) {
        json::object od;
        od["MaxReadRequestUnits"] = ix.on_demand.max_read_request_units
                                        ? static_cast<int64_t>(*ix.on_demand.max_read_request_units)
                                        : -1;
        od["MaxWriteRequestUnits"] =
            ix.on_demand.max_write_request_units
                ? static_cast<int64_t>(*ix.on_demand.max_write_request_units)
                : -1;
        o["OnDemandThroughput"] = std::move(od);
      }
      // WarmThroughput: what the index serves at once — on-demand's initial
      // 12,000 reads / 4,000 writes per second, or the provisioned units
      // (DynamoDB API Reference, GlobalSecondaryIndexWarmThroughputDescription).
      const uint64_t warm_read = std::max<uint64_t>(ix.warm.read_units_per_second,
                                                    ppr ? 12000 : ix.provisioned.read_units);
      const uint64_t warm_write = std::max<uint64_t>(ix.warm.write_units_per_second,
                                                     ppr ? 4000 : ix.provisioned.write_units);
      o["WarmThroughput"] = {{"ReadUnitsPerSecond", warm_read},
                             {"WriteUnitsPerSecond", warm_write},
                             {"Status", "ACTIVE"}};
    }
    out.push_back(std::move(o));
  }
  return out;
}

Status DecodeLegacyIndexJson(const table::TableDef& def, std::string_view text,
                             std::vector<IndexDef>* out) {
  out->clear();
  auto bad = [](std::string_view what) {
    return Status::Corruption("index definitions (catalog format 2)", what);
  };
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return bad("not a JSON object");
  for (const char* kind : {"LocalSecondaryIndexes", "GlobalSecondaryIndexes"}) {
    const json::value* list = v.get_object().if_contains(kind);
    if (list == nullptr) continue;
    if (!list->is_array()) return bad("index list is not an array");
    for (const json::value& entry : list->get_array()) {
      const json::object* o = entry.if_object();
      const json::value* name = o ? o->if_contains("IndexName") : nullptr;
      const json::value* keys = o ? o->if_contains("KeySchema") : nullptr;
      const json::value* proj = o ? o->if_contains("Projection") : nullptr;
      if (name == nullptr || !name->is_string() || keys == nullptr || !keys->is_array() ||
          proj == nullptr || !proj->is_object()) {
        return bad("index entry without IndexName, KeySchema or Projection");
      }
      IndexDef ix;
      ix.name = std::string(name->get_string());
      ix.kind = std::string_view(kind) == "LocalSecondaryIndexes" ? table::IndexKind::kLocal
                                                                  : table::IndexKind::kGlobal;
      for (const json::value& k : keys->get_array()) {
        const json::value* an =
            k.is_object() ? k.get_object().if_contains("AttributeName") : nullptr;
        const json::value* kt = k.is_object() ? k.get_object().if_contains("KeyType") : nullptr;
        if (an == nullptr || !an->is_string() || kt == nullptr || !kt->is_string()) {
          return bad("key schema element");
        }
        const std::string attr(an->get_string());
        (kt->get_string() == "HASH" ? ix.partition_key : ix.sort_key)
            .push_back({attr, DefinedType(def.attribute_definitions, attr)});
      }
      const json::value* pt = proj->get_object().if_contains("ProjectionType");
      if (pt == nullptr || !pt->is_string()) return bad("projection type");
      ix.projection = ProjectionFromName(pt->get_string());
      if (const json::value* nk = proj->get_object().if_contains("NonKeyAttributes")) {
        if (!nk->is_array()) return bad("non-key attributes");
        for (const json::value& n : nk->get_array()) {
          if (!n.is_string()) return bad("non-key attribute");
          ix.non_key_attributes.emplace_back(n.get_string());
        }
      }
      if (const json::value* tp = o->if_contains("ProvisionedThroughput");
          tp != nullptr && tp->is_object() && ix.global()) {
        ix.provisioned.read_units = Units(tp->get_object().if_contains("ReadCapacityUnits"));
        ix.provisioned.write_units = Units(tp->get_object().if_contains("WriteCapacityUnits"));
      }
      if (ix.partition_key.empty()) return bad("index without a partition key");
      out->push_back(std::move(ix));
    }
  }
  return Status::OK();
}

}  // namespace basalt::server::api

#include "server/api/index_json.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <set>

#include "server/api/json_value.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::IndexDef;
using table::KeyAttribute;
using table::ProjectionType;

namespace {

struct ParsedProjection {
  std::optional<std::string> type;
  std::optional<std::vector<std::string>> non_key_attributes;
};

// Projection of an index definition; constraint errors into *c.
ParsedProjection ParseProjection(Constraints* c, const json::object* p, const std::string& path) {
  ParsedProjection out;
  if (p == nullptr) {
    c->Add("null", path, "Member must not be null");
    return out;
  }
  out.type = GetString(*p, "ProjectionType");
  if (out.type && *out.type != "ALL" && *out.type != "INCLUDE" && *out.type != "KEYS_ONLY") {
    c->Add(Quote(*out.type), path + ".projectionType",
           "Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]");
  }
  if (const json::array* nk = GetArray(*p, "NonKeyAttributes")) {
    std::vector<std::string> names;
    for (const auto& v : *nk) names.push_back(AsString(v));
    out.non_key_attributes = std::move(names);
  }
  return out;
}

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

}  // namespace

std::vector<IndexDef> ParseIndexes(const json::object& req,
                                   const std::vector<KeyElement>& table_keys,
                                   const std::vector<KeyAttribute>& defs, bool pay_per_request) {
  std::vector<IndexDef> out;
  std::set<std::string> names;
  for (const char* kind : {"LocalSecondaryIndexes", "GlobalSecondaryIndexes"}) {
    const json::array* list = GetArray(req, kind);
    if (list == nullptr) continue;
    const bool local = std::string_view(kind) == "LocalSecondaryIndexes";
    const std::string lower = local ? "localSecondaryIndexes" : "globalSecondaryIndexes";
    if (list->empty()) {
      throw ValidationError(fmt::format("{}List of {} is empty", kInvalid, kind));
    }
    size_t count = 0;
    for (size_t i = 0; i < list->size(); i++) {
      const json::object& ix = AsObject((*list)[i]);
      const std::string path = fmt::format("{}.{}.member", lower, i + 1);
      Constraints c;
      auto name = GetString(ix, "IndexName");
      CheckIndexName(&c, name, path + ".indexName");
      auto keys = ParseKeySchema(&c, GetArray(ix, "KeySchema"), path + ".keySchema");
      ParsedProjection projection =
          ParseProjection(&c, GetObject(ix, "Projection"), path + ".projection");
      auto tp = ParseThroughput(&c, GetObject(ix, "ProvisionedThroughput"),
                                path + ".provisionedThroughput");
      c.ThrowIfAny();
      CheckKeySchema(keys, defs);
      if (local) {
        if (table_keys.size() != 2) {
          throw ValidationError(std::string(kInvalid) +
                                "Table KeySchema does not have a range key, which is required "
                                "when specifying a LocalSecondaryIndex");
        }
        if (keys.size() != 2) {
          throw ValidationError(fmt::format(
              "{}Index KeySchema does not have a range key for index: {}", kInvalid, *name));
        }
        if (keys[0].name != table_keys[0].name) {
          throw ValidationError(fmt::format(
              "{}Index KeySchema does not have the same leading hash key as table KeySchema for "
              "index: {}. index hash key: {}, table hash key: {}",
              kInvalid, *name, keys[0].name, table_keys[0].name));
        }
      }
      if (!projection.type) {
        throw ValidationError(std::string(kInvalid) + "Unknown ProjectionType: null");
      }
      if (projection.non_key_attributes && *projection.type != "INCLUDE") {
        throw ValidationError(
            fmt::format("{}ProjectionType is {}, but NonKeyAttributes is specified", kInvalid,
                        *projection.type));
      }
      if (!local && pay_per_request && tp) {
        throw ValidationError(fmt::format(
            "{}ProvisionedThroughput should not be specified for index: {} when BillingMode is "
            "PAY_PER_REQUEST",
            kInvalid, *name));
      }
      if (!local && !pay_per_request && !tp) {
        throw ValidationError(fmt::format("{}ProvisionedThroughput must be specified for index: {}",
                                          kInvalid, *name));
      }
      if (!names.insert(*name).second) {
        throw ValidationError(fmt::format("{}Duplicate index name: {}", kInvalid, *name));
      }
      IndexDef def;
      def.name = *name;
      def.kind = local ? table::IndexKind::kLocal : table::IndexKind::kGlobal;
      for (const KeyElement& k : keys) {
        (k.key_type == "HASH" ? def.partition_key : def.sort_key)
            .push_back({k.name, DefinedType(defs, k.name)});
      }
      def.projection = ProjectionFromName(*projection.type);
      def.non_key_attributes = projection.non_key_attributes.value_or(std::vector<std::string>{});
      if (tp) {
        CheckThroughputBounds(*tp);
        if (!local) ApplyThroughput(*tp, 0, &def.provisioned);
      }
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
  return out;
}

json::array IndexesJson(const std::string& table_arn, const table::TableDef& d, bool global) {
  json::array out;
  for (const IndexDef& ix : d.indexes) {
    if (ix.global() != global) continue;
    json::object projection{{"ProjectionType", table::ProjectionTypeName(ix.projection)}};
    if (!ix.non_key_attributes.empty()) {
      json::array names;
      for (const auto& n : ix.non_key_attributes) names.emplace_back(n);
      projection["NonKeyAttributes"] = std::move(names);
    }
    json::object o{{"IndexName", ix.name},
                   {"KeySchema", KeySchemaJson(ix)},
                   {"Projection", std::move(projection)}};
    o["IndexSizeBytes"] = 0;
    o["ItemCount"] = 0;
    o["IndexArn"] = fmt::format("{}/index/{}", table_arn, ix.name);
    if (global) {
      o["IndexStatus"] = table::IndexStatusName(ix.status);
      o["ProvisionedThroughput"] = ThroughputJson(ix.provisioned);
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

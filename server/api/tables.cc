// Control plane: CreateTable, DescribeTable, ListTables, DeleteTable,
// UpdateTable, DescribeEndpoints, DescribeLimits, TagResource,
// UntagResource, ListTagsOfResource.
//
// Messages follow DynamoDB (dynalite's validations/createTable.js and
// updateTable.js, which were diffed against the live service, and DYNAMODB.md).
// Tables are created ACTIVE at once (like DynamoDB Local): boto3's
// table_exists waiter succeeds on its first poll.
//
// Index definitions (LSI/GSI) are stored in the catalog's opaque field as
// JSON text (TableDef::index_definitions) until the index layer serves them.
// The stream settings are typed (TableDef::stream, engine/table/stream.h):
// enabling a stream gives it a new label (a new stream); disabling keeps the
// label, so the old stream stays readable (streams.cc) until it expires.
#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <set>

#include "engine/base/checksum.h"
#include "engine/table/stream.h"
#include "server/api/errors.h"
#include "server/api/json_value.h"
#include "server/api/service.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::BillingMode;
using table::KeyAttribute;
using table::TableDef;
using table::ValueType;

namespace {

constexpr std::string_view kInvalid = "One or more parameter values were invalid: ";
constexpr int64_t kMaxCapacity = 1000000000000;

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

bool ValidNameChars(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

// Table and index names: 3..255 of [a-zA-Z0-9_.-].
void CheckName(Constraints* c, const std::optional<std::string>& name, std::string_view path) {
  if (!name) {
    c->Add("null", path, "Member must not be null");
    return;
  }
  if (!ValidNameChars(*name)) {
    c->Add(Quote(*name), path, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
  }
  if (name->size() < 3 || name->size() > 255) {
    throw ValidationError(
        "IndexName must be at least 3 characters long and at most 255 characters long");
  }
}

std::optional<ValueType> KeyTypeFromName(std::string_view t) {
  if (t == "S") return ValueType::kS;
  if (t == "N") return ValueType::kN;
  if (t == "B") return ValueType::kB;
  return std::nullopt;
}

struct KeyElement {
  std::string name;
  std::string key_type;  // HASH / RANGE
};

// A KeySchema list with its constraint checks (path: "keySchema" or
// "globalSecondaryIndexes.1.member.keySchema").
std::vector<KeyElement> ParseKeySchema(Constraints* c, const json::array* arr,
                                       const std::string& path) {
  std::vector<KeyElement> out;
  if (arr == nullptr) {
    c->Add("null", path, "Member must not be null");
    return out;
  }
  for (size_t i = 0; i < arr->size(); i++) {
    const json::object& e = AsObject((*arr)[i]);
    KeyElement k;
    auto name = GetString(e, "AttributeName");
    auto type = GetString(e, "KeyType");
    std::string p = fmt::format("{}.{}.member", path, i + 1);
    if (!name) c->Add("null", p + ".attributeName", "Member must not be null");
    if (!type) {
      c->Add("null", p + ".keyType", "Member must not be null");
    } else if (*type != "HASH" && *type != "RANGE") {
      c->Add(Quote(*type), p + ".keyType", "Member must satisfy enum value set: [HASH, RANGE]");
    }
    if (name && name->size() > 255) {
      c->Add(Quote(*name), p + ".attributeName",
             "Member must have length less than or equal to 255");
    }
    k.name = name.value_or("");
    k.key_type = type.value_or("");
    out.push_back(std::move(k));
  }
  if (arr->empty()) {
    c->Add("[]", path, "Member must have length greater than or equal to 1");
  } else if (arr->size() > 2) {
    c->Add("[...]", path, "Member must have length less than or equal to 2");
  }
  return out;
}

// Semantic checks of a key schema against the attribute definitions (dynalite's order).
void CheckKeySchema(const std::vector<KeyElement>& keys, const std::vector<KeyAttribute>& defs) {
  std::vector<std::string> defn;
  for (const auto& d : defs) defn.push_back(d.name);
  std::vector<std::string> names;
  for (const auto& k : keys) names.push_back(k.name);
  for (const auto& n : names) {
    if (std::find(defn.begin(), defn.end(), n) == defn.end()) {
      throw ValidationError(fmt::format(
          "{}Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], "
          "AttributeDefinitions: [{}]",
          kInvalid, fmt::join(names, ", "), fmt::join(defn, ", ")));
    }
  }
  if (keys.size() == 2 && keys[0].name == keys[1].name) {
    throw ValidationError(
        "Both the Hash Key and the Range Key element in the KeySchema have the same name");
  }
  if (keys[0].key_type != "HASH") {
    throw ValidationError("Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
  }
  if (keys.size() == 2 && keys[1].key_type != "RANGE") {
    throw ValidationError("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type");
  }
}

ValueType DefinedType(const std::vector<KeyAttribute>& defs, const std::string& name) {
  for (const auto& d : defs) {
    if (d.name == name) return d.type;
  }
  return ValueType::kS;
}

struct Throughput {
  int64_t read = 0;
  int64_t write = 0;
};

std::optional<Throughput> ParseThroughput(Constraints* c, const json::object* o,
                                          const std::string& path) {
  if (o == nullptr) return std::nullopt;
  Throughput t;
  auto r = GetInt(*o, "ReadCapacityUnits");
  auto w = GetInt(*o, "WriteCapacityUnits");
  if (!w) {
    c->Add("null", path + ".writeCapacityUnits", "Member must not be null");
  } else if (*w < 1) {
    c->Add(fmt::format("'{}'", *w), path + ".writeCapacityUnits",
           "Member must have value greater than or equal to 1");
  }
  if (!r) {
    c->Add("null", path + ".readCapacityUnits", "Member must not be null");
  } else if (*r < 1) {
    c->Add(fmt::format("'{}'", *r), path + ".readCapacityUnits",
           "Member must have value greater than or equal to 1");
  }
  t.read = r.value_or(0);
  t.write = w.value_or(0);
  return t;
}

void CheckThroughputBounds(const Throughput& t) {
  if (t.read > kMaxCapacity) {
    throw ValidationError(
        fmt::format("Given value {} for ReadCapacityUnits is out of bounds", t.read));
  }
  if (t.write > kMaxCapacity) {
    throw ValidationError(
        fmt::format("Given value {} for WriteCapacityUnits is out of bounds", t.write));
  }
}

json::array KeySchemaJson(const TableDef& d) {
  json::array a;
  a.push_back({{"AttributeName", d.partition_key.name}, {"KeyType", "HASH"}});
  if (d.sort_key) a.push_back({{"AttributeName", d.sort_key->name}, {"KeyType", "RANGE"}});
  return a;
}

std::string TableId(const TableDef& d) {
  // Stable per table: derived from the name, internal id and creation time.
  std::string seed = fmt::format("{}/{}/{}", d.name, d.table_id, d.creation_time_ms);
  uint64_t a = XXH3_64bits(seed.data(), seed.size());
  uint64_t b = XXH3_64bits_withSeed(seed.data(), seed.size(), 0x9e3779b97f4a7c15ULL);
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff,
                     b >> 48, b & 0xffffffffffffULL);
}

json::object ParseStored(const std::string& text) {
  if (text.empty()) return {};
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  return v.get_object();
}

json::object ThroughputJson(const TableDef& d) {
  return {{"NumberOfDecreasesToday", 0},
          {"ReadCapacityUnits", d.read_capacity_units},
          {"WriteCapacityUnits", d.write_capacity_units}};
}

json::object Describe(const Context& ctx, const TableDef& d, std::string_view status) {
  json::object t;
  json::array defs;
  for (const auto& a : d.attribute_definitions) {
    defs.push_back({{"AttributeName", a.name}, {"AttributeType", table::ValueTypeName(a.type)}});
  }
  const std::string arn = ctx.TableArn(d.name);
  t["AttributeDefinitions"] = std::move(defs);
  t["TableName"] = d.name;
  t["KeySchema"] = KeySchemaJson(d);
  t["TableStatus"] = status.empty() ? std::string_view(d.status) : status;
  t["CreationDateTime"] = static_cast<double>(d.creation_time_ms) / 1000.0;
  t["ProvisionedThroughput"] = ThroughputJson(d);
  t["TableSizeBytes"] = d.approx_size_bytes;
  t["ItemCount"] = d.approx_item_count;
  t["TableArn"] = arn;
  t["TableId"] = TableId(d);
  json::object bms{{"BillingMode", d.billing_mode == BillingMode::kPayPerRequest ? "PAY_PER_REQUEST"
                                                                                 : "PROVISIONED"}};
  if (d.billing_mode == BillingMode::kPayPerRequest) {
    bms["LastUpdateToPayPerRequestDateTime"] = static_cast<double>(d.creation_time_ms) / 1000.0;
  }
  t["BillingModeSummary"] = std::move(bms);
  json::object idx = ParseStored(d.index_definitions);
  for (const char* kind : {"LocalSecondaryIndexes", "GlobalSecondaryIndexes"}) {
    const json::array* list = GetArray(idx, kind);
    if (list == nullptr || list->empty()) continue;
    json::array out;
    for (const json::value& v : *list) {
      json::object i = v.get_object();
      i["IndexSizeBytes"] = 0;
      i["ItemCount"] = 0;
      i["IndexArn"] = fmt::format("{}/index/{}", arn, AsString(i["IndexName"]));
      if (std::string_view(kind) == "GlobalSecondaryIndexes") {
        i["IndexStatus"] = "ACTIVE";
        if (!i.contains("ProvisionedThroughput")) {
          i["ProvisionedThroughput"] = {
              {"NumberOfDecreasesToday", 0}, {"ReadCapacityUnits", 0}, {"WriteCapacityUnits", 0}};
        } else {
          i["ProvisionedThroughput"].get_object()["NumberOfDecreasesToday"] = 0;
        }
      }
      out.push_back(std::move(i));
    }
    t[kind] = std::move(out);
  }
  if (d.stream.enabled) {
    t["StreamSpecification"] = {{"StreamEnabled", true},
                                {"StreamViewType", table::StreamViewTypeName(d.stream.view_type)}};
  }
  if (!d.stream.label.empty()) {
    t["LatestStreamLabel"] = d.stream.label;
    t["LatestStreamArn"] = fmt::format("{}/stream/{}", arn, d.stream.label);
  }
  t["DeletionProtectionEnabled"] = false;
  return t;
}

TableDef DescribeOrThrow(Context& ctx, const std::string& name) {
  TableDef d;
  Check(ctx.store->DescribeTable(name, &d));
  return d;
}

std::string StreamLabelAt(uint64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

// A new stream's label: the current time (UTC, milliseconds), but always
// later than `previous` so that each enabling names a distinct stream even
// within one millisecond (or if the clock stepped back).
std::string StreamLabel(const std::string& previous = {}) {
  uint64_t ms = NowMs();
  std::tm tm{};
  unsigned frac = 0;
  if (!previous.empty() &&
      sscanf(previous.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3u", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
             &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &frac) == 7) {
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const uint64_t prev_ms = static_cast<uint64_t>(timegm(&tm)) * 1000 + frac;
    ms = std::max(ms, prev_ms + 1);
  }
  return StreamLabelAt(ms);
}

// StreamSpecification -> the requested setting (label unset), or nullopt
// when absent.
std::optional<table::StreamSpec> ParseStreamSpec(const json::object& req) {
  const json::object* spec = GetObject(req, "StreamSpecification");
  if (spec == nullptr) return std::nullopt;
  auto enabled = GetBool(*spec, "StreamEnabled");
  auto view = GetString(*spec, "StreamViewType");
  Constraints c;
  if (!enabled) c.Add("null", "streamSpecification.streamEnabled", "Member must not be null");
  if (view && *view != "NEW_IMAGE" && *view != "OLD_IMAGE" && *view != "NEW_AND_OLD_IMAGES" &&
      *view != "KEYS_ONLY") {
    c.Add(Quote(*view), "streamSpecification.streamViewType",
          "Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, "
          "KEYS_ONLY]");
  }
  c.ThrowIfAny();
  if (*enabled && !view) {
    throw ValidationError(std::string(kInvalid) +
                          "You must specify a StreamViewType when enabling a stream");
  }
  if (!*enabled && view) {
    throw ValidationError(std::string(kInvalid) +
                          "You cannot specify a StreamViewType when disabling a stream");
  }
  table::StreamSpec out;
  out.enabled = *enabled;
  if (*enabled) table::ParseStreamViewType(*view, &out.view_type);
  return out;
}

// Projection of an index definition, validated.
json::object ParseProjection(Constraints* c, const json::object* p, const std::string& path) {
  if (p == nullptr) {
    c->Add("null", path, "Member must not be null");
    return {};
  }
  json::object out;
  auto type = GetString(*p, "ProjectionType");
  if (type && *type != "ALL" && *type != "INCLUDE" && *type != "KEYS_ONLY") {
    c->Add(Quote(*type), path + ".projectionType",
           "Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]");
  }
  if (type) out["ProjectionType"] = *type;
  if (const json::array* nk = GetArray(*p, "NonKeyAttributes")) {
    json::array names;
    for (const auto& v : *nk) names.emplace_back(AsString(v));
    out["NonKeyAttributes"] = std::move(names);
  }
  return out;
}

// LocalSecondaryIndexes / GlobalSecondaryIndexes of CreateTable -> stored JSON.
json::object ParseIndexes(const json::object& req, const std::vector<KeyElement>& table_keys,
                          const std::vector<KeyAttribute>& defs, bool pay_per_request) {
  json::object stored;
  std::set<std::string> names;
  for (const char* kind : {"LocalSecondaryIndexes", "GlobalSecondaryIndexes"}) {
    const json::array* list = GetArray(req, kind);
    if (list == nullptr) continue;
    const bool local = std::string_view(kind) == "LocalSecondaryIndexes";
    std::string lower = local ? "localSecondaryIndexes" : "globalSecondaryIndexes";
    if (list->empty()) {
      throw ValidationError(fmt::format("{}List of {} is empty", kInvalid, kind));
    }
    json::array out;
    for (size_t i = 0; i < list->size(); i++) {
      const json::object& ix = AsObject((*list)[i]);
      std::string path = fmt::format("{}.{}.member", lower, i + 1);
      Constraints c;
      auto name = GetString(ix, "IndexName");
      CheckName(&c, name, path + ".indexName");
      auto keys = ParseKeySchema(&c, GetArray(ix, "KeySchema"), path + ".keySchema");
      json::object projection =
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
      if (!projection.contains("ProjectionType")) {
        throw ValidationError(std::string(kInvalid) + "Unknown ProjectionType: null");
      }
      std::string ptype = AsString(projection["ProjectionType"]);
      if (projection.contains("NonKeyAttributes") && ptype != "INCLUDE") {
        throw ValidationError(fmt::format(
            "{}ProjectionType is {}, but NonKeyAttributes is specified", kInvalid, ptype));
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
      json::array ks;
      for (const auto& k : keys) ks.push_back({{"AttributeName", k.name}, {"KeyType", k.key_type}});
      json::object def{{"IndexName", *name},
                       {"KeySchema", std::move(ks)},
                       {"Projection", std::move(projection)}};
      if (tp) {
        CheckThroughputBounds(*tp);
        def["ProvisionedThroughput"] = {{"ReadCapacityUnits", tp->read},
                                        {"WriteCapacityUnits", tp->write}};
      }
      out.push_back(std::move(def));
    }
    if (local && out.size() > 5) {
      throw ValidationError(std::string(kInvalid) +
                            "Number of LocalSecondaryIndexes exceeds per-table limit of 5");
    }
    if (!local && out.size() > 20) {
      throw ValidationError(std::string(kInvalid) +
                            "GlobalSecondaryIndex count exceeds the per-table limit of 20");
    }
    stored[kind] = std::move(out);
  }
  return stored;
}

// Tags: [{Key, Value}] with DynamoDB's limits (TaggingRestrictions page).
std::vector<std::pair<std::string, std::string>> ParseTags(const json::array* arr,
                                                           std::string_view path) {
  std::vector<std::pair<std::string, std::string>> tags;
  if (arr == nullptr) return tags;
  Constraints c;
  for (size_t i = 0; i < arr->size(); i++) {
    const json::object& t = AsObject((*arr)[i]);
    auto key = GetString(t, "Key");
    auto value = GetString(t, "Value");
    std::string p = fmt::format("{}.{}.member", path, i + 1);
    if (!key) c.Add("null", p + ".key", "Member must not be null");
    if (!value) c.Add("null", p + ".value", "Member must not be null");
    if (key && (key->empty() || key->size() > 128)) {
      c.Add(Quote(*key), p + ".key",
            key->empty() ? "Member must have length greater than or equal to 1"
                         : "Member must have length less than or equal to 128");
    }
    if (value && value->size() > 256) {
      c.Add(Quote(*value), p + ".value", "Member must have length less than or equal to 256");
    }
    if (key && value) tags.emplace_back(*key, *value);
  }
  c.ThrowIfAny();
  for (const auto& [k, v] : tags) {
    if (k.starts_with("aws:")) {
      throw ValidationError(
          "One or more parameter values were invalid: Tag key cannot start with "
          "the reserved prefix \"aws:\"");
    }
  }
  return tags;
}

void MergeTags(std::vector<std::pair<std::string, std::string>>* tags,
               const std::vector<std::pair<std::string, std::string>>& add) {
  for (const auto& [k, v] : add) {
    auto it = std::find_if(tags->begin(), tags->end(), [&](const auto& t) { return t.first == k; });
    if (it != tags->end()) {
      it->second = v;
    } else {
      tags->emplace_back(k, v);
    }
  }
  if (tags->size() > 50) {
    throw ValidationError(
        "One or more parameter values were invalid: The number of tags exceeds the limit of 50");
  }
}

// ---- operations ----

json::object CreateTable(Context& ctx, const json::object& req) {
  Constraints c;
  std::optional<std::string> name = RequireTableName(req);
  std::vector<KeyAttribute> defs;
  const json::array* ad = GetArray(req, "AttributeDefinitions");
  if (ad == nullptr) {
    c.Add("null", "attributeDefinitions", "Member must not be null");
  } else {
    for (size_t i = 0; i < ad->size(); i++) {
      const json::object& e = AsObject((*ad)[i]);
      auto an = GetString(e, "AttributeName");
      auto at = GetString(e, "AttributeType");
      std::string p = fmt::format("attributeDefinitions.{}.member", i + 1);
      if (!an) c.Add("null", p + ".attributeName", "Member must not be null");
      if (!at) {
        c.Add("null", p + ".attributeType", "Member must not be null");
      } else if (!KeyTypeFromName(*at)) {
        c.Add(Quote(*at), p + ".attributeType", "Member must satisfy enum value set: [B, N, S]");
      }
      if (an && at && KeyTypeFromName(*at)) defs.push_back({*an, *KeyTypeFromName(*at)});
    }
  }
  auto keys = ParseKeySchema(&c, GetArray(req, "KeySchema"), "keySchema");
  auto billing = GetString(req, "BillingMode");
  if (billing && *billing != "PROVISIONED" && *billing != "PAY_PER_REQUEST") {
    c.Add(Quote(*billing), "billingMode",
          "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]");
  }
  auto tp = ParseThroughput(&c, GetObject(req, "ProvisionedThroughput"), "provisionedThroughput");
  c.ThrowIfAny();

  const bool ppr = billing && *billing == "PAY_PER_REQUEST";
  if (ppr && tp) {
    throw ValidationError(std::string(kInvalid) +
                          "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
                          "BillingMode is PAY_PER_REQUEST");
  }
  if (!ppr && !tp) {
    throw ValidationError(std::string(kInvalid) +
                          "ReadCapacityUnits and WriteCapacityUnits must both be specified when "
                          "BillingMode is PROVISIONED");
  }
  if (tp) CheckThroughputBounds(*tp);
  std::set<std::string> seen;
  for (const auto& d : defs) {
    if (!seen.insert(d.name).second) {
      throw ValidationError(
          fmt::format("{}Duplicate AttributeName in AttributeDefinitions: {}", kInvalid, d.name));
    }
  }
  if (keys.size() > defs.size()) {
    throw ValidationError("Invalid KeySchema: Some index key attribute have no definition");
  }
  CheckKeySchema(keys, defs);
  const bool has_indexes = GetArray(req, "LocalSecondaryIndexes") != nullptr ||
                           GetArray(req, "GlobalSecondaryIndexes") != nullptr;
  if (!has_indexes && keys.size() != defs.size()) {
    throw ValidationError(std::string(kInvalid) +
                          "Number of attributes in KeySchema does not exactly match number of "
                          "attributes defined in AttributeDefinitions");
  }
  json::object indexes = ParseIndexes(req, keys, defs, ppr);
  auto stream = ParseStreamSpec(req);
  auto tags = ParseTags(GetArray(req, "Tags"), "tags");

  TableDef def;
  def.name = *name;
  def.partition_key = {keys[0].name, DefinedType(defs, keys[0].name)};
  if (keys.size() == 2) def.sort_key = KeyAttribute{keys[1].name, DefinedType(defs, keys[1].name)};
  def.attribute_definitions = defs;
  def.billing_mode = ppr ? BillingMode::kPayPerRequest : BillingMode::kProvisioned;
  if (tp) {
    def.read_capacity_units = static_cast<uint64_t>(tp->read);
    def.write_capacity_units = static_cast<uint64_t>(tp->write);
  }
  def.creation_time_ms = NowMs();
  def.status = "ACTIVE";
  MergeTags(&def.tags, tags);
  if (!indexes.empty()) def.index_definitions = json::serialize(indexes);
  if (stream && stream->enabled) {
    def.stream = *stream;
    def.stream.label = StreamLabel();
  }
  TableDef created;
  Check(ctx.store->CreateTable(def, &created));
  return {{"TableDescription", Describe(ctx, created, "ACTIVE")}};
}

json::object DescribeTable(Context& ctx, const json::object& req) {
  TableDef d = DescribeOrThrow(ctx, RequireTableName(req));
  return {{"Table", Describe(ctx, d, "")}};
}

json::object DeleteTable(Context& ctx, const json::object& req) {
  std::string name = RequireTableName(req);
  TableDef d = DescribeOrThrow(ctx, name);
  Check(ctx.store->DeleteTable(name));
  return {{"TableDescription", Describe(ctx, d, "DELETING")}};
}

json::object ListTables(Context& ctx, const json::object& req) {
  auto limit = GetInt(req, "Limit");
  auto start = GetString(req, "ExclusiveStartTableName");
  Constraints c;
  if (limit && *limit < 1) {
    c.Add(fmt::format("'{}'", *limit), "limit",
          "Member must have value greater than or equal to 1");
  }
  if (limit && *limit > 100) {
    c.Add(fmt::format("'{}'", *limit), "limit", "Member must have value less than or equal to 100");
  }
  if (start) {
    if (!ValidNameChars(*start)) {
      c.Add(Quote(*start), "exclusiveStartTableName",
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
    }
    if (start->size() < 3) {
      c.Add(Quote(*start), "exclusiveStartTableName",
            "Member must have length greater than or equal to 3");
    }
    if (start->size() > 255) {
      c.Add(Quote(*start), "exclusiveStartTableName",
            "Member must have length less than or equal to 255");
    }
  }
  c.ThrowIfAny();
  const size_t max = static_cast<size_t>(limit.value_or(100));
  std::vector<std::string> names = ctx.store->ListTables();
  auto it = start ? std::upper_bound(names.begin(), names.end(), *start) : names.begin();
  json::array out;
  for (; it != names.end() && out.size() < max; ++it) out.emplace_back(*it);
  json::object resp{{"TableNames", std::move(out)}};
  if (it != names.end()) resp["LastEvaluatedTableName"] = *(it - 1);
  return resp;
}

json::object UpdateTable(Context& ctx, const json::object& req) {
  std::string name = RequireTableName(req);
  Constraints c;
  auto billing = GetString(req, "BillingMode");
  if (billing && *billing != "PROVISIONED" && *billing != "PAY_PER_REQUEST") {
    c.Add(Quote(*billing), "billingMode",
          "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]");
  }
  auto tp = ParseThroughput(&c, GetObject(req, "ProvisionedThroughput"), "provisionedThroughput");
  const json::array* gsi_updates = GetArray(req, "GlobalSecondaryIndexUpdates");
  std::vector<KeyAttribute> new_defs;
  if (const json::array* ad = GetArray(req, "AttributeDefinitions")) {
    for (size_t i = 0; i < ad->size(); i++) {
      const json::object& e = AsObject((*ad)[i]);
      auto an = GetString(e, "AttributeName");
      auto at = GetString(e, "AttributeType");
      std::string p = fmt::format("attributeDefinitions.{}.member", i + 1);
      if (!an) c.Add("null", p + ".attributeName", "Member must not be null");
      if (!at || !KeyTypeFromName(*at)) {
        c.Add(at ? Quote(*at) : "null", p + ".attributeType",
              "Member must satisfy enum value set: [B, N, S]");
      }
      if (an && at && KeyTypeFromName(*at)) new_defs.push_back({*an, *KeyTypeFromName(*at)});
    }
  }
  c.ThrowIfAny();
  auto stream = ParseStreamSpec(req);
  if (!tp && !billing && !stream && (gsi_updates == nullptr || gsi_updates->empty()) &&
      GetObject(req, "SSESpecification") == nullptr) {
    throw ValidationError(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required");
  }
  if (tp) CheckThroughputBounds(*tp);
  if (gsi_updates != nullptr && gsi_updates->size() > 1) {
    ApiError e = ValidationError(
        "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously "
        "per table");
    e.ns = std::string(kDynamoNs);
    e.type = "LimitExceededException";
    throw e;
  }
  // A GSI to create is validated here, against the current definitions plus
  // the request's, so the AlterTable callback below cannot throw.
  std::optional<json::object> created_gsi;
  if (gsi_updates != nullptr && !gsi_updates->empty()) {
    if (const json::object* cr = GetObject(AsObject((*gsi_updates)[0]), "Create")) {
      TableDef cur = DescribeOrThrow(ctx, name);
      std::vector<KeyAttribute> defs = cur.attribute_definitions;
      for (const auto& nd : new_defs) {
        if (std::none_of(defs.begin(), defs.end(),
                         [&](const auto& a) { return a.name == nd.name; })) {
          defs.push_back(nd);
        }
      }
      json::object one{{"GlobalSecondaryIndexes", json::array{*cr}}};
      std::vector<KeyElement> table_keys{{cur.partition_key.name, "HASH"}};
      json::object parsed =
          ParseIndexes(one, table_keys, defs, cur.billing_mode == BillingMode::kPayPerRequest);
      created_gsi = parsed["GlobalSecondaryIndexes"].get_array()[0].get_object();
    }
  }

  TableDef altered;
  auto edit = [&](TableDef* d) -> Status {
    const bool to_ppr =
        billing ? *billing == "PAY_PER_REQUEST" : d->billing_mode == BillingMode::kPayPerRequest;
    if (to_ppr && tp) {
      return Status::InvalidArgument(
          std::string(kInvalid) +
          "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode "
          "is PAY_PER_REQUEST");
    }
    if (!to_ppr && d->billing_mode == BillingMode::kPayPerRequest && !tp) {
      return Status::InvalidArgument(
          std::string(kInvalid) +
          "ProvisionedThroughput must be specified when BillingMode is PROVISIONED");
    }
    if (tp && !billing && static_cast<int64_t>(d->read_capacity_units) == tp->read &&
        static_cast<int64_t>(d->write_capacity_units) == tp->write) {
      return Status::InvalidArgument(fmt::format(
          "The provisioned throughput for the table will not change. The requested value "
          "equals the current value. Current ReadCapacityUnits provisioned for the table: {}. "
          "Requested ReadCapacityUnits: {}. Current WriteCapacityUnits provisioned for the "
          "table: {}. Requested WriteCapacityUnits: {}. Refer to the Amazon DynamoDB "
          "Developer Guide for current limits and how to request higher limits.",
          d->read_capacity_units, tp->read, d->write_capacity_units, tp->write));
    }
    d->billing_mode = to_ppr ? BillingMode::kPayPerRequest : BillingMode::kProvisioned;
    if (to_ppr) {
      d->read_capacity_units = 0;
      d->write_capacity_units = 0;
    } else if (tp) {
      d->read_capacity_units = static_cast<uint64_t>(tp->read);
      d->write_capacity_units = static_cast<uint64_t>(tp->write);
    }
    for (const auto& nd : new_defs) {
      auto it = std::find_if(d->attribute_definitions.begin(), d->attribute_definitions.end(),
                             [&](const KeyAttribute& a) { return a.name == nd.name; });
      if (it == d->attribute_definitions.end()) d->attribute_definitions.push_back(nd);
    }
    if (stream) {
      const bool cur_enabled = d->stream.enabled;
      const bool want = stream->enabled;
      // ValidationException, as AWS answers (Alternator's test_streams.py,
      // run against AWS, expects "ValidationException.*already has an
      // enabled stream").
      if (want && cur_enabled) {
        return Status::InvalidArgument("Table already has an enabled stream: TableName: " + name);
      }
      if (!want && !cur_enabled) {
        return Status::InvalidArgument("Table already has no stream enabled: TableName: " + name);
      }
      if (want) {
        const std::string previous = d->stream.label;
        d->stream = *stream;
        d->stream.label = StreamLabel(previous);
      } else {
        d->stream.enabled = false;  // keeps the label: the old stream stays readable
      }
    }
    if (gsi_updates != nullptr && !gsi_updates->empty()) {
      json::object idx = ParseStored(d->index_definitions);
      json::array gsis = idx.contains("GlobalSecondaryIndexes")
                             ? idx["GlobalSecondaryIndexes"].get_array()
                             : json::array{};
      const json::object& u = AsObject((*gsi_updates)[0]);
      auto find = [&](const std::string& n) {
        return std::find_if(gsis.begin(), gsis.end(), [&](const json::value& v) {
          return v.get_object().at("IndexName").get_string() == n;
        });
      };
      if (const json::object* del = GetObject(u, "Delete")) {
        std::string n = GetString(*del, "IndexName").value_or("");
        auto it = find(n);
        if (it == gsis.end()) {
          return Status::NotFound("Requested resource not found: Index: " + n + " not found");
        }
        gsis.erase(it);
      } else if (const json::object* upd = GetObject(u, "Update")) {
        std::string n = GetString(*upd, "IndexName").value_or("");
        auto it = find(n);
        if (it == gsis.end()) {
          return Status::NotFound("Requested resource not found: Index: " + n + " not found");
        }
        if (const json::object* p = GetObject(*upd, "ProvisionedThroughput")) {
          it->get_object()["ProvisionedThroughput"] = *p;
        }
      } else if (created_gsi) {
        if (find(AsString(created_gsi->at("IndexName"))) != gsis.end()) {
          return Status::InvalidArgument(fmt::format("{}Duplicate index name: {}", kInvalid,
                                                     AsString(created_gsi->at("IndexName"))));
        }
        gsis.push_back(*created_gsi);
      } else {
        return Status::InvalidArgument(
            std::string(kInvalid) +
            "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
            "GlobalSecondaryIndexUpdate.Delete must not be null");
      }
      if (gsis.empty()) {
        idx.erase("GlobalSecondaryIndexes");
      } else {
        idx["GlobalSecondaryIndexes"] = std::move(gsis);
      }
      d->index_definitions = idx.empty() ? std::string() : json::serialize(idx);
    }
    return Status::OK();
  };
  // No exception may cross into the table layer: errors become Status values.
  ApiError thrown;
  bool threw = false;
  Status s = ctx.store->AlterTable(
      name,
      [&](TableDef* d) -> Status {
        try {
          return edit(d);
        } catch (const ApiError& e) {
          thrown = e;
          threw = true;
          return Status::InvalidArgument(e.message);
        }
      },
      &altered);
  if (threw) throw thrown;
  Check(s);
  return {{"TableDescription", Describe(ctx, altered, "ACTIVE")}};
}

json::object DescribeEndpoints(Context& ctx, const json::object&) {
  return {{"Endpoints",
           json::array{{{"Address", fmt::format("dynamodb.{}.amazonaws.com", ctx.options->region)},
                        {"CachePeriodInMinutes", 1440}}}}};
}

json::object DescribeLimits(Context&, const json::object&) {
  return {{"AccountMaxReadCapacityUnits", 80000},
          {"AccountMaxWriteCapacityUnits", 80000},
          {"TableMaxReadCapacityUnits", 40000},
          {"TableMaxWriteCapacityUnits", 40000}};
}

// The table named by a ResourceArn of this server's region and account.
std::string TableFromArn(Context& ctx, const json::object& req) {
  auto arn = GetString(req, "ResourceArn");
  Constraints c;
  if (!arn) c.Add("null", "resourceArn", "Member must not be null");
  if (arn && (arn->empty() || arn->size() > 1283)) {
    c.Add(Quote(*arn), "resourceArn",
          arn->empty() ? "Member must have length greater than or equal to 1"
                       : "Member must have length less than or equal to 1283");
  }
  c.ThrowIfAny();
  const std::string prefix = ctx.TableArn("");
  if (!arn->starts_with(prefix) || arn->size() == prefix.size()) {
    throw ValidationError("Invalid TableArn: Invalid ResourceArn provided as input " + *arn);
  }
  std::string name = arn->substr(prefix.size());
  TableDef d;
  if (!ctx.store->DescribeTable(name, &d).ok()) {
    throw ResourceNotFound("Requested resource not found: ResourcArn: " + *arn + " not found");
  }
  return name;
}

json::object TagResource(Context& ctx, const json::object& req) {
  std::string name = TableFromArn(ctx, req);
  const json::array* tags = GetArray(req, "Tags");
  if (tags == nullptr) {
    Constraints c;
    c.Add("null", "tags", "Member must not be null");
    c.ThrowIfAny();
  }
  auto parsed = ParseTags(tags, "tags");
  Check(ctx.store->AlterTable(name, [&](TableDef* d) {
    MergeTags(&d->tags, parsed);
    return Status::OK();
  }));
  return {};
}

json::object UntagResource(Context& ctx, const json::object& req) {
  std::string name = TableFromArn(ctx, req);
  const json::array* keys = GetArray(req, "TagKeys");
  if (keys == nullptr) {
    Constraints c;
    c.Add("null", "tagKeys", "Member must not be null");
    c.ThrowIfAny();
  }
  std::set<std::string> drop;
  for (const auto& k : *keys) drop.insert(AsString(k));
  Check(ctx.store->AlterTable(name, [&](TableDef* d) {
    std::erase_if(d->tags, [&](const auto& t) { return drop.count(t.first) != 0; });
    return Status::OK();
  }));
  return {};
}

json::object ListTagsOfResource(Context& ctx, const json::object& req) {
  std::string name = TableFromArn(ctx, req);
  TableDef d = DescribeOrThrow(ctx, name);
  json::array tags;
  for (const auto& [k, v] : d.tags) tags.push_back({{"Key", k}, {"Value", v}});
  return {{"Tags", std::move(tags)}};
}

}  // namespace

void RegisterTableOperations(std::map<std::string, Operation, std::less<>>* ops) {
  (*ops)["CreateTable"] = CreateTable;
  (*ops)["DescribeTable"] = DescribeTable;
  (*ops)["DeleteTable"] = DeleteTable;
  (*ops)["ListTables"] = ListTables;
  (*ops)["UpdateTable"] = UpdateTable;
  (*ops)["DescribeEndpoints"] = DescribeEndpoints;
  (*ops)["DescribeLimits"] = DescribeLimits;
  (*ops)["TagResource"] = TagResource;
  (*ops)["UntagResource"] = UntagResource;
  (*ops)["ListTagsOfResource"] = ListTagsOfResource;
}

}  // namespace basalt::server::api

#include "server/api/table_json.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <set>

#include "engine/base/checksum.h"
#include "server/api/backups.h"
#include "server/api/index_json.h"
#include "server/api/json_value.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::KeyAttribute;
using table::TableDef;
using table::ValueType;

namespace {

constexpr uint64_t kMsPerDay = 24 * 3600 * 1000;

double Seconds(uint64_t ms) { return static_cast<double>(ms) / 1000.0; }

json::array KeySchemaJson(const TableDef& d) {
  json::array a;
  a.push_back({{"AttributeName", d.partition_key.name}, {"KeyType", "HASH"}});
  if (d.sort_key) a.push_back({{"AttributeName", d.sort_key->name}, {"KeyType", "RANGE"}});
  return a;
}

// DynamoDB's TableId is a UUID; ours is stable per table, derived from the
// name, internal id and creation time.
std::string TableId(const TableDef& d) {
  std::string seed = fmt::format("{}/{}/{}", d.name, d.table_id, d.creation_time_ms);
  uint64_t a = XXH3_64bits(seed.data(), seed.size());
  uint64_t b = XXH3_64bits_withSeed(seed.data(), seed.size(), 0x9e3779b97f4a7c15ULL);
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff,
                     b >> 48, b & 0xffffffffffffULL);
}

std::string StreamLabelAt(uint64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

}  // namespace

std::string TableUuid(const TableDef& d) { return TableId(d); }

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

void CheckIndexName(Constraints* c, const std::optional<std::string>& name, std::string_view path) {
  if (!name) {
    c->Add("null", path, "Member must not be null");
    return;
  }
  if (!ValidNameChars(*name)) {
    c->Add(Quote(*name), path, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
  }
  // Unlike TableName (checked first, with its own message), an index name
  // breaks ordinary member constraints, reported with the others.
  if (name->size() < 3) {
    c->Add(Quote(*name), path, "Member must have length greater than or equal to 3");
  } else if (name->size() > 255) {
    c->Add(Quote(*name), path, "Member must have length less than or equal to 255");
  }
}

std::optional<ValueType> KeyTypeFromName(std::string_view t) {
  if (t == "S") return ValueType::kS;
  if (t == "N") return ValueType::kN;
  if (t == "B") return ValueType::kB;
  return std::nullopt;
}

std::vector<KeyElement> ParseKeySchema(Constraints* c, const json::array* arr,
                                       const std::string& path, size_t max_elements) {
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
  } else if (arr->size() > max_elements) {
    c->Add("[...]", path,
           fmt::format("Member must have length less than or equal to {}", max_elements));
  }
  return out;
}

namespace {

void CheckDefined(const std::vector<KeyElement>& keys, const std::vector<KeyAttribute>& defs) {
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
}

}  // namespace

void CheckGsiKeySchema(const std::vector<KeyElement>& keys, const std::vector<KeyAttribute>& defs) {
  if (keys.size() <= 2 && !(keys.size() == 2 && keys[1].key_type == "HASH")) {
    CheckKeySchema(keys, defs);  // the one-attribute rules and texts
    return;
  }
  CheckDefined(keys, defs);
  if (keys[0].key_type != "HASH") {
    throw ValidationError("Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
  }
  size_t hash = 0, range = 0;
  bool seen_range = false;
  for (const KeyElement& k : keys) {
    if (k.key_type == "HASH") {
      ++hash;
      if (seen_range) {
        throw ValidationError(std::string(kInvalid) +
                              "All HASH key attributes must precede RANGE key attributes in the "
                              "KeySchema");
      }
    } else {
      ++range;
      seen_range = true;
    }
  }
  if (hash > 4) {
    throw ValidationError(
        std::string(kInvalid) +
        "The KeySchema exceeds the maximum allowed number of HASH key attributes");
  }
  if (range > 4) {
    throw ValidationError(
        std::string(kInvalid) +
        "The KeySchema exceeds the maximum allowed number of RANGE key attributes");
  }
  std::set<std::string> names;
  for (const KeyElement& k : keys) {
    if (!names.insert(k.name).second) {
      throw ValidationError("The KeySchema contains multiple key attributes with the same name");
    }
  }
}

void CheckKeySchema(const std::vector<KeyElement>& keys, const std::vector<KeyAttribute>& defs) {
  CheckDefined(keys, defs);
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

std::vector<KeyAttribute> ParseAttributeDefinitions(Constraints* c, const json::object& req,
                                                    bool required) {
  std::vector<KeyAttribute> defs;
  const json::array* ad = GetArray(req, "AttributeDefinitions");
  if (ad == nullptr) {
    if (required) c->Add("null", "attributeDefinitions", "Member must not be null");
    return defs;
  }
  for (size_t i = 0; i < ad->size(); i++) {
    const json::object& e = AsObject((*ad)[i]);
    auto an = GetString(e, "AttributeName");
    auto at = GetString(e, "AttributeType");
    std::string p = fmt::format("attributeDefinitions.{}.member", i + 1);
    if (!an) c->Add("null", p + ".attributeName", "Member must not be null");
    if (an && an->size() > 255) {
      c->Add(Quote(*an), p + ".attributeName", "Member must have length less than or equal to 255");
    }
    if (!at) {
      c->Add("null", p + ".attributeType", "Member must not be null");
    } else if (!KeyTypeFromName(*at)) {
      c->Add(Quote(*at), p + ".attributeType", "Member must satisfy enum value set: [B, N, S]");
    }
    if (an && at && KeyTypeFromName(*at)) defs.push_back({*an, *KeyTypeFromName(*at)});
  }
  return defs;
}

ValueType DefinedType(const std::vector<KeyAttribute>& defs, const std::string& name) {
  for (const auto& d : defs) {
    if (d.name == name) return d.type;
  }
  return ValueType::kS;
}

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

void ApplyThroughput(const Throughput& t, uint64_t now_ms, table::ProvisionedThroughput* p) {
  const uint64_t read = static_cast<uint64_t>(t.read);
  const uint64_t write = static_cast<uint64_t>(t.write);
  if (read > p->read_units || write > p->write_units) p->last_increase_ms = now_ms;
  if (read < p->read_units || write < p->write_units) {
    const uint64_t day = now_ms / kMsPerDay;
    if (p->decrease_day != day) {
      p->decrease_day = day;
      p->decreases_today = 0;
    }
    p->decreases_today++;
    p->last_decrease_ms = now_ms;
  }
  p->read_units = read;
  p->write_units = write;
}

std::optional<table::OnDemandThroughput> ParseOnDemand(const json::object* o,
                                                       const table::OnDemandThroughput& current) {
  if (o == nullptr) return std::nullopt;
  table::OnDemandThroughput od = current;
  auto one = [&](const char* member, std::optional<uint64_t>* out) {
    const std::optional<int64_t> v = GetInt(*o, member);
    if (!v) return;
    if (*v == -1) {
      out->reset();
    } else if (*v < 1 || *v > kMaxCapacity) {
      throw ValidationError(fmt::format("{}{} must be -1 (no maximum) or between 1 and {}: {}",
                                        kInvalid, member, kMaxCapacity, *v));
    } else {
      *out = static_cast<uint64_t>(*v);
    }
  };
  one("MaxReadRequestUnits", &od.max_read_request_units);
  one("MaxWriteRequestUnits", &od.max_write_request_units);
  return od;
}

json::object OnDemandJson(const table::OnDemandThroughput& od) {
  auto units = [](const std::optional<uint64_t>& v) {
    return v ? static_cast<int64_t>(*v) : int64_t{-1};
  };
  return {{"MaxReadRequestUnits", units(od.max_read_request_units)},
          {"MaxWriteRequestUnits", units(od.max_write_request_units)}};
}

json::object ThroughputJson(const table::ProvisionedThroughput& p) {
  const bool today = p.decrease_day == NowMs() / kMsPerDay;
  json::object o{{"NumberOfDecreasesToday", today ? p.decreases_today : 0},
                 {"ReadCapacityUnits", p.read_units},
                 {"WriteCapacityUnits", p.write_units}};
  if (p.last_increase_ms != 0) o["LastIncreaseDateTime"] = Seconds(p.last_increase_ms);
  if (p.last_decrease_ms != 0) o["LastDecreaseDateTime"] = Seconds(p.last_decrease_ms);
  return o;
}

std::string StreamLabel(const std::string& previous) {
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

std::optional<table::SseSettings> ParseSseSpec(const json::object& req) {
  const json::object* spec = GetObject(req, "SSESpecification");
  if (spec == nullptr) return std::nullopt;
  auto enabled = GetBool(*spec, "Enabled");
  auto type = GetString(*spec, "SSEType");
  auto key = GetString(*spec, "KMSMasterKeyId");
  Constraints c;
  if (type && *type != "AES256" && *type != "KMS") {
    c.Add(Quote(*type), "sSESpecification.sSEType",
          "Member must satisfy enum value set: [AES256, KMS]");
  }
  c.ThrowIfAny();
  table::SseSettings out;
  out.enabled = enabled.value_or(false);
  out.type = type && *type == "AES256" ? table::SseType::kAes256 : table::SseType::kKms;
  out.kms_key_id = key.value_or("");
  return out;
}

json::object DescribeTableJson(const Context& ctx, const TableDef& d,
                               std::optional<table::TableStatus> status) {
  json::object t;
  json::array defs;
  for (const auto& a : d.attribute_definitions) {
    defs.push_back({{"AttributeName", a.name}, {"AttributeType", table::ValueTypeName(a.type)}});
  }
  const std::string arn = ctx.TableArn(d.name);
  t["AttributeDefinitions"] = std::move(defs);
  t["TableName"] = d.name;
  t["KeySchema"] = KeySchemaJson(d);
  t["TableStatus"] = table::TableStatusName(status.value_or(d.status));
  t["CreationDateTime"] = Seconds(d.creation_time_ms);
  t["ProvisionedThroughput"] = ThroughputJson(d.provisioned);
  t["TableSizeBytes"] = d.approx_size_bytes;
  t["ItemCount"] = d.approx_item_count;
  t["TableArn"] = arn;
  t["TableId"] = TableId(d);
  const bool ppr = d.billing_mode == table::BillingMode::kPayPerRequest;
  json::object bms{{"BillingMode", ppr ? "PAY_PER_REQUEST" : "PROVISIONED"}};
  if (ppr) bms["LastUpdateToPayPerRequestDateTime"] = Seconds(d.pay_per_request_since_ms);
  t["BillingModeSummary"] = std::move(bms);
  if (d.on_demand.max_read_request_units || d.on_demand.max_write_request_units) {
    t["OnDemandThroughput"] = OnDemandJson(d.on_demand);
  }
  for (const bool global : {false, true}) {
    json::array list = IndexesJson(arn, d, global);
    if (!list.empty()) {
      t[global ? "GlobalSecondaryIndexes" : "LocalSecondaryIndexes"] = std::move(list);
    }
  }
  if (d.stream.enabled) {
    t["StreamSpecification"] = {{"StreamEnabled", true},
                                {"StreamViewType", table::StreamViewTypeName(d.stream.view_type)}};
  }
  if (!d.stream.label.empty()) {
    t["LatestStreamLabel"] = d.stream.label;
    t["LatestStreamArn"] = fmt::format("{}/stream/{}", arn, d.stream.label);
  }
  // SSEDescription says what is in force, never what was only asked for:
  // with --encryption-key-file every table's files are AES-256-GCM encrypted
  // with the server's key (SSEType AES256; there is no KMS, so no KMS is
  // claimed whatever SSESpecification asked). Without it nothing is
  // encrypted: a table that asked for encryption is shown DISABLED, one that
  // did not shows nothing, as a DynamoDB table on its default key does.
  if (ctx.options->encryption_at_rest) {
    t["SSEDescription"] = {{"Status", "ENABLED"}, {"SSEType", "AES256"}};
  } else if (d.sse.enabled) {
    t["SSEDescription"] = {{"Status", "DISABLED"}};
  }
  t["DeletionProtectionEnabled"] = d.deletion_protection;
  if (std::optional<json::object> restore = RestoreSummaryJson(ctx, d)) {
    t["RestoreSummary"] = std::move(*restore);
  }
  return t;
}

}  // namespace basalt::server::api

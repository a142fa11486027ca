// What both restores share (RestoreTableFromBackup in backups.cc,
// RestoreTableToPointInTime in continuous_backups.cc): the restored table's
// definition with the request's overrides, the durable RestoreSummary, the
// claims that keep two restores off one target name or one backup, and the
// small request readers of the backup operations.
//
// DynamoDB's rules (API Reference, RestoreTableFromBackup and
// RestoreTableToPointInTime; the texts are DynamoDB's observed answers):
//   - a restored table has the source's keys, indexes, billing mode,
//     throughput, on-demand maxima and encryption settings; it has no stream,
//     TTL, tags, point-in-time recovery, deletion protection, resource policy
//     or table class of the source ("You must manually set up the following
//     on the restored table: ... Tags, Stream settings, Time to Live (TTL)
//     settings, Point in time recovery settings");
//   - ProvisionedThroughputOverride needs an effective PROVISIONED mode
//     ("Cannot override ProvisionedThroughput unless BillingMode is
//     PROVISIONED"); a switch of a PAY_PER_REQUEST backup to PROVISIONED needs
//     it ("Must override ProvisionedThroughput if BillingMode is overridden to
//     PROVISIONED"); OnDemandThroughputOverride needs PAY_PER_REQUEST;
//   - GlobalSecondaryIndexOverride / LocalSecondaryIndexOverride list the
//     indexes to keep (an empty list drops them all, an absent one keeps them
//     all); an index the source did not have is refused ("Index X does not
//     match a secondary index that existed in the source table and cannot be
//     created during the restore operation").
// Difference: DynamoDB also matches an override to a source index of another
// name with the same key schema and projection (restoring it renamed); here
// the names must match.
#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <ctime>
#include <mutex>
#include <set>

#include "engine/base/logging.h"
#include "server/api/backups.h"
#include "server/api/json_value.h"
#include "server/api/table_json.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::BillingMode;
using table::IndexDef;
using table::KeyAttribute;
using table::TableDef;

std::string TableNameOrArnMember(const json::object& req, std::string_view member) {
  std::optional<std::string> name = GetString(req, member);
  json::object copy;
  if (name && name->starts_with("arn:")) {
    const size_t at = name->find(":table/");
    if (at != std::string::npos) name = name->substr(at + 7);
  }
  if (name) copy["TableName"] = *name;
  return RequireTableName(copy);
}

ApiError TableNotFound(const std::string& name) {
  return DynamoError("TableNotFoundException", "Table not found: " + name);
}

std::string IsoSeconds(uint64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::optional<uint64_t> RequestTimeMs(const json::object& req, std::string_view member) {
  const json::value* v = req.if_contains(member);
  if (v == nullptr || v->is_null()) return std::nullopt;
  double secs = 0;
  if (v->is_int64()) {
    secs = static_cast<double>(v->get_int64());
  } else if (v->is_uint64()) {
    secs = static_cast<double>(v->get_uint64());
  } else if (v->is_double()) {
    secs = v->get_double();
  } else {
    const char* kind = v->is_string()  ? "STRING_VALUE"
                       : v->is_bool()  ? "BOOLEAN_VALUE"
                       : v->is_array() ? "START_ARRAY"
                                       : "START_OBJECT";
    throw SerializationError(fmt::format("{} cannot be converted to Date", kind));
  }
  // Times before the epoch or beyond any table's life are simply outside
  // every window; clamp them into the representable range.
  if (!(secs > 0)) return uint64_t{0};
  if (secs > 1e13) return static_cast<uint64_t>(1e16);
  return static_cast<uint64_t>(std::llround(secs * 1000.0));
}

std::string RequireTargetTableName(const json::object& req) {
  const std::optional<std::string> name = GetString(req, "TargetTableName");
  Constraints c;
  if (!name) {
    c.Add("null", "targetTableName", "Member must not be null");
  } else {
    if (!ValidNameChars(*name)) {
      c.Add(Quote(*name), "targetTableName",
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
    }
    if (name->size() < 3) {
      c.Add(Quote(*name), "targetTableName", "Member must have length greater than or equal to 3");
    } else if (name->size() > 255) {
      c.Add(Quote(*name), "targetTableName", "Member must have length less than or equal to 255");
    }
  }
  c.ThrowIfAny();
  return *name;
}

namespace {

// Names of a KeySchema list in order ({} when absent or malformed).
std::vector<std::string> KeyNamesOf(const json::object& index) {
  std::vector<std::string> out;
  const json::array* ks = GetArray(index, "KeySchema");
  if (ks == nullptr) return out;
  for (const json::value& e : *ks) {
    if (!e.is_object()) continue;
    out.push_back(GetString(e.get_object(), "AttributeName").value_or(""));
  }
  return out;
}

std::vector<std::string> KeyNamesOf(const IndexDef& ix) {
  std::vector<std::string> out;
  for (const KeyAttribute& k : ix.partition_key) out.push_back(k.name);
  for (const KeyAttribute& k : ix.sort_key) out.push_back(k.name);
  return out;
}

// OnDemandThroughputOverride (or an index's OnDemandThroughput): each member
// -1 (no maximum) or at least 1.
table::OnDemandThroughput ParseOnDemandOverride(const json::object& o) {
  table::OnDemandThroughput od;
  auto one = [&](const char* member, std::optional<uint64_t>* out) {
    const std::optional<int64_t> v = GetInt(o, member, IntType::kLong);
    if (!v || *v == -1) return;
    if (*v < 1 || *v > kMaxCapacity) {
      throw ValidationError(
          fmt::format("Requested {} for OnDemandThroughput is outside of valid range", member));
    }
    *out = static_cast<uint64_t>(*v);
  };
  one("MaxReadRequestUnits", &od.max_read_request_units);
  one("MaxWriteRequestUnits", &od.max_write_request_units);
  return od;
}

table::ProvisionedThroughput Units(uint64_t read, uint64_t write) {
  table::ProvisionedThroughput p;
  p.read_units = read;
  p.write_units = write;
  return p;
}

// One index override entry, parsed.
struct IndexOverride {
  const IndexDef* source = nullptr;
  std::optional<Throughput> units;
  std::optional<table::OnDemandThroughput> on_demand;
};

// The override list of one kind, validated against the source's indexes.
std::vector<IndexOverride> ParseIndexOverrides(const json::array& list, const TableDef& source,
                                               bool global) {
  std::vector<IndexOverride> out;
  std::set<std::string> seen;
  const char* path = global ? "globalSecondaryIndexOverride" : "localSecondaryIndexOverride";
  for (size_t i = 0; i < list.size(); i++) {
    const json::object& e = AsObject(list[i]);
    const std::string name = GetString(e, "IndexName").value_or("");
    const IndexDef* ix = source.FindIndex(name);
    bool matches = ix != nullptr && ix->global() == global && KeyNamesOf(*ix) == KeyNamesOf(e);
    if (matches) {
      if (const json::object* p = GetObject(e, "Projection")) {
        const std::optional<std::string> type = GetString(*p, "ProjectionType");
        matches = !type || *type == table::ProjectionTypeName(ix->projection);
      }
    }
    if (!matches) {
      throw ValidationError(
          fmt::format("Index {} does not match a secondary index that existed in the source table "
                      "and cannot be created during the restore operation",
                      name));
    }
    if (!seen.insert(name).second) {
      throw ValidationError(fmt::format("{}Duplicate index name: {}", kInvalid, name));
    }
    IndexOverride o;
    o.source = ix;
    if (global) {
      Constraints c;
      o.units = ParseThroughput(&c, GetObject(e, "ProvisionedThroughput"),
                                fmt::format("{}.{}.member.provisionedThroughput", path, i + 1));
      c.ThrowIfAny();
      if (o.units) CheckThroughputBounds(*o.units);
      if (const json::object* od = GetObject(e, "OnDemandThroughput")) {
        o.on_demand = ParseOnDemandOverride(*od);
      }
    }
    out.push_back(o);
  }
  return out;
}

}  // namespace

TableDef RestoreTargetDef(const json::object& req, const TableDef& source,
                          const std::string& target_name, uint64_t now_ms) {
  Constraints c;
  const std::optional<std::string> billing = GetString(req, "BillingModeOverride");
  if (billing && *billing != "PROVISIONED" && *billing != "PAY_PER_REQUEST") {
    c.Add(Quote(*billing), "billingModeOverride",
          "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]");
  }
  const std::optional<Throughput> tp = ParseThroughput(
      &c, GetObject(req, "ProvisionedThroughputOverride"), "provisionedThroughputOverride");
  c.ThrowIfAny();
  if (tp) CheckThroughputBounds(*tp);
  const json::object* od = GetObject(req, "OnDemandThroughputOverride");
  const json::array* gsi_list = GetArray(req, "GlobalSecondaryIndexOverride");
  const json::array* lsi_list = GetArray(req, "LocalSecondaryIndexOverride");
  std::optional<table::SseSettings> sse;
  if (const json::object* s = GetObject(req, "SSESpecificationOverride")) {
    sse = ParseSseSpec(json::object{{"SSESpecification", *s}});
  }

  const bool source_ppr = source.billing_mode == BillingMode::kPayPerRequest;
  const bool ppr = billing ? *billing == "PAY_PER_REQUEST" : source_ppr;
  if (tp && ppr) {
    throw ValidationError(
        "Cannot override ProvisionedThroughput unless BillingMode is PROVISIONED");
  }
  if (!ppr && source_ppr && !tp) {
    throw ValidationError(
        "Must override ProvisionedThroughput if BillingMode is overridden to PROVISIONED");
  }
  if (od != nullptr && !ppr) {
    throw ValidationError(
        "Cannot override OnDemandThroughput unless BillingMode is PAY_PER_REQUEST");
  }
  std::optional<table::OnDemandThroughput> on_demand;
  if (od != nullptr) on_demand = ParseOnDemandOverride(*od);

  TableDef t;
  // Kept from the source: keys, definitions, billing, throughput units,
  // on-demand maxima, warm throughput, encryption settings.
  t.name = target_name;
  t.partition_key = source.partition_key;
  t.sort_key = source.sort_key;
  t.attribute_definitions = source.attribute_definitions;
  t.billing_mode = ppr ? BillingMode::kPayPerRequest : BillingMode::kProvisioned;
  t.pay_per_request_since_ms = ppr ? now_ms : 0;
  if (!ppr) {
    t.provisioned = tp ? Units(static_cast<uint64_t>(tp->read), static_cast<uint64_t>(tp->write))
                       : Units(source.provisioned.read_units, source.provisioned.write_units);
  }
  t.on_demand = on_demand ? *on_demand : ppr ? source.on_demand : table::OnDemandThroughput{};
  t.warm = source.warm;
  t.sse = sse ? *sse : source.sse;
  t.creation_time_ms = now_ms;
  t.status = table::TableStatus::kActive;
  t.next_index_id = source.next_index_id;

  // The indexes to keep, in the source's order.
  std::vector<IndexOverride> overrides;
  for (const bool global : {true, false}) {
    const json::array* list = global ? gsi_list : lsi_list;
    if (list != nullptr) {
      for (IndexOverride& o : ParseIndexOverrides(*list, source, global)) overrides.push_back(o);
      continue;
    }
    for (const IndexDef& ix : source.indexes) {
      // A GSI still being filled at the snapshot's instant holds part of its
      // entries only: it is not restored (add it again with UpdateTable).
      if (ix.global() != global) continue;
      if (global && (ix.status != table::IndexStatus::kActive || ix.backfilling)) continue;
      IndexOverride o;
      o.source = &ix;
      overrides.push_back(o);
    }
  }
  for (const IndexDef& ix : source.indexes) {
    const auto it = std::find_if(overrides.begin(), overrides.end(),
                                 [&](const IndexOverride& o) { return o.source == &ix; });
    if (it == overrides.end()) continue;
    IndexDef k;
    k.name = ix.name;
    k.kind = ix.kind;
    k.id = ix.id;
    k.partition_key = ix.partition_key;
    k.sort_key = ix.sort_key;
    k.projection = ix.projection;
    k.non_key_attributes = ix.non_key_attributes;
    if (ix.global()) {
      if (!ppr) {
        // Without an override of its own a GSI keeps the backup's units, or
        // takes the table's override when a PAY_PER_REQUEST backup becomes
        // PROVISIONED (it had none).
        if (it->units) {
          k.provisioned = Units(static_cast<uint64_t>(it->units->read),
                                static_cast<uint64_t>(it->units->write));
        } else if (source_ppr) {
          k.provisioned = t.provisioned;
          k.provisioned.last_increase_ms = 0;
        } else {
          k.provisioned = Units(ix.provisioned.read_units, ix.provisioned.write_units);
        }
      }
      k.on_demand = it->on_demand ? *it->on_demand
                    : ppr         ? ix.on_demand
                                  : table::OnDemandThroughput{};
      k.warm = ix.warm;
    }
    t.indexes.push_back(std::move(k));
  }
  // Definitions no remaining key uses (a dropped index's) go, as in UpdateTable.
  std::erase_if(t.attribute_definitions, [&](const KeyAttribute& a) {
    if (a.name == t.partition_key.name || (t.sort_key && a.name == t.sort_key->name)) return false;
    return std::none_of(t.indexes.begin(), t.indexes.end(),
                        [&](const IndexDef& ix) { return ix.IsKeyAttribute(a.name); });
  });
  return t;
}

// ---- RestoreSummary ----

namespace {
constexpr std::string_view kSummaryPrefix = "restore-summary:";

std::string SummaryKey(uint64_t table_id) { return fmt::format("{}{}", kSummaryPrefix, table_id); }
}  // namespace

void RecordRestoreSummary(Context& ctx, const TableDef& created, const RestoreSummary& s) {
  table::SystemRecords* records = ctx.store->system_records();
  if (records == nullptr) return;
  json::object o{{"table", s.source_table_arn}, {"ms", s.restore_ms}};
  if (!s.source_backup_arn.empty()) o["backup"] = s.source_backup_arn;
  // The table exists already: a failure here loses only the summary.
  const Status st = records->Put(SummaryKey(created.table_id), json::serialize(o));
  if (!st.ok()) LogInfo("restore summary of table {} not stored: {}", created.name, st.ToString());
}

std::optional<json::object> RestoreSummaryJson(const Context& ctx, const TableDef& d) {
  table::SystemRecords* records = ctx.store->system_records();
  if (records == nullptr || d.table_id == 0) return std::nullopt;
  std::string text;
  bool found = false;
  if (!records->Get(SummaryKey(d.table_id), &text, &found).ok() || !found) return std::nullopt;
  json::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.get_object();
  json::object out;
  if (const json::value* b = o.if_contains("backup"); b != nullptr && b->is_string()) {
    out["SourceBackupArn"] = b->get_string();
  }
  if (const json::value* t = o.if_contains("table"); t != nullptr && t->is_string()) {
    out["SourceTableArn"] = t->get_string();
  }
  const json::value* ms = o.if_contains("ms");
  const double when = ms != nullptr && ms->is_number() ? ms->to_number<double>() : 0;
  out["RestoreDateTime"] = when / 1000.0;
  out["RestoreInProgress"] = false;
  return out;
}

void DropRestoreSummary(Context& ctx, const TableDef& d) {
  table::SystemRecords* records = ctx.store->system_records();
  if (records == nullptr || d.table_id == 0) return;
  const Status st = records->Delete(SummaryKey(d.table_id));
  if (!st.ok()) LogInfo("restore summary of table {} not dropped: {}", d.name, st.ToString());
}

// ---- claims ----

namespace {
std::mutex claims_mu;
// "<store>|t|<name>" and "<store>|b|<backup id>" of the restores running.
std::set<std::string>& Claims() {
  static std::set<std::string> claims;
  return claims;
}
std::string ClaimKey(const Context& ctx, char kind, const std::string& what) {
  return fmt::format("{}|{}|{}", static_cast<const void*>(ctx.store), kind, what);
}
}  // namespace

RestoreClaim::RestoreClaim(Context& ctx, const std::string& target, const std::string& backup_id,
                           const std::string& source_arn) {
  const std::string t = ClaimKey(ctx, 't', target);
  const std::string b = backup_id.empty() ? std::string() : ClaimKey(ctx, 'b', backup_id);
  std::lock_guard l(claims_mu);
  if (Claims().contains(t)) {
    throw DynamoError("TableInUseException",
                      fmt::format("Table: {} is already being restored from {}: {}", target,
                                  backup_id.empty() ? "table" : "backup", source_arn));
  }
  if (!b.empty() && Claims().contains(b)) {
    throw DynamoError("BackupInUseException",
                      "Backup is being used to restore another table: " + source_arn);
  }
  Claims().insert(t);
  target_key_ = t;
  if (!b.empty()) {
    Claims().insert(b);
    backup_key_ = b;
  }
}

RestoreClaim::~RestoreClaim() {
  std::lock_guard l(claims_mu);
  Claims().erase(target_key_);
  if (!backup_key_.empty()) Claims().erase(backup_key_);
}

bool BackupBeingRestored(Context& ctx, const std::string& backup_id) {
  std::lock_guard l(claims_mu);
  return Claims().contains(ClaimKey(ctx, 'b', backup_id));
}

}  // namespace basalt::server::api

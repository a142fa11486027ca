// On-demand backups: CreateBackup, DescribeBackup, ListBackups, DeleteBackup
// and RestoreTableFromBackup; the SYSTEM backup DeleteTable keeps of a table
// with point-in-time recovery enabled (BeforeTableDelete, AfterTableDelete).
//
// Each backup is one table snapshot (TableStore::CreateSnapshot: a
// consistent copy of the table and its indexes at one instant that shares the
// table's SSTables; engine/table/snapshots.h) with the backup's metadata
// (BackupMeta, backups.h) stored beside it. Behaviour follows DynamoDB (API
// Reference for each operation; the texts are DynamoDB's observed answers):
//   - BackupArn: <table ARN>/backup/<14-digit creation ms>-<8 hex digits>
//     ("-00000000" for SYSTEM backups). An ARN that is not a backup ARN is
//     ValidationException "Invalid Backup ARN"; one of another partition,
//     service or an unknown region "BackupArn is not valid"; another
//     account's AccessDeniedException "Access is denied"; an unknown backup
//     BackupNotFoundException "Backup not found: <arn>". The ARN's region is
//     not compared (DynamoDB answers a region-rewritten ARN and echoes it).
//   - CreateBackup of a missing table: TableNotFoundException "Table not
//     found: <name>". Backup names need not be unique. The CreateBackup answer
//     says CREATING, as DynamoDB's does; the backup is complete (AVAILABLE to
//     DescribeBackup and ListBackups) when the answer is sent.
//   - ListBackups: BackupType USER by default (SYSTEM, AWS_BACKUP, ALL = USER
//     and SYSTEM); the time range is [lower, upper) on the creation time
//     ("Time range lower bound must be less than or equal to upper bound");
//     ordered by creation time; ExclusiveStartBackupArn is a pure cursor (a
//     deleted backup's ARN resumes after its place); a TableName of no table
//     lists nothing. Backups outlive their table.
//   - DeleteBackup answers the description with BackupStatus DELETED; a SYSTEM
//     backup cannot be deleted (ValidationException "User is not allowed to
//     delete the system backup with arn <arn>. It will automatically expire on
//     <time>"); a backup feeding a restore is BackupInUseException.
//   - RestoreTableFromBackup: the overrides and what a restored table keeps
//     are in restore.cc; "Table already exists: <name>"
//     (TableAlreadyExistsException); one restore per backup at a time
//     (BackupInUseException) and per target name (TableInUseException). The
//     restore completes before the answer: the table is ACTIVE at once.
//   - SYSTEM backups expire after the table's recovery period; an expired one
//     is deleted when an operation next looks at it (ListBackups,
//     DescribeBackup, DeleteBackup, RestoreTableFromBackup): no background job.
#include "server/api/backups.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <random>
#include <regex>

#include "engine/base/logging.h"
#include "server/api/export_json.h"
#include "server/api/json_value.h"
#include "server/api/table_json.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::IndexDef;
using table::KeyAttribute;
using table::TableDef;
using table::TableSnapshotInfo;

namespace {

constexpr std::string_view kMetaKind = "dynamodb-backup";
constexpr int kMetaVersion = 1;
constexpr uint64_t kDayMs = uint64_t{24} * 3600 * 1000;

}  // namespace

std::string BackupMeta::Encode() const {
  json::object o{{"kind", kMetaKind},
                 {"version", kMetaVersion},
                 {"name", name},
                 {"type", system ? "SYSTEM" : "USER"},
                 {"created_ms", created_ms}};
  if (expiry_ms != 0) o["expiry_ms"] = expiry_ms;
  return json::serialize(o);
}

bool BackupMeta::Decode(std::string_view text, BackupMeta* out) {
  json::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return false;
  const json::object& o = v.get_object();
  const json::value* kind = o.if_contains("kind");
  const json::value* version = o.if_contains("version");
  const json::value* name = o.if_contains("name");
  const json::value* type = o.if_contains("type");
  const json::value* created = o.if_contains("created_ms");
  if (kind == nullptr || !kind->is_string() || kind->get_string() != kMetaKind) return false;
  if (version == nullptr || !version->is_int64() || version->get_int64() != kMetaVersion) {
    return false;
  }
  if (name == nullptr || !name->is_string() || type == nullptr || !type->is_string() ||
      created == nullptr || !created->is_number()) {
    return false;
  }
  out->name = std::string(name->get_string());
  out->system = type->get_string() == "SYSTEM";
  out->created_ms = created->to_number<uint64_t>();
  const json::value* expiry = o.if_contains("expiry_ms");
  out->expiry_ms = expiry != nullptr && expiry->is_number() ? expiry->to_number<uint64_t>() : 0;
  return true;
}

namespace {

ApiError BackupNotFound(const std::string& arn) {
  return DynamoError("BackupNotFoundException", "Backup not found: " + arn);
}

// The id of a new backup: "<14-digit ms>-<8 hex>" (SYSTEM: hex 00000000).
std::string NewBackupId(uint64_t ms, bool system) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint32_t suffix = system ? 0 : static_cast<uint32_t>(rng());
  return fmt::format("{:014}-{:08x}", ms, suffix);
}

bool IsBackupId(std::string_view id) {
  static const std::regex re("[0-9]{14}-[0-9a-f]{8}");
  return std::regex_match(id.begin(), id.end(), re);
}

std::string BackupArnOf(const Context& ctx, const TableSnapshotInfo& info) {
  return ctx.TableArn(info.table) + "/backup/" + info.id;
}

// A backup ARN taken apart (ParseBackupArn).
struct ArnParts {
  std::string region;
  std::string table;
  std::string id;
};

// BackupArn-like members: null and length constraints (37..1024).
void CheckArnMember(const std::optional<std::string>& arn, std::string_view path, bool required,
                    Constraints* c) {
  if (!arn) {
    if (required) c->Add("null", path, "Member must not be null");
    return;
  }
  if (arn->size() < 37) {
    c->Add(Quote(*arn), path, "Member must have length greater than or equal to 37");
  } else if (arn->size() > 1024) {
    c->Add(Quote(*arn), path, "Member must have length less than or equal to 1024");
  }
}

ArnParts ParseBackupArn(const Context& ctx, const std::string& arn) {
  std::vector<std::string> parts;
  size_t from = 0;
  while (parts.size() < 5) {
    const size_t colon = arn.find(':', from);
    if (colon == std::string::npos) break;
    parts.push_back(arn.substr(from, colon - from));
    from = colon + 1;
  }
  parts.push_back(arn.substr(from));
  const ApiError invalid = ValidationError("Invalid Backup ARN");
  if (parts.size() != 6 || parts[0] != "arn") throw invalid;
  // resource: table/<name>/backup/<id>
  const std::string& resource = parts[5];
  if (!resource.starts_with("table/")) throw invalid;
  const size_t mark = resource.find("/backup/", 6);
  if (mark == std::string::npos) throw invalid;
  ArnParts out;
  out.table = resource.substr(6, mark - 6);
  out.id = resource.substr(mark + 8);
  if (out.table.size() < 3 || out.table.size() > 255 || !ValidNameChars(out.table) ||
      out.id.empty() || out.id.find('/') != std::string::npos) {
    throw invalid;
  }
  static const std::regex region_re("[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+");
  const bool partition_ok = parts[1] == "aws" || parts[1] == "aws-cn" || parts[1] == "aws-us-gov";
  if (parts[3].empty()) throw CoralError("AccessDeniedException", "Access is denied");
  if (!partition_ok || parts[2] != "dynamodb" || !std::regex_match(parts[3], region_re)) {
    throw ValidationError("BackupArn is not valid");
  }
  if (parts[4] != ctx.options->account)
    throw CoralError("AccessDeniedException", "Access is denied");
  out.region = parts[3];
  return out;
}

// Every backup of the store (SYSTEM backups past their expiry are deleted on
// the way), in no particular order.
std::vector<std::pair<TableSnapshotInfo, BackupMeta>> AllBackups(Context& ctx) {
  std::vector<TableSnapshotInfo> all;
  Check(ctx.store->ListSnapshots(&all));
  const uint64_t now = NowMs(ctx.options);
  std::vector<std::pair<TableSnapshotInfo, BackupMeta>> out;
  for (TableSnapshotInfo& info : all) {
    BackupMeta meta;
    if (!IsBackupId(info.id) || !BackupMeta::Decode(info.meta, &meta)) continue;
    if (meta.system && meta.expiry_ms != 0 && meta.expiry_ms <= now) {
      const Status s = ctx.store->DeleteSnapshot(info.id);
      if (!s.ok() && !s.IsNotFound()) LogInfo("expired backup {}: {}", info.id, s.ToString());
      continue;
    }
    out.emplace_back(std::move(info), std::move(meta));
  }
  return out;
}

// The backup `arn` names (BackupNotFoundException if none; an expired SYSTEM
// backup is deleted and not found).
void FindBackup(Context& ctx, const std::string& arn, const ArnParts& parts,
                TableSnapshotInfo* info, BackupMeta* meta) {
  if (!IsBackupId(parts.id)) throw BackupNotFound(arn);
  const Status s = ctx.store->GetSnapshot(parts.id, info);
  if (s.IsNotFound()) throw BackupNotFound(arn);
  Check(s);
  if (info->table != parts.table || !BackupMeta::Decode(info->meta, meta)) {
    throw BackupNotFound(arn);
  }
  if (meta->system && meta->expiry_ms != 0 && meta->expiry_ms <= NowMs(ctx.options)) {
    const Status d = ctx.store->DeleteSnapshot(info->id);
    if (!d.ok() && !d.IsNotFound()) LogInfo("expired backup {}: {}", info->id, d.ToString());
    throw BackupNotFound(arn);
  }
}

std::string RequireBackupArn(const json::object& req) {
  const std::optional<std::string> arn = GetString(req, "BackupArn");
  Constraints c;
  CheckArnMember(arn, "backupArn", true, &c);
  c.ThrowIfAny();
  return *arn;
}

// ---- JSON ----

json::array KeySchemaJson(const std::vector<KeyAttribute>& hash,
                          const std::vector<KeyAttribute>& range) {
  json::array a;
  for (const KeyAttribute& k : hash) a.push_back({{"AttributeName", k.name}, {"KeyType", "HASH"}});
  for (const KeyAttribute& k : range) {
    a.push_back({{"AttributeName", k.name}, {"KeyType", "RANGE"}});
  }
  return a;
}

json::array TableKeySchemaJson(const TableDef& d) {
  std::vector<KeyAttribute> range;
  if (d.sort_key) range.push_back(*d.sort_key);
  return KeySchemaJson({d.partition_key}, range);
}

json::object ProjectionJson(const IndexDef& ix) {
  json::object p{{"ProjectionType", table::ProjectionTypeName(ix.projection)}};
  if (!ix.non_key_attributes.empty()) {
    std::vector<std::string> sorted = ix.non_key_attributes;
    std::sort(sorted.begin(), sorted.end());
    json::array names;
    for (const std::string& n : sorted) names.emplace_back(n);
    p["NonKeyAttributes"] = std::move(names);
  }
  return p;
}

json::object UnitsJson(const table::ProvisionedThroughput& p) {
  return {{"ReadCapacityUnits", p.read_units}, {"WriteCapacityUnits", p.write_units}};
}

json::object BackupDetailsJson(const std::string& arn, const TableSnapshotInfo& info,
                               const BackupMeta& meta, std::string_view status) {
  json::object o{{"BackupArn", arn},
                 {"BackupName", meta.name},
                 {"BackupSizeBytes", info.size_bytes},
                 {"BackupStatus", status},
                 {"BackupType", meta.system ? "SYSTEM" : "USER"},
                 {"BackupCreationDateTime", EpochSeconds(meta.created_ms)}};
  if (meta.expiry_ms != 0) o["BackupExpiryDateTime"] = EpochSeconds(meta.expiry_ms);
  return o;
}

json::object SourceTableDetailsJson(const Context& ctx, const TableSnapshotInfo& info) {
  const TableDef& d = info.def;
  const bool ppr = d.billing_mode == table::BillingMode::kPayPerRequest;
  json::object o{{"TableName", info.table},
                 {"TableId", TableUuid(d)},
                 {"TableArn", ctx.TableArn(info.table)},
                 {"TableSizeBytes", d.approx_size_bytes},
                 {"KeySchema", TableKeySchemaJson(d)},
                 {"TableCreationDateTime", EpochSeconds(d.creation_time_ms)},
                 {"ProvisionedThroughput", UnitsJson(d.provisioned)},
                 {"ItemCount", d.approx_item_count},
                 {"BillingMode", ppr ? "PAY_PER_REQUEST" : "PROVISIONED"}};
  if (d.on_demand.max_read_request_units || d.on_demand.max_write_request_units) {
    o["OnDemandThroughput"] = OnDemandJson(d.on_demand);
  }
  return o;
}

// What the table had enabled when the backup was made (empty for a SYSTEM
// backup, as DynamoDB shows it).
json::object FeatureDetailsJson(const Context& ctx, const TableSnapshotInfo& info,
                                const BackupMeta& meta) {
  json::object o;
  if (meta.system) return o;
  const TableDef& d = info.def;
  json::array lsis;
  json::array gsis;
  for (const IndexDef& ix : d.indexes) {
    json::object i{{"IndexName", ix.name},
                   {"KeySchema", KeySchemaJson(ix.partition_key, ix.sort_key)},
                   {"Projection", ProjectionJson(ix)}};
    if (ix.global()) {
      i["ProvisionedThroughput"] = UnitsJson(ix.provisioned);
      gsis.push_back(std::move(i));
    } else {
      lsis.push_back(std::move(i));
    }
  }
  if (!lsis.empty()) o["LocalSecondaryIndexes"] = std::move(lsis);
  if (!gsis.empty()) o["GlobalSecondaryIndexes"] = std::move(gsis);
  if (d.stream.enabled) {
    o["StreamDescription"] = {{"StreamEnabled", true},
                              {"StreamViewType", table::StreamViewTypeName(d.stream.view_type)}};
  }
  if (d.ttl.enabled) {
    o["TimeToLiveDescription"] = {{"TimeToLiveStatus", "ENABLED"},
                                  {"AttributeName", d.ttl.attribute_name}};
  }
  // What was in force, as DescribeTable's SSEDescription (table_json.cc).
  if (ctx.options->encryption_at_rest) {
    o["SSEDescription"] = {{"Status", "ENABLED"}, {"SSEType", "AES256"}};
  } else if (d.sse.enabled) {
    o["SSEDescription"] = {{"Status", "DISABLED"}};
  }
  return o;
}

json::object BackupDescriptionJson(const Context& ctx, const std::string& arn,
                                   const TableSnapshotInfo& info, const BackupMeta& meta,
                                   std::string_view status) {
  return {{"BackupDetails", BackupDetailsJson(arn, info, meta, status)},
          {"SourceTableDetails", SourceTableDetailsJson(ctx, info)},
          {"SourceTableFeatureDetails", FeatureDetailsJson(ctx, info, meta)}};
}

// Creates the snapshot of a new backup of `table`, retrying on an id that is
// taken (two backups in one millisecond). kTableNotFound passes through.
Status CreateBackupSnapshot(Context& ctx, const std::string& table, BackupMeta* meta,
                            TableSnapshotInfo* info) {
  Status s;
  for (int attempt = 0; attempt < 16; attempt++) {
    const std::string id = NewBackupId(meta->created_ms, meta->system);
    s = ctx.store->CreateSnapshot(table, id, meta->Encode(), info);
    if (!s.Is(Status::SubCode::kTableInUse)) return s;
    // Taken: SYSTEM ids differ only by their time, USER ids by their suffix.
    if (meta->system) {
      meta->created_ms++;
      if (meta->expiry_ms != 0) meta->expiry_ms++;
    }
  }
  return s;
}

// ---- operations ----

json::object CreateBackup(Context& ctx, const json::object& req) {
  const std::string table = TableNameOrArnMember(req);
  const std::optional<std::string> name = GetString(req, "BackupName");
  Constraints c;
  if (!name) {
    c.Add("null", "backupName", "Member must not be null");
  } else {
    if (!ValidNameChars(*name)) {
      c.Add(Quote(*name), "backupName",
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
    }
    if (name->size() < 3) {
      c.Add(Quote(*name), "backupName", "Member must have length greater than or equal to 3");
    } else if (name->size() > 255) {
      c.Add(Quote(*name), "backupName", "Member must have length less than or equal to 255");
    }
  }
  c.ThrowIfAny();
  BackupMeta meta;
  meta.name = *name;
  meta.created_ms = NowMs(ctx.options);
  TableSnapshotInfo info;
  const Status s = CreateBackupSnapshot(ctx, table, &meta, &info);
  if (s.Is(Status::SubCode::kTableNotFound)) throw TableNotFound(table);
  Check(s);
  // DynamoDB's answer says CREATING; DescribeBackup says AVAILABLE.
  return {{"BackupDetails", BackupDetailsJson(BackupArnOf(ctx, info), info, meta, "CREATING")}};
}

json::object DescribeBackup(Context& ctx, const json::object& req) {
  const std::string arn = RequireBackupArn(req);
  const ArnParts parts = ParseBackupArn(ctx, arn);
  TableSnapshotInfo info;
  BackupMeta meta;
  FindBackup(ctx, arn, parts, &info, &meta);
  return {{"BackupDescription", BackupDescriptionJson(ctx, arn, info, meta, "AVAILABLE")}};
}

json::object DeleteBackup(Context& ctx, const json::object& req) {
  const std::string arn = RequireBackupArn(req);
  const ArnParts parts = ParseBackupArn(ctx, arn);
  TableSnapshotInfo info;
  BackupMeta meta;
  FindBackup(ctx, arn, parts, &info, &meta);
  if (meta.system) {
    throw ValidationError(fmt::format(
        "User is not allowed to delete the system backup with arn {}. It will automatically "
        "expire on {}",
        arn, IsoSeconds(meta.expiry_ms)));
  }
  if (BackupBeingRestored(ctx, info.id)) {
    throw DynamoError("BackupInUseException", "Backup is being used to restore table: " + arn);
  }
  const Status s = ctx.store->DeleteSnapshot(info.id);
  if (s.IsNotFound()) throw BackupNotFound(arn);
  Check(s);
  return {{"BackupDescription", BackupDescriptionJson(ctx, arn, info, meta, "DELETED")}};
}

json::object ListBackups(Context& ctx, const json::object& req) {
  std::optional<std::string> table;
  if (req.contains("TableName") && !req.at("TableName").is_null()) {
    table = TableNameOrArnMember(req);
  }
  const std::optional<int64_t> limit = GetInt(req, "Limit");
  const std::optional<std::string> type = GetString(req, "BackupType");
  const std::optional<std::string> start = GetString(req, "ExclusiveStartBackupArn");
  Constraints c;
  if (limit && *limit < 1) {
    c.Add(fmt::format("'{}'", *limit), "limit",
          "Member must have value greater than or equal to 1");
  } else if (limit && *limit > 100) {
    c.Add(fmt::format("'{}'", *limit), "limit", "Member must have value less than or equal to 100");
  }
  if (type && *type != "USER" && *type != "SYSTEM" && *type != "AWS_BACKUP" && *type != "ALL") {
    c.Add(Quote(*type), "backupType",
          "Member must satisfy enum value set: [USER, SYSTEM, AWS_BACKUP, ALL]");
  }
  CheckArnMember(start, "exclusiveStartBackupArn", false, &c);
  c.ThrowIfAny();
  const std::optional<uint64_t> lower = RequestTimeMs(req, "TimeRangeLowerBound");
  const std::optional<uint64_t> upper = RequestTimeMs(req, "TimeRangeUpperBound");
  if (lower && upper && *lower > *upper) {
    throw ValidationError("Time range lower bound must be less than or equal to upper bound");
  }
  // The cursor's place: (creation ms from its id, its ARN).
  std::optional<std::pair<uint64_t, std::string>> after;
  if (start) {
    const ArnParts p = ParseBackupArn(ctx, *start);
    uint64_t ms = 0;
    if (p.id.size() >= 14 && std::all_of(p.id.begin(), p.id.begin() + 14, ::isdigit)) {
      ms = std::stoull(p.id.substr(0, 14));
    }
    after.emplace(ms, ctx.TableArn(p.table) + "/backup/" + p.id);
  }
  const std::string want = type.value_or("USER");

  struct Entry {
    uint64_t ms;
    std::string arn;
    json::object summary;
  };
  std::vector<Entry> entries;
  for (auto& [info, meta] : AllBackups(ctx)) {
    if (table && info.table != *table) continue;
    const bool type_ok =
        want == "ALL" || (want == "SYSTEM" && meta.system) || (want == "USER" && !meta.system);
    if (!type_ok) continue;
    if (lower && meta.created_ms < *lower) continue;
    if (upper && meta.created_ms >= *upper) continue;
    const std::string arn = BackupArnOf(ctx, info);
    if (after && std::pair<uint64_t, std::string>(meta.created_ms, arn) <= *after) continue;
    json::object s{{"TableName", info.table},
                   {"TableId", TableUuid(info.def)},
                   {"TableArn", ctx.TableArn(info.table)},
                   {"BackupArn", arn},
                   {"BackupName", meta.name},
                   {"BackupCreationDateTime", EpochSeconds(meta.created_ms)}};
    if (meta.expiry_ms != 0) s["BackupExpiryDateTime"] = EpochSeconds(meta.expiry_ms);
    s["BackupStatus"] = "AVAILABLE";
    s["BackupType"] = meta.system ? "SYSTEM" : "USER";
    s["BackupSizeBytes"] = info.size_bytes;
    entries.push_back({meta.created_ms, arn, std::move(s)});
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.ms, a.arn) < std::tie(b.ms, b.arn);
  });
  const size_t max = limit ? static_cast<size_t>(*limit) : entries.size();
  json::array out;
  for (size_t i = 0; i < entries.size() && i < max; i++)
    out.push_back(std::move(entries[i].summary));
  json::object resp{{"BackupSummaries", std::move(out)}};
  if (entries.size() > max) resp["LastEvaluatedBackupArn"] = entries[max - 1].arn;
  return resp;
}

json::object RestoreTableFromBackup(Context& ctx, const json::object& req) {
  const std::string target = RequireTargetTableName(req);
  const std::string arn = RequireBackupArn(req);
  const ArnParts parts = ParseBackupArn(ctx, arn);
  if (parts.region != ctx.options->region &&
      GetObject(req, "SSESpecificationOverride") == nullptr) {
    throw ValidationError(
        "Invalid Request: sseSpecificationOverride must be provided for cross-region restores");
  }
  TableSnapshotInfo info;
  BackupMeta meta;
  FindBackup(ctx, arn, parts, &info, &meta);
  const uint64_t now = NowMs(ctx.options);
  const TableDef def = RestoreTargetDef(req, info.def, target, now);
  table::TableRef existing;
  if (ctx.store->Resolve(target, &existing).ok()) {
    throw DynamoError("TableAlreadyExistsException", "Table already exists: " + target);
  }
  const std::string canonical = BackupArnOf(ctx, info);
  RestoreClaim claim(ctx, target, info.id, canonical);
  TableDef created;
  const Status s = ctx.store->RestoreSnapshot(info.id, def, &created);
  if (s.Is(Status::SubCode::kTableInUse)) {
    throw DynamoError("TableAlreadyExistsException", "Table already exists: " + target);
  }
  if (s.IsNotFound()) throw BackupNotFound(arn);
  Check(s);
  RestoreSummary summary;
  summary.source_backup_arn = canonical;
  summary.source_table_arn = ctx.TableArn(info.table);
  summary.restore_ms = meta.created_ms;
  RecordRestoreSummary(ctx, created, summary);
  TableDef shown;
  if (!ctx.store->DescribeTable(target, &shown).ok()) shown = created;
  return {{"TableDescription", DescribeTableJson(ctx, shown)}};
}

}  // namespace

std::string BeforeTableDelete(Context& ctx, const TableDef& d) {
  // DeleteTable refuses a protected table (nothing to keep then).
  if (!d.pitr.enabled || d.deletion_protection) return {};
  BackupMeta meta;
  meta.name = d.name + "$DeletedTableBackup";
  meta.system = true;
  meta.created_ms = NowMs(ctx.options);
  const uint32_t days = d.pitr.recovery_period_days != 0 ? d.pitr.recovery_period_days : 35;
  meta.expiry_ms = meta.created_ms + days * kDayMs;
  TableSnapshotInfo info;
  const Status s = CreateBackupSnapshot(ctx, d.name, &meta, &info);
  if (s.Is(Status::SubCode::kTableNotFound)) return {};  // DeleteTable answers it
  // No table is deleted without the backup its settings promise.
  Check(s);
  return info.id;
}

void AfterTableDelete(Context& ctx, const TableDef& d, const std::string& system_backup,
                      const Status& deleted) {
  if (deleted.ok()) {
    DropRestoreSummary(ctx, d);
    return;
  }
  if (system_backup.empty()) return;
  const Status s = ctx.store->DeleteSnapshot(system_backup);
  if (!s.ok()) LogInfo("system backup {} of {} kept: {}", system_backup, d.name, s.ToString());
}

void RegisterBackupOperations(std::map<std::string, Operation, std::less<>>* ops) {
  (*ops)["CreateBackup"] = CreateBackup;
  (*ops)["DescribeBackup"] = DescribeBackup;
  (*ops)["DeleteBackup"] = DeleteBackup;
  (*ops)["ListBackups"] = ListBackups;
  (*ops)["RestoreTableFromBackup"] = RestoreTableFromBackup;
}

}  // namespace basalt::server::api

// Point-in-time recovery: UpdateContinuousBackups, DescribeContinuousBackups
// and RestoreTableToPointInTime, over the table layer's history
// (TableStore::SetPointInTimeRecovery, DescribePointInTimeRecovery,
// RestoreToPointInTime; engine/table/snapshots.h).
//
// Behaviour follows DynamoDB (API Reference for each operation; the texts are
// DynamoDB's observed answers):
//   - UpdateContinuousBackups is synchronous and idempotent; its answer is
//     the ContinuousBackupsDescription DescribeContinuousBackups gives.
//     RecoveryPeriodInDays is 1..35 (constraint error at
//     'pointInTimeRecoverySpecification.recoveryPeriodInDays'), 35 when an
//     enable leaves it out (the current period when PITR is already on), and
//     refused with a disable ("Invalid Request: Cannot specify
//     RecoveryPeriodInDays when disabling point-in-time recovery.").
//   - While PITR is off, PointInTimeRecoveryDescription is
//     {PointInTimeRecoveryStatus: DISABLED} alone; while on it adds
//     RecoveryPeriodInDays, EarliestRestorableDateTime and
//     LatestRestorableDateTime. A missing table is TableNotFoundException
//     "Table not found: <name>" (not ResourceNotFoundException).
//   - RestoreTableToPointInTime checks, in DynamoDB's order: the request's
//     shape (exactly one of SourceTableArn / SourceTableName, exactly one of
//     RestoreDateTime / UseLatestRestorableTime), the source table
//     (TableNotFoundException), PITR on (PointInTimeRecoveryUnavailableException
//     "Point in time recovery is not enabled for table '<name>'"), the time
//     (InvalidRestoreTimeException quoting the window), then the target name
//     (TableAlreadyExistsException). The target's settings come from the
//     source's current definition, with the overrides of restore.cc.
// Difference: DynamoDB's ContinuousBackupsStatus turns ENABLED by itself
// minutes after a table is created, PITR or not; here it is ENABLED exactly
// while PITR is (what the public Alternator suite's test_backup.py expects of
// a table that never enabled it).
#include <fmt/format.h>

#include "server/api/backups.h"
#include "server/api/export_json.h"
#include "server/api/json_value.h"
#include "server/api/table_json.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::TableDef;

namespace {

constexpr uint32_t kDefaultPeriodDays = 35;

ApiError PitrUnavailable(const std::string& table) {
  return DynamoError("PointInTimeRecoveryUnavailableException",
                     fmt::format("Point in time recovery is not enabled for table '{}'", table));
}

table::PitrStatus DescribePitr(Context& ctx, const std::string& table) {
  table::PitrStatus st;
  const Status s = ctx.store->DescribePointInTimeRecovery(table, &st);
  if (s.Is(Status::SubCode::kTableNotFound)) throw TableNotFound(table);
  Check(s);
  return st;
}

json::object DescriptionJson(const table::PitrStatus& st) {
  json::object pitr{{"PointInTimeRecoveryStatus", st.enabled ? "ENABLED" : "DISABLED"}};
  if (st.enabled) {
    pitr["RecoveryPeriodInDays"] = st.recovery_period_days;
    pitr["EarliestRestorableDateTime"] = EpochSeconds(st.earliest_ms);
    pitr["LatestRestorableDateTime"] = EpochSeconds(st.latest_ms);
  }
  return {{"ContinuousBackupsStatus", st.enabled ? "ENABLED" : "DISABLED"},
          {"PointInTimeRecoveryDescription", std::move(pitr)}};
}

json::object UpdateContinuousBackups(Context& ctx, const json::object& req) {
  const std::string table = TableNameOrArnMember(req);
  const json::object* spec = GetObject(req, "PointInTimeRecoverySpecification");
  std::optional<bool> enabled;
  std::optional<int64_t> period;
  Constraints c;
  if (spec == nullptr) {
    c.Add("null", "pointInTimeRecoverySpecification", "Member must not be null");
  } else {
    enabled = GetBool(*spec, "PointInTimeRecoveryEnabled");
    period = GetInt(*spec, "RecoveryPeriodInDays");
    if (!enabled) {
      c.Add("null", "pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled",
            "Member must not be null");
    }
    if (period && *period < 1) {
      c.Add(fmt::format("'{}'", *period), "pointInTimeRecoverySpecification.recoveryPeriodInDays",
            "Member must have value greater than or equal to 1");
    } else if (period && *period > 35) {
      c.Add(fmt::format("'{}'", *period), "pointInTimeRecoverySpecification.recoveryPeriodInDays",
            "Member must have value less than or equal to 35");
    }
  }
  c.ThrowIfAny();
  if (!*enabled && period) {
    throw ValidationError(
        "Invalid Request: Cannot specify RecoveryPeriodInDays when disabling point-in-time "
        "recovery.");
  }
  uint32_t days = period ? static_cast<uint32_t>(*period) : kDefaultPeriodDays;
  if (*enabled && !period) {
    const table::PitrStatus cur = DescribePitr(ctx, table);
    if (cur.enabled && cur.recovery_period_days != 0) days = cur.recovery_period_days;
  }
  const Status s = ctx.store->SetPointInTimeRecovery(table, *enabled, days);
  if (s.Is(Status::SubCode::kTableNotFound)) throw TableNotFound(table);
  Check(s);
  return {{"ContinuousBackupsDescription", DescriptionJson(DescribePitr(ctx, table))}};
}

json::object DescribeContinuousBackups(Context& ctx, const json::object& req) {
  const std::string table = TableNameOrArnMember(req);
  return {{"ContinuousBackupsDescription", DescriptionJson(DescribePitr(ctx, table))}};
}

// SourceTableArn / SourceTableName -> the source table's name.
std::string SourceTable(Context& ctx, const json::object& req) {
  const std::optional<std::string> arn = GetString(req, "SourceTableArn");
  const std::optional<std::string> name = GetString(req, "SourceTableName");
  if (arn && name) {
    throw ValidationError("Must provide exactly one of: sourceTableArn, sourceTableName");
  }
  if (!arn && !name) throw ValidationError("The parameter 'TableName' is required");
  if (name) {
    Constraints c;
    if (!ValidNameChars(*name)) {
      c.Add(Quote(*name), "sourceTableName",
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
    }
    if (name->size() < 3) {
      c.Add(Quote(*name), "sourceTableName", "Member must have length greater than or equal to 3");
    } else if (name->size() > 255) {
      c.Add(Quote(*name), "sourceTableName", "Member must have length less than or equal to 255");
    }
    c.ThrowIfAny();
    return *name;
  }
  // arn:aws:dynamodb:<region>:<account>:table/<name>
  std::vector<std::string> parts;
  size_t from = 0;
  while (parts.size() < 5) {
    const size_t colon = arn->find(':', from);
    if (colon == std::string::npos) break;
    parts.push_back(arn->substr(from, colon - from));
    from = colon + 1;
  }
  parts.push_back(arn->substr(from));
  const ApiError invalid = ValidationError("sourceTableArn is not a valid ARN");
  if (parts.size() != 6 || parts[0] != "arn" || parts[2] != "dynamodb" ||
      !parts[5].starts_with("table/")) {
    throw invalid;
  }
  const std::string table = parts[5].substr(6);
  if (table.size() < 3 || table.size() > 255 || !ValidNameChars(table)) throw invalid;
  if (parts[4] != ctx.options->account) {
    throw ValidationError(
        "This action is only supported by accounts that match the resource owner's account");
  }
  if (parts[3] != ctx.options->region) {
    if (GetObject(req, "SSESpecificationOverride") == nullptr) {
      throw ValidationError(
          "Invalid Request: sseSpecificationOverride must be provided for cross-region restores");
    }
    throw TableNotFound(table);  // this server holds one region's tables only
  }
  return table;
}

json::object RestoreTableToPointInTime(Context& ctx, const json::object& req) {
  const std::string target = RequireTargetTableName(req);
  const std::string source = SourceTable(ctx, req);
  const std::optional<bool> latest = GetBool(req, "UseLatestRestorableTime");
  const std::optional<uint64_t> when = RequestTimeMs(req, "RestoreDateTime");
  const bool use_latest = latest.value_or(false);
  if (!when && !use_latest) {
    throw ValidationError(
        "Invalid Request: Either one of RestoreDateTime or UseLatestRestorableTime must be "
        "specified, but not both");
  }
  if (when && use_latest) {
    throw ValidationError(
        "Invalid Request: Both RestoreDateTime and UseLatestRestorableTime cannot be set for "
        "point-in-time restore request. Please specify either RestoreDateTime time or "
        "UseLatestRestorableTime");
  }
  TableDef def;
  const Status ds = ctx.store->DescribeTable(source, &def);
  if (ds.Is(Status::SubCode::kTableNotFound)) throw TableNotFound(source);
  Check(ds);
  const table::PitrStatus st = DescribePitr(ctx, source);
  if (!st.enabled) throw PitrUnavailable(source);
  const uint64_t at = use_latest ? st.latest_ms : *when;
  const auto out_of_window = [&] {
    return DynamoError(
        "InvalidRestoreTimeException",
        fmt::format("RestoreDateTime '{}' must be within EarliestRestorableDateTime '{}' and "
                    "LatestRestorableDateTime '{}'",
                    IsoSeconds(at), IsoSeconds(st.earliest_ms), IsoSeconds(st.latest_ms)));
  };
  if (at < st.earliest_ms || at > st.latest_ms) throw out_of_window();
  const TableDef target_def = RestoreTargetDef(req, def, target, NowMs(ctx.options));
  table::TableRef existing;
  if (ctx.store->Resolve(target, &existing).ok()) {
    throw DynamoError("TableAlreadyExistsException", "Table already exists: " + target);
  }
  const std::string source_arn = ctx.TableArn(source);
  RestoreClaim claim(ctx, target, "", source_arn);
  TableDef created;
  const Status s = ctx.store->RestoreToPointInTime(source, at, target_def, &created);
  if (s.Is(Status::SubCode::kTableInUse)) {
    throw DynamoError("TableAlreadyExistsException", "Table already exists: " + target);
  }
  if (s.Is(Status::SubCode::kTableNotFound)) throw TableNotFound(source);
  if (s.Is(Status::SubCode::kPitrNotEnabled)) throw PitrUnavailable(source);
  if (s.Is(Status::SubCode::kOutOfWindow)) throw out_of_window();
  Check(s);
  RestoreSummary summary;
  summary.source_table_arn = source_arn;
  summary.restore_ms = at;
  RecordRestoreSummary(ctx, created, summary);
  TableDef shown;
  if (!ctx.store->DescribeTable(target, &shown).ok()) shown = created;
  return {{"TableDescription", DescribeTableJson(ctx, shown)}};
}

}  // namespace

void RegisterContinuousBackupOperations(std::map<std::string, Operation, std::less<>>* ops) {
  (*ops)["UpdateContinuousBackups"] = UpdateContinuousBackups;
  (*ops)["DescribeContinuousBackups"] = DescribeContinuousBackups;
  (*ops)["RestoreTableToPointInTime"] = RestoreTableToPointInTime;
}

}  // namespace basalt::server::api

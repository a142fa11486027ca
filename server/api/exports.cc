// ExportTableToPointInTime, DescribeExport, ListExports on local files
// (docs/backup.md, "Export and import"; the jobs run in server/export).
//
// Checks, in DynamoDB's order where known (members and constraints from
// DynamoDB's API model; the answers observed on DynamoDB by ScyllaDB's
// Alternator suite, test_export.py):
//   - constraint errors (ValidationException, aggregated): TableArn and
//     S3Bucket required, S3Bucket's pattern, S3Prefix 1-1024, S3BucketOwner
//     [0-9]{12}, ClientToken ^[^$]+$, the enums;
//   - the server runs without --export-root -> ValidationException;
//   - ClientToken reused within 8 hours: same parameters -> the same export,
//     other parameters -> ExportConflictException "Duplicate request detected
//     ..." (what DynamoDB answers, although its docs name
//     IdempotentParameterMismatch);
//   - an S3 location outside the export root -> ValidationException;
//   - table missing -> TableNotFoundException; PITR off ->
//     PointInTimeRecoveryUnavailableException; ExportTime (default: now,
//     capped to LatestRestorableDateTime) or the incremental period outside
//     the PITR window, in the future, or a period shorter than 15 minutes /
//     longer than 24 hours -> InvalidExportTimeException.
// A bucket (directory ROOT/<bucket>) that does not exist is accepted and the
// export fails with FailureCode S3NoSuchBucket, as on DynamoDB.
// ExportType is echoed only when the request gave it (as DynamoDB does);
// ListExports' summaries always carry it.
#include <fmt/format.h>

#include <boost/json/serialize.hpp>

#include "server/api/errors.h"
#include "server/api/export_json.h"
#include "server/api/json_value.h"
#include "server/api/service.h"
#include "server/api/table_json.h"

namespace basalt::server::api {

namespace json = boost::json;
using exports::ExportRecord;
using exports::JobState;

namespace {

ApiError InvalidExportTime(std::string message) {
  return DynamoError("InvalidExportTimeException", std::move(message));
}

json::object ExportDescriptionJson(const ExportRecord& r) {
  json::object d;
  d["ExportArn"] = r.arn;
  d["ExportStatus"] = exports::JobStateName(r.state);
  d["StartTime"] = EpochSeconds(r.start_ms);
  if (r.end_ms != 0) d["EndTime"] = EpochSeconds(r.end_ms);
  if (r.state == JobState::kCompleted) d["ExportManifest"] = r.manifest;
  d["TableArn"] = r.table_arn;
  d["TableId"] = r.table_id;
  if (!r.incremental) d["ExportTime"] = EpochSeconds(r.export_time_ms);
  d["ClientToken"] = r.client_token;
  d["S3Bucket"] = r.bucket;
  if (!r.bucket_owner.empty()) d["S3BucketOwner"] = r.bucket_owner;
  if (!r.prefix.empty()) d["S3Prefix"] = r.prefix;
  if (!r.sse_algorithm.empty()) d["S3SseAlgorithm"] = r.sse_algorithm;
  if (!r.sse_kms_key_id.empty()) d["S3SseKmsKeyId"] = r.sse_kms_key_id;
  if (r.state == JobState::kFailed) {
    d["FailureCode"] = r.failure_code;
    d["FailureMessage"] = r.failure_message;
  }
  d["ExportFormat"] = r.format;
  if (r.state == JobState::kCompleted) {
    d["BilledSizeBytes"] = r.billed_size_bytes;
    d["ItemCount"] = r.item_count;
  }
  if (r.export_type_given || r.incremental) {
    d["ExportType"] = r.incremental ? "INCREMENTAL_EXPORT" : "FULL_EXPORT";
  }
  if (r.incremental) {
    d["IncrementalExportSpecification"] = json::object{{"ExportFromTime", EpochSeconds(r.from_ms)},
                                                       {"ExportToTime", EpochSeconds(r.to_ms)},
                                                       {"ExportViewType", r.view_type}};
  }
  return d;
}

// "arn:aws:dynamodb:<region>:<account>:table/<name>" -> name ("" if not one).
std::string TableFromArn(const std::string& arn) {
  const size_t at = arn.find(":table/");
  if (!arn.starts_with("arn:") || at == std::string::npos) return "";
  std::string name = arn.substr(at + 7);
  if (name.empty() || name.find('/') != std::string::npos || !ValidNameChars(name)) return "";
  return name;
}

std::string TimeText(uint64_t ms) { return fmt::format("{:.3f}", EpochSeconds(ms)); }

json::object ExportTableToPointInTime(Context& ctx, const json::object& req) {
  Constraints c;
  const std::optional<std::string> table_arn = GetString(req, "TableArn");
  const std::optional<std::string> bucket = GetString(req, "S3Bucket");
  const std::optional<std::string> owner = GetString(req, "S3BucketOwner");
  const std::optional<std::string> prefix = GetString(req, "S3Prefix");
  const std::optional<std::string> sse = GetString(req, "S3SseAlgorithm");
  const std::optional<std::string> kms = GetString(req, "S3SseKmsKeyId");
  const std::optional<std::string> format = GetString(req, "ExportFormat");
  const std::optional<std::string> type = GetString(req, "ExportType");
  const std::optional<std::string> token = GetString(req, "ClientToken");
  const std::optional<int64_t> export_time = GetExportTimeMs(req, "ExportTime");
  const json::object* spec = GetObject(req, "IncrementalExportSpecification");
  std::optional<std::string> view;
  std::optional<int64_t> from;
  std::optional<int64_t> to;
  if (spec != nullptr) {
    view = GetString(*spec, "ExportViewType");
    from = GetExportTimeMs(*spec, "ExportFromTime");
    to = GetExportTimeMs(*spec, "ExportToTime");
  }
  if (!table_arn) c.Add("null", "tableArn", "Member must not be null");
  if (table_arn && table_arn->empty()) {
    c.Add("''", "tableArn", "Member must have length greater than or equal to 1");
  }
  CheckBucket(&c, bucket, "s3Bucket", true);
  CheckOwner(&c, owner, "s3BucketOwner");
  CheckPrefix(&c, prefix, "s3Prefix");
  CheckEnum(&c, sse, "s3SseAlgorithm", {"AES256", "KMS"});
  if (kms && kms->empty()) {
    c.Add("''", "s3SseKmsKeyId", "Member must have length greater than or equal to 1");
  }
  CheckEnum(&c, format, "exportFormat", {"DYNAMODB_JSON", "ION"});
  CheckEnum(&c, type, "exportType", {"FULL_EXPORT", "INCREMENTAL_EXPORT"});
  CheckEnum(&c, view, "incrementalExportSpecification.exportViewType",
            {"NEW_IMAGE", "NEW_AND_OLD_IMAGES"});
  CheckClientToken(&c, token);
  c.ThrowIfAny();
  const std::string table = TableFromArn(*table_arn);
  if (table.empty()) throw ValidationError("Invalid TableArn: " + ValidUtf8(*table_arn));
  if (export_time && *export_time < 0) {
    throw InvalidExportTime("ExportTime must not be before the start of the Unix epoch");
  }
  const bool incremental = type && *type == "INCREMENTAL_EXPORT";
  if (incremental && (spec == nullptr || !from)) {
    throw ValidationError(
        "IncrementalExportSpecification with ExportFromTime is required for an "
        "INCREMENTAL_EXPORT");
  }
  exports::JobManager& jobs = Jobs(ctx);

  ExportRecord r;
  r.table_name = table;
  r.table_arn = ctx.TableArn(table);
  r.client_token = token.value_or(NewClientToken());
  r.export_type_given = type.has_value();
  r.incremental = incremental;
  r.view_type = incremental ? view.value_or("NEW_AND_OLD_IMAGES") : "";
  r.bucket = *bucket;
  r.bucket_owner = owner.value_or("");
  r.prefix = prefix.value_or("");
  r.sse_algorithm = sse.value_or("");
  r.sse_kms_key_id = kms.value_or("");
  r.format = format.value_or("DYNAMODB_JSON");
  {
    // The request's parameters, for the client token's idempotency.
    json::object f;
    f["TableArn"] = r.table_arn;
    f["ExportTime"] = export_time ? json::value(*export_time) : json::value(nullptr);
    f["S3Bucket"] = r.bucket;
    f["S3BucketOwner"] = r.bucket_owner;
    f["S3Prefix"] = r.prefix;
    f["S3SseAlgorithm"] = r.sse_algorithm;
    f["S3SseKmsKeyId"] = r.sse_kms_key_id;
    f["ExportFormat"] = r.format;
    f["ExportType"] = incremental ? "INCREMENTAL_EXPORT" : "FULL_EXPORT";
    f["From"] = from ? json::value(*from) : json::value(nullptr);
    f["To"] = to ? json::value(*to) : json::value(nullptr);
    f["View"] = r.view_type;
    r.fingerprint = json::serialize(f);
  }
  std::string dir;
  if (Status s = jobs.Resolve(r.bucket, r.prefix, &dir); !s.ok()) {
    throw ValidationError(std::string(s.message()));
  }
  table::TableDef def;
  Status ds = ctx.store->DescribeTable(table, &def);
  if (ds.Is(Status::SubCode::kTableNotFound)) {
    throw DynamoError("TableNotFoundException", "Table not found: " + table);
  }
  Check(ds);
  r.table_id = TableUuid(def);
  table::PitrStatus pitr;
  Check(ctx.store->DescribePointInTimeRecovery(table, &pitr));
  if (!pitr.enabled) {
    throw DynamoError("PointInTimeRecoveryUnavailableException",
                      "Point in time recovery is not enabled for table '" + table + "'");
  }
  const uint64_t now = jobs.NowMs();
  auto window = [&] {
    return fmt::format("[{}, {}]", TimeText(pitr.earliest_ms), TimeText(pitr.latest_ms));
  };
  if (!incremental) {
    // Default: now, as far as the history reaches (LatestRestorableDateTime
    // trails the present by the engine's durability lag).
    const uint64_t t =
        export_time ? static_cast<uint64_t>(*export_time) : std::min<uint64_t>(now, pitr.latest_ms);
    if (t > now) throw InvalidExportTime("ExportTime cannot be in the future");
    if (t < pitr.earliest_ms || t > pitr.latest_ms) {
      throw InvalidExportTime("ExportTime " + TimeText(t) +
                              " is outside the point in time recovery window " + window());
    }
    r.export_time_ms = t;
  } else {
    const uint64_t f = static_cast<uint64_t>(std::max<int64_t>(*from, 0));
    const uint64_t t = to ? static_cast<uint64_t>(std::max<int64_t>(*to, 0)) : pitr.latest_ms;
    if (f >= t) throw InvalidExportTime("ExportFromTime must be before ExportToTime");
    if (t - f < jobs.options().incremental_min_period_ms) {
      throw InvalidExportTime(fmt::format(
          "Difference between export period start time and end time must be at least {} "
          "seconds",
          jobs.options().incremental_min_period_ms / 1000));
    }
    if (t - f > jobs.options().incremental_max_period_ms) {
      throw InvalidExportTime(fmt::format(
          "Difference between export period start time and end time must be at most {} seconds",
          jobs.options().incremental_max_period_ms / 1000));
    }
    if (t > now) throw InvalidExportTime("ExportToTime cannot be in the future");
    if (f < pitr.earliest_ms || t > pitr.latest_ms) {
      throw InvalidExportTime("The export period [" + TimeText(f) + ", " + TimeText(t) +
                              ") is outside the point in time recovery window " + window());
    }
    r.from_ms = f;
    r.to_ms = t;
    r.export_time_ms = t;
  }
  ExportRecord out;
  bool replayed = false;
  Status s = jobs.SubmitExport(std::move(r), &out, &replayed);
  if (s.Is(Status::SubCode::kIdempotentMismatch)) {
    throw DynamoError("ExportConflictException", std::string(s.message()));
  }
  Check(s);
  return {{"ExportDescription", ExportDescriptionJson(out)}};
}

// The export id of an ARN ".../export/<id>", or ValidationException.
std::string ExportId(const std::string& arn) {
  const size_t at = arn.find("/export/");
  if (!arn.starts_with("arn:") || at == std::string::npos) {
    throw ValidationError("Invalid Export ARN: " + ValidUtf8(arn));
  }
  return arn.substr(at + 8);
}

json::object DescribeExport(Context& ctx, const json::object& req) {
  Constraints c;
  const std::optional<std::string> arn = GetString(req, "ExportArn");
  if (!arn) c.Add("null", "exportArn", "Member must not be null");
  if (arn && arn->size() < 37) {
    c.Add(Quote(*arn), "exportArn", "Member must have length greater than or equal to 37");
  }
  c.ThrowIfAny();
  const std::string id = ExportId(*arn);
  exports::JobManager* jobs = JobsIfAny(ctx);
  ExportRecord r;
  Status s = jobs != nullptr ? jobs->GetExport(id, &r) : Status::NotFound("no jobs");
  if (s.IsNotFound() || (s.ok() && r.arn != *arn)) {
    throw DynamoError("ExportNotFoundException", "Export not found: " + ValidUtf8(*arn));
  }
  Check(s);
  return {{"ExportDescription", ExportDescriptionJson(r)}};
}

json::object ListExports(Context& ctx, const json::object& req) {
  Constraints c;
  const std::optional<std::string> table_arn = GetString(req, "TableArn");
  const std::optional<int64_t> max = GetInt(req, "MaxResults");
  const std::optional<std::string> next = GetString(req, "NextToken");
  if (max && (*max < 1 || *max > 25)) {
    c.Add(fmt::format("'{}'", *max), "maxResults",
          *max < 1 ? "Member must have value greater than or equal to 1"
                   : "Member must have value less than or equal to 25");
  }
  c.ThrowIfAny();
  std::optional<std::string> after;
  if (next) {
    after = DecodeListToken(*next);
    if (!after) throw ValidationError("Invalid NextToken for ListExports");
  }
  std::vector<ExportRecord> all;
  if (exports::JobManager* jobs = JobsIfAny(ctx)) Check(jobs->ListExports(&all));
  const size_t limit = static_cast<size_t>(max.value_or(25));
  json::array summaries;
  std::string last;
  bool more = false;
  for (const ExportRecord& r : all) {  // newest first
    if (after && r.id >= *after) continue;
    if (table_arn && r.table_arn != *table_arn) continue;
    if (summaries.size() == limit) {
      more = true;
      break;
    }
    summaries.push_back(
        json::object{{"ExportArn", r.arn},
                     {"ExportStatus", exports::JobStateName(r.state)},
                     {"ExportType", r.incremental ? "INCREMENTAL_EXPORT" : "FULL_EXPORT"}});
    last = r.id;
  }
  json::object out{{"ExportSummaries", std::move(summaries)}};
  if (more) out["NextToken"] = EncodeListToken(last);
  return out;
}

}  // namespace

void RegisterExportOperations(std::map<std::string, Operation, std::less<>>* ops) {
  (*ops)["ExportTableToPointInTime"] = ExportTableToPointInTime;
  (*ops)["DescribeExport"] = DescribeExport;
  (*ops)["ListExports"] = ListExports;
}

}  // namespace basalt::server::api

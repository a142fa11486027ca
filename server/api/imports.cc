// ImportTable, DescribeImport, ListImports from local files (docs/backup.md,
// "Export and import"; the jobs run in server/export, import_job.cc).
//
// ImportTable checks its members against DynamoDB's API model (constraint
// errors aggregated as ValidationException), validates
// TableCreationParameters with CreateTable's own checks and messages
// (ParseCreateTableRequest: TableName, AttributeDefinitions, KeySchema,
// BillingMode, ProvisionedThroughput, OnDemandThroughput, SSESpecification,
// GlobalSecondaryIndexes), then, under the job manager's lock: a ClientToken
// used within 8 hours answers that import when the request is the same and
// ImportConflictException otherwise; a bucket that does not exist gives a
// FAILED import (S3NoSuchBucket) and no table, as DynamoDB; else the table is
// created as CreateTable creates it (ResourceInUseException "Table already
// exists: <name>") and the import starts, IN_PROGRESS.
#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "server/api/errors.h"
#include "server/api/export_json.h"
#include "server/api/json_value.h"
#include "server/api/service.h"
#include "server/api/table_json.h"

namespace basalt::server::api {

namespace json = boost::json;
using exports::ImportRecord;
using exports::JobState;

namespace {

json::object BucketSourceJson(const ImportRecord& r) {
  json::object s{{"S3Bucket", r.bucket}};
  if (!r.bucket_owner.empty()) s["S3BucketOwner"] = r.bucket_owner;
  if (!r.key_prefix.empty()) s["S3KeyPrefix"] = r.key_prefix;
  return s;
}

json::value ParsedOr(const std::string& text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value(json::object()) : v;
}

json::object ImportDescriptionJson(const ImportRecord& r) {
  json::object d;
  d["ImportArn"] = r.arn;
  d["ImportStatus"] = exports::JobStateName(r.state);
  d["TableArn"] = r.table_arn;
  if (!r.table_id.empty()) d["TableId"] = r.table_id;
  d["ClientToken"] = r.client_token;
  d["S3BucketSource"] = BucketSourceJson(r);
  d["ErrorCount"] = r.error_count;
  d["InputFormat"] = r.input_format;
  if (!r.format_options_json.empty()) d["InputFormatOptions"] = ParsedOr(r.format_options_json);
  d["InputCompressionType"] = r.compression;
  d["TableCreationParameters"] = ParsedOr(r.creation_parameters_json);
  d["StartTime"] = EpochSeconds(r.start_ms);
  if (r.end_ms != 0) d["EndTime"] = EpochSeconds(r.end_ms);
  d["ProcessedSizeBytes"] = r.processed_bytes;
  d["ProcessedItemCount"] = r.processed_items;
  d["ImportedItemCount"] = r.imported_items;
  if (r.state == JobState::kFailed) {
    d["FailureCode"] = r.failure_code;
    d["FailureMessage"] = r.failure_message;
  }
  return d;
}

json::object ImportTable(Context& ctx, const json::object& req) {
  Constraints c;
  const json::object* source = GetObject(req, "S3BucketSource");
  const std::optional<std::string> format = GetString(req, "InputFormat");
  const std::optional<std::string> compression = GetString(req, "InputCompressionType");
  const json::object* options = GetObject(req, "InputFormatOptions");
  const json::object* params = GetObject(req, "TableCreationParameters");
  const std::optional<std::string> token = GetString(req, "ClientToken");
  std::optional<std::string> bucket;
  std::optional<std::string> owner;
  std::optional<std::string> key_prefix;
  if (source == nullptr) {
    c.Add("null", "s3BucketSource", "Member must not be null");
  } else {
    bucket = GetString(*source, "S3Bucket");
    owner = GetString(*source, "S3BucketOwner");
    key_prefix = GetString(*source, "S3KeyPrefix");
    CheckBucket(&c, bucket, "s3BucketSource.s3Bucket", true);
    CheckOwner(&c, owner, "s3BucketSource.s3BucketOwner");
    if (key_prefix && key_prefix->size() > 1024) {
      c.Add(Quote(*key_prefix), "s3BucketSource.s3KeyPrefix",
            "Member must have length less than or equal to 1024");
    }
  }
  if (!format) c.Add("null", "inputFormat", "Member must not be null");
  CheckEnum(&c, format, "inputFormat", {"DYNAMODB_JSON", "ION", "CSV"});
  CheckEnum(&c, compression, "inputCompressionType", {"GZIP", "ZSTD", "NONE"});
  CheckClientToken(&c, token);
  std::optional<std::string> delimiter;
  std::vector<std::string> header;
  const json::object* csv = options != nullptr ? GetObject(*options, "Csv") : nullptr;
  if (csv != nullptr) {
    delimiter = GetString(*csv, "Delimiter");
    if (delimiter && (delimiter->size() != 1 ||
                      std::string_view(",;:|\t ").find((*delimiter)[0]) == std::string::npos)) {
      c.Add(Quote(*delimiter), "inputFormatOptions.csv.delimiter",
            "Member must satisfy regular expression pattern: [,;:|\\t ]");
    }
    if (const json::array* h = GetArray(*csv, "HeaderList")) {
      if (h->empty() || h->size() > 255) {
        c.Add("[...]", "inputFormatOptions.csv.headerList",
              h->empty() ? "Member must have length greater than or equal to 1"
                         : "Member must have length less than or equal to 255");
      }
      for (const json::value& e : *h) header.push_back(AsString(e));
    }
  }
  if (params == nullptr) c.Add("null", "tableCreationParameters", "Member must not be null");
  c.ThrowIfAny();

  // TableCreationParameters: only its members reach CreateTable's parser.
  json::object create;
  for (const char* k :
       {"TableName", "AttributeDefinitions", "KeySchema", "BillingMode", "ProvisionedThroughput",
        "OnDemandThroughput", "SSESpecification", "GlobalSecondaryIndexes"}) {
    if (const json::value* v = params->if_contains(k)) create[k] = *v;
  }
  table::TableDef def = ParseCreateTableRequest(create);
  exports::JobManager& jobs = Jobs(ctx);
  std::string dir;
  if (Status s = jobs.Resolve(*bucket, key_prefix.value_or(""), &dir); !s.ok()) {
    throw ValidationError(std::string(s.message()));
  }

  ImportRecord r;
  r.table_name = def.name;
  r.client_token = token.value_or(NewClientToken());
  r.bucket = *bucket;
  r.bucket_owner = owner.value_or("");
  r.key_prefix = key_prefix.value_or("");
  r.input_format = *format;
  r.compression = compression.value_or("NONE");
  if (delimiter) r.csv_delimiter = (*delimiter)[0];
  r.csv_header = header;
  if (options != nullptr) r.format_options_json = json::serialize(*options);
  r.creation_parameters_json = json::serialize(create);
  for (const table::KeyAttribute& a : def.attribute_definitions) {
    r.csv_key_types[a.name] = table::ValueTypeName(a.type);
  }
  {
    json::object f = req;
    f.erase("ClientToken");
    r.fingerprint = json::serialize(f);
  }
  ImportRecord out;
  bool replayed = false;
  Status create_error;
  Status s = jobs.SubmitImport(
      std::move(r),
      [&](ImportRecord* rec) -> Status {
        table::TableDef created;
        Status cs = ctx.store->CreateTable(def, &created);
        if (!cs.ok()) {
          create_error = cs;
          return cs;
        }
        rec->table_id = TableUuid(created);
        return Status::OK();
      },
      &out, &replayed);
  if (s.Is(Status::SubCode::kIdempotentMismatch)) {
    throw DynamoError("ImportConflictException", std::string(s.message()));
  }
  if (!create_error.ok() && create_error.Is(Status::SubCode::kTableInUse)) {
    throw ResourceInUse("Table already exists: " + def.name);
  }
  Check(s);
  return {{"ImportTableDescription", ImportDescriptionJson(out)}};
}

std::string ImportId(const std::string& arn) {
  const size_t at = arn.find("/import/");
  if (!arn.starts_with("arn:") || at == std::string::npos) {
    throw ValidationError("Invalid Import ARN: " + ValidUtf8(arn));
  }
  return arn.substr(at + 8);
}

json::object DescribeImport(Context& ctx, const json::object& req) {
  Constraints c;
  const std::optional<std::string> arn = GetString(req, "ImportArn");
  if (!arn) c.Add("null", "importArn", "Member must not be null");
  if (arn && arn->size() < 37) {
    c.Add(Quote(*arn), "importArn", "Member must have length greater than or equal to 37");
  }
  c.ThrowIfAny();
  const std::string id = ImportId(*arn);
  exports::JobManager* jobs = JobsIfAny(ctx);
  ImportRecord r;
  Status s = jobs != nullptr ? jobs->GetImport(id, &r) : Status::NotFound("no jobs");
  if (s.IsNotFound() || (s.ok() && r.arn != *arn)) {
    throw DynamoError("ImportNotFoundException", "Import not found: " + ValidUtf8(*arn));
  }
  Check(s);
  return {{"ImportTableDescription", ImportDescriptionJson(r)}};
}

json::object ListImports(Context& ctx, const json::object& req) {
  Constraints c;
  const std::optional<std::string> table_arn = GetString(req, "TableArn");
  const std::optional<int64_t> size = GetInt(req, "PageSize");
  const std::optional<std::string> next = GetString(req, "NextToken");
  if (size && (*size < 1 || *size > 25)) {
    c.Add(fmt::format("'{}'", *size), "pageSize",
          *size < 1 ? "Member must have value greater than or equal to 1"
                    : "Member must have value less than or equal to 25");
  }
  c.ThrowIfAny();
  std::optional<std::string> after;
  if (next) {
    after = DecodeListToken(*next);
    if (!after) throw ValidationError("Invalid NextToken for ListImports");
  }
  std::vector<ImportRecord> all;
  if (exports::JobManager* jobs = JobsIfAny(ctx)) Check(jobs->ListImports(&all));
  const size_t limit = static_cast<size_t>(size.value_or(25));
  json::array list;
  std::string last;
  bool more = false;
  for (const ImportRecord& r : all) {  // newest first
    if (after && r.id >= *after) continue;
    if (table_arn && r.table_arn != *table_arn) continue;
    if (list.size() == limit) {
      more = true;
      break;
    }
    json::object s{{"ImportArn", r.arn},
                   {"ImportStatus", exports::JobStateName(r.state)},
                   {"TableArn", r.table_arn},
                   {"S3BucketSource", BucketSourceJson(r)},
                   {"InputFormat", r.input_format},
                   {"StartTime", EpochSeconds(r.start_ms)}};
    if (r.end_ms != 0) s["EndTime"] = EpochSeconds(r.end_ms);
    list.push_back(std::move(s));
    last = r.id;
  }
  json::object out{{"ImportSummaryList", std::move(list)}};
  if (more) out["NextToken"] = EncodeListToken(last);
  return out;
}

}  // namespace

void RegisterImportOperations(std::map<std::string, Operation, std::less<>>* ops) {
  (*ops)["ImportTable"] = ImportTable;
  (*ops)["DescribeImport"] = DescribeImport;
  (*ops)["ListImports"] = ListImports;
}

}  // namespace basalt::server::api

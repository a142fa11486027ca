// Export and import jobs: DynamoDB's ExportTableToPointInTime and
// ImportTable, run in the background on local files (docs/backup.md,
// "Export and import"). The protocol layer (server/api/exports.cc,
// imports.cc) validates requests and turns them into the records below; this
// layer runs them, keeps their state and knows no DynamoDB JSON protocol.
//
// Durability: every record is kept in the node's system records
// (table::SystemRecords, keys "export:<id>" and "import:<id>", value: the
// record as JSON, see job_records.cc), written when the job is accepted and
// when it ends, so DescribeExport/ListExports answer across restarts. A job
// found IN_PROGRESS at Start (the server was stopped or killed while it ran)
// is marked FAILED with FailureCode "ServerInterrupted". Its files stay as
// they were: an export without manifest-summary.json is incomplete (the
// summary is written last); an import's table keeps the items written so far
// (as DynamoDB keeps a table whose import failed after it started), nothing
// of the user's is deleted. Internal tables a FULL or INCREMENTAL export
// restores into ("~export-<id>..."; the server refuses such names from
// clients and ListTables hides them) are dropped at Start.
//
// Resources: `workers` threads run the jobs, one job each, in submission
// order; a job streams (table pages of page_bytes, import batches of
// import_batch items, one source line or CSV record at a time), so memory
// does not grow with the data.
//
// Thread safety: every method may be called concurrently.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/base/status.h"
#include "engine/table/table_store.h"

namespace basalt::server::exports {

enum class JobState { kInProgress, kCompleted, kFailed };
const char* JobStateName(JobState s);  // IN_PROGRESS / COMPLETED / FAILED

// The prefix of the internal tables exports restore into.
inline constexpr std::string_view kInternalTablePrefix = "~export-";

struct ExportRecord {
  std::string id;  // ExportId: the last part of the ARN and the directory name
  std::string arn;
  std::string table_name;
  std::string table_arn;
  std::string table_id;
  std::string client_token;
  // The request's parameters in canonical form (the protocol layer's); a
  // reused client token with another fingerprint is a conflict.
  std::string fingerprint;
  JobState state = JobState::kInProgress;
  uint64_t start_ms = 0;
  uint64_t end_ms = 0;  // 0 while IN_PROGRESS
  uint64_t export_time_ms = 0;
  bool export_type_given = false;  // DynamoDB leaves ExportType out unless asked for
  bool incremental = false;
  uint64_t from_ms = 0;  // incremental: [from_ms, to_ms)
  uint64_t to_ms = 0;
  std::string view_type;  // NEW_IMAGE / NEW_AND_OLD_IMAGES
  std::string bucket;
  std::string bucket_owner;
  std::string prefix;
  std::string sse_algorithm;
  std::string sse_kms_key_id;
  std::string format = "DYNAMODB_JSON";  // or ION
  std::string manifest;                  // S3 key of manifest-summary.json
  uint64_t item_count = 0;
  uint64_t billed_size_bytes = 0;
  std::string failure_code;
  std::string failure_message;
};

struct ImportRecord {
  std::string id;
  std::string arn;
  std::string table_name;
  std::string table_arn;
  std::string table_id;
  std::string client_token;
  std::string fingerprint;
  JobState state = JobState::kInProgress;
  uint64_t start_ms = 0;
  uint64_t end_ms = 0;
  std::string bucket;
  std::string bucket_owner;
  std::string key_prefix;
  std::string input_format;          // DYNAMODB_JSON / ION / CSV
  std::string compression = "NONE";  // GZIP / ZSTD / NONE
  char csv_delimiter = ',';
  std::vector<std::string> csv_header;  // empty: each file's first line
  // Echoed in descriptions as given (JSON text owned by the protocol layer).
  std::string format_options_json;
  std::string creation_parameters_json;
  // Attributes typed by AttributeDefinitions in CSV sources: the keys of the
  // table and its GSIs, "S" / "N" / "B".
  std::map<std::string, std::string> csv_key_types;
  uint64_t processed_bytes = 0;
  uint64_t processed_items = 0;
  uint64_t imported_items = 0;
  uint64_t error_count = 0;
  std::string failure_code;
  std::string failure_message;
};

struct JobManagerOptions {
  // --export-root; empty: exports and imports are refused.
  std::string root;
  std::string region = "us-east-1";
  std::string account = "000000000000";
  // How long a client token is remembered after its job started (DynamoDB:
  // 8 hours).
  uint64_t token_window_ms = uint64_t{8} * 3600 * 1000;
  // The shortest and longest incremental export period (DynamoDB: 15
  // minutes and 24 hours; --export-incremental-min-period-s lowers the first
  // for tests and local use).
  uint64_t incremental_min_period_ms = uint64_t{15} * 60 * 1000;
  uint64_t incremental_max_period_ms = uint64_t{24} * 3600 * 1000;
  int workers = 2;
  size_t page_bytes = size_t{1} << 20;
  size_t import_batch = 100;
  size_t max_line_bytes = size_t{4} << 20;  // a source line or CSV record
  size_t max_import_objects = 5000;         // DynamoDB's per-import limit
  std::function<uint64_t()> now_ms;         // unset: the system clock
};

class JobManager {
 public:
  JobManager(table::TableStore* store, JobManagerOptions options);
  ~JobManager();
  JobManager(const JobManager&) = delete;
  JobManager& operator=(const JobManager&) = delete;

  // Loads nothing eagerly: fails interrupted jobs, drops leftover internal
  // tables, starts the workers.
  Status Start();
  // Stops the workers; a running job stops at its next page and is recorded
  // FAILED (ServerInterrupted).
  void Stop();

  const JobManagerOptions& options() const { return options_; }
  bool enabled() const { return !options_.root.empty(); }
  uint64_t NowMs() const;
  std::string TableArn(const std::string& table) const;

  // Resolves (bucket, prefix) under the root: InvalidArgument if outside.
  Status Resolve(const std::string& bucket, const std::string& prefix, std::string* dir) const;

  // Accepts an export (id, arn, start_ms filled here). With a client token
  // used by a job started less than token_window_ms ago: the same
  // fingerprint answers that job (*replayed = true), another is
  // InvalidArgument kIdempotentMismatch. *out: the record as accepted.
  Status SubmitExport(ExportRecord r, ExportRecord* out, bool* replayed);
  // The same for an import. create_table (called under the token check, so
  // one token creates one table) creates the table and fills table_arn /
  // table_id; its error is returned and nothing is recorded. A bucket that
  // does not exist is recorded as a FAILED import (S3NoSuchBucket) without
  // creating the table, as DynamoDB does.
  Status SubmitImport(ImportRecord r, const std::function<Status(ImportRecord*)>& create_table,
                      ImportRecord* out, bool* replayed);

  // NotFound if unknown.
  Status GetExport(const std::string& id, ExportRecord* out) const;
  Status GetImport(const std::string& id, ImportRecord* out) const;
  // All records, newest first.
  Status ListExports(std::vector<ExportRecord>* out) const;
  Status ListImports(std::vector<ImportRecord>* out) const;

  // Blocks until no job is queued or running (tests).
  void WaitIdle();

 private:
  struct Task {
    bool is_export = true;
    std::string id;
  };
  void WorkerLoop();
  Status Save(const ExportRecord& r);
  Status Save(const ImportRecord& r);
  // export_job.cc / import_job.cc: run one job to its end.
  void RunExport(ExportRecord r);
  void RunImport(ImportRecord r);
  Status ExportFull(ExportRecord* r, const std::string& job_dir);
  Status ExportIncremental(ExportRecord* r, const std::string& job_dir);
  Status ImportObject(ImportRecord* r, const std::string& path, const table::TableRef& table);
  bool stopping() const;

  table::TableStore* const store_;
  const JobManagerOptions options_;
  mutable std::mutex mu_;  // guards the members below; serialises submissions
  std::condition_variable cv_;
  std::deque<Task> queue_;
  int running_ = 0;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

// job_records.cc: the records' JSON (their durable format; fields may be
// added, never renamed).
std::string EncodeExportRecord(const ExportRecord& r);
Status DecodeExportRecord(std::string_view text, ExportRecord* r);
std::string EncodeImportRecord(const ImportRecord& r);
Status DecodeImportRecord(std::string_view text, ImportRecord* r);

}  // namespace basalt::server::exports

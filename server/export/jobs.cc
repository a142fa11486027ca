#include "server/export/jobs.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>

#include "engine/base/logging.h"
#include "server/export/layout.h"

namespace basalt::server::exports {

namespace {
constexpr std::string_view kExportKey = "export:";
constexpr std::string_view kImportKey = "import:";
constexpr std::string_view kInterrupted = "ServerInterrupted";
}  // namespace

JobManager::JobManager(table::TableStore* store, JobManagerOptions options)
    : store_(store), options_(std::move(options)) {}

JobManager::~JobManager() { Stop(); }

uint64_t JobManager::NowMs() const {
  if (options_.now_ms) return options_.now_ms();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string JobManager::TableArn(const std::string& table) const {
  return fmt::format("arn:aws:dynamodb:{}:{}:table/{}", options_.region, options_.account, table);
}

Status JobManager::Resolve(const std::string& bucket, const std::string& prefix,
                           std::string* dir) const {
  return ResolveUnderRoot(options_.root, bucket, prefix, dir);
}

Status JobManager::Save(const ExportRecord& r) {
  return store_->system_records()->Put(std::string(kExportKey) + r.id, EncodeExportRecord(r));
}

Status JobManager::Save(const ImportRecord& r) {
  return store_->system_records()->Put(std::string(kImportKey) + r.id, EncodeImportRecord(r));
}

Status JobManager::Start() {
  std::vector<std::pair<std::string, std::string>> recs;
  if (Status s = store_->system_records()->List(kExportKey, &recs); !s.ok()) return s;
  const uint64_t now = NowMs();
  for (const auto& [key, value] : recs) {
    ExportRecord r;
    if (!DecodeExportRecord(value, &r).ok() || r.state != JobState::kInProgress) continue;
    r.state = JobState::kFailed;
    r.end_ms = now;
    r.failure_code = std::string(kInterrupted);
    r.failure_message =
        "The server stopped while the export was running; its files are incomplete (no "
        "manifest-summary.json was written)";
    if (Status s = Save(r); !s.ok()) return s;
    LogInfo("export {} was interrupted by a server stop: marked FAILED", r.id);
  }
  if (Status s = store_->system_records()->List(kImportKey, &recs); !s.ok()) return s;
  for (const auto& [key, value] : recs) {
    ImportRecord r;
    if (!DecodeImportRecord(value, &r).ok() || r.state != JobState::kInProgress) continue;
    r.state = JobState::kFailed;
    r.end_ms = now;
    r.failure_code = std::string(kInterrupted);
    r.failure_message = "The server stopped while the import was running; table " + r.table_name +
                        " keeps the items imported before the stop";
    if (Status s = Save(r); !s.ok()) return s;
    LogInfo("import {} was interrupted by a server stop: marked FAILED", r.id);
  }
  for (const std::string& name : store_->ListTables()) {
    if (!name.starts_with(kInternalTablePrefix)) continue;
    Status s = store_->DeleteTable(name);
    LogInfo("dropped internal table {} left by an interrupted export: {}", name, s.ToString());
  }
  std::lock_guard<std::mutex> l(mu_);
  stop_ = false;
  for (int i = 0; i < std::max(1, options_.workers); i++) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
  return Status::OK();
}

void JobManager::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (workers_.empty()) return;
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  // Queued jobs that never ran: recorded as interrupted now (Start would at
  // the next open anyway).
  std::deque<Task> left;
  {
    std::lock_guard<std::mutex> l(mu_);
    left.swap(queue_);
  }
  for (const Task& t : left) {
    if (t.is_export) {
      ExportRecord r;
      if (!GetExport(t.id, &r).ok()) continue;
      r.state = JobState::kFailed;
      r.end_ms = NowMs();
      r.failure_code = std::string(kInterrupted);
      r.failure_message = "The server stopped before the export started";
      (void)Save(r).ok();
    } else {
      ImportRecord r;
      if (!GetImport(t.id, &r).ok()) continue;
      r.state = JobState::kFailed;
      r.end_ms = NowMs();
      r.failure_code = std::string(kInterrupted);
      r.failure_message = "The server stopped before the import started";
      (void)Save(r).ok();
    }
  }
}

bool JobManager::stopping() const {
  std::lock_guard<std::mutex> l(mu_);
  return stop_;
}

void JobManager::WorkerLoop() {
  while (true) {
    Task t;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      t = queue_.front();
      queue_.pop_front();
      running_++;
    }
    if (t.is_export) {
      ExportRecord r;
      if (GetExport(t.id, &r).ok()) RunExport(std::move(r));
    } else {
      ImportRecord r;
      if (GetImport(t.id, &r).ok()) RunImport(std::move(r));
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      running_--;
    }
    cv_.notify_all();
  }
}

void JobManager::WaitIdle() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [this] { return stop_ || (queue_.empty() && running_ == 0); });
}

namespace {

// The job (records under `prefix`) that r's ClientToken started within the
// token window: *out and *found set. kIdempotentMismatch when that job's
// request differed (DynamoDB's answer to a reused token).
template <typename R>
Status FindByToken(table::SystemRecords* records, std::string_view prefix,
                   Status (*decode)(std::string_view, R*), const R& r, uint64_t now,
                   uint64_t window_ms, R* out, bool* found) {
  *found = false;
  if (r.client_token.empty()) return Status::OK();
  std::vector<std::pair<std::string, std::string>> recs;
  if (Status s = records->List(prefix, &recs); !s.ok()) return s;
  for (const auto& [key, value] : recs) {
    R old;
    if (!decode(value, &old).ok() || old.client_token != r.client_token) continue;
    if (old.start_ms + window_ms < now) continue;
    if (old.fingerprint != r.fingerprint) {
      return Status::InvalidArgument(Status::SubCode::kIdempotentMismatch,
                                     "Duplicate request detected with a different request "
                                     "body for the same ClientToken");
    }
    *out = std::move(old);
    *found = true;
    return Status::OK();
  }
  return Status::OK();
}

}  // namespace

Status JobManager::SubmitExport(ExportRecord r, ExportRecord* out, bool* replayed) {
  std::lock_guard<std::mutex> l(mu_);
  *replayed = false;
  const uint64_t now = NowMs();
  if (Status s = FindByToken(store_->system_records(), kExportKey, DecodeExportRecord, r, now,
                             options_.token_window_ms, out, replayed);
      !s.ok() || *replayed) {
    return s;
  }
  r.start_ms = now;
  r.id = NewJobId(now);
  r.arn = r.table_arn + "/export/" + r.id;
  r.manifest = KeyPrefix(r.prefix) + "AWSDynamoDB/" + r.id + "/manifest-summary.json";
  r.state = JobState::kInProgress;
  if (Status s = Save(r); !s.ok()) return s;
  queue_.push_back({true, r.id});
  *out = r;
  cv_.notify_all();
  return Status::OK();
}

Status JobManager::SubmitImport(ImportRecord r,
                                const std::function<Status(ImportRecord*)>& create_table,
                                ImportRecord* out, bool* replayed) {
  std::lock_guard<std::mutex> l(mu_);
  *replayed = false;
  const uint64_t now = NowMs();
  if (Status s = FindByToken(store_->system_records(), kImportKey, DecodeImportRecord, r, now,
                             options_.token_window_ms, out, replayed);
      !s.ok() || *replayed) {
    return s;
  }
  r.start_ms = now;
  r.id = NewJobId(now);
  r.arn = TableArn(r.table_name) + "/import/" + r.id;
  r.table_arn = TableArn(r.table_name);
  std::string bucket_dir;
  Status rs = Resolve(r.bucket, "", &bucket_dir);
  struct stat st {};
  if (rs.ok() && (::stat(bucket_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))) {
    // As DynamoDB: the import fails before the table is created.
    r.state = JobState::kFailed;
    r.end_ms = now;
    r.failure_code = "S3NoSuchBucket";
    r.failure_message = "The specified bucket does not exist";
    if (Status s = Save(r); !s.ok()) return s;
    *out = r;
    return Status::OK();
  }
  if (!rs.ok()) return rs;
  if (Status s = create_table(&r); !s.ok()) return s;
  r.state = JobState::kInProgress;
  if (Status s = Save(r); !s.ok()) return s;
  queue_.push_back({false, r.id});
  *out = r;
  cv_.notify_all();
  return Status::OK();
}

Status JobManager::GetExport(const std::string& id, ExportRecord* out) const {
  std::string value;
  bool found = false;
  if (Status s = store_->system_records()->Get(std::string(kExportKey) + id, &value, &found);
      !s.ok()) {
    return s;
  }
  if (!found) return Status::NotFound("Export not found");
  return DecodeExportRecord(value, out);
}

Status JobManager::GetImport(const std::string& id, ImportRecord* out) const {
  std::string value;
  bool found = false;
  if (Status s = store_->system_records()->Get(std::string(kImportKey) + id, &value, &found);
      !s.ok()) {
    return s;
  }
  if (!found) return Status::NotFound("Import not found");
  return DecodeImportRecord(value, out);
}

Status JobManager::ListExports(std::vector<ExportRecord>* out) const {
  out->clear();
  std::vector<std::pair<std::string, std::string>> recs;
  if (Status s = store_->system_records()->List(kExportKey, &recs); !s.ok()) return s;
  for (const auto& [key, value] : recs) {
    ExportRecord r;
    if (DecodeExportRecord(value, &r).ok()) out->push_back(std::move(r));
  }
  // Ids start with the start time: newest first.
  std::sort(out->begin(), out->end(), [](const auto& a, const auto& b) { return a.id > b.id; });
  return Status::OK();
}

Status JobManager::ListImports(std::vector<ImportRecord>* out) const {
  out->clear();
  std::vector<std::pair<std::string, std::string>> recs;
  if (Status s = store_->system_records()->List(kImportKey, &recs); !s.ok()) return s;
  for (const auto& [key, value] : recs) {
    ImportRecord r;
    if (DecodeImportRecord(value, &r).ok()) out->push_back(std::move(r));
  }
  std::sort(out->begin(), out->end(), [](const auto& a, const auto& b) { return a.id > b.id; });
  return Status::OK();
}

}  // namespace basalt::server::exports

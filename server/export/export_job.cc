// Running one export (jobs.h): FULL_EXPORT restores the table as of
// ExportTime into an internal table and scans it, one data file per
// partition; INCREMENTAL_EXPORT reads the point-in-time history's changes in
// [ExportFromTime, ExportToTime) and writes the last change of each item.
// Files and manifests as DynamoDB writes them (DynamoDB Developer Guide,
// "DynamoDB table export output format"): see layout.h.
#include <sys/stat.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "engine/base/logging.h"
#include "server/export/attribute_json.h"
#include "server/export/file_io.h"
#include "server/export/ion_text.h"
#include "server/export/jobs.h"
#include "server/export/layout.h"

namespace basalt::server::exports {

namespace json = boost::json;
using table::Item;
using table::TableDef;
using table::Value;

namespace {

// The definition of an internal table with `source`'s key schema and nothing
// else (no indexes, stream, TTL, PITR, tags, protection).
TableDef InternalTable(const TableDef& source, const std::string& name) {
  TableDef t;
  t.name = name;
  t.partition_key = source.partition_key;
  t.sort_key = source.sort_key;
  t.attribute_definitions.push_back(source.partition_key);
  if (source.sort_key) t.attribute_definitions.push_back(*source.sort_key);
  t.billing_mode = table::BillingMode::kPayPerRequest;
  return t;
}

Item KeyOf(const TableDef& def, const Item& item) {
  Item k;
  for (const table::KeyAttribute* a : def.KeyAttributes()) {
    if (const Value* v = item.Find(a->name)) k.Set(a->name, *v);
  }
  return k;
}

// One data file being written.
class DataFile {
 public:
  DataFile(const std::string& job_dir, const std::string& key_base, bool ion) : ion_(ion) {
    name_ = RandomFileName() + (ion ? ".ion.gz" : ".json.gz");
    path_ = job_dir + "/data/" + name_;
    key_ = key_base + "data/" + name_;
  }
  Status Open() { return w_.Open(path_); }
  // A full export's line: {"Item":{...}} / $ion_1_0 {Item:{...}}.
  Status AddItem(const Item& item) {
    line_.clear();
    if (ion_) {
      line_ = "$ion_1_0 {Item:";
      AppendIonStruct(item, &line_);
      line_ += "}\n";
    } else {
      line_ = json::serialize(json::object{{"Item", ItemToDynamoJson(item)}});
      line_ += '\n';
    }
    count_++;
    return w_.Append(line_);
  }
  // An incremental export's line (Keys, Metadata, OldImage, NewImage).
  Status AddChange(const Item& keys, uint64_t micros, const Item* old_image,
                   const Item* new_image) {
    line_.clear();
    if (ion_) {
      line_ = "$ion_1_0 {Record:{Keys:";
      AppendIonStruct(keys, &line_);
      line_ += ",Metadata:{WriteTimestampMicros:" + std::to_string(micros) + ".}";
      if (old_image != nullptr) {
        line_ += ",OldImage:";
        AppendIonStruct(*old_image, &line_);
      }
      if (new_image != nullptr) {
        line_ += ",NewImage:";
        AppendIonStruct(*new_image, &line_);
      }
      line_ += "}}\n";
    } else {
      json::object o;
      o["Metadata"] =
          json::object{{"WriteTimestampMicros", json::object{{"N", std::to_string(micros)}}}};
      o["Keys"] = ItemToDynamoJson(keys);
      if (old_image != nullptr) o["OldImage"] = ItemToDynamoJson(*old_image);
      if (new_image != nullptr) o["NewImage"] = ItemToDynamoJson(*new_image);
      line_ = json::serialize(o);
      line_ += '\n';
    }
    count_++;
    return w_.Append(line_);
  }
  Status Finish(DataFileInfo* info) {
    uint64_t size = 0;
    info->key = key_;
    info->item_count = count_;
    if (Status s = w_.Finish(&info->md5, &size); !s.ok()) return s;
    info->etag = HexOfBase64Md5(info->md5);
    return Status::OK();
  }

 private:
  bool ion_;
  std::string name_;
  std::string path_;
  std::string key_;
  GzipFileWriter w_;
  std::string line_;
  uint64_t count_ = 0;
};

// Writes manifest-files.json, manifest-summary.json and their .md5 files
// (the summary last: its presence marks a complete export).
Status WriteManifests(const ExportRecord& r, const std::string& job_dir,
                      const std::string& key_base, const std::vector<DataFileInfo>& files,
                      uint64_t end_ms) {
  const std::string files_json = ManifestFilesJson(files);
  if (Status s = WriteFileDurably(job_dir + "/manifest-files.json", files_json); !s.ok()) return s;
  if (Status s = WriteFileDurably(job_dir + "/manifest-files.md5", Md5Base64(files_json));
      !s.ok()) {
    return s;
  }
  json::object m;
  m["version"] = r.incremental ? "2023-08-01" : "2020-06-30";
  m["exportArn"] = r.arn;
  m["startTime"] = IsoTime(r.start_ms);
  m["endTime"] = IsoTime(end_ms);
  m["tableArn"] = r.table_arn;
  m["tableId"] = r.table_id;
  if (r.incremental) {
    m["exportFromTime"] = IsoTime(r.from_ms);
    m["exportToTime"] = IsoTime(r.to_ms);
  } else {
    m["exportTime"] = IsoTime(r.export_time_ms);
  }
  m["s3Bucket"] = r.bucket;
  m["s3Prefix"] = r.prefix.empty() ? json::value(nullptr) : json::value(r.prefix);
  m["s3SseAlgorithm"] = r.sse_algorithm.empty() ? "AES256" : r.sse_algorithm;
  m["s3SseKmsKeyId"] =
      r.sse_kms_key_id.empty() ? json::value(nullptr) : json::value(r.sse_kms_key_id);
  m["manifestFilesS3Key"] = key_base + "manifest-files.json";
  m["billedSizeBytes"] = r.billed_size_bytes;
  m["itemCount"] = r.item_count;
  m["outputFormat"] = r.format;
  if (r.incremental) {
    m["exportType"] = "INCREMENTAL_EXPORT";
    m["outputView"] = r.view_type;
  }
  const std::string summary = json::serialize(m);
  if (Status s = WriteFileDurably(job_dir + "/manifest-summary.md5", Md5Base64(summary)); !s.ok()) {
    return s;
  }
  return WriteFileDurably(job_dir + "/manifest-summary.json", summary);
}

}  // namespace

void JobManager::RunExport(ExportRecord r) {
  Status s;
  std::string bucket_dir;
  std::string job_dir;
  s = Resolve(r.bucket, "", &bucket_dir);
  struct stat st {};
  if (s.ok() && (::stat(bucket_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))) {
    r.failure_code = "S3NoSuchBucket";
    r.failure_message = "The specified bucket does not exist";
    s = Status::NotFound("no bucket");
  }
  if (s.ok()) s = Resolve(r.bucket, KeyPrefix(r.prefix) + "AWSDynamoDB/" + r.id, &job_dir);
  if (s.ok()) s = MakeDirs(job_dir + "/data");
  if (s.ok()) s = CheckInsideRoot(options_.root, job_dir);
  if (s.ok()) s = WriteFileDurably(job_dir + "/_started", "");
  if (s.ok()) s = r.incremental ? ExportIncremental(&r, job_dir) : ExportFull(&r, job_dir);
  r.end_ms = NowMs();
  if (s.ok()) {
    r.state = JobState::kCompleted;
    LogInfo("export {} of {} COMPLETED: {} items", r.id, r.table_name, r.item_count);
  } else {
    r.state = JobState::kFailed;
    if (r.failure_code.empty()) {
      if (stopping()) {
        r.failure_code = "ServerInterrupted";
        r.failure_message =
            "The server stopped while the export was running; its files are "
            "incomplete (no manifest-summary.json was written)";
      } else {
        r.failure_code = s.IsInvalidArgument() ? "InvalidExportTime" : "InternalError";
        r.failure_message = std::string(s.message());
      }
    }
    LogInfo("export {} of {} FAILED: {} {}", r.id, r.table_name, r.failure_code, r.failure_message);
  }
  if (Status ss = Save(r); !ss.ok()) LogInfo("export {}: cannot save: {}", r.id, ss.ToString());
}

Status JobManager::ExportFull(ExportRecord* r, const std::string& job_dir) {
  TableDef source;
  if (Status s = store_->DescribeTable(r->table_name, &source); !s.ok()) return s;
  const std::string temp = std::string(kInternalTablePrefix) + r->id;
  TableDef created;
  if (Status s = store_->RestoreToPointInTime(r->table_name, r->export_time_ms,
                                              InternalTable(source, temp), &created);
      !s.ok()) {
    return s;
  }
  const std::string key_base = KeyPrefix(r->prefix) + "AWSDynamoDB/" + r->id + "/";
  std::vector<DataFileInfo> files;
  Status s = store_->DescribeTable(temp, &created);
  for (size_t p = 0; s.ok() && p < created.partitions.size(); p++) {
    const table::PartitionDef& part = created.partitions[p];
    DataFile f(job_dir, key_base, r->format == "ION");
    s = f.Open();
    std::optional<Item> start;
    while (s.ok()) {
      if (stopping()) {
        s = Status::Aborted("stopping");
        break;
      }
      table::ScanPage page;
      s = store_->Scan(temp, part.lo, part.hi, start, options_.page_bytes, 0, nullptr, &page);
      if (!s.ok()) break;
      for (const Item& item : page.items) {
        s = f.AddItem(item);
        if (!s.ok()) break;
        r->item_count++;
        r->billed_size_bytes += table::ItemSize(item);
      }
      if (!page.last_evaluated_key) break;
      start = std::move(page.last_evaluated_key);
    }
    DataFileInfo info;
    if (s.ok()) s = f.Finish(&info);
    if (s.ok()) files.push_back(std::move(info));
  }
  Status d = store_->DeleteTable(temp);
  if (!d.ok()) LogInfo("export {}: cannot drop {}: {}", r->id, temp, d.ToString());
  if (!s.ok()) return s;
  return WriteManifests(*r, job_dir, key_base, files, NowMs());
}

Status JobManager::ExportIncremental(ExportRecord* r, const std::string& job_dir) {
  TableDef source;
  if (Status s = store_->DescribeTable(r->table_name, &source); !s.ok()) return s;
  // The last change of each item goes into an internal table keyed like the
  // source (bounded memory): its item holds the key, "~ts" (the change's
  // time in ms) and, unless the change deleted it, "~new" (the new image).
  // Names that could be the source's keys are made unique.
  std::string ts_attr = "~ts";
  std::string new_attr = "~new";
  for (const table::KeyAttribute* a : source.KeyAttributes()) {
    while (a->name == ts_attr || a->name == new_attr) {
      ts_attr += "~";
      new_attr += "~";
    }
  }
  const std::string delta = std::string(kInternalTablePrefix) + r->id + "-changes";
  const std::string before = std::string(kInternalTablePrefix) + r->id + "-before";
  Status s = store_->CreateTable(InternalTable(source, delta));
  if (!s.ok()) return s;
  const bool old_images = r->view_type != "NEW_IMAGE";
  bool have_before = false;
  // ReadTableChanges covers (from, to]; the export covers [from, to).
  if (s.ok()) {
    s = store_->ReadTableChanges(
        r->table_name, r->from_ms - 1, r->to_ms - 1, [&](const table::TableChange& c) -> Status {
          if (stopping()) return Status::Aborted("stopping");
          Item row = c.key;
          row.Set(ts_attr,
                  Value::MakeN(table::Decimal::FromInt64(static_cast<int64_t>(c.time_ms))));
          if (c.new_item) row.Set(new_attr, Value::MakeM(*c.new_item));
          return store_->PutItem(delta, row);
        });
  }
  if (s.ok() && old_images) {
    // The items as they were just before ExportFromTime.
    s = store_->RestoreToPointInTime(r->table_name, r->from_ms - 1, InternalTable(source, before));
    have_before = s.ok();
  }
  const std::string key_base = KeyPrefix(r->prefix) + "AWSDynamoDB/" + r->id + "/";
  std::vector<DataFileInfo> files;
  if (s.ok()) {
    DataFile f(job_dir, key_base, r->format == "ION");
    s = f.Open();
    std::optional<Item> start;
    while (s.ok()) {
      if (stopping()) {
        s = Status::Aborted("stopping");
        break;
      }
      table::ScanPage page;
      s = store_->Scan(delta, 0, 0, start, options_.page_bytes, 0, nullptr, &page);
      if (!s.ok()) break;
      for (const Item& row : page.items) {
        const Item keys = KeyOf(source, row);
        const Value* ts = row.Find(ts_attr);
        int64_t ms = 0;
        if (ts != nullptr && ts->type() == table::ValueType::kN) ts->n().ToInt64(&ms);
        const Value* nv = row.Find(new_attr);
        std::optional<Item> old;
        if (have_before) {
          s = store_->GetItem(before, keys, nullptr, &old);
          if (!s.ok()) break;
        }
        // Created and deleted inside the period: nothing to report.
        if (nv == nullptr && have_before && !old) continue;
        const Item* new_image = nv != nullptr ? &nv->m() : nullptr;
        s = f.AddChange(keys, static_cast<uint64_t>(ms) * 1000, old ? &*old : nullptr, new_image);
        if (!s.ok()) break;
        r->item_count++;
        r->billed_size_bytes += table::ItemSize(keys) +
                                (new_image ? table::ItemSize(*new_image) : 0) +
                                (old ? table::ItemSize(*old) : 0);
      }
      if (!page.last_evaluated_key) break;
      start = std::move(page.last_evaluated_key);
    }
    DataFileInfo info;
    if (s.ok()) s = f.Finish(&info);
    if (s.ok()) files.push_back(std::move(info));
  }
  for (const std::string& t : {delta, before}) {
    TableDef unused;
    if (store_->DescribeTable(t, &unused).ok()) (void)store_->DeleteTable(t).ok();
  }
  if (!s.ok()) return s;
  return WriteManifests(*r, job_dir, key_base, files, NowMs());
}

}  // namespace basalt::server::exports

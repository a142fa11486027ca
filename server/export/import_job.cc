// Running one import (jobs.h): every object under the S3 key prefix, read
// through its compression, parsed as DYNAMODB_JSON ({"Item": {...}} per
// line), ION ($ion_1_0 {Item:{...}} per line) or CSV (csv.h), written in
// batches into the new table. Errors per item as DynamoDB counts them
// (DynamoDB Developer Guide, "Import format quotas and validation"): an item
// that does not parse or fails validation (missing or mistyped key,
// too large, bad set) is skipped and counted in ErrorCount, the import goes on;
// a source whose rest cannot be read (bad compression, an unterminated CSV
// quote, a line over the limit) counts one error and its rest is skipped.
// With errors the import ends FAILED with FailureCode ItemValidationError
// and DynamoDB's message; the table keeps the items that were imported.
// Duplicate keys overwrite each other and are not errors.
#include <sys/stat.h>

#include <boost/json/parse.hpp>

#include "engine/base/logging.h"
#include "server/export/attribute_json.h"
#include "server/export/csv.h"
#include "server/export/file_io.h"
#include "server/export/ion_text.h"
#include "server/export/jobs.h"
#include "server/export/layout.h"

namespace basalt::server::exports {

namespace json = boost::json;
using table::Item;

namespace {

constexpr int kLoggedErrors = 20;  // per import, in the server's log

// Items waiting to be written, committed as one atomic batch; a batch the
// table refuses (an item the write path finds invalid, e.g. a GSI key of the
// wrong type) is retried item by item to count the bad ones.
class Batcher {
 public:
  Batcher(table::TableStore* store, table::TableRef table, size_t size, ImportRecord* r)
      : store_(store), table_(std::move(table)), size_(size), r_(r) {}

  // false: the item is invalid (counted by the caller).
  Status Add(Item item, std::string* why, bool* valid) {
    *valid = false;
    table::WriteOp op;
    op.kind = table::WriteOp::Kind::kPut;
    op.table = table_;
    if (Status s = table_->LocateItem(item, &op.key); !s.ok()) {
      *why = std::string(s.message());
      return Status::OK();
    }
    if (Status s = table::ValidateItem(item); !s.ok()) {
      *why = std::string(s.message());
      return Status::OK();
    }
    op.item = std::move(item);
    op.item_validated = true;
    *valid = true;
    // Two writes of one item in a batch would be refused: flush first.
    for (const table::WriteOp& o : ops_) {
      if (o.key.encoded == op.key.encoded) {
        if (Status s = Flush(); !s.ok()) return s;
        break;
      }
    }
    ops_.push_back(std::move(op));
    if (ops_.size() >= size_) return Flush();
    return Status::OK();
  }

  Status Flush() {
    if (ops_.empty()) return Status::OK();
    Status s = store_->WriteAtomically(ops_);
    if (s.ok()) {
      r_->imported_items += ops_.size();
    } else if (s.IsInvalidArgument()) {
      for (const table::WriteOp& op : ops_) {
        Status one = store_->WriteAtomically({op});
        if (one.ok()) {
          r_->imported_items++;
        } else if (one.IsInvalidArgument()) {
          r_->error_count++;
          refused_.push_back(std::string(one.message()));
        } else {
          ops_.clear();
          return one;
        }
      }
      s = Status::OK();
    }
    ops_.clear();
    return s;
  }
  std::vector<std::string> TakeRefused() { return std::move(refused_); }

 private:
  table::TableStore* store_;
  table::TableRef table_;
  size_t size_;
  ImportRecord* r_;
  std::vector<table::WriteOp> ops_;
  std::vector<std::string> refused_;
};

Compression CompressionOf(const std::string& name) {
  if (name == "GZIP") return Compression::kGzip;
  if (name == "ZSTD") return Compression::kZstd;
  return Compression::kNone;
}

}  // namespace

void JobManager::RunImport(ImportRecord r) {
  Status s;
  std::string bucket_dir;
  std::vector<std::string> keys;
  s = Resolve(r.bucket, "", &bucket_dir);
  if (s.ok()) s = ListObjects(bucket_dir, r.key_prefix, options_.max_import_objects, &keys);
  if (s.ok() && keys.empty()) {
    r.failure_code = "S3NoSuchKey";
    r.failure_message = "No objects were found under the S3 key prefix";
    s = Status::NotFound("no objects");
  }
  table::TableRef table;
  if (s.ok()) s = store_->Resolve(r.table_name, &table);
  for (size_t i = 0; s.ok() && i < keys.size(); i++) {
    const std::string path = bucket_dir + "/" + keys[i];
    s = CheckInsideRoot(options_.root, path);
    if (s.ok()) s = ImportObject(&r, path, table);
  }
  r.end_ms = NowMs();
  if (s.ok() && r.error_count == 0) {
    r.state = JobState::kCompleted;
  } else if (s.ok()) {
    r.state = JobState::kFailed;
    r.failure_code = "ItemValidationError";
    r.failure_message =
        "Some of the items failed validation checks and were not imported. Please check "
        "CloudWatch error logs for more details.";
  } else {
    r.state = JobState::kFailed;
    if (r.failure_code.empty()) {
      r.failure_code = stopping() ? "ServerInterrupted" : "InternalError";
      r.failure_message = stopping()
                              ? "The server stopped while the import was running; table " +
                                    r.table_name + " keeps the items imported before the stop"
                              : std::string(s.message());
    }
  }
  LogInfo("import {} into {} {}: {} processed, {} imported, {} errors {}", r.id, r.table_name,
          JobStateName(r.state), r.processed_items, r.imported_items, r.error_count,
          r.failure_message);
  if (Status ss = Save(r); !ss.ok()) LogInfo("import {}: cannot save: {}", r.id, ss.ToString());
}

Status JobManager::ImportObject(ImportRecord* r, const std::string& path,
                                const table::TableRef& table) {
  std::unique_ptr<ByteSource> src;
  if (Status s = OpenSource(path, CompressionOf(r->compression), &src); !s.ok()) return s;
  LineReader lines(src.get(), options_.max_line_bytes);
  Batcher batch(store_, table, options_.import_batch, r);
  int logged = 0;
  auto item_error = [&](std::string_view why, uint64_t index) {
    r->error_count++;
    if (logged++ < kLoggedErrors) {
      LogInfo("import {}: {} item {}: {}", r->id, path.substr(options_.root.size()), index, why);
    }
  };
  auto progress = [&]() -> Status {
    if (stopping()) return Status::Aborted("stopping");
    // Progress is visible in DescribeImport every 10,000 items.
    if (r->processed_items % 10000 == 0) return Save(*r);
    return Status::OK();
  };
  uint64_t index = 0;
  Status s;
  std::string why;
  bool valid = false;
  if (r->input_format == "CSV") {
    CsvReader csv(&lines, r->csv_delimiter, options_.max_line_bytes);
    std::vector<std::string> header = r->csv_header;
    std::map<std::string, table::ValueType> types;
    for (const auto& [name, t] : r->csv_key_types) {
      types[name] = t == "N" ? table::ValueType::kN
                             : (t == "B" ? table::ValueType::kB : table::ValueType::kS);
    }
    std::vector<std::string> fields;
    while (s.ok()) {
      bool eof = false;
      Status rs = csv.Next(&fields, &eof);
      if (!rs.ok()) {
        item_error(rs.message(), index);  // the rest of this object is skipped
        break;
      }
      if (eof) break;
      if (header.empty()) {
        header = fields;
        continue;
      }
      if (fields.size() == 1 && fields[0].empty()) continue;  // a blank line
      r->processed_items++;
      Item item;
      Status cs = CsvRecordToItem(header, fields, types, &item);
      if (cs.ok()) s = batch.Add(std::move(item), &why, &valid);
      if (!cs.ok()) item_error(cs.message(), index);
      if (cs.ok() && s.ok() && !valid) item_error(why, index);
      index++;
      if (s.ok()) s = progress();
    }
  } else {
    const bool ion = r->input_format == "ION";
    std::string line;
    while (s.ok()) {
      bool eof = false;
      Status rs = lines.Next(&line, &eof);
      if (!rs.ok()) {
        item_error(rs.message(), index);
        break;
      }
      if (eof) break;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      r->processed_items++;
      Item item;
      Status ps;
      if (ion) {
        std::vector<IonValue> values;
        ps = ParseIon(line, &values);
        const IonValue* item_value = nullptr;
        if (ps.ok() && values.size() == 1 && values[0].kind == IonValue::Kind::kStruct) {
          for (const auto& [name, v] : values[0].fields) {
            if (name == "Item") item_value = &v;
          }
        }
        if (ps.ok() && item_value == nullptr) ps = Status::InvalidArgument("expected {Item:{...}}");
        if (ps.ok()) ps = IonToItem(*item_value, &item);
      } else {
        json::error_code ec;
        json::value v = json::parse(line, ec);
        const json::value* item_value = nullptr;
        if (!ec && v.is_object()) item_value = v.get_object().if_contains("Item");
        if (ec || item_value == nullptr) {
          ps = Status::InvalidArgument("expected a JSON object {\"Item\": {...}}");
        } else {
          ps = ItemFromDynamoJson(*item_value, &item);
        }
      }
      if (ps.ok()) s = batch.Add(std::move(item), &why, &valid);
      if (!ps.ok()) item_error(ps.message(), index);
      if (ps.ok() && s.ok() && !valid) item_error(why, index);
      index++;
      if (s.ok()) s = progress();
    }
  }
  if (s.ok()) s = batch.Flush();
  for (const std::string& refused : batch.TakeRefused()) {
    if (logged++ < kLoggedErrors) LogInfo("import {}: item refused: {}", r->id, refused);
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) r->processed_bytes += static_cast<uint64_t>(st.st_size);
  return s;
}

}  // namespace basalt::server::exports

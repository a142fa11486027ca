// The durable JSON of export and import records (system records
// "export:<id>" / "import:<id>", jobs.h). One JSON object; unknown members
// are ignored and missing ones take their defaults, so fields can be added.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "server/export/jobs.h"

namespace basalt::server::exports {

namespace json = boost::json;

namespace {

JobState StateFrom(std::string_view s) {
  if (s == "COMPLETED") return JobState::kCompleted;
  if (s == "FAILED") return JobState::kFailed;
  return JobState::kInProgress;
}

class Reader {
 public:
  explicit Reader(const json::object& o) : o_(o) {}
  void Str(const char* k, std::string* out) const {
    if (const json::value* v = o_.if_contains(k); v != nullptr && v->is_string()) {
      *out = std::string(v->get_string());
    }
  }
  void U64(const char* k, uint64_t* out) const {
    if (const json::value* v = o_.if_contains(k); v != nullptr) {
      if (v->is_uint64()) *out = v->get_uint64();
      if (v->is_int64() && v->get_int64() >= 0) *out = static_cast<uint64_t>(v->get_int64());
    }
  }
  void Bool(const char* k, bool* out) const {
    if (const json::value* v = o_.if_contains(k); v != nullptr && v->is_bool()) {
      *out = v->get_bool();
    }
  }
  const json::value* Get(const char* k) const { return o_.if_contains(k); }

 private:
  const json::object& o_;
};

Status ParseObject(std::string_view text, json::value* v) {
  json::error_code ec;
  *v = json::parse(text, ec);
  if (ec || !v->is_object()) return Status::Corruption("malformed export/import record");
  return Status::OK();
}

// The members export and import records share.
template <typename R>
void EncodeCommon(const R& r, json::object* o) {
  (*o)["id"] = r.id;
  (*o)["arn"] = r.arn;
  (*o)["table_name"] = r.table_name;
  (*o)["table_arn"] = r.table_arn;
  (*o)["table_id"] = r.table_id;
  (*o)["client_token"] = r.client_token;
  (*o)["fingerprint"] = r.fingerprint;
  (*o)["state"] = JobStateName(r.state);
  (*o)["start_ms"] = r.start_ms;
  (*o)["end_ms"] = r.end_ms;
  (*o)["bucket"] = r.bucket;
  (*o)["bucket_owner"] = r.bucket_owner;
  (*o)["failure_code"] = r.failure_code;
  (*o)["failure_message"] = r.failure_message;
}

template <typename R>
void DecodeCommon(const Reader& in, R* r) {
  std::string state;
  in.Str("id", &r->id);
  in.Str("arn", &r->arn);
  in.Str("table_name", &r->table_name);
  in.Str("table_arn", &r->table_arn);
  in.Str("table_id", &r->table_id);
  in.Str("client_token", &r->client_token);
  in.Str("fingerprint", &r->fingerprint);
  in.Str("state", &state);
  r->state = StateFrom(state);
  in.U64("start_ms", &r->start_ms);
  in.U64("end_ms", &r->end_ms);
  in.Str("bucket", &r->bucket);
  in.Str("bucket_owner", &r->bucket_owner);
  in.Str("failure_code", &r->failure_code);
  in.Str("failure_message", &r->failure_message);
}

}  // namespace

const char* JobStateName(JobState s) {
  switch (s) {
    case JobState::kInProgress:
      return "IN_PROGRESS";
    case JobState::kCompleted:
      return "COMPLETED";
    case JobState::kFailed:
      return "FAILED";
  }
  return "FAILED";
}

std::string EncodeExportRecord(const ExportRecord& r) {
  json::object o;
  EncodeCommon(r, &o);
  o["export_time_ms"] = r.export_time_ms;
  o["export_type_given"] = r.export_type_given;
  o["incremental"] = r.incremental;
  o["from_ms"] = r.from_ms;
  o["to_ms"] = r.to_ms;
  o["view_type"] = r.view_type;
  o["prefix"] = r.prefix;
  o["sse_algorithm"] = r.sse_algorithm;
  o["sse_kms_key_id"] = r.sse_kms_key_id;
  o["format"] = r.format;
  o["manifest"] = r.manifest;
  o["item_count"] = r.item_count;
  o["billed_size_bytes"] = r.billed_size_bytes;
  return json::serialize(o);
}

Status DecodeExportRecord(std::string_view text, ExportRecord* r) {
  json::value v;
  if (Status s = ParseObject(text, &v); !s.ok()) return s;
  const Reader in(v.get_object());
  *r = ExportRecord();
  DecodeCommon(in, r);
  in.U64("export_time_ms", &r->export_time_ms);
  in.Bool("export_type_given", &r->export_type_given);
  in.Bool("incremental", &r->incremental);
  in.U64("from_ms", &r->from_ms);
  in.U64("to_ms", &r->to_ms);
  in.Str("view_type", &r->view_type);
  in.Str("prefix", &r->prefix);
  in.Str("sse_algorithm", &r->sse_algorithm);
  in.Str("sse_kms_key_id", &r->sse_kms_key_id);
  in.Str("format", &r->format);
  in.Str("manifest", &r->manifest);
  in.U64("item_count", &r->item_count);
  in.U64("billed_size_bytes", &r->billed_size_bytes);
  if (r->id.empty()) return Status::Corruption("export record without an id");
  return Status::OK();
}

std::string EncodeImportRecord(const ImportRecord& r) {
  json::object o;
  EncodeCommon(r, &o);
  o["key_prefix"] = r.key_prefix;
  o["input_format"] = r.input_format;
  o["compression"] = r.compression;
  o["csv_delimiter"] = std::string(1, r.csv_delimiter);
  json::array header;
  for (const std::string& h : r.csv_header) header.emplace_back(h);
  o["csv_header"] = std::move(header);
  o["format_options_json"] = r.format_options_json;
  o["creation_parameters_json"] = r.creation_parameters_json;
  json::object keys;
  for (const auto& [name, type] : r.csv_key_types) keys[name] = type;
  o["csv_key_types"] = std::move(keys);
  o["processed_bytes"] = r.processed_bytes;
  o["processed_items"] = r.processed_items;
  o["imported_items"] = r.imported_items;
  o["error_count"] = r.error_count;
  return json::serialize(o);
}

Status DecodeImportRecord(std::string_view text, ImportRecord* r) {
  json::value v;
  if (Status s = ParseObject(text, &v); !s.ok()) return s;
  const Reader in(v.get_object());
  *r = ImportRecord();
  std::string delim;
  DecodeCommon(in, r);
  in.Str("key_prefix", &r->key_prefix);
  in.Str("input_format", &r->input_format);
  in.Str("compression", &r->compression);
  in.Str("csv_delimiter", &delim);
  if (delim.size() == 1) r->csv_delimiter = delim[0];
  if (const json::value* h = in.Get("csv_header"); h != nullptr && h->is_array()) {
    for (const json::value& e : h->get_array()) {
      if (e.is_string()) r->csv_header.emplace_back(e.get_string());
    }
  }
  in.Str("format_options_json", &r->format_options_json);
  in.Str("creation_parameters_json", &r->creation_parameters_json);
  if (const json::value* k = in.Get("csv_key_types"); k != nullptr && k->is_object()) {
    for (const auto& [name, type] : k->get_object()) {
      if (type.is_string()) r->csv_key_types[std::string(name)] = std::string(type.get_string());
    }
  }
  in.U64("processed_bytes", &r->processed_bytes);
  in.U64("processed_items", &r->processed_items);
  in.U64("imported_items", &r->imported_items);
  in.U64("error_count", &r->error_count);
  if (r->id.empty()) return Status::Corruption("import record without an id");
  return Status::OK();
}

}  // namespace basalt::server::exports

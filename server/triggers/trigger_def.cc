#include "server/triggers/trigger_def.h"

#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <random>

namespace basalt::server::triggers {

namespace json = boost::json;

std::string NewUuid() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  const uint64_t a = gen(), b = gen();
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                     0x8000 | ((b >> 48) & 0x3fff), b & 0xffffffffffffULL);
}

json::object TriggerToJson(const TriggerDef& d) {
  json::object target;
  if (!d.target.url.empty()) {
    target["Url"] = d.target.url;
    target["TlsVerify"] = d.target.tls_verify;
  } else {
    json::array argv;
    for (const std::string& a : d.target.command) argv.emplace_back(a);
    target["Command"] = std::move(argv);
  }
  target["TimeoutSeconds"] = d.target.timeout_seconds;
  json::object o;
  o["FormatVersion"] = kTriggerFormatVersion;
  o["UUID"] = d.uuid;
  o["TableName"] = d.table;
  o["StreamLabel"] = d.stream_label;
  o["Target"] = std::move(target);
  o["StartingPosition"] =
      d.starting_position == StartingPosition::kLatest ? "LATEST" : "TRIM_HORIZON";
  o["BatchSize"] = d.batch_size;
  o["MaximumBatchingWindowInSeconds"] = d.maximum_batching_window_s;
  if (d.filter_criteria) o["FilterCriteria"] = *d.filter_criteria;
  o["MaximumRetryAttempts"] = d.maximum_retry_attempts;
  o["MaximumRecordAgeInSeconds"] = d.maximum_record_age_s;
  o["BisectBatchOnFunctionError"] = d.bisect_batch_on_function_error;
  o["ParallelizationFactor"] = d.parallelization_factor;
  o["TumblingWindowInSeconds"] = d.tumbling_window_s;
  json::array types;
  if (d.report_batch_item_failures) types.emplace_back("ReportBatchItemFailures");
  o["FunctionResponseTypes"] = std::move(types);
  if (!d.on_failure.empty()) {
    o["DestinationConfig"] = {{"OnFailure", {{"Destination", d.on_failure}}}};
  }
  o["Enabled"] = d.enabled;
  o["LastModified"] = static_cast<double>(d.last_modified_ms) / 1000.0;
  return o;
}

namespace {

bool Str(const json::object& o, std::string_view k, std::string* out) {
  const json::value* v = o.if_contains(k);
  if (v == nullptr || !v->is_string()) return false;
  *out = std::string(v->get_string());
  return true;
}

template <typename T>
bool Int(const json::object& o, std::string_view k, T* out) {
  const json::value* v = o.if_contains(k);
  if (v == nullptr || !(v->is_int64() || v->is_uint64())) return false;
  *out = static_cast<T>(v->is_int64() ? v->get_int64() : static_cast<int64_t>(v->get_uint64()));
  return true;
}

bool Bool(const json::object& o, std::string_view k, bool* out) {
  const json::value* v = o.if_contains(k);
  if (v == nullptr || !v->is_bool()) return false;
  *out = v->get_bool();
  return true;
}

}  // namespace

Status TriggerFromJson(const json::object& o, TriggerDef* d) {
  auto bad = [](std::string_view what) {
    return Status::Corruption("trigger definition", std::string(what));
  };
  int version = 0;
  if (!Int(o, "FormatVersion", &version) || version != kTriggerFormatVersion) {
    return bad("FormatVersion");
  }
  *d = TriggerDef();
  if (!Str(o, "UUID", &d->uuid) || !Str(o, "TableName", &d->table) ||
      !Str(o, "StreamLabel", &d->stream_label)) {
    return bad("UUID, TableName or StreamLabel");
  }
  const json::value* t = o.if_contains("Target");
  if (t == nullptr || !t->is_object()) return bad("Target");
  const json::object& target = t->get_object();
  if (const json::value* argv = target.if_contains("Command")) {
    if (!argv->is_array() || argv->get_array().empty()) return bad("Target.Command");
    for (const json::value& a : argv->get_array()) {
      if (!a.is_string()) return bad("Target.Command");
      d->target.command.emplace_back(a.get_string());
    }
  } else if (!Str(target, "Url", &d->target.url) ||
             !Bool(target, "TlsVerify", &d->target.tls_verify)) {
    return bad("Target.Url");
  }
  if (!Int(target, "TimeoutSeconds", &d->target.timeout_seconds)) return bad("Target.Timeout");
  std::string pos;
  if (!Str(o, "StartingPosition", &pos) || (pos != "LATEST" && pos != "TRIM_HORIZON")) {
    return bad("StartingPosition");
  }
  d->starting_position =
      pos == "LATEST" ? StartingPosition::kLatest : StartingPosition::kTrimHorizon;
  if (!Int(o, "BatchSize", &d->batch_size) ||
      !Int(o, "MaximumBatchingWindowInSeconds", &d->maximum_batching_window_s) ||
      !Int(o, "MaximumRetryAttempts", &d->maximum_retry_attempts) ||
      !Int(o, "MaximumRecordAgeInSeconds", &d->maximum_record_age_s) ||
      !Bool(o, "BisectBatchOnFunctionError", &d->bisect_batch_on_function_error) ||
      !Int(o, "ParallelizationFactor", &d->parallelization_factor) ||
      !Int(o, "TumblingWindowInSeconds", &d->tumbling_window_s) ||
      !Bool(o, "Enabled", &d->enabled)) {
    return bad("numeric or boolean member");
  }
  if (const json::value* f = o.if_contains("FilterCriteria")) d->filter_criteria = *f;
  const json::value* types = o.if_contains("FunctionResponseTypes");
  if (types == nullptr || !types->is_array()) return bad("FunctionResponseTypes");
  for (const json::value& v : types->get_array()) {
    if (v != "ReportBatchItemFailures") return bad("FunctionResponseTypes");
    d->report_batch_item_failures = true;
  }
  if (const json::value* dc = o.if_contains("DestinationConfig")) {
    const json::value* of = dc->is_object() ? dc->get_object().if_contains("OnFailure") : nullptr;
    if (of == nullptr || !of->is_object() ||
        !Str(of->get_object(), "Destination", &d->on_failure)) {
      return bad("DestinationConfig");
    }
  }
  const json::value* lm = o.if_contains("LastModified");
  if (lm == nullptr || !lm->is_number()) return bad("LastModified");
  d->last_modified_ms = static_cast<uint64_t>(lm->to_number<double>() * 1000.0 + 0.5);
  return Status::OK();
}

}  // namespace basalt::server::triggers

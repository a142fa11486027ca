#include "server/triggers/trigger_service.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>

#include "engine/base/logging.h"
#include "server/api/authorize.h"
#include "server/api/errors.h"
#include "server/api/json_value.h"
#include "server/api/stream_json.h"
#include "server/triggers/invoker.h"

namespace basalt::server::triggers {

namespace json = boost::json;
using api::ApiError;
using api::Constraints;

namespace {

ApiError InvalidParameter(std::string message) {
  return api::DynamoError("InvalidParameterValueException", std::move(message));
}

ApiError TriggerNotFound(const std::string& uuid) {
  return api::ResourceNotFound(
      fmt::format("The resource you requested does not exist. (Trigger: {})", uuid));
}

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// An integer member within [min, max] (constraint message otherwise).
template <typename T>
void ReadInt(const json::object& req, std::string_view name, std::string_view path, int64_t min,
             int64_t max, Constraints* c, T* out) {
  std::optional<int64_t> v = api::GetInt(req, name, api::IntType::kInteger);
  if (!v) return;
  if (*v < min) {
    c->Add(fmt::format("'{}'", *v), path,
           fmt::format("Member must have value greater than or equal to {}", min));
  } else if (*v > max) {
    c->Add(fmt::format("'{}'", *v), path,
           fmt::format("Member must have value less than or equal to {}", max));
  } else {
    *out = static_cast<T>(*v);
  }
}

bool SafeFileName(std::string_view s) {
  if (s.empty() || s.size() > 255 || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

}  // namespace

TriggerService::TriggerService(table::TableStore* store, const api::ServiceOptions* service_options,
                               TriggerServiceOptions options)
    : store_(store), service_options_(service_options), options_(std::move(options)) {
  options_.delivery.failure_dir = options_.failure_dir;
  options_.delivery.command_dir = options_.command_dir;
}

TriggerService::~TriggerService() { Stop(); }

std::string TriggerService::StreamArnOf(const TriggerDef& d) const {
  api::Context ctx;
  ctx.store = store_;
  ctx.options = service_options_;
  return api::StreamArn(ctx, d.table, d.stream_label);
}

std::unique_ptr<TriggerRunner> TriggerService::MakeRunner(const TriggerDef& d) const {
  std::string pk;
  table::TableRef t;
  if (store_->Resolve(d.table, &t).ok()) pk = t->def().partition_key.name;
  return std::make_unique<TriggerRunner>(d, store_, service_options_->region, StreamArnOf(d), pk,
                                         options_.delivery);
}

Status TriggerService::Start() {
  std::vector<std::pair<std::string, std::string>> recs;
  Status s = store_->system_records()->List(kTriggerKeyPrefix, &recs);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, value] : recs) {
    json::error_code ec;
    json::value v = json::parse(value, ec);
    TriggerDef d;
    s = ec || !v.is_object() ? Status::Corruption("trigger definition", key)
                             : TriggerFromJson(v.get_object(), &d);
    if (!s.ok()) return s;
    auto runner = MakeRunner(d);
    runner->Start();
    runners_[d.uuid] = std::move(runner);
  }
  if (!runners_.empty()) LogInfo("stream triggers: {} loaded", runners_.size());
  return Status::OK();
}

void TriggerService::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [uuid, runner] : runners_) runner->Stop();
}

std::vector<std::pair<TriggerDef, TriggerStats>> TriggerService::Snapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<TriggerDef, TriggerStats>> out;
  for (const auto& [uuid, runner] : runners_) out.emplace_back(runner->def(), runner->stats());
  return out;
}

std::map<std::string, api::Operation, std::less<>> TriggerService::Operations() {
  std::map<std::string, api::Operation, std::less<>> ops;
  ops["CreateTrigger"] = [this](api::Context& c, const json::object& r) { return Create(c, r); };
  ops["GetTrigger"] = [this](api::Context& c, const json::object& r) { return Get(c, r); };
  ops["ListTriggers"] = [this](api::Context& c, const json::object& r) { return List(c, r); };
  ops["UpdateTrigger"] = [this](api::Context& c, const json::object& r) { return Update(c, r); };
  ops["DeleteTrigger"] = [this](api::Context& c, const json::object& r) { return Delete(c, r); };
  return ops;
}

// ---- members ----

void TriggerService::ParseMembers(const json::object& req, bool update, TriggerDef* d) const {
  Constraints c;
  if (const json::object* t = api::GetObject(req, "Target")) {
    std::optional<std::string> url = api::GetString(*t, "Url");
    const json::array* command = api::GetArray(*t, "Command");
    if (url.has_value() == (command != nullptr)) {
      throw InvalidParameter("Target must have exactly one of Url and Command");
    }
    TriggerTarget target;
    if (url) {
      Url parsed;
      Status s = ParseUrl(*url, &parsed);
      if (!s.ok()) throw InvalidParameter("Target.Url: " + std::string(s.message()));
      target.url = *url;
    } else {
      if (command->empty() || command->size() > 256) {
        throw InvalidParameter("Target.Command must hold 1 to 256 arguments");
      }
      for (const json::value& a : *command) target.command.push_back(api::AsString(a));
      if (options_.command_dir.empty()) {
        throw InvalidParameter(
            "Command targets are disabled on this server; start it with "
            "--trigger-command-dir DIR and put the program in DIR");
      }
      if (!SafeFileName(target.command[0])) {
        throw InvalidParameter(
            "Target.Command[0] must be the file name of a program in the "
            "server's trigger command directory");
      }
      const std::string program = options_.command_dir + "/" + target.command[0];
      if (::access(program.c_str(), X_OK) != 0) {
        throw InvalidParameter(
            fmt::format("Target.Command[0]: no executable program {} in the "
                        "server's trigger command directory",
                        api::Quote(target.command[0])));
      }
    }
    ReadInt(*t, "TimeoutSeconds", "target.timeoutSeconds", 1, 900, &c, &target.timeout_seconds);
    if (std::optional<bool> v = api::GetBool(*t, "TlsVerify")) target.tls_verify = *v;
    d->target = std::move(target);
  } else if (!update) {
    c.Add("null", "target", "Member must not be null");
  }
  ReadInt(req, "BatchSize", "batchSize", 1, 10000, &c, &d->batch_size);
  ReadInt(req, "MaximumBatchingWindowInSeconds", "maximumBatchingWindowInSeconds", 0, 300, &c,
          &d->maximum_batching_window_s);
  ReadInt(req, "MaximumRetryAttempts", "maximumRetryAttempts", -1, 10000, &c,
          &d->maximum_retry_attempts);
  ReadInt(req, "MaximumRecordAgeInSeconds", "maximumRecordAgeInSeconds", -1, 604800, &c,
          &d->maximum_record_age_s);
  ReadInt(req, "ParallelizationFactor", "parallelizationFactor", 1, 10, &c,
          &d->parallelization_factor);
  ReadInt(req, "TumblingWindowInSeconds", "tumblingWindowInSeconds", 0, 900, &c,
          &d->tumbling_window_s);
  if (std::optional<bool> v = api::GetBool(req, "BisectBatchOnFunctionError")) {
    d->bisect_batch_on_function_error = *v;
  }
  if (std::optional<bool> v = api::GetBool(req, "Enabled")) d->enabled = *v;
  if (const json::array* types = api::GetArray(req, "FunctionResponseTypes")) {
    if (types->size() > 1) {
      c.Add(api::Quote(json::serialize(*types)), "functionResponseTypes",
            "Member must have length less than or equal to 1");
    }
    d->report_batch_item_failures = false;
    for (const json::value& v : *types) {
      std::string t = api::AsString(v);
      if (t != "ReportBatchItemFailures") {
        c.Add(api::Quote(t), "functionResponseTypes",
              "Member must satisfy enum value set: [ReportBatchItemFailures]");
      }
      d->report_batch_item_failures = true;
    }
  }
  c.ThrowIfAny();
  if (d->maximum_record_age_s >= 0 && d->maximum_record_age_s < 60) {
    // Lambda: "The minimum valid value for maximum record age is 60s."
    throw InvalidParameter("The minimum valid value for maximum record age is 60s.");
  }
  if (const json::value* f = req.if_contains("FilterCriteria"); f != nullptr && !f->is_null()) {
    EventFilter filter;
    Status s = EventFilter::Parse(*f, &filter);
    if (!s.ok()) throw InvalidParameter(std::string(s.message()));
    d->filter_criteria = *f;
    if (filter.empty()) d->filter_criteria.reset();
  }
  if (const json::object* dc = api::GetObject(req, "DestinationConfig")) {
    d->on_failure.clear();
    if (const json::object* of = api::GetObject(*dc, "OnFailure")) {
      std::string dest = api::GetString(*of, "Destination").value_or("");
      if (dest.starts_with("file:")) {
        if (!SafeFileName(dest.substr(5))) {
          throw InvalidParameter(
              "DestinationConfig.OnFailure.Destination: file:NAME takes a plain file name "
              "(letters, digits, '.', '_', '-'), written in the server's trigger failure "
              "directory");
        }
      } else if (!dest.empty()) {
        Url url;
        Status s = ParseUrl(dest, &url);
        if (!s.ok()) {
          throw InvalidParameter(
              "DestinationConfig.OnFailure.Destination must be file:NAME or "
              "an http(s) URL: " +
              std::string(s.message()));
        }
      }
      d->on_failure = dest;
    }
  }
}

json::object TriggerService::Describe(const TriggerDef& d, const TriggerRunner* runner) const {
  json::object o = TriggerToJson(d);
  o.erase("FormatVersion");
  o["EventSourceArn"] = StreamArnOf(d);
  o["State"] = d.enabled ? "Enabled" : "Disabled";
  o["StateTransitionReason"] = "USER_INITIATED";
  if (runner != nullptr) {
    TriggerStats st = runner->stats();
    o["LastProcessingResult"] = st.last_processing_result;
    json::object m{{"Invocations", st.invocations},
                   {"FunctionErrors", st.function_errors},
                   {"RecordsDelivered", st.records_delivered},
                   {"RecordsFiltered", st.records_filtered},
                   {"RecordsFailed", st.records_failed},
                   {"OnFailureErrors", st.on_failure_errors}};
    if (st.iterator_age_ms >= 0) m["IteratorAgeMilliseconds"] = st.iterator_age_ms;
    o["Metrics"] = std::move(m);
  }
  return o;
}

TriggerRunner& TriggerService::Find(const std::string& uuid) {
  auto it = runners_.find(uuid);
  if (it == runners_.end()) throw TriggerNotFound(uuid);
  return *it->second;
}

// ---- operations ----

namespace {

std::string RequireUuid(const json::object& req) {
  std::optional<std::string> uuid = api::GetString(req, "UUID");
  if (!uuid) {
    Constraints c;
    c.Add("null", "uUID", "Member must not be null");
    c.ThrowIfAny();
  }
  return *uuid;
}

}  // namespace

json::object TriggerService::Create(api::Context& ctx, const json::object& req) {
  std::optional<std::string> table = api::GetString(req, "TableName");
  std::optional<std::string> arn = api::GetString(req, "EventSourceArn");
  if (table.has_value() == arn.has_value()) {
    throw InvalidParameter("Give exactly one of TableName and EventSourceArn");
  }
  TriggerDef d;
  std::string label;
  if (arn) {
    api::StreamName n = api::ParseStreamArn(ctx, *arn);
    d.table = n.table;
    label = n.label;
  } else {
    d.table = *table;
  }
  api::Authorize(ctx, {{"basalt:CreateTrigger", ctx.TableArn(d.table), {}}});
  std::optional<std::string> pos = api::GetString(req, "StartingPosition");
  if (!pos) {
    Constraints c;
    c.Add("null", "startingPosition", "Member must not be null");
    c.ThrowIfAny();
  }
  if (*pos == "LATEST") {
    d.starting_position = StartingPosition::kLatest;
  } else if (*pos == "TRIM_HORIZON") {
    d.starting_position = StartingPosition::kTrimHorizon;
  } else {
    throw InvalidParameter(fmt::format(
        "Unsupported starting position {} for a DynamoDB stream: use TRIM_HORIZON or LATEST",
        api::Quote(*pos)));
  }
  ParseMembers(req, false, &d);
  if (label.empty()) {
    table::TableRef t;
    Status s = store_->Resolve(d.table, &t);
    if (s.IsNotFound() || (s.ok() && !t->def().stream.enabled)) {
      throw InvalidParameter(fmt::format(
          "Table {} has no enabled stream: enable its stream (StreamSpecification) first",
          d.table));
    }
    api::Check(s);
    label = t->def().stream.label;
  }
  d.stream_label = label;
  table::StreamInfo info;
  std::vector<table::ShardInfo> shards;
  if (!store_->DescribeStream(d.table, d.stream_label, &info, &shards).ok()) {
    throw InvalidParameter("Stream not found: " + StreamArnOf(d));
  }
  d.uuid = NewUuid();
  d.last_modified_ms = NowMs();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, std::optional<std::string>>> changes;
  changes.emplace_back(std::string(kTriggerKeyPrefix) + d.uuid, json::serialize(TriggerToJson(d)));
  api::Check(InitialCheckpoints(store_, d, &changes));
  api::Check(store_->system_records()->Write(changes));
  auto runner = MakeRunner(d);
  runner->Start();
  json::object out = Describe(d, nullptr);
  out["State"] = d.enabled ? "Creating" : "Disabled";
  runners_[d.uuid] = std::move(runner);
  return out;
}

json::object TriggerService::Get(api::Context& ctx, const json::object& req) {
  const std::string uuid = RequireUuid(req);
  std::lock_guard<std::mutex> lock(mu_);
  TriggerRunner& r = Find(uuid);
  api::Authorize(ctx, {{"basalt:GetTrigger", ctx.TableArn(r.def().table), {}}});
  return Describe(r.def(), &r);
}

json::object TriggerService::List(api::Context& ctx, const json::object& req) {
  std::optional<std::string> table = api::GetString(req, "TableName");
  std::optional<std::string> arn = api::GetString(req, "EventSourceArn");
  std::optional<std::string> marker = api::GetString(req, "Marker");
  Constraints c;
  int64_t max_items = 100;
  ReadInt(req, "MaxItems", "maxItems", 1, 10000, &c, &max_items);
  c.ThrowIfAny();
  std::string label;
  if (arn) {
    api::StreamName n = api::ParseStreamArn(ctx, *arn);
    table = n.table;
    label = n.label;
  }
  api::Authorize(ctx, {{"basalt:ListTriggers", table ? ctx.TableArn(*table) : "*", {}}});
  std::lock_guard<std::mutex> lock(mu_);
  json::array out;
  std::optional<std::string> next;
  for (auto it = marker ? runners_.upper_bound(*marker) : runners_.begin(); it != runners_.end();
       ++it) {
    const TriggerDef& d = it->second->def();
    if (table && d.table != *table) continue;
    if (!label.empty() && d.stream_label != label) continue;
    if (out.size() == static_cast<size_t>(max_items)) {
      next = out.back().as_object().at("UUID").as_string().c_str();
      break;
    }
    out.push_back(Describe(d, it->second.get()));
  }
  json::object resp{{"Triggers", std::move(out)}};
  if (next) resp["NextMarker"] = *next;
  return resp;
}

json::object TriggerService::Update(api::Context& ctx, const json::object& req) {
  const std::string uuid = RequireUuid(req);
  std::lock_guard<std::mutex> lock(mu_);
  TriggerRunner& r = Find(uuid);
  api::Authorize(ctx, {{"basalt:UpdateTrigger", ctx.TableArn(r.def().table), {}}});
  for (const char* fixed : {"TableName", "EventSourceArn", "StartingPosition"}) {
    if (req.contains(fixed)) {
      throw InvalidParameter(fmt::format("{} of a trigger cannot be changed", fixed));
    }
  }
  TriggerDef d = r.def();
  ParseMembers(req, true, &d);
  d.last_modified_ms = NowMs();
  api::Check(store_->system_records()->Put(std::string(kTriggerKeyPrefix) + d.uuid,
                                           json::serialize(TriggerToJson(d))));
  r.Stop();  // its checkpoints are where the new runner resumes
  auto runner = MakeRunner(d);
  runner->Start();
  json::object out = Describe(d, runner.get());
  out["State"] = d.enabled ? "Updating" : "Disabled";
  runners_[uuid] = std::move(runner);
  return out;
}

json::object TriggerService::Delete(api::Context& ctx, const json::object& req) {
  const std::string uuid = RequireUuid(req);
  std::lock_guard<std::mutex> lock(mu_);
  TriggerRunner& r = Find(uuid);
  api::Authorize(ctx, {{"basalt:DeleteTrigger", ctx.TableArn(r.def().table), {}}});
  r.Stop();
  std::vector<std::pair<std::string, std::string>> checkpoints;
  api::Check(store_->system_records()->List(CheckpointKey(uuid, ""), &checkpoints));
  std::vector<std::pair<std::string, std::optional<std::string>>> changes;
  changes.emplace_back(std::string(kTriggerKeyPrefix) + uuid, std::nullopt);
  for (const auto& [key, value] : checkpoints) changes.emplace_back(key, std::nullopt);
  api::Check(store_->system_records()->Write(changes));
  json::object out = Describe(r.def(), nullptr);
  out["State"] = "Deleting";
  runners_.erase(uuid);
  return out;
}

}  // namespace basalt::server::triggers

#include "server/metrics/server_metrics.h"

#include <chrono>
#include <utility>

#include "server/metrics/collectors.h"

namespace basalt::server::metrics {

namespace {

// The operations Service serves (server/api Register*Operations), made up
// front so that the request path never takes a lock. Others (Basalt's own
// API families, operations added later) are made on first use.
constexpr std::string_view kOperations[] = {"BatchExecuteStatement",
                                            "BatchGetItem",
                                            "BatchWriteItem",
                                            "CreateTable",
                                            "DeleteItem",
                                            "DeleteResourcePolicy",
                                            "DeleteTable",
                                            "DescribeEndpoints",
                                            "DescribeLimits",
                                            "DescribeStream",
                                            "DescribeTable",
                                            "DescribeTimeToLive",
                                            "ExecuteStatement",
                                            "ExecuteTransaction",
                                            "GetItem",
                                            "GetRecords",
                                            "GetResourcePolicy",
                                            "GetShardIterator",
                                            "ListStreams",
                                            "ListTables",
                                            "ListTagsOfResource",
                                            "PutItem",
                                            "PutResourcePolicy",
                                            "Query",
                                            "Scan",
                                            "TagResource",
                                            "TransactGetItems",
                                            "TransactWriteItems",
                                            "UntagResource",
                                            "UpdateItem",
                                            "UpdateTable",
                                            "UpdateTimeToLive",
                                            "UpdateContributorInsights",
                                            "DescribeContributorInsights",
                                            "ListContributorInsights",
                                            "unknown"};

constexpr std::string_view kOutcomes[] = {"success", "client_error", "server_error", "throttled"};

constexpr std::string_view kRequestsHelp =
    "API requests answered, by operation and outcome (success, client_error, server_error, "
    "throttled).";
constexpr std::string_view kErrorsHelp = "API errors, by operation and DynamoDB error type.";
constexpr std::string_view kDurationHelp =
    "Time from the request reaching the API layer until its answer was ready, seconds.";

int OutcomeIndex(std::string_view outcome) {
  for (int i = 0; i < 4; i++) {
    if (kOutcomes[i] == outcome) return i;
  }
  return 1;
}

thread_local double t_units = 0;

uint64_t SystemMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

std::string_view OutcomeOf(int status, std::string_view error_type) {
  if (status >= 200 && status < 300) return "success";
  if (error_type == "ProvisionedThroughputExceededException" ||
      error_type == "ThrottlingException" || error_type == "RequestLimitExceeded") {
    return "throttled";
  }
  return status >= 500 ? "server_error" : "client_error";
}

std::string_view ErrorTypeOf(const HttpResponse& response) {
  if (response.status >= 200 && response.status < 300) return {};
  for (const auto& [name, value] : response.headers) {
    if (name == "x-amzn-ErrorType") return value;
  }
  if (response.status == 404) return "UnknownOperationException";
  return response.status >= 500 ? "InternalServerError" : "UnknownError";
}

ServerMetrics::ServerMetrics(table::TableStore* store, MetricsOptions options)
    : store_(store), options_(std::move(options)) {
  if (options_.request_metrics) {
    for (std::string_view name : kOperations) ops_.emplace(name, nullptr);
    for (auto& [name, op] : ops_) op = MakeOp(name);
  }
  if (store_ != nullptr) {
    registry_.AddCollector([store = store_](Exposition* out) { CollectEngine(store, out); });
  }
  registry_.AddCollector([](Exposition* out) { CollectProcess(out); });
}

ServerMetrics::~ServerMetrics() { Stop(); }

Status ServerMetrics::Start() {
  wants_details = false;  // only the access log reads them
  if (options_.access_log.empty()) return Status::OK();
  Status s = access_log_.Open(options_.access_log);
  if (s.ok()) {
    access_log_on_ = true;
    wants_details = true;
    registry_.AddCollector([this](Exposition* out) {
      out->Add("basalt_access_log_dropped_lines_total", Exposition::Type::kCounter,
               "Access log lines dropped because the disk could not keep up.", {},
               static_cast<double>(access_log_.dropped()));
    });
  }
  return s;
}

void ServerMetrics::Stop() { access_log_.Stop(); }

std::shared_ptr<api::RequestObserver> ServerMetrics::observer() {
  if (!options_.request_metrics && !access_log_on_) return nullptr;
  return shared_from_this();
}

void ServerMetrics::UnitsListener::OnCapacity(const api::CapacityEvent& e) { t_units += e.units; }

double ServerMetrics::UnitsListener::Take() {
  const double u = t_units;
  t_units = 0;
  return u;
}

void ServerMetrics::Attach(api::Service* service) {
  registry_.AddCollector([service](Exposition* out) { CollectCapacity(service, out); });
  if (access_log_on_) {
    service->capacity().AddListener(&units_listener_);
    units_known_ = true;
  }
  if (!options_.request_metrics) return;
  service->AddGetHandler("/metrics",
                         [this](const HttpRequest& req, HttpResponse* resp) { Serve(req, resp); });
}

void ServerMetrics::Serve(const HttpRequest&, HttpResponse* response) {
  response->status = 200;
  response->content_type = "text/plain; version=0.0.4; charset=utf-8";
  response->body = registry_.Text();
}

ServerMetrics::Op* ServerMetrics::OpFor(std::string_view name) {
  if (name.empty()) name = "unknown";
  if (auto it = ops_.find(name); it != ops_.end()) return it->second.get();
  std::lock_guard<std::mutex> l(mu_);
  auto it = extra_ops_.find(name);
  if (it != extra_ops_.end()) return it->second.get();
  return extra_ops_.emplace(std::string(name), MakeOp(name)).first->second.get();
}

std::unique_ptr<ServerMetrics::Op> ServerMetrics::MakeOp(std::string_view name) {
  auto op = std::make_unique<Op>();
  for (int i = 0; i < 4; i++) {
    op->outcomes[i] = &registry_.GetCounter(
        "basalt_requests_total", kRequestsHelp,
        {{"operation", std::string(name)}, {"outcome", std::string(kOutcomes[i])}});
  }
  op->latency = &registry_.GetHistogram("basalt_request_duration_seconds", kDurationHelp,
                                        {{"operation", std::string(name)}}, LatencyBuckets());
  return op;
}

Counter* ServerMetrics::ErrorCounter(std::string_view op, std::string_view type) {
  std::lock_guard<std::mutex> l(mu_);
  auto key = std::make_pair(std::string(op), std::string(type));
  auto it = errors_.find(key);
  if (it != errors_.end()) return it->second;
  Counter* c = &registry_.GetCounter("basalt_errors_total", kErrorsHelp,
                                     {{"operation", key.first}, {"type", key.second}});
  errors_.emplace(std::move(key), c);
  return c;
}

void ServerMetrics::OnRequest(const api::RequestRecord& r) noexcept {
  try {
    const int status = r.response != nullptr ? r.response->status : 500;
    const std::string_view error_type =
        r.response != nullptr ? ErrorTypeOf(*r.response) : std::string_view("InternalServerError");
    if (options_.request_metrics) {
      Op* op = OpFor(r.operation);
      op->outcomes[OutcomeIndex(OutcomeOf(status, error_type))]->Inc();
      op->latency->Observe(static_cast<double>(r.latency_ns) * 1e-9);
      if (!error_type.empty()) {
        ErrorCounter(r.operation.empty() ? "unknown" : r.operation, error_type)->Inc();
      }
    }
    if (access_log_on_) {
      AccessLog::Entry e;
      e.unix_ms = options_.now_ms ? options_.now_ms() : SystemMs();
      e.identity = r.access_key_id;
      e.operation = r.operation;
      e.table = r.table;
      e.status = status;
      e.error_type = error_type;
      e.latency_ms = static_cast<double>(r.latency_ns) * 1e-6;
      e.units = r.consumed_units >= 0 ? r.consumed_units
                : units_known_        ? UnitsListener::Take()
                                      : -1;
      access_log_.Write(e);
    }
  } catch (...) {
    // Out of memory while making a metric or a log line: the request's
    // answer matters more than its count.
  }
}

}  // namespace basalt::server::metrics

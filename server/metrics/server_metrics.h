// ServerMetrics: what basalt-server exposes at GET /metrics (Prometheus text
// format 0.0.4) and writes to its access log. docs/server.md, "Metrics",
// lists every metric.
//
//   - per request (an api::RequestObserver that Service calls; a few relaxed
//     atomic increments and one histogram bucket per request, no lock, no
//     allocation): basalt_requests_total{operation,outcome},
//     basalt_errors_total{operation,type},
//     basalt_request_duration_seconds{operation};
//   - at each scrape (collectors): the storage engine (per partition tree and
//     node-wide, engine_metrics.h), tables' item counts and sizes, capacity
//     per table and index (the Service's CapacityManager), the process
//     (/proc/self).
//
// Other pieces add their own metrics through registry() (instruments or
// collectors), before the server starts.
//
// Usage (tools/basalt_server.cc):
//   auto metrics = std::make_shared<ServerMetrics>(store, options);
//   metrics->Start();                        // opens the access log
//   so.observer = metrics->observer();       // null when nothing observes
//   Service service(store, so);
//   metrics->Attach(&service);               // GET /metrics, capacity metrics
//
// Thread safety: OnRequest and Serve may be called concurrently.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engine/base/status.h"
#include "engine/table/table_store.h"
#include "server/api/request_observer.h"
#include "server/api/service.h"
#include "server/api/throttle.h"
#include "server/metrics/access_log.h"
#include "server/metrics/registry.h"

namespace basalt::server::metrics {

struct MetricsOptions {
  // Request counters and latency histograms (--no-metrics: false). The
  // scrape-time metrics cost nothing between scrapes and stay.
  bool request_metrics = true;
  // --access-log: "" = off, "-" = standard output, else a file (appended to).
  std::string access_log;
  // Milliseconds since the Unix epoch for the access log; unset: the clock.
  std::function<uint64_t()> now_ms;
};

// The outcome label of an answer: "success", "client_error", "server_error"
// or "throttled" (ProvisionedThroughputExceededException,
// ThrottlingException, RequestLimitExceeded).
std::string_view OutcomeOf(int status, std::string_view error_type);
// The DynamoDB error type of an answer ("" for a success): its
// x-amzn-ErrorType header, else "UnknownOperationException" for a 404.
std::string_view ErrorTypeOf(const HttpResponse& response);

class ServerMetrics : public api::RequestObserver,
                      public std::enable_shared_from_this<ServerMetrics> {
 public:
  ServerMetrics(table::TableStore* store, MetricsOptions options);
  ~ServerMetrics() override;
  Status Start();  // opens the access log, if any
  void Stop();     // flushes and closes the access log

  // The observer for ServiceOptions::observer: this, or null when neither
  // request metrics nor the access log are on.
  std::shared_ptr<api::RequestObserver> observer();
  // Serves GET /metrics on `service` (when request metrics are on) and
  // collects its capacity counters at each scrape; with the access log, also
  // listens to its capacity charges for each request's consumed units (the
  // charges of a request are made on the thread that then answers it, so a
  // thread-local sum, taken at OnRequest, is that request's).
  void Attach(api::Service* service);

  void OnRequest(const api::RequestRecord& record) noexcept override;
  // The /metrics page.
  void Serve(const HttpRequest& request, HttpResponse* response);
  Registry& registry() { return registry_; }

 private:
  struct Op {
    Counter* outcomes[4];  // success, client_error, server_error, throttled
    Histogram* latency;
  };
  class UnitsListener : public api::CapacityListener {
   public:
    void OnCapacity(const api::CapacityEvent& e) override;
    static double Take();  // this thread's units since the last Take
  };
  Op* OpFor(std::string_view name);
  // The counters and histogram of one operation, registered.
  std::unique_ptr<Op> MakeOp(std::string_view name);
  Counter* ErrorCounter(std::string_view op, std::string_view type);

  table::TableStore* const store_;
  const MetricsOptions options_;
  Registry registry_;
  AccessLog access_log_;
  bool access_log_on_ = false;
  UnitsListener units_listener_;
  bool units_known_ = false;  // units_listener_ is attached
  // The DynamoDB and Streams operations, made at construction (read-only after).
  std::unordered_map<std::string_view, std::unique_ptr<Op>> ops_;
  std::mutex mu_;  // guards extra_ops_ and errors_ (rare paths)
  std::map<std::string, std::unique_ptr<Op>, std::less<>> extra_ops_;
  std::map<std::pair<std::string, std::string>, Counter*> errors_;
};

}  // namespace basalt::server::metrics

// RequestObserver: Service's hook for per-request instrumentation (request
// counters, latency histograms, the access log: server/metrics). Service
// calls it once for every DynamoDB API request it answers — synchronously
// (Handle) or asynchronously (HandleAsync) — after the response is built and
// before it is sent; not for the GET pages (AddGetHandler) nor the health
// check.
//
// Thread safety: OnRequest is called concurrently from the server's threads
// (and from the engine's committer thread for asynchronous writes); it must
// be cheap, thread-safe, must not block on I/O and must not throw.
#pragma once

#include <cstdint>
#include <string_view>

#include "server/http/http_server.h"

namespace basalt::server::api {

struct RequestRecord {
  // The operation's name ("PutItem", "GetRecords", ...): one of the
  // operations the Service serves, or "" when the request named none (an
  // unknown target, a body that is no JSON object, a refused signature).
  std::string_view operation;
  // The request's TableName member ("" when it has none, e.g. batches).
  std::string_view table;
  // The access key id of the request's SigV4 Authorization header ("" when
  // unsigned); in local mode it is not checked, only reported.
  std::string_view access_key_id;
  // The answer: status, and the DynamoDB error type in its x-amzn-ErrorType
  // header when it is an error.
  const HttpResponse* response = nullptr;
  // Capacity units the request consumed (tables and indexes together), or
  // < 0 when not known.
  double consumed_units = -1;
  // From the Service receiving the request until its answer was ready.
  uint64_t latency_ns = 0;
};

class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void OnRequest(const RequestRecord& record) noexcept = 0;
  // False: the observer ignores RequestRecord::table and access_key_id, and
  // the Service leaves them empty (saves a copy and a header parse per
  // request). Set before the Service serves.
  bool wants_details = true;
};

}  // namespace basalt::server::api

// Service: the DynamoDB JSON protocol over a TableStore. Turns one HTTP
// request into one operation call and its JSON (or error) response.
//
// Request processing, in DynamoDB's order (observed behaviour of DynamoDB; the
// request format is in the DynamoDB Developer Guide, "DynamoDB low-level API"):
//   GET /            -> 200 "healthy: dynamodb.<region>.amazonaws.com "
//   other methods, or a POST whose Content-Type is neither
//   application/x-amz-json-1.0 nor application/json -> 404 <UnknownOperationException/>
//   Content-Encoding gzip/deflate decoded (server/http/compression.h); another
//   coding or undecodable bytes -> 500 InternalServerError; decoded over
//   max_request_bytes -> 413 ValidationException
//   body not a JSON object                         -> SerializationException
//   X-Amz-Target not "DynamoDB_20120810.<Op>" of a known Op, nor
//   "DynamoDBStreams_20120810.<Op>" of a Streams Op -> UnknownOperationException
//   then the operation: JSON type checks (SerializationException), constraint
//   checks (ValidationException, aggregated), semantic checks, execution.
// Local mode (no authenticator): any credentials (or none) are accepted.
// With ServiceOptions::authenticator (--auth sigv4) every request but the
// health check is authenticated first (server/auth/sigv4.h lists the checks
// and DynamoDB's errors), before its body is even parsed, and each operation
// is authorized against the user's IAM policies (authorize.h).
//
// Thread safety: Handle() may be called concurrently from many threads.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/table/table_store.h"
#include "server/api/contributor_insights_sketch.h"
#include "server/api/request_observer.h"
#include "server/api/throttle.h"
#include "server/auth/credentials.h"
#include "server/http/http_server.h"

namespace basalt::server::exports {
class JobManager;
}

namespace basalt::server::api {

struct ServiceOptions {
  // Shown in ARNs ("arn:aws:dynamodb:<region>:<account>:table/<name>") and the health check.
  std::string region = "us-east-1";
  std::string account = "000000000000";
  // Milliseconds since the Unix epoch, for shard-iterator ages; unset = the
  // system clock (tests inject a fake one to expire iterators).
  std::function<uint64_t()> now_ms;
  // The store encrypts its files (--encryption-key-file): DescribeTable's
  // SSEDescription says so.
  bool encryption_at_rest = false;
  // Set: requests must be signed with SigV4 by a known user (docs/security.md).
  std::shared_ptr<auth::Authenticator> authenticator;
  // Longest request body once decoded from its Content-Encoding (gzip,
  // deflate: server/http/compression.h); DynamoDB's request limit, as
  // HttpServerOptions::max_body_bytes bounds the body as sent.
  size_t max_request_bytes = size_t{16} << 20;
  // Told of every API request answered (request_observer.h; server/metrics
  // counts them and writes the access log); null = no instrumentation.
  std::shared_ptr<RequestObserver> observer;
  // Throughput enforcement (throttle.h; --no-throttling, --capacity-realism,
  // --table-max-read-units, --table-max-write-units). region and account are
  // taken from the fields above.
  CapacityOptions capacity;
  // Export and import jobs (server/export/jobs.h; --export-root); null: the
  // operations answer that exports need --export-root.
  std::shared_ptr<exports::JobManager> jobs;
};

// Milliseconds since the Unix epoch: options->now_ms when set (tests inject a
// fake clock), else the system clock (table_json.h's NowMs()).
uint64_t NowMs(const ServiceOptions* options);

// What every operation handler sees.
struct Context {
  table::TableStore* store = nullptr;
  const ServiceOptions* options = nullptr;
  // The request's Host header ("" if none): the address the client reached
  // this server at (DescribeEndpoints answers it).
  std::string host;
  // Who sent the request (--auth sigv4), or nullptr in local mode.
  const auth::Identity* identity = nullptr;
  // Admission and charging of capacity (throttle.h); never null in a Service.
  CapacityManager* capacity = nullptr;
  // Contributor Insights' rule sets (contributor_insights.h); never null in a Service.
  ContributorInsights* insights = nullptr;

  std::string TableArn(const std::string& table) const;
};

using Operation = std::function<boost::json::object(Context&, const boost::json::object&)>;

class Service {
 public:
  Service(table::TableStore* store, ServiceOptions options);
  // Serves another API family on this port under its own X-Amz-Target prefix
  // (Basalt's own APIs, e.g. the stream triggers' "BasaltTriggers_20261207.").
  // Their operations authorize themselves (Authorize, authorize.h), and
  // Writes() counts every target starting with "Basalt" as a write. Call
  // before the server starts; not thread-safe against Handle.
  void AddOperations(std::string target_prefix, std::map<std::string, Operation, std::less<>> ops);
  // Serves GET (and HEAD) requests for `path` (exact, without the query
  // string; e.g. "/metrics", "/dashboard") with `handler`, before
  // authentication: the handler decides who may see what. Call before the
  // server starts; not thread-safe against Handle. The handler must be
  // thread-safe.
  using GetHandler = std::function<void(const HttpRequest&, HttpResponse*)>;
  void AddGetHandler(std::string path, GetHandler handler);
  const ServiceOptions& options() const { return options_; }
  // Capacity enforcement and consumption counters: add listeners before the
  // server starts (throttle.h).
  CapacityManager& capacity() { return *capacity_; }
  // Contributor Insights' top keys (contributor_insights_sketch.h; /metrics
  // appends them with AppendPrometheus).
  ContributorInsights& contributor_insights() { return *insights_; }
  void Handle(const HttpRequest& request, HttpResponse* response);
  // True for the operations that write (items, tables, tags, TTL settings,
  // PartiQL): in Durability::kSync they wait for their WAL group's fsync, so
  // the server runs them on its blocking threads (HttpServerOptions::blocking).
  // Reads only the X-Amz-Target header; cheap and thread-safe.
  static bool Writes(const HttpRequest& request);
  // PutItem, UpdateItem and DeleteItem can be answered asynchronously
  // (HttpServerOptions::async_filter / async_handler): HandleAsync parses and
  // decides the write on the calling thread, hands its batch to the engine
  // (TableStore::TryUpdateAsync) and returns; `respond` gets the answer once
  // the write is durable, from the engine's committer thread. It declines
  // (false, nothing done) when the item's latch is busy or the request is
  // unusual (wrong method, path, content type, JSON): Handle answers those.
  static bool TakesAsync(const HttpRequest& request);
  bool HandleAsync(const HttpRequest& request, HttpResponder& respond);

 private:
  // With an authenticator: checks the request's signature; on refusal
  // writes DynamoDB's error into *response and returns false.
  bool Authenticate(const HttpRequest& request, auth::Identity* identity,
                    HttpResponse* response) const;
  uint64_t NowMs() const;

  Context ctx_;
  ServiceOptions options_;
  std::unique_ptr<CapacityManager> capacity_;
  std::unique_ptr<ContributorInsights> insights_;
  // Feeds insights_ from capacity_'s charges and throttles.
  std::unique_ptr<CapacityListener> insights_listener_;
  std::map<std::string, Operation, std::less<>> ops_;
  // DynamoDB Streams operations, served on the same port (as DynamoDB Local
  // and Alternator do) under their own target prefix.
  std::map<std::string, Operation, std::less<>> streams_ops_;
  std::map<std::string, GetHandler, std::less<>> get_handlers_;
  // AddOperations: (prefix, operations).
  std::vector<std::pair<std::string, std::map<std::string, Operation, std::less<>>>> extra_ops_;
};

// Sets the table layer's hooks that need the server before TableStore::Open:
// the converter of index definitions stored by catalog formats 1-2 (JSON
// text, which only the server parses; index_json.h). Every program that
// opens a TableStore for the server must call it.
void ConfigureTableStore(table::TableStoreOptions* options);

// Operation registration, one function per API family (tables.cc, items.cc,
// reads.cc: Query and Scan, batch.cc: BatchGetItem and BatchWriteItem).
void RegisterTableOperations(std::map<std::string, Operation, std::less<>>* ops);
// tags.cc: TagResource, UntagResource, ListTagsOfResource.
void RegisterTagOperations(std::map<std::string, Operation, std::less<>>* ops);
void RegisterItemOperations(std::map<std::string, Operation, std::less<>>* ops);
void RegisterReadOperations(std::map<std::string, Operation, std::less<>>* ops);
void RegisterBatchOperations(std::map<std::string, Operation, std::less<>>* ops);
// transactions.cc: TransactWriteItems and TransactGetItems.
void RegisterTransactionOperations(std::map<std::string, Operation, std::less<>>* ops);
// partiql.cc: ExecuteStatement, BatchExecuteStatement, ExecuteTransaction.
void RegisterPartiqlOperations(std::map<std::string, Operation, std::less<>>* ops);
// ttl.cc: UpdateTimeToLive and DescribeTimeToLive.
void RegisterTtlOperations(std::map<std::string, Operation, std::less<>>* ops);
// resource_policy.cc: PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy.
void RegisterResourcePolicyOperations(std::map<std::string, Operation, std::less<>>* ops);
// contributor_insights.cc: UpdateContributorInsights, DescribeContributorInsights,
// ListContributorInsights.
void RegisterContributorInsightsOperations(std::map<std::string, Operation, std::less<>>* ops);
// backups.cc: CreateBackup, DescribeBackup, ListBackups, DeleteBackup,
// RestoreTableFromBackup.
void RegisterBackupOperations(std::map<std::string, Operation, std::less<>>* ops);
// continuous_backups.cc: UpdateContinuousBackups, DescribeContinuousBackups,
// RestoreTableToPointInTime.
void RegisterContinuousBackupOperations(std::map<std::string, Operation, std::less<>>* ops);
// exports.cc: ExportTableToPointInTime, DescribeExport, ListExports;
// imports.cc: ImportTable, DescribeImport, ListImports (ServiceOptions::jobs).
void RegisterExportOperations(std::map<std::string, Operation, std::less<>>* ops);
void RegisterImportOperations(std::map<std::string, Operation, std::less<>>* ops);
// streams.cc: the DynamoDB Streams API (ListStreams, DescribeStream,
// GetShardIterator, GetRecords), registered in the Streams operations map.
void RegisterStreamsOperations(std::map<std::string, Operation, std::less<>>* ops);

}  // namespace basalt::server::api

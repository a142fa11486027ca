// TriggerService: the stream triggers of a node — their API (served on the
// DynamoDB port under X-Amz-Target "BasaltTriggers_20261207.<Op>"), their
// durable definitions (SystemRecords "trigger:<UUID>", trigger_def.h) and one
// TriggerRunner per enabled trigger (delivery.h). docs/triggers.md.
//
// Operations (JSON in, JSON out; members named as Lambda's event source
// mapping API names them):
//   CreateTrigger   TableName or EventSourceArn, Target, StartingPosition, ...
//   GetTrigger      UUID -> the configuration, State, LastProcessingResult, Metrics
//   ListTriggers    [TableName | EventSourceArn], [Marker], [MaxItems]
//   UpdateTrigger   UUID and the members to change (not the stream nor the
//                   starting position, as in Lambda)
//   DeleteTrigger   UUID (its checkpoints go with it)
// Errors: ValidationException (constraints, in DynamoDB's aggregated form),
// InvalidParameterValueException (semantic: no stream, bad URL, bad filter
// pattern, command targets not enabled), ResourceNotFoundException (no
// trigger with that UUID), SerializationException (wrong JSON types).
// With --auth sigv4 each operation needs the action "basalt:<Operation>" on
// the table's ARN ("*" for ListTriggers without a table).
//
// Safety: a Command target runs a program on the server's machine, so it is
// refused unless the server names a directory of allowed programs
// (TriggerServiceOptions::command_dir); a "file:NAME" on-failure destination
// is a plain file name inside failure_dir.
//
// Thread safety: the operations may run concurrently (one mutex serialises
// changes); Start and Stop from one thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/table/table_store.h"
#include "server/api/service.h"
#include "server/triggers/delivery.h"

namespace basalt::server::triggers {

struct TriggerServiceOptions {
  // Directory whose programs Command targets may run ("" = Command targets
  // are refused). argv[0] is a file name inside it.
  std::string command_dir;
  // Directory of "file:NAME" on-failure destinations (created when needed).
  std::string failure_dir;
  DeliveryOptions delivery;  // its failure_dir is set from the one above
};

class TriggerService {
 public:
  TriggerService(table::TableStore* store, const api::ServiceOptions* service_options,
                 TriggerServiceOptions options);
  ~TriggerService();
  TriggerService(const TriggerService&) = delete;
  TriggerService& operator=(const TriggerService&) = delete;

  // Loads the stored definitions and starts a runner for each enabled one.
  Status Start();
  // Stops every runner (waits for their invocations in flight).
  void Stop();
  // Every trigger's definition and delivery counters (for /metrics).
  std::vector<std::pair<TriggerDef, TriggerStats>> Snapshot();
  // The API, for Service::AddOperations(kTriggerTargetPrefix, ...). The
  // operations refer to this service, which must outlive the Service.
  std::map<std::string, api::Operation, std::less<>> Operations();

 private:
  boost::json::object Create(api::Context& ctx, const boost::json::object& req);
  boost::json::object Get(api::Context& ctx, const boost::json::object& req);
  boost::json::object List(api::Context& ctx, const boost::json::object& req);
  boost::json::object Update(api::Context& ctx, const boost::json::object& req);
  boost::json::object Delete(api::Context& ctx, const boost::json::object& req);

  // The members of Create/Update (update: only those present); throws ApiError.
  void ParseMembers(const boost::json::object& req, bool update, TriggerDef* d) const;
  // Configuration, State and (with runtime) LastProcessingResult and Metrics.
  boost::json::object Describe(const TriggerDef& d, const TriggerRunner* runner) const;
  std::unique_ptr<TriggerRunner> MakeRunner(const TriggerDef& d) const;
  std::string StreamArnOf(const TriggerDef& d) const;
  // The trigger `uuid` or ResourceNotFoundException. REQUIRES mu_.
  TriggerRunner& Find(const std::string& uuid);

  table::TableStore* const store_;
  const api::ServiceOptions* const service_options_;
  TriggerServiceOptions options_;
  std::mutex mu_;  // guards runners_ and serialises changes
  std::map<std::string, std::unique_ptr<TriggerRunner>> runners_;  // by UUID, every trigger
};

}  // namespace basalt::server::triggers

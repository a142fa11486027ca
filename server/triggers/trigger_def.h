// A stream trigger's definition: the parameters of an AWS Lambda event source
// mapping for a DynamoDB stream (Lambda API Reference,
// "CreateEventSourceMapping"), with a target of ours (an HTTP(S) endpoint or
// a local command) in place of a Lambda function. docs/triggers.md has the
// API, the semantics and the stored format.
//
// The same JSON serves the API (GetTrigger's configuration members) and the
// storage (SystemRecords "trigger:<UUID>", with "FormatVersion": 1), so what
// a user sees is exactly what is stored.
//
// Plain types and pure functions; thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/status.h"

namespace basalt::server::triggers {

// X-Amz-Target prefix of the trigger API (served on the DynamoDB port).
inline constexpr std::string_view kTriggerTargetPrefix = "BasaltTriggers_20261207.";
// SystemRecords key prefixes.
inline constexpr std::string_view kTriggerKeyPrefix = "trigger:";
inline constexpr std::string_view kCheckpointKeyPrefix = "trigger-checkpoint:";

enum class StartingPosition { kTrimHorizon, kLatest };

struct TriggerTarget {
  // Exactly one of url ("http://..." or "https://...") and command (argv,
  // argv[0] run without a shell).
  std::string url;
  std::vector<std::string> command;
  // Longest wait for one invocation (Lambda's function timeout: 1..900 s).
  uint32_t timeout_seconds = 30;
  // https: verify the server's certificate and host name.
  bool tls_verify = true;
};

struct TriggerDef {
  std::string uuid;
  std::string table;
  std::string stream_label;  // the stream read (EventSourceArn names it)
  TriggerTarget target;
  StartingPosition starting_position = StartingPosition::kLatest;
  uint32_t batch_size = 100;                          // 1..10,000
  uint32_t maximum_batching_window_s = 0;             // 0..300
  std::optional<boost::json::value> filter_criteria;  // {"Filters": [...]}, validated
  int64_t maximum_retry_attempts = -1;                // -1 (until the record expires) or 0..10,000
  int64_t maximum_record_age_s = -1;                  // -1 (no limit) or 60..604,800
  bool bisect_batch_on_function_error = false;
  uint32_t parallelization_factor = 1;      // 1..10
  uint32_t tumbling_window_s = 0;           // 0..900
  bool report_batch_item_failures = false;  // FunctionResponseTypes [ReportBatchItemFailures]
  // On-failure destination: "" (none), "file:///absolute/path" (JSON lines
  // appended) or an http(s) URL (one POST per failed batch).
  std::string on_failure;
  bool enabled = true;
  uint64_t last_modified_ms = 0;
};

inline constexpr int kTriggerFormatVersion = 1;

// The definition's members as the API returns them (UUID, TableName,
// EventSourceArn is added by the caller who knows the ARN, Target,
// StartingPosition, BatchSize, ...) plus FormatVersion.
boost::json::object TriggerToJson(const TriggerDef& d);
// Reads TriggerToJson's output back. Corruption for anything else.
Status TriggerFromJson(const boost::json::object& o, TriggerDef* d);

// A random (version 4) UUID, as Lambda names event source mappings and
// invocation requests.
std::string NewUuid();

}  // namespace basalt::server::triggers

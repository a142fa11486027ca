// TriggerRunner: delivers one trigger's stream records to its target, as an
// AWS Lambda event source mapping delivers a DynamoDB stream to a function
// (Lambda Developer Guide, "Using AWS Lambda with Amazon DynamoDB", "Batching
// behavior", "Error handling", "Configuring partial batch response",
// "Tumbling windows"). docs/triggers.md has the full semantics; in short:
//
//   - Shards: every shard of the trigger's stream is read by its own worker
//     thread, in sequence order; a child shard (after a partition split) is
//     started only once its parent has been read and delivered to its end.
//   - Batches: up to BatchSize records, waiting up to
//     MaximumBatchingWindowInSeconds for a full batch, cut so an event stays
//     under Lambda's 6 MB payload limit. Records the FilterCriteria rejects
//     are dropped before batching (neither delivered nor retried).
//   - ParallelizationFactor N: the records of a shard are split into N lanes
//     by partition key (so each key's records stay in order) and the lanes
//     are delivered concurrently; the shard's checkpoint moves when every
//     lane has settled its part.
//   - Failure (not 2xx / non-zero exit / timeout / transport error, or a
//     batchItemFailures answer with ReportBatchItemFailures): retried with
//     exponential back-off; with BisectBatchOnFunctionError the batch is
//     split in two and the halves retried separately, each with a fresh
//     retry count (so bisection isolates the failing record); after
//     MaximumRetryAttempts retries, or once its records are older than
//     MaximumRecordAgeInSeconds, the batch is described (metadata only) to
//     the on-failure destination and skipped. With the defaults (-1, -1) a
//     failing batch is retried until its records leave the stream's
//     retention, blocking its shard, as in Lambda.
//   - Checkpoints: after each settled chunk of a shard, one synced
//     SystemRecords write ("trigger-checkpoint:<UUID>:<shardId>"). Delivery
//     is at-least-once: a crash between a delivery and its checkpoint
//     delivers that chunk again after the restart.
//
// Thread safety: Start/Stop from one thread; stats() from any.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/table/table_store.h"
#include "server/triggers/event_filter.h"
#include "server/triggers/trigger_def.h"

namespace basalt::server::triggers {

struct DeliveryOptions {
  // How often an idle shard is read again (Lambda polls a shard four times a
  // second) and how often the stream's shards are listed again.
  uint32_t poll_interval_ms = 250;
  uint32_t describe_interval_ms = 1000;
  // Back-off before retry k (1, 2, ...): base * 2^(k-1), at most max.
  uint32_t backoff_base_ms = 100;
  uint32_t backoff_max_ms = 10000;
  // Directory of "file:NAME" on-failure destinations.
  std::string failure_dir;
  // Directory of Command targets' programs (argv[0] is a name inside it).
  std::string command_dir;
  // The clock (ms since the epoch); unset = the system clock.
  std::function<uint64_t()> now_ms;
};

struct TriggerStats {
  uint64_t invocations = 0;      // target calls made (including retries)
  uint64_t function_errors = 0;  // calls that failed (including partial failures)
  uint64_t records_delivered = 0;
  uint64_t records_filtered = 0;   // dropped by FilterCriteria
  uint64_t records_failed = 0;     // described to the on-failure destination
  uint64_t on_failure_errors = 0;  // on-failure records that could not be written
  int64_t iterator_age_ms = -1;    // age of the newest record of the last settled chunk
  std::string last_processing_result = "No records processed";
};

// One checkpoint: where a shard's delivery resumes.
struct Checkpoint {
  uint64_t next = 0;  // the first sequence not yet settled
  bool done = false;  // the closed shard was delivered to its end
  // Tumbling windows, per lane: the open window's start (ms, 0 = none), its
  // state, and the end of the last window closed (ms, 0 = none). A record that
  // becomes visible after its window was closed joins the next window, so a
  // closed window is never reopened with a fresh state.
  struct Window {
    uint64_t start = 0;
    uint64_t closed_end = 0;
    boost::json::object state;
  };
  std::vector<Window> windows;
};
std::string CheckpointKey(const std::string& uuid, const std::string& shard_id);
std::string EncodeCheckpoint(const Checkpoint& c);
Status DecodeCheckpoint(std::string_view text, Checkpoint* c);

class TriggerRunner {
 public:
  // stream_arn: the ARN of the trigger's stream (eventSourceARN of every
  // record); partition_key: the table's partition key attribute (lanes).
  TriggerRunner(TriggerDef def, table::TableStore* store, std::string region,
                std::string stream_arn, std::string partition_key, DeliveryOptions options);
  ~TriggerRunner();
  TriggerRunner(const TriggerRunner&) = delete;
  TriggerRunner& operator=(const TriggerRunner&) = delete;

  // Starts the coordinator thread (a disabled trigger starts nothing).
  void Start();
  // Stops every thread: waits for invocations in flight (bounded by the
  // target's timeout), saves nothing that was not settled.
  void Stop();
  TriggerStats stats() const;
  const TriggerDef& def() const { return def_; }

 private:
  struct Shard;
  struct Record;
  struct Lane;
  struct Batch;

  void Coordinate();
  void RunShard(Shard* shard);
  // Delivers one chunk of a shard (records in sequence order): filters,
  // splits into lanes and batches, settles each. False if stopping first.
  bool DeliverChunk(Shard* shard, std::vector<Record>* records, bool force_close_windows);
  bool DeliverLane(Shard* shard, Lane* lane, std::vector<const Record*> records, bool close_window);
  // One batch through invocations, retries, bisection and the on-failure
  // destination. False if stopping first.
  bool Settle(Shard* shard, Lane* lane, Batch batch);
  void SendToFailureDestination(const Shard& shard, const Batch& batch,
                                const std::string& condition, int attempts,
                                const std::string& status_text);
  std::string EventJson(const Shard& shard, const Lane& lane, const Batch& batch) const;
  // Sleeps up to ms; false if stopping.
  bool Sleep(uint64_t ms);
  uint64_t NowMs() const;
  void SetResult(std::string result);

  const TriggerDef def_;
  table::TableStore* const store_;
  const std::string region_;
  const std::string stream_arn_;
  const std::string partition_key_;
  const DeliveryOptions options_;
  EventFilter filter_;

  std::atomic<bool> stopping_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::thread coordinator_;

  mutable std::mutex mu_;  // guards stats_
  TriggerStats stats_;
  std::mutex failure_mu_;  // serialises the lines of a file destination
};

// Writes the first checkpoints of a new trigger with StartingPosition LATEST:
// every open shard of the stream starts at its next sequence, every closed
// one is done. (TRIM_HORIZON needs none: a shard without a checkpoint starts
// at its oldest retained record.) Added to *changes for one atomic write.
Status InitialCheckpoints(table::TableStore* store, const TriggerDef& def,
                          std::vector<std::pair<std::string, std::optional<std::string>>>* changes);

}  // namespace basalt::server::triggers

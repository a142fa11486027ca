// IndexBuilder: fills a secondary index added to a table that already holds
// items (DynamoDB's online index creation: the index is CREATING with
// Backfilling true until every item is in it, then ACTIVE).
//
// How a backfill stays exact while the table is written:
//   - From the catalog change that adds it on, every write maintains the new
//     index like the others (the write path stages entries from the table's
//     newest definition), so writes during the backfill are never missed.
//   - The builder pages through the table (Scan, in key order) and, for each
//     page, commits one write-path batch of Decision::RefreshIndex slots: under
//     the items' latches it reads each item as it is NOW and writes its entry
//     unless an entry is already there. A write racing the page either
//     happened before (the builder sees its result) or after (the write moves
//     the entry the builder wrote), so no entry is missing, stale or doubled.
//   - Items whose index key attributes cannot be indexed (wrong type, empty,
//     too large) are skipped, as DynamoDB skips index key violations.
//   - Progress (IndexDef::backfill_position, the last table key done) is
//     persisted about once a second and at the end, through AlterTable; after
//     a crash the backfill resumes there (repeating a page is harmless).
//   - At the end, one AlterTable makes the index ACTIVE. A table or index
//     deleted meanwhile ends its backfill.
// The rate is bounded (items per second across all backfills) so a backfill
// cannot crowd out foreground work.
//
// Thread safety: RunOnce may be called from any thread (tests, admin);
// passes are serialised. Start/Stop/Wake from the owner.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "engine/base/status.h"
#include "engine/table/background_loop.h"

namespace basalt::table {

class TableStore;
class WritePath;

struct IndexBuildStats {
  uint64_t items_scanned = 0;  // table items read by backfills
  uint64_t violations = 0;     // items skipped: their index keys cannot be indexed
  uint64_t indexes_built = 0;  // backfills completed (index ACTIVE)
};

class IndexBuilder {
 public:
  struct Options {
    // Pause between passes when there is nothing to do; 0 = no background
    // thread (RunOnce still works).
    uint32_t interval_ms = 100;
    // Items per second across all backfills; 0 = unlimited.
    uint32_t items_per_second = 20000;
    // Items per write-path batch (one WriteBatch, one WAL append).
    size_t batch_items = 256;
  };

  IndexBuilder(TableStore* store, WritePath* write_path, Options options)
      : store_(store), write_path_(write_path), options_(options) {}
  ~IndexBuilder() { Stop(); }
  IndexBuilder(const IndexBuilder&) = delete;
  IndexBuilder& operator=(const IndexBuilder&) = delete;

  void Start();
  void Stop() { loop_.Stop(); }
  // An index was added: start its backfill now.
  void Wake() { loop_.Wake(); }

  // Runs every pending backfill to its end on the calling thread. Returns the
  // first error (the other backfills still run; a failed one is retried by
  // the next pass), Aborted (kStoreClosed) once stopping.
  Status RunOnce();
  IndexBuildStats stats() const;

 private:
  // Backfills index `index_id` of table `table` until it is ACTIVE (or the
  // table or index is gone: OK, or kTableNotFound / kIndexNotFound).
  Status Backfill(const std::string& table, uint32_t index_id);
  // Waits until the rate allows `items` more; false if stopping.

  TableStore* const store_;
  WritePath* const write_path_;
  const Options options_;
  BackgroundLoop loop_;
  std::mutex run_mu_;  // serialises passes (and so loop_.Pace)
  std::atomic<uint64_t> scanned_{0}, violations_{0}, built_{0};
};

}  // namespace basalt::table

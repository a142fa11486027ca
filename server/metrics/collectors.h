// The scrape-time collectors of ServerMetrics (server_metrics.h): each writes
// its metrics into an Exposition when /metrics is read. docs/server.md,
// "Metrics", lists every name.
#pragma once

#include "engine/table/table_store.h"
#include "server/api/service.h"
#include "server/metrics/registry.h"

namespace basalt::server::metrics {

// Per partition tree {table,index,partition}: basalt_lsm_memtable_bytes,
// basalt_lsm_immutable_memtables, basalt_lsm_level_files{level},
// basalt_lsm_level_bytes{level}, basalt_lsm_pending_compaction_bytes; per
// table: basalt_table_items, basalt_table_size_bytes (and per GSI
// basalt_index_items, basalt_index_size_bytes); node-wide: compactions,
// flushes, write amplification, write stalls, caches, WAL (lsm::DbStats,
// lsm::CacheStats). Reads each tree's stats under the DB's mutex, briefly.
void CollectEngine(table::TableStore* store, Exposition* out);

// process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_threads,
// process_cpu_seconds_total (Prometheus' standard process metrics), from
// /proc/self and getrusage. Linux only; a file that cannot be read leaves its
// metric out.
void CollectProcess(Exposition* out);

// Per table and GSI from the Service's CapacityManager:
// basalt_consumed_capacity_units_total{table,index,kind,cloudwatch_metric},
// basalt_provisioned_capacity_units{...} (PROVISIONED only),
// basalt_throttle_events_total{table,index,kind,cloudwatch_metric},
// basalt_throttled_requests_total{table,index,cloudwatch_metric}.
void CollectCapacity(api::Service* service, Exposition* out);

}  // namespace basalt::server::metrics

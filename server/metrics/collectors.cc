#include "server/metrics/collectors.h"

#include <dirent.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "server/api/throttle.h"

namespace basalt::server::metrics {

using Type = Exposition::Type;

// ---- engine ----

namespace {

void TreeMetrics(lsm::DB* db, lsm::TreeId tree, const Labels& labels, Exposition* out) {
  lsm::TreeStats st;
  if (!db->GetTreeStats(tree, &st).ok()) return;  // dropped meanwhile (split, delete)
  out->Add("basalt_lsm_memtable_bytes", Type::kGauge,
           "Bytes of the partition tree's active memtable.", labels,
           static_cast<double>(st.memtable_bytes));
  out->Add("basalt_lsm_immutable_memtables", Type::kGauge,
           "Memtables of the partition tree waiting to be flushed.", labels,
           static_cast<double>(st.immutable_memtables));
  out->Add("basalt_lsm_pending_compaction_bytes", Type::kGauge,
           "Bytes compaction must still rewrite in the partition tree (the policy's estimate).",
           labels, static_cast<double>(st.pending_compaction_bytes));
  out->Family("basalt_lsm_level_files", Type::kGauge, "SSTable files per level of the tree.");
  out->Family("basalt_lsm_level_bytes", Type::kGauge, "SSTable bytes per level of the tree.");
  Labels with_level = labels;
  with_level.emplace_back("level", "");
  for (size_t lv = 0; lv < st.levels.size(); lv++) {
    with_level.back().second = std::to_string(lv);
    out->Sample("basalt_lsm_level_files", "", with_level, st.levels[lv].files);
    out->Sample("basalt_lsm_level_bytes", "", with_level, static_cast<double>(st.levels[lv].bytes));
  }
}

}  // namespace

void CollectEngine(table::TableStore* store, Exposition* out) {
  lsm::DB* db = store->db();
  // Families first, so that they are present (and typed) with no table.
  out->Family("basalt_table_items", Type::kGauge,
              "Items of the table (approximate, as DescribeTable's ItemCount).");
  out->Family("basalt_table_size_bytes", Type::kGauge,
              "Bytes of the table's items (approximate, as DescribeTable's TableSizeBytes).");
  for (const std::string& name : store->ListTables()) {
    table::TableRef ref;
    table::TableDef def;
    if (!store->Resolve(name, &ref).ok() || !store->DescribeTable(name, &def).ok()) continue;
    out->Sample("basalt_table_items", "", {{"table", name}},
                static_cast<double>(def.approx_item_count));
    out->Sample("basalt_table_size_bytes", "", {{"table", name}},
                static_cast<double>(def.approx_size_bytes));
    for (const table::IndexDef& idx : def.indexes) {
      if (!idx.global()) continue;
      out->Add("basalt_index_items", Type::kGauge,
               "Items of the global secondary index (approximate, as its ItemCount).",
               {{"table", name}, {"index", idx.name}}, static_cast<double>(idx.approx_item_count));
      out->Add("basalt_index_size_bytes", Type::kGauge,
               "Bytes of the global secondary index (approximate, as its IndexSizeBytes).",
               {{"table", name}, {"index", idx.name}}, static_cast<double>(idx.approx_size_bytes));
    }
    Labels labels = {{"table", name}, {"index", ""}, {"partition", ""}};
    for (const table::PartitionDef& p : ref->partitions().parts()) {
      labels[2].second = std::to_string(p.id);
      TreeMetrics(db, p.tree, labels, out);
    }
    for (const auto& [index_id, parts] : ref->partition_set().indexes()) {
      std::string index_name = fmt::format("#{}", index_id);
      for (const table::IndexDef& idx : ref->def().indexes) {
        if (idx.id == index_id) index_name = idx.name;
      }
      labels[1].second = index_name;
      for (const table::PartitionDef& p : parts.map->parts()) {
        labels[2].second = std::to_string(p.id);
        TreeMetrics(db, p.tree, labels, out);
      }
    }
  }

  const lsm::DbStats d = db->GetDbStats();
  auto counter = [out](std::string_view name, std::string_view help, double v) {
    out->Add(name, Type::kCounter, help, {}, v);
  };
  auto gauge = [out](std::string_view name, std::string_view help, double v) {
    out->Add(name, Type::kGauge, help, {}, v);
  };
  auto f = [](uint64_t v) { return static_cast<double>(v); };
  counter("basalt_lsm_flushes_total", "Memtables flushed to L0.", f(d.flushes));
  counter("basalt_lsm_flushed_bytes_total", "Bytes of the L0 files flushes wrote.",
          f(d.bytes_flushed));
  counter("basalt_lsm_compactions_total", "Compactions run (all trees).", f(d.compactions));
  counter("basalt_lsm_compaction_read_bytes_total", "Bytes compactions read.",
          f(d.compaction_bytes_read));
  counter("basalt_lsm_compaction_written_bytes_total", "Bytes compactions wrote.",
          f(d.compaction_bytes_written));
  counter("basalt_lsm_user_bytes_written_total", "Bytes of the write batches written.",
          f(d.user_bytes_written));
  gauge("basalt_lsm_write_amplification",
        "(flushed + compaction-written bytes) / user bytes written, since start.",
        d.write_amplification);
  counter("basalt_lsm_write_stalls_total",
          "Writes that waited for room (slowdown, memtable flush, L0 or pending-compaction stop).",
          f(d.write_stalls));
  counter("basalt_lsm_write_stall_seconds_total", "Time writes waited for room, seconds.",
          static_cast<double>(d.write_stall_micros) * 1e-6);
  counter("basalt_lsm_wal_bytes_total", "Bytes appended to the write-ahead log.", f(d.wal_bytes));
  counter("basalt_lsm_wal_syncs_total", "fdatasyncs of the write-ahead log by group commits.",
          f(d.wal_syncs));
  // A WriteAsync batch the commit queue combined with others is one writer
  // of the group too.
  const uint64_t async_extra =
      d.async_batches > d.async_writes ? d.async_batches - d.async_writes : 0;
  const uint64_t writers = d.wal_group_writers + async_extra;
  counter("basalt_lsm_wal_group_commits_total", "Group commits (one WAL append each).",
          f(d.wal_group_commits));
  counter("basalt_lsm_wal_group_writers_total", "Writes carried by the group commits.", f(writers));
  gauge("basalt_lsm_wal_writers_per_sync",
        "Average writes per group commit since start (each one fdatasync with durability sync).",
        d.wal_group_commits == 0 ? 0 : f(writers) / f(d.wal_group_commits));

  const lsm::CacheStats c = db->GetCacheStats();
  counter("basalt_lsm_block_cache_hits_total", "Block cache hits.", f(c.block.hits));
  counter("basalt_lsm_block_cache_misses_total", "Block cache misses.", f(c.block.misses));
  gauge("basalt_lsm_block_cache_usage_bytes", "Bytes held by the block cache.", f(c.block.usage));
  gauge("basalt_lsm_block_cache_capacity_bytes", "The block cache's byte budget.",
        f(c.block.capacity));
  gauge("basalt_lsm_block_cache_reserved_bytes",
        "Bytes of open tables' filters, indexes and block index leaves charged to the block "
        "cache's budget (Options::charge_table_metadata).",
        f(c.block.reserved));
  counter("basalt_lsm_row_cache_hits_total", "Row cache point-lookup hits.", f(c.row.hits));
  counter("basalt_lsm_row_cache_misses_total", "Row cache point-lookup misses.", f(c.row.misses));
  gauge("basalt_lsm_row_cache_usage_bytes", "Bytes held by the row cache.", f(c.row.usage));
  gauge("basalt_lsm_row_cache_capacity_bytes", "The row cache's byte budget (0: off).",
        f(c.row.capacity));
}

// ---- process ----

void CollectProcess(Exposition* out) {
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    unsigned long long size = 0, resident = 0;
    if (std::fscanf(f, "%llu %llu", &size, &resident) == 2) {
      out->Add("process_resident_memory_bytes", Type::kGauge, "Resident memory size in bytes.", {},
               static_cast<double>(resident) * page);
      out->Add("process_virtual_memory_bytes", Type::kGauge, "Virtual memory size in bytes.", {},
               static_cast<double>(size) * page);
    }
    std::fclose(f);
  }
  if (DIR* dir = opendir("/proc/self/fd")) {
    int n = 0;
    while (const dirent* e = readdir(dir)) {
      if (e->d_name[0] != '.') n++;
    }
    closedir(dir);
    out->Add("process_open_fds", Type::kGauge, "Number of open file descriptors.", {},
             n - 1);  // not the directory's own
  }
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    out->Add("process_max_fds", Type::kGauge, "Maximum number of open file descriptors.", {},
             static_cast<double>(rl.rlim_cur));
  }
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("Threads:")) {
      out->Add("process_threads", Type::kGauge, "Number of OS threads in the process.", {},
               std::stod(line.substr(8)));
      break;
    }
  }
  rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
    out->Add("process_cpu_seconds_total", Type::kCounter,
             "Total user and system CPU time spent in seconds.", {}, cpu);
  }
}

// ---- capacity ----

void CollectCapacity(api::Service* service, Exposition* out) {
  out->Family("basalt_consumed_capacity_units_total", Type::kCounter,
              "Capacity units consumed, per table and GSI (index \"\": the table).");
  out->Family("basalt_provisioned_capacity_units", Type::kGauge,
              "Provisioned capacity units per second of PROVISIONED tables and their GSIs.");
  out->Family("basalt_throttle_events_total", Type::kCounter,
              "Requests or item operations refused for capacity, per table, GSI and kind.");
  out->Family("basalt_throttled_requests_total", Type::kCounter,
              "Requests refused for capacity, per table and GSI.");
  for (const api::CapacityCounters& c : service->capacity().Snapshot()) {
    auto labels = [&c](std::string_view kind, std::string_view cw) {
      Labels l = {{"table", c.table}, {"index", c.index}};
      if (!kind.empty()) l.emplace_back("kind", std::string(kind));
      l.emplace_back("cloudwatch_metric", std::string(cw));
      return l;
    };
    out->Sample("basalt_consumed_capacity_units_total", "",
                labels("read", "ConsumedReadCapacityUnits"), c.consumed_read);
    out->Sample("basalt_consumed_capacity_units_total", "",
                labels("write", "ConsumedWriteCapacityUnits"), c.consumed_write);
    if (c.billing_mode == "PROVISIONED") {
      out->Sample("basalt_provisioned_capacity_units", "",
                  labels("read", "ProvisionedReadCapacityUnits"), c.provisioned_read);
      out->Sample("basalt_provisioned_capacity_units", "",
                  labels("write", "ProvisionedWriteCapacityUnits"), c.provisioned_write);
    }
    out->Sample("basalt_throttle_events_total", "", labels("read", "ReadThrottleEvents"),
                static_cast<double>(c.read_throttle_events));
    out->Sample("basalt_throttle_events_total", "", labels("write", "WriteThrottleEvents"),
                static_cast<double>(c.write_throttle_events));
    out->Sample("basalt_throttled_requests_total", "", labels("", "ThrottledRequests"),
                static_cast<double>(c.throttled_requests));
  }
}

}  // namespace basalt::server::metrics

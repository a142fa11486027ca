// Time to Live: the expiry rule DynamoDB applies to an item (IsTtlExpired)
// and the TtlSweeper that deletes expired items.
//
// The sweeper is built only on TableStore's public API (ListTables, Resolve,
// Scan, Update), so the data path knows nothing of TTL: a sweep is an
// ordinary reader plus ordinary conditional deletes. For every table whose
// TableDef::ttl is enabled, a sweep pages through the table with Scan (pages
// of ttl_scan_page_bytes, so a table is never held in memory) and deletes
// each item whose TTL attribute is a number N (epoch seconds, fractions
// allowed) with  now - kTtlMaxAgeSeconds <= N <= now. Items with a missing or
// non-number TTL attribute, or one more than five years in the past, are left
// alone (as DynamoDB documents). Each deletion is an Update whose decision
// re-checks the expiry under the item latch, so an item rewritten meanwhile
// with a later TTL (or without one) survives; it is a Decision::ExpireByTtl
// for the stream record. Deletions are paced to ttl_max_deletes_per_second
// across all tables. Reads are unaffected: an expired item stays visible
// until a sweep deletes it (as in DynamoDB).
//
// Thread safety: Sweep may be called from any thread; sweeps are serialised.
// Start/Stop from the owner (TableStore::Open/Close).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "engine/base/status.h"
#include "engine/table/background_loop.h"
#include "engine/table/value.h"

namespace basalt::table {

class TableStore;

// DynamoDB ignores TTL values more than five years in the past (they are
// taken to be in another unit, e.g. milliseconds, or a deliberate "never").
// Five 365-day years, in seconds.
inline constexpr uint64_t kTtlMaxAgeSeconds = uint64_t{5} * 365 * 24 * 3600;

// True if `item` has attribute `attribute` of type N whose value T (epoch
// seconds, fractions allowed) satisfies now - kTtlMaxAgeSeconds <= T <= now.
// A missing attribute, any other type (S, NS, ...) or a value outside that
// window is not expired.
bool IsTtlExpired(const Item& item, std::string_view attribute, uint64_t now_seconds);

// Sweeper counters (cumulative since Open, or for one sweep).
struct TtlStats {
  uint64_t sweeps = 0;         // completed passes over all tables
  uint64_t items_scanned = 0;  // items read from TTL-enabled tables
  uint64_t items_deleted = 0;  // items deleted because they expired
};

class TtlSweeper {
 public:
  struct Options {
    // Pause between the ends of two background sweeps; 0 = no background thread.
    uint32_t interval_ms = 60000;
    // Deletions per second across all tables; 0 = unlimited.
    uint32_t max_deletes_per_second = 1000;
    // Byte budget of each Scan page.
    size_t scan_page_bytes = size_t{1} << 20;
    // Seconds since the epoch; unset = the system clock. Must be thread safe.
    std::function<uint64_t()> now_seconds;
  };

  TtlSweeper(TableStore* store, Options options) : store_(store), options_(std::move(options)) {}
  ~TtlSweeper() { Stop(); }
  TtlSweeper(const TtlSweeper&) = delete;
  TtlSweeper& operator=(const TtlSweeper&) = delete;

  // Starts the background thread when interval_ms != 0.
  void Start();
  // Stops the thread; a sweep in progress (or a rate-limit pause) ends
  // promptly and later sweeps return Aborted.
  void Stop() { loop_.Stop(); }

  // One sweep now, on the calling thread. *stats (optional) receives this
  // sweep's counters. Returns the first error other than a table vanishing
  // mid-sweep (the other tables are still swept), or Aborted (sub-code
  // kStoreClosed) once stopping.
  Status Sweep(TtlStats* stats = nullptr);
  TtlStats stats() const;

 private:
  uint64_t NowSeconds() const;
  Status SweepTable(const std::string& name, TtlStats* stats);
  // Waits until the rate limit allows one more deletion; false if stopping.

  TableStore* const store_;
  const Options options_;
  BackgroundLoop loop_;
  std::mutex sweep_mu_;  // serialises sweeps (and so loop_.Pace)
  std::atomic<uint64_t> sweeps_{0};
  std::atomic<uint64_t> scanned_{0};
  std::atomic<uint64_t> deleted_{0};
};

}  // namespace basalt::table

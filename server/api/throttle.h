// Capacity enforcement: DynamoDB's throughput limits on tables and global
// secondary indexes, and the record of consumed capacity that metrics and
// Contributor Insights read (docs/server.md, "Capacity and throttling").
//
// What is enforced (CapacityOptions::enforce; --no-throttling turns it off):
//   PROVISIONED table / GSI  a token bucket per table and per GSI and kind
//                            (read, write): ReadCapacityUnits or
//                            WriteCapacityUnits per second, holding up to 300
//                            seconds of unused units (DynamoDB's burst
//                            capacity); it starts full. Refused:
//                            ProvisionedThroughputExceededException, reason
//                            Table|Index Read|Write ProvisionedThroughputExceeded.
//   PAY_PER_REQUEST          OnDemandThroughput's MaxRead/WriteRequestUnits
//                            (a bucket holding one second of units) and the
//                            per-table account quota (table_max_*_units,
//                            DynamoDB's default 40,000): ThrottlingException,
//                            reason ...MaxOnDemandThroughputExceeded or
//                            ...AccountLimitExceeded.
//   with `realism` only      3,000 read / 1,000 write units per second per
//                            partition key value (DynamoDB's per-partition
//                            figures; a key never spans partitions), and the
//                            on-demand ramp: a table serves 12,000 read /
//                            4,000 write units per second at once and twice
//                            its peak of more than 30 minutes ago:
//                            ProvisionedThroughputExceededException, reason
//                            ...KeyRangeThroughputExceeded.
// A write is refused when its table or ANY of the table's GSIs is out of
// write capacity (DynamoDB throttles table writes on a GSI that cannot keep
// up; Basalt does not first work out which GSIs the write would touch).
//
// Admission and charge, as DynamoDB: a request is admitted while its buckets
// hold tokens (more than 0) and charged its actual units once it ran, which
// may take a bucket into debt; the debt is paid by the refill. Throttled
// requests consume nothing. Transactions are charged their doubled units by
// the handlers (capacity.h).
//
// Thread safety: every method may be called from many threads at once. The
// listeners are called outside the manager's lock, from the request's thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/table/schema.h"
#include "engine/table/value.h"
#include "server/api/errors.h"

namespace basalt::table {
class TableStore;
}

namespace basalt::server::api {

enum class CapacityKind { kRead, kWrite };

// One charge of consumed capacity, or one throttled request.
struct CapacityEvent {
  std::string table;
  std::string index;  // "" = the table itself
  CapacityKind kind = CapacityKind::kRead;
  double units = 0;  // consumed (0 when throttled)
  // For Contributor Insights: the accessed item's partition key value and sort
  // key value, each as its DynamoDB JSON text ({"S":"x"}); empty when the
  // charge is not for one item or one partition (Scan); Query: the partition
  // key only. For a GSI: the index's (first) key attributes.
  std::string partition_key, sort_key;
  bool throttled = false;  // refused for capacity
};

class CapacityListener {  // OnCapacity must be cheap and thread-safe
 public:
  virtual ~CapacityListener() = default;
  virtual void OnCapacity(const CapacityEvent& e) = 0;
  // Whether this listener uses the key texts of `table`'s events (building
  // them costs a serialization per request); default yes.
  virtual bool WantsKeys(std::string_view /*table*/) const { return true; }
};

struct CapacityCounters {    // per table and per GSI, cumulative since start
  std::string table, index;  // index "" = the table
  double consumed_read = 0, consumed_write = 0;
  uint64_t read_throttle_events = 0, write_throttle_events = 0, throttled_requests = 0;
  double provisioned_read = 0, provisioned_write = 0;  // 0 = on-demand
  std::string billing_mode;                            // "PROVISIONED" | "PAY_PER_REQUEST"
};

// DynamoDB's documented figures.
inline constexpr double kBurstSeconds = 300;
inline constexpr double kPartitionReadUnits = 3000;
inline constexpr double kPartitionWriteUnits = 1000;
inline constexpr double kOnDemandInitialReadUnits = 12000;
inline constexpr double kOnDemandInitialWriteUnits = 4000;
inline constexpr uint64_t kRampWindowUs = uint64_t{30} * 60 * 1000000;
inline constexpr uint64_t kDefaultTableMaxUnits = 40000;
// Switches to PAY_PER_REQUEST allowed per rolling 24 hours.
inline constexpr size_t kMaxOnDemandSwitches = 4;

struct CapacityOptions {
  // False (--no-throttling): nothing is refused; consumption is still counted.
  bool enforce = true;
  // --capacity-realism: the per-partition-key limits and the on-demand ramp.
  bool realism = false;
  // The per-table account quota of on-demand tables and GSIs (units/second),
  // reported by DescribeLimits.
  uint64_t table_max_read_units = kDefaultTableMaxUnits;
  uint64_t table_max_write_units = kDefaultTableMaxUnits;
  // ARNs in ThrottlingReasons.
  std::string region = "us-east-1";
  std::string account = "000000000000";
  // Monotonic microseconds; unset = std::chrono::steady_clock (tests inject).
  std::function<uint64_t()> now_us;
};

// A token bucket: `rate` tokens per second, at most `capacity` held; starts
// full. Take() may leave it in debt (negative). Not thread-safe.
class TokenBucket {
 public:
  // Sets rate and capacity, keeping the tokens held (at most the new
  // capacity); the first call fills the bucket.
  void Configure(double rate, double capacity, uint64_t now_us);
  // True while tokens remain (> 0) after the refill up to now.
  bool Admits(uint64_t now_us);
  void Take(double units, uint64_t now_us);
  double Tokens(uint64_t now_us);
  // True when the bucket would be full at now_us (it is idle).
  bool Full(uint64_t now_us) const;
  double rate() const { return rate_; }
  double capacity() const { return capacity_; }

 private:
  void Refill(uint64_t now_us);
  double rate_ = 0;
  double capacity_ = 0;
  double tokens_ = 0;
  uint64_t last_us_ = 0;
  bool configured_ = false;
};

// The on-demand ramp rule: the units per second a table may use are
// max(initial, 2 x the highest one-second consumption recorded more than 30
// minutes ago). Not thread-safe.
class RampLimit {
 public:
  explicit RampLimit(double initial = 0) : initial_(initial) {}
  // True while this second's consumption is below the limit.
  bool Admits(uint64_t now_us);
  void Take(double units, uint64_t now_us);
  double Limit(uint64_t now_us);

 private:
  void Advance(uint64_t now_us);
  double initial_;
  uint64_t second_ = 0;  // the current second (now_us / 1e6)
  double second_units_ = 0;
  std::deque<std::pair<uint64_t, double>> peaks_;  // (second, units), the last 30 minutes
  double old_peak_ = 0;                            // the peak of what is older
};

// The items' key values for CapacityEvent and the per-key limits.
struct CapacityKeys {
  std::string partition_key, sort_key;  // DynamoDB JSON texts, "" = none
};

class CapacityManager {  // owned by Service; Service::capacity() returns it
 public:
  explicit CapacityManager(CapacityOptions options = {});
  CapacityManager(const CapacityManager&) = delete;
  CapacityManager& operator=(const CapacityManager&) = delete;

  // The store whose tables Snapshot lists (Service sets it).
  void SetStore(table::TableStore* store) { store_ = store; }
  void AddListener(CapacityListener* l);  // before serving
  std::vector<CapacityCounters> Snapshot() const;
  const CapacityOptions& options() const { return options_; }

  // True when events of `table` carry keys (per-key limits or a listener
  // want them): callers compute KeysOf only then.
  bool WantsKeys(std::string_view table) const {
    if (options_.enforce && options_.realism) return true;
    for (const CapacityListener* l : listeners_) {
      if (l->WantsKeys(table)) return true;
    }
    return false;
  }
  // The key texts of `item` (an item or a key) for the table (index == nullptr)
  // or a GSI (its first partition and sort key attributes).
  static CapacityKeys KeysOf(const table::TableDef& def, const table::IndexDef* index,
                             const table::Item& item);

  // Admission of a request on `def` (index: a GSI or LSI read, "" = the
  // table). A write checks the table and every GSI. Returns false with
  // DynamoDB's error in *refusal when throttled (counted and reported to
  // the listeners); Admit throws it.
  bool TryAdmit(const table::TableDef& def, const std::string& index, CapacityKind kind,
                const CapacityKeys& keys, ApiError* refusal);
  void Admit(const table::TableDef& def, const std::string& index, CapacityKind kind,
             const CapacityKeys& keys = {});
  // Charges consumed units (index "" = the table; an LSI's units go to the table).
  void Charge(const table::TableDef& def, const std::string& index, CapacityKind kind, double units,
              const CapacityKeys& keys = {});

  // UpdateTable's billing-mode switch limit: records a switch to
  // PAY_PER_REQUEST of the table with id `table_id` at now_ms, or returns
  // false (nothing recorded) when kMaxOnDemandSwitches happened in the 24
  // hours before. Durable when the manager has a store: the times are kept in
  // its SystemRecords ("billing-switches:<table id, 16 hex>" -> JSON array of
  // ms), read back on a table's first switch after a restart.
  bool RecordOnDemandSwitch(uint64_t table_id, uint64_t now_ms);

 private:
  enum class Limit { kNone, kProvisioned, kOnDemandMax, kAccount };
  struct Side {  // one kind (read or write) of one resource
    TokenBucket bucket;
    Limit limit = Limit::kNone;
    RampLimit ramp;
    std::unordered_map<std::string, TokenBucket> keys;  // per partition key value
  };
  struct Resource {  // a table or a GSI
    uint64_t table_id = 0;
    Side read, write;
    CapacityCounters counters;
  };

  uint64_t NowUs() const;
  Resource& Find(const table::TableDef& def, const std::string& index, uint64_t now_us);
  void Configure(Resource* r, const table::TableDef& def, const table::IndexDef* ix,
                 uint64_t now_us);
  // The reason a side refuses a request now, or "" when it admits.
  std::string Refuses(Side* s, CapacityKind kind, const std::string& pk, uint64_t now_us,
                      bool* key_range);
  void Notify(const CapacityEvent& e);

  CapacityOptions options_;
  table::TableStore* store_ = nullptr;
  std::vector<CapacityListener*> listeners_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Resource> resources_;  // (table, index)
  std::map<uint64_t, std::deque<uint64_t>> switches_;                  // table id -> ms
};

}  // namespace basalt::server::api

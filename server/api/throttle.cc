#include "server/api/throttle.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <optional>

#include "engine/base/logging.h"
#include "engine/table/table_store.h"
#include "server/api/json_value.h"

namespace basalt::server::api {

namespace json = boost::json;

namespace {
constexpr double kUsPerSecond = 1e6;
constexpr uint64_t kMsPerDay = uint64_t{24} * 3600 * 1000;
// Per-key buckets kept per resource side before idle (full) ones are dropped.
constexpr size_t kMaxKeyBuckets = 10000;

// DynamoDB's texts (the Developer Guide's error table and observed answers).
constexpr std::string_view kTableProvisionedMessage =
    "The level of configured provisioned throughput for the table was exceeded. Consider "
    "increasing your provisioning level with the UpdateTable API.";
constexpr std::string_view kIndexProvisionedMessage =
    "The level of configured provisioned throughput for one or more global secondary indexes of "
    "the table was exceeded. Consider increasing your provisioning level for the "
    "under-provisioned global secondary indexes with the UpdateTable API";
constexpr std::string_view kKeyRangeMessage =
    "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically "
    "scaling your table or index so please try again shortly. If exceptions persist, check if "
    "you have a hot key: "
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html";
constexpr std::string_view kOnDemandMaxMessage =
    "Throughput exceeds the maximum OnDemandThroughput configured on table or index";
constexpr std::string_view kAccountMessage =
    "Throughput exceeds the current throughput limit for your account. Please contact AWS "
    "Support at https://aws.amazon.com/support request a limit increase";
}  // namespace

// ---- TokenBucket ----

void TokenBucket::Configure(double rate, double capacity, uint64_t now_us) {
  if (configured_) {
    Refill(now_us);
  } else {
    tokens_ = capacity;
    last_us_ = now_us;
    configured_ = true;
  }
  rate_ = rate;
  capacity_ = capacity;
  tokens_ = std::min(tokens_, capacity_);
}

void TokenBucket::Refill(uint64_t now_us) {
  if (now_us > last_us_) {
    tokens_ = std::min(capacity_,
                       tokens_ + rate_ * static_cast<double>(now_us - last_us_) / kUsPerSecond);
    last_us_ = now_us;
  }
}

bool TokenBucket::Admits(uint64_t now_us) {
  Refill(now_us);
  return tokens_ > 0;
}

void TokenBucket::Take(double units, uint64_t now_us) {
  Refill(now_us);
  tokens_ -= units;
}

double TokenBucket::Tokens(uint64_t now_us) {
  Refill(now_us);
  return tokens_;
}

bool TokenBucket::Full(uint64_t now_us) const {
  const double elapsed = now_us > last_us_ ? static_cast<double>(now_us - last_us_) : 0;
  return tokens_ + rate_ * elapsed / kUsPerSecond >= capacity_;
}

// ---- RampLimit ----

void RampLimit::Advance(uint64_t now_us) {
  const uint64_t second = now_us / 1000000;
  if (second != second_) {
    if (second_units_ > 0) peaks_.emplace_back(second_, second_units_);
    second_ = second;
    second_units_ = 0;
  }
  const uint64_t window_s = kRampWindowUs / 1000000;
  while (!peaks_.empty() && peaks_.front().first + window_s <= second) {
    old_peak_ = std::max(old_peak_, peaks_.front().second);
    peaks_.pop_front();
  }
}

double RampLimit::Limit(uint64_t now_us) {
  Advance(now_us);
  return std::max(initial_, 2 * old_peak_);
}

bool RampLimit::Admits(uint64_t now_us) {
  const double limit = Limit(now_us);  // advances to now first
  return second_units_ < limit;
}

void RampLimit::Take(double units, uint64_t now_us) {
  Advance(now_us);
  second_units_ += units;
}

// ---- CapacityManager ----

CapacityManager::CapacityManager(CapacityOptions options) : options_(std::move(options)) {}

uint64_t CapacityManager::NowUs() const {
  if (options_.now_us) return options_.now_us();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

void CapacityManager::AddListener(CapacityListener* l) { listeners_.push_back(l); }

CapacityKeys CapacityManager::KeysOf(const table::TableDef& def, const table::IndexDef* index,
                                     const table::Item& item) {
  CapacityKeys k;
  const std::string* pk = nullptr;
  const std::string* sk = nullptr;
  if (index == nullptr) {
    pk = &def.partition_key.name;
    if (def.sort_key) sk = &def.sort_key->name;
  } else {
    if (!index->partition_key.empty()) pk = &index->partition_key[0].name;
    if (!index->sort_key.empty()) sk = &index->sort_key[0].name;
  }
  if (pk != nullptr) {
    if (const table::Value* v = item.Find(*pk)) k.partition_key = json::serialize(ValueToJson(*v));
  }
  if (sk != nullptr) {
    if (const table::Value* v = item.Find(*sk)) k.sort_key = json::serialize(ValueToJson(*v));
  }
  return k;
}

void CapacityManager::Configure(Resource* r, const table::TableDef& def, const table::IndexDef* ix,
                                uint64_t now_us) {
  const bool provisioned = def.billing_mode == table::BillingMode::kProvisioned;
  const table::ProvisionedThroughput& p = ix != nullptr ? ix->provisioned : def.provisioned;
  const table::OnDemandThroughput& od = ix != nullptr ? ix->on_demand : def.on_demand;
  CapacityCounters& c = r->counters;
  c.billing_mode = provisioned ? "PROVISIONED" : "PAY_PER_REQUEST";
  c.provisioned_read = provisioned ? static_cast<double>(p.read_units) : 0;
  c.provisioned_write = provisioned ? static_cast<double>(p.write_units) : 0;
  auto side = [&](Side* s, uint64_t units, const std::optional<uint64_t>& max, uint64_t quota) {
    double rate = 0;
    double capacity = 0;
    if (provisioned) {
      s->limit = Limit::kProvisioned;
      rate = static_cast<double>(units);
      capacity = rate * kBurstSeconds;
    } else if (max && *max <= quota) {
      s->limit = Limit::kOnDemandMax;
      rate = capacity = static_cast<double>(*max);
    } else {
      s->limit = Limit::kAccount;
      rate = capacity = static_cast<double>(quota);
    }
    if (s->bucket.rate() != rate || s->bucket.capacity() != capacity) {
      s->bucket.Configure(rate, capacity, now_us);
    }
  };
  side(&r->read, p.read_units, od.max_read_request_units, options_.table_max_read_units);
  side(&r->write, p.write_units, od.max_write_request_units, options_.table_max_write_units);
}

CapacityManager::Resource& CapacityManager::Find(const table::TableDef& def,
                                                 const std::string& index, uint64_t now_us) {
  const table::IndexDef* ix = nullptr;
  std::string name = index;
  if (!index.empty()) {
    ix = def.FindIndex(index);
    if (ix == nullptr || !ix->global()) {  // an LSI shares the table's capacity
      ix = nullptr;
      name.clear();
    }
  }
  Resource& r = resources_[{def.name, name}];
  if (r.table_id != def.table_id) {  // new, or a table re-created under the name
    r = Resource();
    r.table_id = def.table_id;
    r.counters.table = def.name;
    r.counters.index = name;
    r.read.ramp = RampLimit(kOnDemandInitialReadUnits);
    r.write.ramp = RampLimit(kOnDemandInitialWriteUnits);
  }
  Configure(&r, def, ix, now_us);
  return r;
}

std::string CapacityManager::Refuses(Side* s, CapacityKind kind, const std::string& pk,
                                     uint64_t now_us, bool* key_range) {
  const char* k = kind == CapacityKind::kRead ? "Read" : "Write";
  *key_range = false;
  if (!s->bucket.Admits(now_us)) {
    switch (s->limit) {
      case Limit::kProvisioned:
        return fmt::format("{}ProvisionedThroughputExceeded", k);
      case Limit::kOnDemandMax:
        return fmt::format("{}MaxOnDemandThroughputExceeded", k);
      case Limit::kAccount:
        return fmt::format("{}AccountLimitExceeded", k);
      case Limit::kNone:
        break;
    }
  }
  if (!options_.realism) return "";
  *key_range = true;
  if (s->limit != Limit::kProvisioned && !s->ramp.Admits(now_us)) {
    return fmt::format("{}KeyRangeThroughputExceeded", k);
  }
  if (!pk.empty()) {
    auto it = s->keys.find(pk);
    if (it != s->keys.end() && !it->second.Admits(now_us)) {
      return fmt::format("{}KeyRangeThroughputExceeded", k);
    }
  }
  return "";
}

bool CapacityManager::TryAdmit(const table::TableDef& def, const std::string& index,
                               CapacityKind kind, const CapacityKeys& keys, ApiError* refusal) {
  if (!options_.enforce) return true;
  const uint64_t now = NowUs();
  // The resources to check: the one read, or the table and its GSIs.
  std::vector<std::string> names{index};
  if (kind == CapacityKind::kWrite) {
    names = {""};
    for (const table::IndexDef& ix : def.indexes) {
      if (ix.global()) names.push_back(ix.name);
    }
  }
  std::string reason;
  std::string throttled_index;
  bool key_range = false;
  bool provisioned = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const std::string& n : names) {
      Resource& r = Find(def, n, now);
      Side& s = kind == CapacityKind::kRead ? r.read : r.write;
      // The key-range limit of a GSI is the index's key; only the table's
      // (or the read index's) key is known before the operation.
      const bool own_key = kind == CapacityKind::kRead || n.empty();
      reason = Refuses(&s, kind, own_key ? keys.partition_key : std::string(), now, &key_range);
      if (reason.empty()) continue;
      throttled_index = r.counters.index;
      provisioned = s.limit == Limit::kProvisioned;
      (kind == CapacityKind::kRead ? r.counters.read_throttle_events
                                   : r.counters.write_throttle_events)++;
      r.counters.throttled_requests++;
      break;
    }
  }
  if (reason.empty()) return true;
  CapacityEvent e;
  e.table = def.name;
  e.index = throttled_index;
  e.kind = kind;
  e.throttled = true;
  if (throttled_index.empty() || kind == CapacityKind::kRead) {
    e.partition_key = keys.partition_key;
    e.sort_key = keys.sort_key;
  }
  Notify(e);

  const bool on_index = !throttled_index.empty();
  std::string resource =
      fmt::format("arn:aws:dynamodb:{}:{}:table/{}", options_.region, options_.account, def.name);
  if (on_index) resource += "/index/" + throttled_index;
  const bool throttling = !key_range && !provisioned;  // the on-demand caps
  std::string_view message =
      key_range    ? kKeyRangeMessage
      : throttling ? (reason.find("MaxOnDemand") != std::string::npos ? kOnDemandMaxMessage
                                                                      : kAccountMessage)
      : on_index   ? kIndexProvisionedMessage
                   : kTableProvisionedMessage;
  *refusal =
      DynamoError(throttling ? "ThrottlingException" : "ProvisionedThroughputExceededException",
                  std::string(message));
  refusal->extra["ThrottlingReasons"] = json::array{json::object{
      {"reason", std::string(on_index ? "Index" : "Table") + reason}, {"resource", resource}}};
  return false;
}

void CapacityManager::Admit(const table::TableDef& def, const std::string& index, CapacityKind kind,
                            const CapacityKeys& keys) {
  ApiError refusal;
  if (!TryAdmit(def, index, kind, keys, &refusal)) throw refusal;
}

void CapacityManager::Charge(const table::TableDef& def, const std::string& index,
                             CapacityKind kind, double units, const CapacityKeys& keys) {
  if (units <= 0) return;
  const uint64_t now = NowUs();
  std::string name;
  {
    std::lock_guard<std::mutex> l(mu_);
    Resource& r = Find(def, index, now);
    name = r.counters.index;
    Side& s = kind == CapacityKind::kRead ? r.read : r.write;
    (kind == CapacityKind::kRead ? r.counters.consumed_read : r.counters.consumed_write) += units;
    s.bucket.Take(units, now);
    if (options_.realism) {
      s.ramp.Take(units, now);
      if (!keys.partition_key.empty()) {
        if (s.keys.size() >= kMaxKeyBuckets) {
          std::erase_if(s.keys, [&](const auto& kv) { return kv.second.Full(now); });
        }
        const double rate =
            kind == CapacityKind::kRead ? kPartitionReadUnits : kPartitionWriteUnits;
        auto [it, inserted] = s.keys.try_emplace(keys.partition_key);
        if (inserted) it->second.Configure(rate, rate, now);
        it->second.Take(units, now);
      }
    }
  }
  if (listeners_.empty()) return;
  CapacityEvent e;
  e.table = def.name;
  e.index = std::move(name);
  e.kind = kind;
  e.units = units;
  e.partition_key = keys.partition_key;
  e.sort_key = keys.sort_key;
  Notify(e);
}

void CapacityManager::Notify(const CapacityEvent& e) {
  for (CapacityListener* l : listeners_) l->OnCapacity(e);
}

bool CapacityManager::RecordOnDemandSwitch(uint64_t table_id, uint64_t now_ms) {
  const std::string key = fmt::format("billing-switches:{:016x}", table_id);
  std::lock_guard<std::mutex> l(mu_);
  auto [it, inserted] = switches_.try_emplace(table_id);
  std::deque<uint64_t>& times = it->second;
  if (inserted && store_ != nullptr) {
    std::string stored;
    bool found = false;
    if (store_->system_records()->Get(key, &stored, &found).ok() && found) {
      boost::json::error_code ec;
      boost::json::value v = boost::json::parse(stored, ec);
      if (!ec && v.is_array()) {
        for (const boost::json::value& t : v.get_array()) {
          if (t.is_number()) times.push_back(t.to_number<uint64_t>());
        }
      }
    }
  }
  while (!times.empty() && times.front() + kMsPerDay <= now_ms) times.pop_front();
  if (times.size() >= kMaxOnDemandSwitches) return false;
  times.push_back(now_ms);
  if (store_ != nullptr) {
    boost::json::array a;
    for (uint64_t t : times) a.emplace_back(t);
    Status s = store_->system_records()->Put(key, boost::json::serialize(a));
    if (!s.ok())
      LogInfo("billing-mode switch of table {} not recorded: {}", table_id, s.ToString());
  }
  return true;
}

std::vector<CapacityCounters> CapacityManager::Snapshot() const {
  std::vector<CapacityCounters> out;
  std::vector<table::TableDef> defs;
  if (store_ != nullptr) {
    for (const std::string& name : store_->ListTables()) {
      table::TableDef def;
      if (store_->DescribeTable(name, &def).ok()) defs.push_back(std::move(def));
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  for (const table::TableDef& def : defs) {
    const bool provisioned = def.billing_mode == table::BillingMode::kProvisioned;
    auto one = [&](const std::string& index, const table::ProvisionedThroughput& p) {
      CapacityCounters c;
      auto it = resources_.find({def.name, index});
      if (it != resources_.end() && it->second.table_id == def.table_id) c = it->second.counters;
      c.table = def.name;
      c.index = index;
      c.billing_mode = provisioned ? "PROVISIONED" : "PAY_PER_REQUEST";
      c.provisioned_read = provisioned ? static_cast<double>(p.read_units) : 0;
      c.provisioned_write = provisioned ? static_cast<double>(p.write_units) : 0;
      out.push_back(std::move(c));
    };
    one("", def.provisioned);
    for (const table::IndexDef& ix : def.indexes) {
      if (ix.global()) one(ix.name, ix.provisioned);
    }
  }
  if (store_ == nullptr) {  // no catalog to list (unit tests): what was seen
    for (const auto& [key, r] : resources_) out.push_back(r.counters);
  }
  return out;
}

}  // namespace basalt::server::api

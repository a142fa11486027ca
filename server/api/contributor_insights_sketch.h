// Contributor Insights' counting: the most accessed and most throttled keys
// of each table and global secondary index that has it enabled, over sliding
// time windows, in bounded memory. The API (UpdateContributorInsights, ...)
// and the settings' durability are contributor_insights.h's; this knows
// nothing of JSON requests or the store. (It lives in server/api, not
// server/metrics, because the Service owns it and basalt_metrics depends on
// basalt_server; /metrics appends its lines with AppendPrometheus.)
//
// DynamoDB's rules (Developer Guide, "CloudWatch Contributor Insights for
// DynamoDB: How it works"), one sketch each:
//   PKC  most accessed partition keys          value: consumed capacity units
//   SKC  most accessed partition + sort keys   (read and write, as DynamoDB's
//                                              "items that consume the most
//                                              read and write capacity")
//   PKT  most throttled partition keys         value: throttled requests
//   SKT  most throttled partition + sort keys
// SKC/SKT exist only for a table or index with a sort key; mode
// THROTTLED_KEYS keeps only PKT/SKT.
//
// The sketch (SlidingTopK): a ring of `buckets` time buckets of `bucket_ms`
// each (default 30 x 10 s = the last 5 minutes); each bucket is a
// Space-Saving summary (Metwally, Agrawal, El Abbadi, "Efficient computation
// of frequent and top-k elements in data streams", 2005) of `counters`
// counters. A key seen while the bucket is full takes over the smallest
// counter and inherits its count as its error bound, so every key whose
// weight in the bucket exceeds (bucket total / counters) is guaranteed to be
// held, and a held key's count overestimates its true weight by at most its
// error. A window query (60 s, 300 s) merges the buckets whose time falls in
// the window (the current, partial bucket included: the window covers
// between window - bucket_ms and window of history) by summing each key's
// counts. Memory: at most buckets x counters keys per rule, each its key
// text (a partition key's DynamoDB JSON, at most ~2 KB; + the sort key's,
// ~1 KB) plus ~100 bytes of bookkeeping, whatever the number of distinct
// keys in the stream.
//
// Thread safety: ContributorInsights' methods may be called concurrently;
// Record (the request path) takes a shared lock on the rule map and one
// rule set's mutex, and does nothing for a table without insights.
// SpaceSaving and SlidingTopK are not thread-safe (the owner locks).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace basalt::server::api {

// One key and its (over)estimated weight.
struct Contributor {
  std::string key;
  double value = 0;
  double error = 0;  // value - error <= the true weight <= value
};

// A Space-Saving summary of at most `capacity` keys.
class SpaceSaving {
 public:
  explicit SpaceSaving(size_t capacity);

  void Add(std::string_view key, double weight);
  void Clear();
  // The held keys, in no particular order.
  const std::vector<Contributor>& entries() const { return entries_; }
  size_t capacity() const { return capacity_; }
  double total() const { return total_; }
  // Bytes held (keys, counters, index), approximately.
  size_t MemoryBytes() const;

 private:
  size_t capacity_;
  double total_ = 0;
  std::vector<Contributor> entries_;
  std::unordered_map<std::string, size_t> index_;  // key -> position in entries_
};

class SlidingTopK {
 public:
  struct Options {
    uint64_t bucket_ms = 10'000;
    size_t buckets = 30;   // history = buckets x bucket_ms (5 minutes)
    size_t counters = 64;  // per bucket
  };
  explicit SlidingTopK(const Options& options);

  void Add(uint64_t now_ms, std::string_view key, double weight);
  // The `n` heaviest keys of the last `window_ms` (at most the history),
  // heaviest first; ties in key order.
  std::vector<Contributor> Top(uint64_t now_ms, uint64_t window_ms, size_t n) const;
  void Clear();
  size_t MemoryBytes() const;

 private:
  struct Bucket {
    uint64_t epoch = UINT64_MAX;  // now_ms / bucket_ms of its data; MAX = empty
    SpaceSaving summary;
  };
  Options options_;
  std::vector<Bucket> ring_;
};

// The four rule kinds, in the order DynamoDB lists the rules.
enum class RuleKind { kPKC, kSKC, kPKT, kSKT };
const char* RuleKindName(RuleKind k);  // "PKC", ...

// The rule sets of every table and index with insights enabled.
class ContributorInsights {
 public:
  struct Options {
    SlidingTopK::Options sketch;
    // Milliseconds since the Unix epoch; unset = the system clock.
    std::function<uint64_t()> now_ms;
  };
  explicit ContributorInsights(Options options);
  ContributorInsights() : ContributorInsights(Options{}) {}

  // One rule to keep: its kind and its CloudWatch name.
  struct RuleSpec {
    RuleKind kind;
    std::string name;
  };
  // Starts (or reconfigures) counting for `table` / `index` ("" = the table)
  // with these rules. Rules kept across a reconfiguration keep their counts.
  void Enable(const std::string& table, const std::string& index, std::vector<RuleSpec> rules);
  // Stops counting and forgets the counts. No-op when not enabled.
  void Disable(const std::string& table, const std::string& index);
  bool Enabled(const std::string& table, const std::string& index) const;
  // Whether any rule of `table` or of its indexes is on: the request path
  // computes the key texts Record needs only then. Lock-free when no table
  // has insights on.
  bool Tracks(std::string_view table) const;
  // Every (table, index) with rules.
  std::vector<std::pair<std::string, std::string>> List() const;

  // One access or throttled request. partition_key / sort_key: the key
  // values' DynamoDB JSON text ({"S":"x"}); an empty partition_key (a Scan)
  // counts nowhere, an empty sort_key only for the PK rules. Accessed rules
  // add `units` (consumed capacity), throttled rules add 1 per throttled
  // request. Cheap and thread-safe.
  void Record(std::string_view table, std::string_view index, std::string_view partition_key,
              std::string_view sort_key, double units, bool throttled);

  struct RuleReport {
    RuleKind kind;
    std::string name;
    // Heaviest first; key: the keys' JSON texts, partition key then (SK
    // rules) sort key.
    struct Top {
      std::vector<std::string> keys;
      double value = 0;
    };
    std::vector<Top> top;
  };
  // The top `n` of every rule of table/index over the last `window_ms`;
  // false when not enabled.
  bool Report(const std::string& table, const std::string& index, uint64_t window_ms, size_t n,
              std::vector<RuleReport>* out) const;

  // Appends this module's metrics in Prometheus text format 0.0.4:
  //   basalt_contributor_insights_top_value{table,index,rule,rank,key}
  //     (gauge; the top 10 of each rule over the last 60 s; key = the keys
  //     as a JSON array, e.g. [{"S":"a"},{"N":"1"}]; rank 1 = heaviest)
  //   basalt_contributor_insights_sketch_bytes{table,index} (gauge)
  // with their # HELP / # TYPE lines (none when nothing is enabled).
  void AppendPrometheus(std::string* out) const;

  // Separates the partition and sort key texts in an SK rule's key (never
  // inside compact JSON text).
  static constexpr char kKeySeparator = '\n';

 private:
  struct Rule {
    RuleKind kind;
    std::string name;
    SlidingTopK sketch;
  };
  struct RuleSet {
    std::mutex mu;
    std::vector<Rule> rules;  // guarded by mu
  };
  using Key = std::pair<std::string, std::string>;  // (table, index)
  struct KeyLess {
    using is_transparent = void;
    bool operator()(const Key& a, const Key& b) const { return a < b; }
    bool operator()(const std::pair<std::string_view, std::string_view>& a, const Key& b) const {
      return a < std::pair<std::string_view, std::string_view>(b.first, b.second);
    }
    bool operator()(const Key& a, const std::pair<std::string_view, std::string_view>& b) const {
      return std::pair<std::string_view, std::string_view>(a.first, a.second) < b;
    }
  };
  uint64_t NowMs() const;

  Options options_;
  mutable std::shared_mutex mu_;
  std::map<Key, std::shared_ptr<RuleSet>, KeyLess> sets_;  // guarded by mu_
  std::atomic<size_t> set_count_{0};                       // sets_.size()
};

}  // namespace basalt::server::api

// Metrics registry and Prometheus text exposition (format 0.0.4,
// https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Two kinds of metrics:
//   - instruments updated on the request path (Counter, Gauge, Histogram):
//     created once through the Registry (get-or-create under its mutex, a
//     stable pointer afterwards) and then updated with relaxed atomics only —
//     no lock, no allocation per update;
//   - values read when /metrics is scraped (engine shape, capacity, process):
//     a Collector writes them straight into the Exposition.
//
// Label cardinality is the caller's duty: label values must come from bounded
// sets (operation names, DynamoDB error types, tables of the catalog).
//
// Thread safety: every method of Counter, Gauge and Histogram may be called
// concurrently; Registry's methods too (Text() runs the collectors one scrape
// at a time, under the registry's scrape mutex).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace basalt::server::metrics {

// (label name, label value) pairs, in the order they are printed.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing count. Spread over a few cache lines, so that
// threads of different cores rarely bump the same one.
class Counter {
 public:
  void Inc(uint64_t n = 1) { slots_[Slot()].v.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const;

 private:
  static constexpr size_t kSlots = 4;
  static size_t Slot();
  struct alignas(64) Cell {
    std::atomic<uint64_t> v{0};
  };
  std::array<Cell, kSlots> slots_;
};

// A value that goes up and down (or a counter kept as a double).
class Gauge {
 public:
  void Set(double v) { v_.store(v, std::memory_order_relaxed); }
  void Add(double d) { v_.fetch_add(d, std::memory_order_relaxed); }
  double Value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

// Cumulative histogram with fixed upper bounds (Prometheus' "le"), plus the
// sum and count of the observations.
class Histogram {
 public:
  // bounds: strictly increasing, finite; +Inf is implied.
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (= count)
    double sum = 0;
    uint64_t count = 0;
  };
  // Not atomic across buckets: a concurrent Observe may show in count before
  // its bucket (the snapshot clamps so the buckets stay cumulative).
  Snapshot Read() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1 (the last: +Inf)
  std::atomic<double> sum_{0};
};

// Request latencies, seconds: 100 us to 10 s.
std::vector<double> LatencyBuckets();

// The text of one scrape, families in the order they were first written.
// Each family gets one "# HELP" and one "# TYPE" line followed by all its
// samples, whatever order the samples were added in.
class Exposition {
 public:
  enum class Type { kCounter, kGauge, kHistogram, kUntyped };
  // Declares family `name` (idempotent; the first help and type win).
  void Family(std::string_view name, Type type, std::string_view help);
  // One sample line: family `family` (declared before, else untyped),
  // sample name family + suffix (e.g. "_bucket"), labels, value.
  void Sample(std::string_view family, std::string_view suffix, const Labels& labels, double value);
  // Shorthand: Family + Sample with no suffix.
  void Add(std::string_view name, Type type, std::string_view help, const Labels& labels,
           double value) {
    Family(name, type, help);
    Sample(name, "", labels, value);
  }
  void AddHistogram(std::string_view name, std::string_view help, const Labels& labels,
                    const Histogram::Snapshot& h);
  std::string Text() const;

 private:
  struct Fam {
    Type type = Type::kUntyped;
    std::string help;
    std::string lines;
  };
  std::vector<std::string> order_;
  std::map<std::string, Fam, std::less<>> families_;
};

// "a\\b\"c\n" -> a\\\\b\\\"c\\n: a label value as the text format quotes it.
std::string EscapeLabelValue(std::string_view v);
// A sample value: integers without a fraction, others in shortest round-trip
// form, "+Inf", "-Inf", "NaN".
std::string FormatValue(double v);
// True for a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) / label name
// ([a-zA-Z_][a-zA-Z0-9_]*).
bool ValidMetricName(std::string_view name);
bool ValidLabelName(std::string_view name);

class Registry {
 public:
  using Collector = std::function<void(Exposition*)>;

  // Get-or-create the instrument of family `name` with these labels. The
  // reference stays valid as long as the Registry. A name registered with
  // another type, or an invalid name, is a programming error: it throws
  // std::invalid_argument.
  Counter& GetCounter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& GetGauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& GetHistogram(std::string_view name, std::string_view help, const Labels& labels,
                          const std::vector<double>& bounds);
  // Runs at every scrape, after the instruments are written.
  void AddCollector(Collector c);

  // Writes every instrument, then runs the collectors.
  void Collect(Exposition* out) const;
  // The whole scrape as Prometheus text.
  std::string Text() const;

 private:
  struct Entry {
    Exposition::Type type;
    std::string help;
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Gauge>> gauges;
    std::map<Labels, std::unique_ptr<Histogram>> histograms;
  };
  Entry& FamilyLocked(std::string_view name, Exposition::Type type, std::string_view help,
                      const Labels& labels);

  mutable std::mutex mu_;  // guards families_ (the map, not the instruments) and collectors_
  std::map<std::string, Entry, std::less<>> families_;
  std::vector<std::string> order_;
  std::vector<Collector> collectors_;
  mutable std::mutex scrape_mu_;  // one scrape at a time (collectors need not be reentrant)
};

}  // namespace basalt::server::metrics

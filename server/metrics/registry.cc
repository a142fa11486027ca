#include "server/metrics/registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <thread>

namespace basalt::server::metrics {

// ---- Counter ----

size_t Counter::Slot() {
  // A thread keeps its slot for its life.
  static thread_local const size_t slot = std::hash<std::thread::id>()(std::this_thread::get_id());
  return slot % kSlots;
}

uint64_t Counter::Value() const {
  uint64_t v = 0;
  for (const Cell& c : slots_) v += c.v.load(std::memory_order_relaxed);
  return v;
}

// ---- Histogram ----

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i + 1 < bounds_.size(); i++) {
    if (!(bounds_[i] < bounds_[i + 1])) {
      throw std::invalid_argument("histogram bounds must be strictly increasing");
    }
  }
  for (size_t i = 0; i <= bounds_.size(); i++) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  // Few buckets: a linear search is as fast as a binary one.
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) i++;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.bounds = bounds_;
  s.cumulative.resize(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); i++) {
    total += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = total;
  }
  s.count = total;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

// ---- text format ----

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

namespace {
bool NameChar(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}
bool ValidName(std::string_view name, bool colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); i++) {
    if (!NameChar(name[i], i == 0, colon)) return false;
  }
  return true;
}
const char* TypeName(Exposition::Type t) {
  switch (t) {
    case Exposition::Type::kCounter:
      return "counter";
    case Exposition::Type::kGauge:
      return "gauge";
    case Exposition::Type::kHistogram:
      return "histogram";
    case Exposition::Type::kUntyped:
      break;
  }
  return "untyped";
}
std::string EscapeHelp(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}
}  // namespace

bool ValidMetricName(std::string_view name) { return ValidName(name, true); }
bool ValidLabelName(std::string_view name) { return ValidName(name, false); }

void Exposition::Family(std::string_view name, Type type, std::string_view help) {
  if (families_.find(name) != families_.end()) return;
  Fam& f = families_[std::string(name)];
  f.type = type;
  f.help = std::string(help);
  order_.emplace_back(name);
}

void Exposition::Sample(std::string_view family, std::string_view suffix, const Labels& labels,
                        double value) {
  auto it = families_.find(family);
  if (it == families_.end()) {
    Family(family, Type::kUntyped, "");
    it = families_.find(family);
  }
  std::string& out = it->second.lines;
  out.append(family);
  out.append(suffix);
  if (!labels.empty()) {
    out += '{';
    for (size_t i = 0; i < labels.size(); i++) {
      if (i > 0) out += ',';
      out += labels[i].first;
      out += "=\"";
      out += EscapeLabelValue(labels[i].second);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += FormatValue(value);
  out += '\n';
}

void Exposition::AddHistogram(std::string_view name, std::string_view help, const Labels& labels,
                              const Histogram::Snapshot& h) {
  Family(name, Type::kHistogram, help);
  Labels with_le = labels;
  with_le.emplace_back("le", "");
  for (size_t i = 0; i <= h.bounds.size(); i++) {
    with_le.back().second = i < h.bounds.size() ? FormatValue(h.bounds[i]) : "+Inf";
    Sample(name, "_bucket", with_le, static_cast<double>(h.cumulative[i]));
  }
  Sample(name, "_sum", labels, h.sum);
  Sample(name, "_count", labels, static_cast<double>(h.count));
}

std::string Exposition::Text() const {
  std::string out;
  for (const std::string& name : order_) {
    const Fam& f = families_.find(name)->second;
    if (!f.help.empty()) out += fmt::format("# HELP {} {}\n", name, EscapeHelp(f.help));
    out += fmt::format("# TYPE {} {}\n", name, TypeName(f.type));
    out += f.lines;
  }
  return out;
}

// ---- Registry ----

Registry::Entry& Registry::FamilyLocked(std::string_view name, Exposition::Type type,
                                        std::string_view help, const Labels& labels) {
  if (!ValidMetricName(name)) throw std::invalid_argument(fmt::format("metric name '{}'", name));
  for (const auto& [label, value] : labels) {
    if (!ValidLabelName(label) || label.starts_with("__")) {
      throw std::invalid_argument(fmt::format("label name '{}' of {}", label, name));
    }
  }
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Entry{type, std::string(help), {}, {}, {}}).first;
    order_.emplace_back(name);
  } else if (it->second.type != type) {
    throw std::invalid_argument(fmt::format("metric {} registered with another type", name));
  }
  return it->second;
}

Counter& Registry::GetCounter(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard<std::mutex> l(mu_);
  auto& slot = FamilyLocked(name, Exposition::Type::kCounter, help, labels).counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Registry::GetGauge(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard<std::mutex> l(mu_);
  auto& slot = FamilyLocked(name, Exposition::Type::kGauge, help, labels).gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Registry::GetHistogram(std::string_view name, std::string_view help,
                                  const Labels& labels, const std::vector<double>& bounds) {
  std::lock_guard<std::mutex> l(mu_);
  auto& slot = FamilyLocked(name, Exposition::Type::kHistogram, help, labels).histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(bounds);
  return *slot;
}

void Registry::AddCollector(Collector c) {
  std::lock_guard<std::mutex> l(mu_);
  collectors_.push_back(std::move(c));
}

void Registry::Collect(Exposition* out) const {
  std::vector<Collector> collectors;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const std::string& name : order_) {
      const Entry& e = families_.find(name)->second;
      out->Family(name, e.type, e.help);
      for (const auto& [labels, c] : e.counters) {
        out->Sample(name, "", labels, static_cast<double>(c->Value()));
      }
      for (const auto& [labels, g] : e.gauges) out->Sample(name, "", labels, g->Value());
      for (const auto& [labels, h] : e.histograms)
        out->AddHistogram(name, e.help, labels, h->Read());
    }
    collectors = collectors_;
  }
  for (const Collector& c : collectors) c(out);
}

std::string Registry::Text() const {
  std::lock_guard<std::mutex> l(scrape_mu_);
  Exposition e;
  Collect(&e);
  return e.Text();
}

}  // namespace basalt::server::metrics

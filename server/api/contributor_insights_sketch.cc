#include "server/api/contributor_insights_sketch.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace basalt::server::api {

// ---- SpaceSaving ----

SpaceSaving::SpaceSaving(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

void SpaceSaving::Add(std::string_view key, double weight) {
  if (weight <= 0) return;
  total_ += weight;
  // C++20 has no heterogeneous lookup for unordered_map without a custom
  // hash; the key is short, so the copy is cheap next to the hashing.
  std::string k(key);
  if (auto it = index_.find(k); it != index_.end()) {
    entries_[it->second].value += weight;
    return;
  }
  if (entries_.size() < capacity_) {
    index_.emplace(k, entries_.size());
    entries_.push_back(Contributor{std::move(k), weight, 0});
    return;
  }
  // Full: the new key takes over the smallest counter (O(capacity) scan,
  // ~64 counters).
  size_t min = 0;
  for (size_t i = 1; i < entries_.size(); i++) {
    if (entries_[i].value < entries_[min].value) min = i;
  }
  Contributor& e = entries_[min];
  index_.erase(e.key);
  index_.emplace(k, min);
  e.error = e.value;
  e.value += weight;
  e.key = std::move(k);
}

void SpaceSaving::Clear() {
  entries_.clear();
  index_.clear();
  total_ = 0;
}

size_t SpaceSaving::MemoryBytes() const {
  size_t bytes = sizeof(*this) + entries_.capacity() * sizeof(Contributor);
  for (const Contributor& e : entries_) {
    // The key twice (entry and index) plus a hash node.
    bytes += 2 * e.key.capacity() + sizeof(std::string) + sizeof(size_t) + 2 * sizeof(void*);
  }
  return bytes;
}

// ---- SlidingTopK ----

SlidingTopK::SlidingTopK(const Options& options) : options_(options) {
  if (options_.bucket_ms == 0) options_.bucket_ms = 1;
  if (options_.buckets == 0) options_.buckets = 1;
  ring_.reserve(options_.buckets);
  for (size_t i = 0; i < options_.buckets; i++) {
    ring_.push_back(Bucket{UINT64_MAX, SpaceSaving(options_.counters)});
  }
}

void SlidingTopK::Add(uint64_t now_ms, std::string_view key, double weight) {
  const uint64_t epoch = now_ms / options_.bucket_ms;
  Bucket& b = ring_[epoch % ring_.size()];
  if (b.epoch != epoch) {
    b.summary.Clear();
    b.epoch = epoch;
  }
  b.summary.Add(key, weight);
}

std::vector<Contributor> SlidingTopK::Top(uint64_t now_ms, uint64_t window_ms, size_t n) const {
  const uint64_t epoch = now_ms / options_.bucket_ms;
  uint64_t span = (window_ms + options_.bucket_ms - 1) / options_.bucket_ms;
  span = std::clamp<uint64_t>(span, 1, ring_.size());
  std::unordered_map<std::string_view, Contributor> merged;
  for (const Bucket& b : ring_) {
    // Buckets of epochs epoch - span + 1 .. epoch.
    if (b.epoch == UINT64_MAX || b.epoch > epoch || epoch - b.epoch >= span) continue;
    for (const Contributor& e : b.summary.entries()) {
      Contributor& m = merged[e.key];
      if (m.key.empty()) m.key = e.key;
      m.value += e.value;
      m.error += e.error;
    }
  }
  std::vector<Contributor> out;
  out.reserve(merged.size());
  for (auto& [k, c] : merged) out.push_back(std::move(c));
  auto heavier = [](const Contributor& a, const Contributor& b) {
    return a.value != b.value ? a.value > b.value : a.key < b.key;
  };
  if (out.size() > n) {
    std::partial_sort(out.begin(), out.begin() + static_cast<ptrdiff_t>(n), out.end(), heavier);
    out.resize(n);
  } else {
    std::sort(out.begin(), out.end(), heavier);
  }
  return out;
}

void SlidingTopK::Clear() {
  for (Bucket& b : ring_) {
    b.summary.Clear();
    b.epoch = UINT64_MAX;
  }
}

size_t SlidingTopK::MemoryBytes() const {
  size_t bytes = sizeof(*this);
  for (const Bucket& b : ring_) bytes += b.summary.MemoryBytes();
  return bytes;
}

// ---- ContributorInsights ----

const char* RuleKindName(RuleKind k) {
  switch (k) {
    case RuleKind::kPKC:
      return "PKC";
    case RuleKind::kSKC:
      return "SKC";
    case RuleKind::kPKT:
      return "PKT";
    case RuleKind::kSKT:
      return "SKT";
  }
  return "?";
}

ContributorInsights::ContributorInsights(Options options) : options_(std::move(options)) {}

uint64_t ContributorInsights::NowMs() const {
  if (options_.now_ms) return options_.now_ms();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

void ContributorInsights::Enable(const std::string& table, const std::string& index,
                                 std::vector<RuleSpec> specs) {
  std::shared_ptr<RuleSet> set;
  {
    std::unique_lock lock(mu_);
    auto& slot = sets_[Key(table, index)];
    if (!slot) slot = std::make_shared<RuleSet>();
    set = slot;
    set_count_ = sets_.size();
  }
  std::lock_guard lock(set->mu);
  std::vector<Rule> rules;
  for (RuleSpec& spec : specs) {
    auto it = std::find_if(set->rules.begin(), set->rules.end(),
                           [&](const Rule& r) { return r.kind == spec.kind; });
    if (it != set->rules.end()) {
      it->name = std::move(spec.name);
      rules.push_back(std::move(*it));
    } else {
      rules.push_back(Rule{spec.kind, std::move(spec.name), SlidingTopK(options_.sketch)});
    }
  }
  set->rules = std::move(rules);
}

void ContributorInsights::Disable(const std::string& table, const std::string& index) {
  std::unique_lock lock(mu_);
  sets_.erase(Key(table, index));
  set_count_ = sets_.size();
}

bool ContributorInsights::Tracks(std::string_view table) const {
  if (set_count_.load(std::memory_order_relaxed) == 0) return false;
  std::shared_lock lock(mu_);
  auto it = sets_.lower_bound(std::pair<std::string_view, std::string_view>(table, ""));
  return it != sets_.end() && it->first.first == table;
}

bool ContributorInsights::Enabled(const std::string& table, const std::string& index) const {
  std::shared_lock lock(mu_);
  return sets_.count(Key(table, index)) != 0;
}

std::vector<std::pair<std::string, std::string>> ContributorInsights::List() const {
  std::shared_lock lock(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(sets_.size());
  for (const auto& [k, v] : sets_) out.push_back(k);
  return out;
}

void ContributorInsights::Record(std::string_view table, std::string_view index,
                                 std::string_view partition_key, std::string_view sort_key,
                                 double units, bool throttled) {
  if (partition_key.empty()) return;
  std::shared_ptr<RuleSet> set;
  {
    std::shared_lock lock(mu_);
    if (sets_.empty()) return;
    auto it = sets_.find(std::pair<std::string_view, std::string_view>(table, index));
    if (it == sets_.end()) return;
    set = it->second;
  }
  const uint64_t now = NowMs();
  std::string composite;
  std::lock_guard lock(set->mu);
  for (Rule& r : set->rules) {
    const bool sk_rule = r.kind == RuleKind::kSKC || r.kind == RuleKind::kSKT;
    const bool throttle_rule = r.kind == RuleKind::kPKT || r.kind == RuleKind::kSKT;
    if (throttle_rule != throttled) continue;
    const double weight = throttled ? 1.0 : units;
    if (weight <= 0) continue;
    if (!sk_rule) {
      r.sketch.Add(now, partition_key, weight);
    } else if (!sort_key.empty()) {
      if (composite.empty()) {
        composite.reserve(partition_key.size() + 1 + sort_key.size());
        composite.append(partition_key).push_back(kKeySeparator);
        composite.append(sort_key);
      }
      r.sketch.Add(now, composite, weight);
    }
  }
}

bool ContributorInsights::Report(const std::string& table, const std::string& index,
                                 uint64_t window_ms, size_t n, std::vector<RuleReport>* out) const {
  out->clear();
  std::shared_ptr<RuleSet> set;
  {
    std::shared_lock lock(mu_);
    auto it = sets_.find(Key(table, index));
    if (it == sets_.end()) return false;
    set = it->second;
  }
  const uint64_t now = NowMs();
  std::lock_guard lock(set->mu);
  for (const Rule& r : set->rules) {
    RuleReport rep;
    rep.kind = r.kind;
    rep.name = r.name;
    for (Contributor& c : r.sketch.Top(now, window_ms, n)) {
      RuleReport::Top t;
      t.value = c.value;
      const size_t sep = c.key.find(kKeySeparator);
      if (sep == std::string::npos) {
        t.keys.push_back(std::move(c.key));
      } else {
        t.keys.push_back(c.key.substr(0, sep));
        t.keys.push_back(c.key.substr(sep + 1));
      }
      rep.top.push_back(std::move(t));
    }
    out->push_back(std::move(rep));
  }
  return true;
}

namespace {
// A Prometheus label value: backslash, double quote and newline escaped.
void AppendLabel(std::string* out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '"') {
      out->append("\\\"");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}
}  // namespace

void ContributorInsights::AppendPrometheus(std::string* out) const {
  std::vector<std::pair<Key, std::shared_ptr<RuleSet>>> sets;
  {
    std::shared_lock lock(mu_);
    sets.assign(sets_.begin(), sets_.end());
  }
  if (sets.empty()) return;
  constexpr uint64_t kWindowMs = 60'000;
  constexpr size_t kTopN = 10;
  const uint64_t now = NowMs();
  std::string top =
      "# HELP basalt_contributor_insights_top_value The heaviest keys of each Contributor "
      "Insights rule over the last 60 s (PKC/SKC: consumed capacity units, PKT/SKT: throttled "
      "requests).\n# TYPE basalt_contributor_insights_top_value gauge\n";
  std::string bytes =
      "# HELP basalt_contributor_insights_sketch_bytes Memory held by the Contributor Insights "
      "sketches of a table or index.\n# TYPE basalt_contributor_insights_sketch_bytes gauge\n";
  for (const auto& [key, set] : sets) {
    std::lock_guard lock(set->mu);
    size_t held = 0;
    for (const Rule& r : set->rules) {
      held += r.sketch.MemoryBytes();
      const std::vector<Contributor> best = r.sketch.Top(now, kWindowMs, kTopN);
      for (size_t i = 0; i < best.size(); i++) {
        top.append("basalt_contributor_insights_top_value{table=\"");
        AppendLabel(&top, key.first);
        top.append("\",index=\"");
        AppendLabel(&top, key.second);
        top.append("\",rule=\"");
        AppendLabel(&top, r.name);
        top.append(fmt::format("\",rank=\"{}\",key=\"", i + 1));
        // The keys as a JSON array.
        std::string keys = "[" + best[i].key + "]";
        std::replace(keys.begin(), keys.end(), kKeySeparator, ',');
        AppendLabel(&top, keys);
        top.append(fmt::format("\"}} {}\n", best[i].value));
      }
    }
    bytes.append("basalt_contributor_insights_sketch_bytes{table=\"");
    AppendLabel(&bytes, key.first);
    bytes.append("\",index=\"");
    AppendLabel(&bytes, key.second);
    bytes.append(fmt::format("\"}} {}\n", held));
  }
  out->append(top);
  out->append(bytes);
}

}  // namespace basalt::server::api

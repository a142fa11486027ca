// RowCache (row_cache.h): a RowBTree of entries per tree, a registry of
// trees, one CLOCK hand over all of them.

#include "engine/lsm/cache/row_cache.h"

#include <fmt/format.h>

#include <cassert>
#include <functional>

#include "engine/lsm/cache/row_btree.h"

namespace basalt::lsm {

namespace {

struct Entry {
  std::string value;
  size_t charge = 0;
  bool absent = false;      // known to have no live value
  bool next_known = false;  // no live key between this key and the next entry (or after it)
  bool ref = false;         // CLOCK reference bit
};

using Rows = RowBTree<Entry>;

}  // namespace

struct RowCache::TreeCache {
  // Stripes of per-key write state; a power of two. 256 x 16 B = 4 KiB per tree.
  static constexpr size_t kStripes = 256;
  struct Stripe {
    uint64_t version = 0;    // bumped by every BeginWrite and EndWrite of its keys
    uint32_t in_flight = 0;  // writes between BeginWrite and EndWrite
  };

  explicit TreeCache(uint64_t g) : generation(g) {}

  Stripe& StripeFor(std::string_view key) {
    return stripes[std::hash<std::string_view>{}(key) & (kStripes - 1)];
  }

  // Erases the entry at *it (valid), moves *it to the entry after it and
  // returns the charge freed. The entry before it loses its next_known link,
  // except when keep_gap allows it: the erased key was known absent and
  // linked on, so the gap stays empty.
  size_t RemoveAt(Rows::Iterator* it, bool keep_gap) {
    const Entry& e = it->value();
    const bool gap_stays = keep_gap && e.absent && e.next_known;
    const size_t charge = e.charge;
    Rows::Iterator pred = rows.PrevOf(*it);
    if (pred.Valid() && !gap_stays) pred.value().next_known = false;
    *it = rows.EraseAt(*it);
    charged -= charge;
    return charge;
  }

  const uint64_t generation;  // distinguishes a tree's cache from an older one of the same id
  std::mutex mu;
  Rows rows;                 // guarded by mu
  Stripe stripes[kStripes];  // guarded by mu
  uint64_t version = 0;      // all BeginWrite/EndWrite calls of the tree; guarded by mu
  uint32_t in_flight = 0;    // the tree's writes in flight; guarded by mu
  size_t charged = 0;        // sum of the entries' charges; guarded by mu
  std::string hand;          // CLOCK hand: the next key to visit; guarded by mu
  size_t sweep_left = 0;     // entries the hand may still visit on this visit; guarded by mu
};

RowCache::RowCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}

RowCache::~RowCache() = default;

RowCache::TreeCache* RowCache::FindLocked(TreeId tree, bool* dropped) const {
  auto it = trees_.find(tree);
  if (it != trees_.end()) {
    *dropped = false;
    return it->second.get();
  }
  *dropped = dropped_.count(tree) > 0;
  return nullptr;
}

RowCache::TreeCache* RowCache::FindOrCreate(TreeId tree,
                                            std::shared_lock<std::shared_mutex>* lock) {
  {
    std::shared_lock<std::shared_mutex> l(registry_mu_);
    bool dropped;
    TreeCache* tc = FindLocked(tree, &dropped);
    if (tc != nullptr || dropped) {
      *lock = std::move(l);
      return tc;
    }
  }
  {
    std::unique_lock<std::shared_mutex> u(registry_mu_);
    if (dropped_.count(tree) == 0) {
      auto [it, inserted] = trees_.try_emplace(tree);
      if (inserted) it->second = std::make_unique<TreeCache>(next_generation_++);
    }
  }
  std::shared_lock<std::shared_mutex> l(registry_mu_);
  bool dropped;
  TreeCache* tc = FindLocked(tree, &dropped);  // null if dropped meanwhile
  *lock = std::move(l);
  return tc;
}

bool RowCache::Reserve(size_t charge) {
  size_t cur = usage_.load(std::memory_order_relaxed);
  do {
    if (cur + charge > capacity_) return false;
  } while (!usage_.compare_exchange_weak(cur, cur + charge, std::memory_order_relaxed));
  return true;
}

void RowCache::Release(size_t charge) { usage_.fetch_sub(charge, std::memory_order_relaxed); }

// ----------------------------------------------------------------------------
// Point reads

RowCache::Result RowCache::Lookup(TreeId tree, std::string_view key, std::string* value) {
  Result r = Result::kMiss;
  if (enabled()) {
    std::shared_lock<std::shared_mutex> rl(registry_mu_);
    bool dropped;
    if (TreeCache* tc = FindLocked(tree, &dropped)) {
      std::lock_guard<std::mutex> l(tc->mu);
      Rows::Iterator it = tc->rows.LowerBound(key);
      if (it.Valid() && it.key() == key) {
        Entry& e = it.value();
        e.ref = true;
        if (e.absent) {
          r = Result::kAbsent;
        } else {
          value->assign(e.value);
          r = Result::kFound;
        }
      } else {
        // Inside a known gap between two entries. Not past the last entry:
        // the key may lie beyond the tree's range, which the caller reports.
        Rows::Iterator pred = tc->rows.PrevOf(it);
        if (it.Valid() && pred.Valid() && pred.value().next_known) {
          pred.value().ref = true;
          r = Result::kAbsent;
        }
      }
    }
  }
  (r == Result::kMiss ? misses_ : hits_).fetch_add(1, std::memory_order_relaxed);
  return r;
}

RowCache::Ticket RowCache::BeginFill(TreeId tree, std::string_view key) {
  Ticket t;
  if (!enabled()) return t;
  std::shared_lock<std::shared_mutex> rl;
  TreeCache* tc = FindOrCreate(tree, &rl);
  if (tc == nullptr) return t;
  std::lock_guard<std::mutex> l(tc->mu);
  const TreeCache::Stripe& s = tc->StripeFor(key);
  t.generation = tc->generation;
  t.version = s.version;
  t.valid = s.in_flight == 0;
  return t;
}

bool RowCache::AdmitFill(size_t charge) {
  if (charge > capacity_ / kMaxFillFraction || !MakeRoom(charge)) {
    fills_skipped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

RowCache::TreeCache* RowCache::FillTarget(TreeId tree, const Ticket& ticket) {
  bool dropped;
  TreeCache* tc = FindLocked(tree, &dropped);
  if (tc == nullptr || tc->generation != ticket.generation) {
    fills_refused_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  return tc;
}

void RowCache::Fill(TreeId tree, std::string_view key, const Ticket& ticket,
                    const std::string* value) {
  if (!enabled()) return;
  if (!ticket.valid || ticket.range) {
    fills_refused_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const size_t charge = Charge(key, value != nullptr ? value->size() : 0);
  if (!AdmitFill(charge)) return;
  std::shared_lock<std::shared_mutex> rl(registry_mu_);
  TreeCache* tc = FillTarget(tree, ticket);
  if (tc == nullptr) return;
  std::lock_guard<std::mutex> l(tc->mu);
  const TreeCache::Stripe& s = tc->StripeFor(key);
  if (s.version != ticket.version || s.in_flight != 0) {
    fills_refused_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!Reserve(charge)) {
    fills_skipped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto [at, inserted] = tc->rows.TryInsert(key, Entry());
  if (!inserted) {  // another reader filled it (with the same state)
    Release(charge);
    return;
  }
  Entry& e = at.value();
  e.charge = charge;
  e.absent = value == nullptr;
  if (!e.absent) e.value = *value;
  Rows::Iterator pred = tc->rows.PrevOf(at);
  if (pred.Valid() && pred.value().next_known) {
    // A gap known empty: an absent key inside it stays inside it. A live key
    // cannot be there (the write that made it live cut the link); be safe anyway.
    if (e.absent) {
      e.next_known = true;
    } else {
      assert(false && "row cache: a live key inside a known gap");
      pred.value().next_known = false;
    }
  }
  tc->charged += charge;
  entries_.fetch_add(1, std::memory_order_relaxed);
  fills_.fetch_add(1, std::memory_order_relaxed);
}

// ----------------------------------------------------------------------------
// Ranges

bool RowCache::LookupRange(TreeId tree, std::string_view start, std::string_view end, size_t limit,
                           std::vector<std::pair<std::string, std::string>>* out) {
  assert(limit > 0);
  bool served = false;
  if (enabled()) {
    std::shared_lock<std::shared_mutex> rl(registry_mu_);
    bool dropped;
    if (TreeCache* tc = FindLocked(tree, &dropped)) {
      std::lock_guard<std::mutex> l(tc->mu);
      const Rows::Iterator first = tc->rows.LowerBound(start);
      // linked: no live key between the last position looked at and it.
      bool linked;
      if (first.Valid() && first.key() == start) {
        linked = true;
      } else {
        Rows::Iterator pred = tc->rows.PrevOf(first);
        linked = pred.Valid() && pred.value().next_known;
      }
      // First check that the links cover the range (a miss copies nothing),
      // then copy the rows.
      size_t count = 0, visited = 0;
      for (Rows::Iterator it = first; linked; it.Next(), visited++) {
        if (!it.Valid() || (!end.empty() && it.key() >= end)) {  // reached the end, known
          served = true;
          break;
        }
        const Entry& e = it.value();
        if (!e.absent && ++count == limit) {
          served = true;
          visited++;
          break;
        }
        linked = e.next_known;
      }
      if (served) {
        Rows::Iterator it = first;
        for (size_t i = 0; i < visited; i++, it.Next()) {
          Entry& e = it.value();
          e.ref = true;
          if (!e.absent) out->emplace_back(it.key(), e.value);
        }
      }
    }
  }
  (served ? range_hits_ : range_misses_).fetch_add(1, std::memory_order_relaxed);
  return served;
}

RowCache::Ticket RowCache::BeginRangeFill(TreeId tree) {
  Ticket t;
  t.range = true;
  if (!enabled()) return t;
  std::shared_lock<std::shared_mutex> rl;
  TreeCache* tc = FindOrCreate(tree, &rl);
  if (tc == nullptr) return t;
  std::lock_guard<std::mutex> l(tc->mu);
  t.generation = tc->generation;
  t.version = tc->version;
  t.valid = tc->in_flight == 0;
  return t;
}

void RowCache::FillRange(TreeId tree, const Ticket& ticket, std::string_view start,
                         const std::vector<std::pair<std::string, std::string>>& rows,
                         bool end_of_tree) {
  if (!enabled()) return;
  if (rows.empty() && !end_of_tree) return;  // nothing learned
  if (!ticket.valid || !ticket.range) {
    fills_refused_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const bool marker = rows.empty() || rows[0].first != start;
  size_t total = marker ? Charge(start, 0) : 0;
  for (const auto& [k, v] : rows) total += Charge(k, v.size());
  if (!AdmitFill(total)) return;
  std::shared_lock<std::shared_mutex> rl(registry_mu_);
  TreeCache* tc = FillTarget(tree, ticket);
  if (tc == nullptr) return;
  std::lock_guard<std::mutex> l(tc->mu);
  if (tc->version != ticket.version || tc->in_flight != 0) {
    fills_refused_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!Reserve(total)) {
    fills_skipped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // The chain of keys to link, in order; existing entries are kept (they
  // hold the same state: no write to the tree since the ticket).
  std::vector<std::string_view> chain;
  chain.reserve(rows.size() + 1);
  size_t used = 0;
  Rows::Iterator last;  // the previous key's entry: rows ascend, so mostly no descent
  auto add = [&](std::string_view k, const std::string* v) {
    chain.push_back(k);
    auto [at, inserted] =
        last.Valid() ? tc->rows.TryInsertAfter(last, k, Entry()) : tc->rows.TryInsert(k, Entry());
    last = at;
    if (!inserted) return;
    Entry& e = at.value();
    e.charge = Charge(k, v != nullptr ? v->size() : 0);
    e.absent = v == nullptr;
    if (v != nullptr) e.value = *v;
    used += e.charge;
    entries_.fetch_add(1, std::memory_order_relaxed);
    fills_.fetch_add(1, std::memory_order_relaxed);
  };
  if (marker) add(start, nullptr);
  for (const auto& [k, v] : rows) add(k, &v);
  tc->charged += used;
  Release(total - used);
  // Link each chain key to the next, and (end_of_tree) the last one to the
  // end. Entries met in between can only be known-absent keys: they are
  // inside a gap the read found empty, so they link on too.
  size_t j = 0;
  for (Rows::Iterator it = tc->rows.Find(chain[0]); it.Valid(); it.Next()) {
    Entry& e = it.value();
    if (j < chain.size() && it.key() == chain[j]) {
      j++;
      if (j == chain.size() && !end_of_tree) break;
    } else {
      assert(e.absent && "row cache: a live key inside a gap a range read found empty");
      if (!e.absent) break;  // be safe: leave the rest unlinked
    }
    e.next_known = true;
  }
}

// ----------------------------------------------------------------------------
// Writes and trees

void RowCache::BeginWrite(TreeId tree, std::string_view key) {
  if (!enabled()) return;
  std::shared_lock<std::shared_mutex> rl;
  TreeCache* tc = FindOrCreate(tree, &rl);
  if (tc == nullptr) return;  // dropped: never cached again
  std::lock_guard<std::mutex> l(tc->mu);
  TreeCache::Stripe& s = tc->StripeFor(key);
  s.version++;
  s.in_flight++;
  tc->version++;
  tc->in_flight++;
  Rows::Iterator it = tc->rows.LowerBound(key);
  if (it.Valid() && it.key() == key) {
    Release(tc->RemoveAt(&it, /*keep_gap=*/false));
    entries_.fetch_sub(1, std::memory_order_relaxed);
    invalidations_.fetch_add(1, std::memory_order_relaxed);
  } else {
    Rows::Iterator pred = tc->rows.PrevOf(it);
    if (pred.Valid() && pred.value().next_known) {
      pred.value().next_known = false;
      invalidations_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void RowCache::EndWrite(TreeId tree, std::string_view key) {
  if (!enabled()) return;
  std::shared_lock<std::shared_mutex> rl(registry_mu_);
  bool dropped;
  TreeCache* tc = FindLocked(tree, &dropped);
  if (tc == nullptr) return;
  std::lock_guard<std::mutex> l(tc->mu);
  TreeCache::Stripe& s = tc->StripeFor(key);
  s.version++;
  tc->version++;
  assert(s.in_flight > 0 && tc->in_flight > 0);
  s.in_flight--;
  tc->in_flight--;
}

namespace {
struct WriteBracket : WriteBatch::Handler {
  RowCache* cache;
  bool begin;
  void Key(TreeId t, std::string_view k) {
    if (begin) {
      cache->BeginWrite(t, k);
    } else {
      cache->EndWrite(t, k);
    }
  }
  void Put(TreeId t, std::string_view k, std::string_view) override { Key(t, k); }
  void Delete(TreeId t, std::string_view k) override { Key(t, k); }
};
}  // namespace

void RowCache::BeginWrite(const WriteBatch& batch) {
  if (!enabled()) return;
  WriteBracket b;
  b.cache = this;
  b.begin = true;
  // A malformed batch is refused by the write path; the keys before the bad
  // entry are bracketed by both calls alike.
  batch.Iterate(&b).PermitUnchecked();
}

void RowCache::EndWrite(const WriteBatch& batch) {
  if (!enabled()) return;
  WriteBracket b;
  b.cache = this;
  b.begin = false;
  batch.Iterate(&b).PermitUnchecked();
}

void RowCache::DropTree(TreeId tree) {
  if (!enabled()) return;
  std::unique_ptr<TreeCache> dead;
  {
    std::unique_lock<std::shared_mutex> u(registry_mu_);
    dropped_.insert(tree);
    auto it = trees_.find(tree);
    if (it != trees_.end()) {
      // No other thread holds it: every access holds registry_mu_.
      dead = std::move(it->second);
      trees_.erase(it);
      Release(dead->charged);
      entries_.fetch_sub(dead->rows.size(), std::memory_order_relaxed);
    }
  }
  // dead is freed here, outside the lock.
}

void RowCache::Clear() {
  if (!enabled()) return;
  std::map<TreeId, std::unique_ptr<TreeCache>> dead;
  {
    std::unique_lock<std::shared_mutex> u(registry_mu_);
    for (auto& [id, tc] : trees_) {
      dropped_.insert(id);  // a late fill must not bring it back
      Release(tc->charged);
      entries_.fetch_sub(tc->rows.size(), std::memory_order_relaxed);
    }
    dead.swap(trees_);
  }
}

// ----------------------------------------------------------------------------
// Eviction

bool RowCache::MakeRoom(size_t need) {
  if (usage() + need <= capacity_) return true;
  std::lock_guard<std::mutex> el(evict_mu_);
  std::shared_lock<std::shared_mutex> rl(registry_mu_);
  if (trees_.empty()) return false;
  // Each step clears a reference bit, evicts, or moves to the next tree, so
  // two sweeps are enough unless hits keep setting bits; then give up.
  size_t steps_left = 2 * entries_.load(std::memory_order_relaxed) + 2 * trees_.size() + 64;
  constexpr size_t kStepsPerLock = 64;  // bounds how long one tree's lock is held
  while (usage() + need > capacity_ && steps_left > 0) {
    auto it = trees_.lower_bound(hand_tree_);  // the hand's tree, wrapping
    if (it == trees_.end()) it = trees_.begin();
    const bool arrived = it->first != hand_tree_ || hand_arrived_;
    hand_tree_ = it->first;
    hand_arrived_ = false;
    TreeCache* tc = it->second.get();
    std::lock_guard<std::mutex> l(tc->mu);
    // One visit of the hand looks at no more entries than the tree held when
    // it arrived; otherwise fills of ever larger keys (the hand chases them)
    // could keep it in one tree forever and shield every other tree.
    if (arrived) tc->sweep_left = tc->rows.size();
    Rows::Iterator pos = tc->rows.LowerBound(tc->hand);
    steps_left--;
    for (size_t steps = 0;
         usage() + need > capacity_ && steps < kStepsPerLock && pos.Valid() && tc->sweep_left > 0;
         steps++) {
      steps_left = steps_left > 0 ? steps_left - 1 : 0;
      tc->sweep_left--;
      Entry& e = pos.value();
      if (e.ref) {
        e.ref = false;
        pos.Next();
        continue;
      }
      Release(tc->RemoveAt(&pos, /*keep_gap=*/true));
      entries_.fetch_sub(1, std::memory_order_relaxed);
      evictions_.fetch_add(1, std::memory_order_relaxed);
    }
    tc->hand = pos.Valid() ? std::string(pos.key()) : std::string();  // the end: start over
    if (!pos.Valid() || tc->sweep_left == 0) {  // the hand moves on to the next tree
      hand_tree_ = it->first + 1;               // wraps to 0 past the largest id
      hand_arrived_ = true;
    }
  }
  return usage() + need <= capacity_;
}

// ----------------------------------------------------------------------------
// Stats and checks

RowCache::Stats RowCache::GetStats() const {
  Stats st;
  st.hits = hits_.load(std::memory_order_relaxed);
  st.misses = misses_.load(std::memory_order_relaxed);
  st.range_hits = range_hits_.load(std::memory_order_relaxed);
  st.range_misses = range_misses_.load(std::memory_order_relaxed);
  st.fills = fills_.load(std::memory_order_relaxed);
  st.fills_refused = fills_refused_.load(std::memory_order_relaxed);
  st.fills_skipped = fills_skipped_.load(std::memory_order_relaxed);
  st.invalidations = invalidations_.load(std::memory_order_relaxed);
  st.evictions = evictions_.load(std::memory_order_relaxed);
  st.usage = usage_.load(std::memory_order_relaxed);
  st.capacity = capacity_;
  st.entries = entries_.load(std::memory_order_relaxed);
  return st;
}

bool RowCache::TEST_Contains(TreeId tree, std::string_view key) {
  std::shared_lock<std::shared_mutex> rl(registry_mu_);
  bool dropped;
  TreeCache* tc = FindLocked(tree, &dropped);
  if (tc == nullptr) return false;
  std::lock_guard<std::mutex> l(tc->mu);
  return tc->rows.Find(key).Valid();
}

bool RowCache::CheckInvariants(std::string* why) {
  std::unique_lock<std::shared_mutex> u(registry_mu_);
  size_t usage = 0, entries = 0;
  for (auto& [id, tc] : trees_) {
    std::lock_guard<std::mutex> l(tc->mu);
    std::string w;
    if (!tc->rows.CheckInvariants(&w)) {
      *why = fmt::format("tree {}: {}", id, w);
      return false;
    }
    size_t charged = 0;
    for (Rows::Iterator it = tc->rows.Begin(); it.Valid(); it.Next()) {
      const Entry& e = it.value();
      if (e.charge != Charge(it.key(), e.value.size())) {
        *why = fmt::format("tree {}: wrong charge for key '{}'", id, it.key());
        return false;
      }
      charged += e.charge;
    }
    if (charged != tc->charged) {
      *why = fmt::format("tree {}: charged {} but entries add up to {}", id, tc->charged, charged);
      return false;
    }
    usage += charged;
    entries += tc->rows.size();
  }
  if (usage != usage_.load() || entries != entries_.load()) {
    *why = fmt::format("usage {} / entries {} but the trees hold {} / {}", usage_.load(),
                       entries_.load(), usage, entries);
    return false;
  }
  if (usage > capacity_) {
    *why = fmt::format("usage {} exceeds capacity {}", usage, capacity_);
    return false;
  }
  return true;
}

}  // namespace basalt::lsm

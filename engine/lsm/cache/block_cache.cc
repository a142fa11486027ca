// BlockCache (block_cache.h): per shard, an open-addressing table of inline
// entries with a CLOCK hand.

#include "engine/lsm/cache/block_cache.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "engine/base/mutex.h"

namespace basalt::lsm {

namespace {

// 64-bit mix (splitmix64 finalizer) of both key halves.
uint64_t HashKey(uint64_t id, uint64_t offset) {
  uint64_t x = id * 0x9e3779b97f4a7c15ULL ^ (offset + 0x632be59bd9b4e019ULL);
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

constexpr size_t kMinSlots = 16;

}  // namespace

struct BlockCache::Shard {
  struct Slot {
    uint64_t hash = 0;
    uint64_t id = 0;
    uint64_t offset = 0;
    std::shared_ptr<const void> value;  // null: the slot is empty
    size_t charge = 0;
    bool referenced = false;
  };

  Mutex mu;
  size_t usage GUARDED_BY(mu) = 0;
  size_t count GUARDED_BY(mu) = 0;
  size_t hand GUARDED_BY(mu) = 0;
  std::vector<Slot> slots GUARDED_BY(mu) = std::vector<Slot>(kMinSlots);

  size_t Mask() const REQUIRES(mu) { return slots.size() - 1; }
  size_t Home(uint64_t hash) const REQUIRES(mu) { return static_cast<size_t>(hash) & Mask(); }

  // The slot holding (id, offset), or slots.size() when absent.
  size_t Find(uint64_t hash, uint64_t id, uint64_t offset) const REQUIRES(mu) {
    for (size_t i = Home(hash);; i = (i + 1) & Mask()) {
      const Slot& s = slots[i];
      if (s.value == nullptr) return slots.size();
      if (s.hash == hash && s.id == id && s.offset == offset) return i;
    }
  }

  // Places an entry known to be absent; the table has a free slot.
  void Place(Slot&& e) REQUIRES(mu) {
    size_t i = Home(e.hash);
    while (slots[i].value != nullptr) i = (i + 1) & Mask();
    slots[i] = std::move(e);
  }

  // Empties slot i, moving later entries of its probe run back so that every
  // entry stays reachable from its home slot (linear probing's deletion
  // without tombstones). Its value goes to *dropped.
  void EraseAt(size_t i, std::vector<std::shared_ptr<const void>>* dropped) REQUIRES(mu) {
    usage -= slots[i].charge;
    count--;
    dropped->push_back(std::move(slots[i].value));
    slots[i] = Slot();
    for (size_t j = (i + 1) & Mask(); slots[j].value != nullptr; j = (j + 1) & Mask()) {
      const size_t home = Home(slots[j].hash);
      // The entry at j may fill the hole at i unless its home lies cyclically in (i, j].
      const bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (stays) continue;
      slots[i] = std::move(slots[j]);
      slots[j] = Slot();
      i = j;
    }
  }

  void Grow() REQUIRES(mu) {
    std::vector<Slot> old(slots.size() * 2);
    old.swap(slots);
    hand = 0;
    for (Slot& s : old) {
      if (s.value != nullptr) Place(std::move(s));
    }
  }

  // Evicts by the clock until usage + incoming fits in capacity (or nothing is left).
  void EvictFor(size_t incoming, size_t capacity, std::vector<std::shared_ptr<const void>>* dropped)
      REQUIRES(mu) {
    while (usage + incoming > capacity && count > 0) EvictOne(dropped);
  }

  // Evicts one entry by the clock (one exists).
  void EvictOne(std::vector<std::shared_ptr<const void>>* dropped) REQUIRES(mu) {
    while (true) {
      hand &= Mask();
      Slot& s = slots[hand];
      if (s.value == nullptr) {
        hand++;
      } else if (s.referenced) {
        s.referenced = false;  // a second chance
        hand++;
      } else {
        // The backward shift may move another entry into this slot: the
        // hand looks at it next.
        EraseAt(hand, dropped);
        return;
      }
    }
  }
};

BlockCache::BlockCache(size_t capacity_bytes, int num_shard_bits)
    : capacity_(capacity_bytes), num_shard_bits_(std::clamp(num_shard_bits, 0, 8)) {
  const size_t n = size_t{1} << num_shard_bits_;
  shards_ = std::make_unique<Shard[]>(n);
}

size_t BlockCache::ShardCapacity() const {
  const size_t floor = static_cast<size_t>(static_cast<double>(capacity_) * kMinBlockShare);
  const size_t reserved = reserved_.load(std::memory_order_relaxed);
  const size_t blocks = reserved + floor >= capacity_ ? floor : capacity_ - reserved;
  return blocks >> num_shard_bits_;
}

BlockCache::~BlockCache() = default;

BlockCache::Shard& BlockCache::ShardFor(uint64_t hash) {
  if (num_shard_bits_ == 0) return shards_[0];
  return shards_[hash >> (64 - num_shard_bits_)];
}

std::shared_ptr<const void> BlockCache::LookupValue(uint64_t cache_id, uint64_t offset) {
  if (capacity_ == 0) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  const uint64_t hash = HashKey(cache_id, offset);
  Shard& s = ShardFor(hash);
  std::shared_ptr<const void> result;
  {
    MutexLock l(&s.mu);
    const size_t i = s.Find(hash, cache_id, offset);
    if (i != s.slots.size()) {
      s.slots[i].referenced = true;
      result = s.slots[i].value;
    }
  }
  (result ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
  return result;
}

void BlockCache::Insert(uint64_t cache_id, uint64_t offset, std::shared_ptr<const void> value,
                        size_t bytes) {
  if (capacity_ == 0 || value == nullptr) return;
  const size_t charge = Charge(bytes);
  const uint64_t hash = HashKey(cache_id, offset);
  Shard& s = ShardFor(hash);
  const size_t shard_capacity = ShardCapacity();
  if (charge > shard_capacity) return;
  // Values dropped here are released after the lock (their destructors free memory).
  std::vector<std::shared_ptr<const void>> dropped;
  size_t evicted = 0;
  size_t usage_before, usage_after;
  {
    MutexLock l(&s.mu);
    usage_before = s.usage;
    const size_t found = s.Find(hash, cache_id, offset);
    if (found != s.slots.size()) s.EraseAt(found, &dropped);  // replace
    const size_t replaced = dropped.size();
    s.EvictFor(charge, shard_capacity, &dropped);
    evicted = dropped.size() - replaced;
    if ((s.count + 1) * 4 > s.slots.size() * 3) s.Grow();
    s.Place(Shard::Slot{hash, cache_id, offset, std::move(value), charge, false});
    s.count++;
    s.usage += charge;
    usage_after = s.usage;
  }
  AddUsage(usage_before, usage_after);
  inserts_.fetch_add(1, std::memory_order_relaxed);
  evictions_.fetch_add(evicted, std::memory_order_relaxed);
  entries_.fetch_add(1, std::memory_order_relaxed);
  entries_.fetch_sub(dropped.size(), std::memory_order_relaxed);
}

void BlockCache::AddUsage(size_t before, size_t after) {
  if (after >= before) {
    usage_.fetch_add(after - before, std::memory_order_relaxed);
  } else {
    usage_.fetch_sub(before - after, std::memory_order_relaxed);
  }
}

size_t BlockCache::EraseFile(uint64_t cache_id) {
  size_t erased = 0;
  const size_t n = size_t{1} << num_shard_bits_;
  for (size_t i = 0; i < n; i++) {
    Shard& s = shards_[i];
    std::vector<std::shared_ptr<const void>> dropped;
    MutexLock l(&s.mu);
    const size_t usage_before = s.usage;
    std::vector<std::pair<uint64_t, uint64_t>> keys;  // (hash, offset)
    for (const Shard::Slot& slot : s.slots) {
      if (slot.value != nullptr && slot.id == cache_id) keys.emplace_back(slot.hash, slot.offset);
    }
    for (const auto& [hash, offset] : keys) {
      const size_t at = s.Find(hash, cache_id, offset);
      if (at != s.slots.size()) s.EraseAt(at, &dropped);
    }
    AddUsage(usage_before, s.usage);
    erased += dropped.size();
    entries_.fetch_sub(dropped.size(), std::memory_order_relaxed);
  }
  return erased;
}

void BlockCache::Reserve(size_t bytes) {
  if (capacity_ == 0 || bytes == 0) return;
  reserved_.fetch_add(bytes, std::memory_order_relaxed);
  const size_t n = size_t{1} << num_shard_bits_;
  for (size_t i = 0; i < n; i++) {
    Shard& s = shards_[i];
    std::vector<std::shared_ptr<const void>> dropped;  // released after the lock
    size_t usage_before, usage_after;
    {
      MutexLock l(&s.mu);
      usage_before = s.usage;
      s.EvictFor(0, ShardCapacity(), &dropped);
      usage_after = s.usage;
    }
    AddUsage(usage_before, usage_after);
    evictions_.fetch_add(dropped.size(), std::memory_order_relaxed);
    entries_.fetch_sub(dropped.size(), std::memory_order_relaxed);
  }
}

void BlockCache::Unreserve(size_t bytes) {
  if (capacity_ == 0 || bytes == 0) return;
  reserved_.fetch_sub(bytes, std::memory_order_relaxed);
}

BlockCache::Reservation::Reservation(std::shared_ptr<BlockCache> cache, size_t bytes)
    : cache_(std::move(cache)), bytes_(cache_ != nullptr ? bytes : 0) {
  if (cache_ != nullptr) cache_->Reserve(bytes_);
}

BlockCache::Reservation& BlockCache::Reservation::operator=(Reservation&& o) noexcept {
  if (this != &o) {
    Release();
    cache_ = std::move(o.cache_);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

void BlockCache::Reservation::Release() {
  if (cache_ != nullptr) cache_->Unreserve(bytes_);
  cache_.reset();
  bytes_ = 0;
}

uint64_t BlockCache::NewId() { return next_id_.fetch_add(1, std::memory_order_relaxed); }

BlockCache::Stats BlockCache::GetStats() const {
  Stats st;
  st.hits = hits_.load(std::memory_order_relaxed);
  st.misses = misses_.load(std::memory_order_relaxed);
  st.inserts = inserts_.load(std::memory_order_relaxed);
  st.evictions = evictions_.load(std::memory_order_relaxed);
  st.usage = usage_.load(std::memory_order_relaxed);
  st.capacity = capacity_;
  st.entries = entries_.load(std::memory_order_relaxed);
  st.reserved = reserved_.load(std::memory_order_relaxed);
  return st;
}

}  // namespace basalt::lsm

// BlockCache (block_cache.h): per shard, a hash map into an LRU list.

#include "engine/lsm/cache/block_cache.h"

#include <algorithm>
#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace basalt::lsm {

namespace {

struct CacheKey {
  uint64_t id;
  uint64_t offset;
  bool operator==(const CacheKey&) const = default;
};

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

struct KeyHash {
  size_t operator()(const CacheKey& k) const {
    return static_cast<size_t>(HashKey(k.id, k.offset));
  }
};

}  // namespace

struct BlockCache::Shard {
  struct Entry {
    CacheKey key;
    std::shared_ptr<const void> value;
    size_t charge;
  };

  std::mutex mu;
  size_t capacity = 0;
  size_t usage = 0;      // guarded by mu
  std::list<Entry> lru;  // front: most recently used; guarded by mu
  std::unordered_map<CacheKey, std::list<Entry>::iterator, KeyHash> map;  // guarded by mu
};

BlockCache::BlockCache(size_t capacity_bytes, int num_shard_bits)
    : capacity_(capacity_bytes), num_shard_bits_(std::clamp(num_shard_bits, 0, 8)) {
  const size_t n = size_t{1} << num_shard_bits_;
  shards_ = std::make_unique<Shard[]>(n);
  for (size_t i = 0; i < n; i++) shards_[i].capacity = capacity_ / n;
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
  Shard& s = ShardFor(HashKey(cache_id, offset));
  std::shared_ptr<const void> result;
  {
    std::lock_guard<std::mutex> l(s.mu);
    auto it = s.map.find(CacheKey{cache_id, offset});
    if (it != s.map.end()) {
      s.lru.splice(s.lru.begin(), s.lru, it->second);
      result = it->second->value;
    }
  }
  (result ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
  return result;
}

void BlockCache::Insert(uint64_t cache_id, uint64_t offset, std::shared_ptr<const void> value,
                        size_t bytes) {
  if (capacity_ == 0 || value == nullptr) return;
  const size_t charge = Charge(bytes);
  Shard& s = ShardFor(HashKey(cache_id, offset));
  if (charge > s.capacity) return;
  const CacheKey key{cache_id, offset};
  // Values dropped here are released after the lock (their destructors free memory).
  std::list<Shard::Entry> dropped;
  {
    std::lock_guard<std::mutex> l(s.mu);
    auto it = s.map.find(key);
    if (it != s.map.end()) {  // replace
      s.usage -= it->second->charge;
      usage_.fetch_sub(it->second->charge, std::memory_order_relaxed);
      entries_.fetch_sub(1, std::memory_order_relaxed);
      dropped.splice(dropped.end(), s.lru, it->second);
      s.map.erase(it);
    }
    while (s.usage + charge > s.capacity && !s.lru.empty()) {
      auto victim = std::prev(s.lru.end());
      s.usage -= victim->charge;
      usage_.fetch_sub(victim->charge, std::memory_order_relaxed);
      entries_.fetch_sub(1, std::memory_order_relaxed);
      evictions_.fetch_add(1, std::memory_order_relaxed);
      s.map.erase(victim->key);
      dropped.splice(dropped.end(), s.lru, victim);
    }
    s.lru.push_front(Shard::Entry{key, std::move(value), charge});
    s.map.emplace(key, s.lru.begin());
    s.usage += charge;
    usage_.fetch_add(charge, std::memory_order_relaxed);
    entries_.fetch_add(1, std::memory_order_relaxed);
  }
  inserts_.fetch_add(1, std::memory_order_relaxed);
}

size_t BlockCache::EraseFile(uint64_t cache_id) {
  size_t erased = 0;
  const size_t n = size_t{1} << num_shard_bits_;
  for (size_t i = 0; i < n; i++) {
    Shard& s = shards_[i];
    std::list<Shard::Entry> dropped;
    std::lock_guard<std::mutex> l(s.mu);
    for (auto it = s.lru.begin(); it != s.lru.end();) {
      auto next = std::next(it);
      if (it->key.id == cache_id) {
        s.usage -= it->charge;
        usage_.fetch_sub(it->charge, std::memory_order_relaxed);
        entries_.fetch_sub(1, std::memory_order_relaxed);
        s.map.erase(it->key);
        dropped.splice(dropped.end(), s.lru, it);
        erased++;
      }
      it = next;
    }
  }
  return erased;
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
  return st;
}

}  // namespace basalt::lsm

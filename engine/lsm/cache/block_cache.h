// BlockCache: a sharded CLOCK cache of parsed, decompressed SSTable data
// blocks with a fixed byte budget.
//
// Keys are (cache id, block offset). The cache id names one table file and
// must be unique among the tables sharing a cache: DBImpl uses the file
// number (never reused within a DB, and each DB owns its own cache); other
// callers may take a fresh one from NewId(). Values are immutable objects
// held by std::shared_ptr: a reader that got a block keeps it alive after the
// cache evicts or erases it, so eviction can never free a block in use.
//
// The cache does not know the block type (it sits below engine/lsm/sstable,
// which owns the Block class and fills the cache). Like LevelDB's Cache
// (include/leveldb/cache.h: a void* value with a caller-given charge), it
// stores values type-erased, each with the charge its inserter states. The
// owner of a cache id decides the value type of its entries and reads them
// back with Lookup<T> of that same type (SSTable readers store lsm::Block).
//
// Layout and policy (RocksDB's HyperClockCache and CLOCK in general: a hit
// only sets a bit, so a lookup never reorders anything): each shard is an
// open-addressing table (linear probing, backward-shift deletion) whose
// slots hold the entries inline (hash, key, value, charge, reference bit),
// so a lookup usually reads one slot. A hit sets the entry's reference bit.
// To make room, the clock hand sweeps the slots: an entry with its bit set
// gets it cleared (a second chance), one without is evicted. A new entry
// starts without the bit, so a block read once goes before one read again.
// The table doubles when it is 3/4 full, so the entry count never limits
// what the byte budget allows.
//
// Budget: each entry is charged its stated size (the uncompressed block) +
// kEntryOverhead (its slot, the table's spare slots, the control block). The
// capacity is split evenly over the shards; a shard evicts before an insert
// so its usage never exceeds its share, and an entry larger than a shard's
// share is not cached. So usage() <= capacity() at all times. Only data
// blocks are cached: filter and index blocks are held (pinned) by each open
// Table for its lifetime.
//
// Reservations (RocksDB's cache reservations, e.g. for filters and table
// readers): memory held elsewhere can be charged to the budget with a
// Reservation, which shrinks what the blocks may use, evicting at once, so
// blocks + reservations stay within the capacity. The blocks always keep at
// least kMinBlockShare of the capacity, so reads keep a working cache when
// the reservations alone would fill it (then the total exceeds the
// capacity by what the reservations take beyond their share).
//
// Capacity 0 disables the cache: Lookup always misses, Insert does nothing.
//
// Thread safety: all methods are safe to call concurrently. Each shard has
// its own mutex; values dropped by an insert or erase are released after it.
// The statistics are relaxed atomics (each counter is exact, a Stats
// snapshot is not atomic across counters).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "engine/lsm/stats.h"

namespace basalt::lsm {

class BlockCache {
 public:
  // Bytes charged per entry besides the block contents.
  static constexpr size_t kEntryOverhead = 128;
  // The share of the capacity that reservations cannot take from the blocks.
  static constexpr double kMinBlockShare = 0.125;

  // capacity_bytes: the byte budget (0 disables). 2^num_shard_bits shards
  // (0..8). Default: 16 shards.
  explicit BlockCache(size_t capacity_bytes, int num_shard_bits = 4);
  ~BlockCache();
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // The cached value (its reference bit set); nullptr on a miss.
  // REQUIRES: T is the type the entry was inserted with (see above).
  template <typename T>
  std::shared_ptr<const T> Lookup(uint64_t cache_id, uint64_t offset) {
    return std::static_pointer_cast<const T>(LookupValue(cache_id, offset));
  }
  std::shared_ptr<const void> LookupValue(uint64_t cache_id, uint64_t offset);
  // Inserts (or replaces) value, charged Charge(bytes), evicting entries of
  // its shard (CLOCK, above) to stay within budget.
  // bytes: the memory value holds (a block: its uncompressed contents).
  // No-op when disabled, value is null, or the charge is larger than a
  // shard's share of the budget.
  void Insert(uint64_t cache_id, uint64_t offset, std::shared_ptr<const void> value, size_t bytes);
  // Drops every entry of one table (e.g. after its file is deleted). Returns
  // how many. Walks every shard: O(entries).
  size_t EraseFile(uint64_t cache_id);

  // A cache id no other NewId() call returns (from 2^63 up, clear of file numbers).
  uint64_t NewId();

  // Charges `bytes` held elsewhere to this cache's budget while it lives
  // (above). Movable; a default-constructed or moved-from one charges
  // nothing. It keeps the cache alive.
  class Reservation {
   public:
    Reservation() = default;
    Reservation(std::shared_ptr<BlockCache> cache, size_t bytes);
    Reservation(Reservation&& o) noexcept
        : cache_(std::move(o.cache_)), bytes_(std::exchange(o.bytes_, 0)) {}
    Reservation& operator=(Reservation&& o) noexcept;
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
    ~Reservation() { Release(); }
    size_t bytes() const { return bytes_; }

   private:
    void Release();
    std::shared_ptr<BlockCache> cache_;
    size_t bytes_ = 0;
  };

  using Stats = BlockCacheStats;
  Stats GetStats() const;
  size_t usage() const { return usage_.load(std::memory_order_relaxed); }
  size_t capacity() const { return capacity_; }
  size_t reserved() const { return reserved_.load(std::memory_order_relaxed); }
  // Charge of an entry holding `bytes` (bytes + kEntryOverhead).
  static size_t Charge(size_t bytes) { return bytes + kEntryOverhead; }

 private:
  struct Shard;
  Shard& ShardFor(uint64_t hash);
  // usage_ follows one shard's usage from before to after.
  void AddUsage(size_t before, size_t after);
  // What one shard's blocks may use now: its share of the capacity less the
  // reservations (at least its share of kMinBlockShare).
  size_t ShardCapacity() const;
  void Reserve(size_t bytes);  // then evicts every shard down to ShardCapacity()
  void Unreserve(size_t bytes);

  const size_t capacity_;
  const int num_shard_bits_;
  std::unique_ptr<Shard[]> shards_;
  std::atomic<size_t> usage_{0};
  std::atomic<size_t> entries_{0};
  std::atomic<size_t> reserved_{0};
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
  std::atomic<uint64_t> inserts_{0};
  std::atomic<uint64_t> evictions_{0};
  std::atomic<uint64_t> next_id_{uint64_t{1} << 63};
};

}  // namespace basalt::lsm

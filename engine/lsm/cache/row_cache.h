// RowCache: hot rows of the latest state of each tree, held in an in-memory
// B+tree per tree (row_btree.h) ordered by user key, so point reads and short
// ranges on hot keys are answered without touching the memtables or blocks.
// One cache per DB (DBImpl owns it; Options::row_cache_size). Design and
// measurements: docs/row_cache.md.
//
// Entries: key -> value, or key -> "known absent" (a point read that found
// nothing). An entry may also carry next_known: "no live key lies strictly
// between this key and the next entry's key (or, for the tree's last entry,
// after it)". Range fills set it along the rows they read, so a run of
// next_known links answers a range scan; a key inside a known gap between
// two entries answers a point read with "absent" without an entry of its own
// (not past the last entry: that key may be outside the tree's range, an
// error the caller reports, so it misses).
//
// Exactness. A read served by the cache returns what the LSM would return at
// some instant during the read: never a value older than a write that
// completed before the read started, never a value that was never the latest.
// The protocol, with every step under the tree's mutex:
//  - Writers call BeginWrite(tree, key) for each key of a batch before the
//    batch can become visible, and EndWrite(tree, key) after it is visible
//    (DBImpl: after last_sequence covers it), also when the write failed.
//    BeginWrite erases the key's entry, clears next_known of the entry before
//    it (the key may now be live inside that gap), counts the write in flight
//    and bumps a version; EndWrite bumps the version again and uncounts it.
//    Versions and in-flight counts live in a stripe per key hash (per tree);
//    the tree also keeps its own total of both.
//  - A reader that misses takes a Ticket (BeginFill: the stripe's version,
//    or BeginRangeFill: the tree's) BEFORE it reads the LSM, then hands the
//    result to Fill/FillRange, which inserts only if the version is unchanged
//    and no write was in flight at the ticket. Otherwise the fill is refused
//    (counted in fills_refused).
//  Why that is exact: an accepted fill saw no BeginWrite or EndWrite of its
//  stripe (tree, for ranges) between ticket and insert, and none in flight at
//  the ticket. So every write to those keys either completed before the
//  ticket, hence before the LSM read began, and the read saw it; or began
//  after the insert, and its BeginWrite erases what the fill inserted (and
//  cuts the gap links around it). Invariant: an entry (or a next_known link)
//  exists only while it equals the LSM's latest state and no write to its key
//  (or into its gap) is in flight. Lookups read only entries and links, so
//  they return the latest state of some instant within the call. Hash
//  collisions of stripes and the per-tree version for ranges only refuse more
//  fills (conservative), never accept a stale one.
//  Trees: DropTree erases a tree's entries and tombstones its id (ids are
//  never reused), so no late fill brings it back; DBImpl calls it for a
//  dropped tree and for the parent of a split (children start cold).
//
// Budget: each entry is charged key + value + kEntryOverhead bytes (B+tree
// slot, node share, allocator). usage() <= capacity() at all times: a fill
// first evicts, then reserves its charge atomically or is skipped. Eviction
// is CLOCK: each entry has a reference bit, set by hits; one hand walks all
// trees, tree by tree in id order and within a tree in key order, clearing
// set bits and evicting entries whose bit is clear (new entries start clear,
// so a row read once goes at the hand's first pass, a hot row survives). One
// visit of the hand to a tree looks at no more entries than the tree held on
// arrival, so one tree's fills cannot keep the hand from the others. Evicting an entry cuts
// the next_known link of the entry before it, unless the evicted entry was a
// known-absent key inside the gap. Fixed per-tree structures (stripes, the
// tree's root leaf) are not charged: about 4 KiB per tree that saw a read or
// write while the cache was on.
//
// Capacity 0 disables the cache: lookups miss, fills and writes do nothing.
//
// Thread safety: all methods are safe to call concurrently. A registry lock
// (shared for every call, exclusive to add or drop a tree) and one mutex per
// tree; eviction takes an eviction mutex and then one tree mutex at a time,
// never while the caller holds another tree's. Statistics are relaxed
// atomics (each counter exact; a Stats snapshot is not atomic across them).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/lsm/stats.h"
#include "engine/lsm/types.h"
#include "engine/lsm/write_batch.h"

namespace basalt::lsm {

class RowCache {
 public:
  // Bytes charged per entry besides its key and value.
  static constexpr size_t kEntryOverhead = 128;
  // A fill (one row, or all rows of a range fill) charged more than
  // capacity / kMaxFillFraction is not cached: one big value must not flush the cache.
  static constexpr size_t kMaxFillFraction = 8;

  explicit RowCache(size_t capacity_bytes);
  ~RowCache();
  RowCache(const RowCache&) = delete;
  RowCache& operator=(const RowCache&) = delete;

  bool enabled() const { return capacity_ > 0; }

  // --- Point reads ---
  enum class Result { kMiss, kFound, kAbsent };
  // kFound: *value is set. kAbsent: the key has no live value. kMiss: read the LSM.
  Result Lookup(TreeId tree, std::string_view key, std::string* value);

  // Taken before a read of the LSM; valid for one Fill or FillRange. A
  // default-constructed ticket is refused.
  struct Ticket {
    uint64_t generation = 0;  // of the tree's cache; 0: none existed at the ticket
    uint64_t version = 0;
    bool valid = false;  // false: a write was in flight (or the tree is dropped)
    bool range = false;
  };
  Ticket BeginFill(TreeId tree, std::string_view key);
  // Inserts the result of the read that followed ticket: value, or absent
  // when value == nullptr. No-op (counted as refused) if the ticket is stale.
  void Fill(TreeId tree, std::string_view key, const Ticket& ticket, const std::string* value);

  // --- Short ranges ---
  // Serves "the first limit live keys in [start, end)" (end empty: no upper
  // bound) if the cache covers it: appends them to *out and returns true.
  // Returns false (and leaves *out unchanged) on a miss. REQUIRES: limit > 0.
  bool LookupRange(TreeId tree, std::string_view start, std::string_view end, size_t limit,
                   std::vector<std::pair<std::string, std::string>>* out);
  Ticket BeginRangeFill(TreeId tree);
  // Inserts the result of a range read that followed ticket: rows are the
  // consecutive live keys from start on (the first is the first live key >=
  // start), in order, none skipped. end_of_tree: no live key follows the
  // last row (nor start, if rows is empty). Links rows[i] to rows[i+1], and
  // start to rows[0] through a known-absent entry at start if rows[0] != start.
  void FillRange(TreeId tree, const Ticket& ticket, std::string_view start,
                 const std::vector<std::pair<std::string, std::string>>& rows, bool end_of_tree);

  // --- Writes (see "Exactness") ---
  void BeginWrite(TreeId tree, std::string_view key);
  void EndWrite(TreeId tree, std::string_view key);
  // Both, for every key of a batch (in its order).
  void BeginWrite(const WriteBatch& batch);
  void EndWrite(const WriteBatch& batch);

  // Erases the tree's entries; later fills of it are refused, its id stays dead.
  void DropTree(TreeId tree);
  // Erases every entry and forgets every tree (DB close).
  void Clear();

  using Stats = RowCacheStats;
  Stats GetStats() const;
  size_t usage() const { return usage_.load(std::memory_order_relaxed); }
  size_t capacity() const { return capacity_; }
  static size_t Charge(std::string_view key, size_t value_size) {
    return key.size() + value_size + kEntryOverhead;
  }

  // Test hook: whether the tree has an entry for key (no reference bit, no stats).
  bool TEST_Contains(TreeId tree, std::string_view key);
  // Test hook: checks every tree's B+tree invariants and that usage equals
  // the sum of the entries' charges. On failure returns false and says why.
  bool CheckInvariants(std::string* why);

 private:
  struct TreeCache;

  // The tree's cache, or null if it has none (or is dropped: *dropped).
  // REQUIRES: registry_mu_ held (shared or exclusive).
  TreeCache* FindLocked(TreeId tree, bool* dropped) const;
  // Finds or creates the tree's cache; null if the tree is dropped.
  // Returns with registry_mu_ held shared in *lock.
  TreeCache* FindOrCreate(TreeId tree, std::shared_lock<std::shared_mutex>* lock);
  // Evicts until usage + need <= capacity, or gives up. Returns whether it fits.
  // REQUIRES: no registry or tree lock held.
  bool MakeRoom(size_t need);
  // The steps Fill and FillRange share. AdmitFill: the fill's charge is
  // within a fill's share of the budget and room was made (else counted as
  // skipped). FillTarget: the tree's cache if the ticket's generation still
  // holds (else null, counted as refused). REQUIRES for FillTarget:
  // registry_mu_ held shared.
  bool AdmitFill(size_t charge);
  TreeCache* FillTarget(TreeId tree, const Ticket& ticket);
  // Reserves charge bytes of the budget; false if they do not fit.
  bool Reserve(size_t charge);
  void Release(size_t charge);

  const size_t capacity_;

  mutable std::shared_mutex registry_mu_;
  std::map<TreeId, std::unique_ptr<TreeCache>> trees_;  // guarded by registry_mu_
  std::set<TreeId> dropped_;  // never cached again (ids are not reused); guarded by registry_mu_
  uint64_t next_generation_ = 1;  // guarded by registry_mu_ (exclusive)

  std::mutex evict_mu_;       // one evictor at a time; taken before registry_mu_
  TreeId hand_tree_ = 0;      // the CLOCK hand's tree; guarded by evict_mu_
  bool hand_arrived_ = true;  // the hand has just moved to hand_tree_; guarded by evict_mu_

  std::atomic<size_t> usage_{0};
  std::atomic<size_t> entries_{0};
  std::atomic<uint64_t> hits_{0}, misses_{0}, range_hits_{0}, range_misses_{0};
  std::atomic<uint64_t> fills_{0}, fills_refused_{0}, fills_skipped_{0};
  std::atomic<uint64_t> invalidations_{0}, evictions_{0};
};

}  // namespace basalt::lsm

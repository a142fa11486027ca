// MemTable: the in-memory write buffer of one tree: an arena-allocated
// skiplist of internal keys (dbformat.h).
//
// Thread safety: one writer at a time (Add is called by the write-group
// leader only); any number of concurrent readers (Get, iterators) without
// locks — readers never block the writer (see skiplist.h). The memtable is
// shared by std::shared_ptr; iterators hold a reference while they live.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/base/arena.h"
#include "engine/base/status.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/iterator.h"

namespace basalt::lsm {

class MemTable : public std::enable_shared_from_this<MemTable> {
 public:
  // expected_keys: distinct keys to size the point index for (the previous
  // memtable's DistinctKeys()), its first array at most max_index_bytes; 0:
  // the index starts small and grows.
  explicit MemTable(size_t expected_keys = 0, size_t max_index_bytes = SIZE_MAX);
  ~MemTable();
  MemTable(const MemTable&) = delete;
  MemTable& operator=(const MemTable&) = delete;

  // REQUIRES: external synchronisation against other Add calls; (user_key, seq)
  // not already present.
  void Add(SequenceNumber seq, ValueKind kind, std::string_view user_key, std::string_view value);

  enum class GetResult { kNotPresent, kFound, kDeleted };
  // Newest entry for key.user_key() with sequence <= the lookup sequence.
  GetResult Get(const LookupKey& key, std::string* value) const;

  // Iterator over internal keys; keeps this memtable alive.
  std::unique_ptr<Iterator> NewIterator() const;

  // Bytes of the entries (keys and values as stored, every version) with
  // start <= user key < end (an empty end: no upper bound): counted exactly
  // when the range holds at most kExactRangeEntries entries, else estimated
  // from the skiplist (entries in range x the mean size of the first
  // kExactRangeEntries of them). O(log n + kExactRangeEntries).
  static constexpr size_t kExactRangeEntries = 256;
  uint64_t ApproximateRangeBytes(std::string_view start, std::string_view end) const;

  // Bytes allocated (arena + skiplist), for the flush trigger.
  size_t ApproximateMemoryUsage() const;
  uint64_t NumEntries() const { return num_entries_.load(std::memory_order_relaxed); }
  // Distinct user keys added (an upper bound while the point index grows).
  // REQUIRES: no concurrent Add (e.g. the memtable has become immutable).
  size_t DistinctKeys() const;
  // Sequence of the first and of the largest entry added (0 when empty). The
  // DB adds entries in increasing sequence order starting at 1.
  SequenceNumber FirstSequence() const { return first_seq_.load(std::memory_order_relaxed); }
  SequenceNumber LastSequence() const { return last_seq_.load(std::memory_order_relaxed); }

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
  std::atomic<uint64_t> num_entries_{0};
  std::atomic<SequenceNumber> first_seq_{0};
  std::atomic<SequenceNumber> last_seq_{0};
};

}  // namespace basalt::lsm

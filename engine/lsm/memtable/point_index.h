// PointIndex: the memtable's hash index for point reads — user key -> the
// newest entry of that key. A skiplist search visits ~log4(n) nodes, each a
// cache miss once the memtable outgrows the CPU caches (3 µs for 300,000
// entries on the reference machine); the index answers in one or two.
//
// Open addressing with linear probing over slots that are only ever filled
// or overwritten by a newer entry of the same user key, never emptied; the
// slot arrays (8 bytes per slot, plus 4 for a slot's hash bits) live in the
// memtable's arena and count toward its size. At three quarters full a twice
// larger array becomes current and the writer moves the old one's entries
// over a few slots per Put (no stall); until it is done, readers look in the
// current array, then in the old one. An old array stays readable until the
// arena goes, so grown arrays hold 2.7 to 5.3 slots per key (32 to 64 bytes).
// A memtable that expects n keys (its predecessor's count) sizes its first
// array for them (any slot count, not only powers of two), so in a steady
// workload the index never grows and costs about 18 bytes per key.
//
// Thread safety: Put by the memtable's one writer; Find by any number of
// readers concurrently, lock-free. A reader sees every Put that happened
// before it (the DB publishes a group's sequence numbers after inserting it,
// so a reader that may see an entry finds it or a newer one of its key).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "engine/base/arena.h"

namespace basalt::lsm {

class PointIndex {
 public:
  // key_of(entry): the user key of an entry (must stay valid as the arena).
  using KeyOf = std::string_view (*)(const char* entry);
  // expected_keys: the first array (made at the first Put) is sized for this
  // many keys, at most max_initial_bytes; 0: kInitialSlots.
  PointIndex(Arena* arena, KeyOf key_of, size_t expected_keys = 0,
             size_t max_initial_bytes = std::numeric_limits<size_t>::max());
  PointIndex(const PointIndex&) = delete;
  PointIndex& operator=(const PointIndex&) = delete;

  // Writer only: `entry` (user key `user_key`) is the newest of its key.
  void Put(const char* entry, std::string_view user_key);
  // The newest entry Put for user_key, or nullptr.
  const char* Find(std::string_view user_key) const;
  // Writer only: distinct keys Put; while an array is being replaced, an
  // upper bound (the keys already moved count twice).
  size_t Keys() const { return keys_ + (old_.load(std::memory_order_relaxed) ? old_keys_ : 0); }
  // Writer only: slots of the current array (tests).
  size_t Capacity() const;

  static constexpr size_t kInitialSlots = 64;
  // Old slots moved per Put while an array is being replaced.
  static constexpr size_t kMoveStep = 32;
  // Most keys per slot (kMaxLoadNum / kMaxLoadDen) before the array doubles.
  // The index's arrays are memtable memory (a memtable flushes when its arena
  // reaches the write buffer size), so every byte here is a byte less of
  // data per flush; a probe compares the 4-byte hash bits before it reads an
  // entry, so the longer probe runs of a fuller array stay cheap.
  static constexpr size_t kMaxLoadNum = 3;
  static constexpr size_t kMaxLoadDen = 4;
  // Bytes per slot: the entry pointer and the hash bits.
  static constexpr size_t kSlotBytes = 12;

 private:
  struct Slots {
    size_t count;  // slots (any count >= 2)
    // The low 32 bits of each filled slot's key hash, written before the
    // slot's entry (release) and never changed after: a probe compares it
    // before reading the entry's key (a cache miss), and a resize moves
    // entries without reading them.
    std::atomic<uint32_t>* hashes;
    std::atomic<const char*> slot[1];
  };
  Slots* NewSlots(size_t count);
  const char* FindIn(const Slots* t, std::string_view user_key, uint32_t hash) const;
  // Stores entry in t (replacing its key's slot); true if the key was new to
  // t. user_key: entry's user key, or null to read it from entry only if a
  // slot's hash matches (a resize moving entries).
  bool PutIn(Slots* t, const char* entry, const std::string_view* user_key, uint32_t hash,
             bool keep_existing);
  void MoveSome();
  // The home slot of hash in t (Lemire's multiply-shift: any slot count).
  static size_t Home(const Slots* t, uint32_t hash) {
    return static_cast<size_t>((static_cast<uint64_t>(hash) * t->count) >> 32);
  }

  Arena* const arena_;
  const KeyOf key_of_;
  const size_t initial_slots_;
  std::atomic<Slots*> current_{nullptr};
  std::atomic<Slots*> old_{nullptr};  // being moved into current_, or null
  // Writer only.
  size_t keys_ = 0;      // distinct keys in current_
  size_t moved_ = 0;     // old_ slots moved so far
  size_t old_keys_ = 0;  // distinct keys old_ held when it was replaced
};

}  // namespace basalt::lsm

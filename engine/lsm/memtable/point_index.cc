#include "engine/lsm/memtable/point_index.h"

#include <algorithm>
#include <new>

#include "engine/base/checksum.h"

namespace basalt::lsm {

namespace {

// The low 32 bits of XXH3-64: they pick the slot (tables stay far below 2^32
// slots) and are what a slot keeps.
uint32_t HashOf(std::string_view user_key) { return static_cast<uint32_t>(Hash64(user_key)); }

}  // namespace

PointIndex::PointIndex(Arena* arena, KeyOf key_of, size_t expected_keys, size_t max_initial_bytes)
    : arena_(arena),
      key_of_(key_of),
      // Room for expected_keys and an eighth more before the first growth.
      initial_slots_(
          std::max(kInitialSlots, std::min(expected_keys * 9 / 8 * kMaxLoadDen / kMaxLoadNum + 1,
                                           max_initial_bytes / kSlotBytes))) {}

size_t PointIndex::Capacity() const {
  const Slots* t = current_.load(std::memory_order_relaxed);
  return t == nullptr ? 0 : t->count;
}

PointIndex::Slots* PointIndex::NewSlots(size_t count) {
  char* mem =
      arena_->AllocateAligned(sizeof(Slots) + sizeof(std::atomic<const char*>) * (count - 1));
  auto* t = reinterpret_cast<Slots*>(mem);
  t->count = count;
  t->hashes = reinterpret_cast<std::atomic<uint32_t>*>(
      arena_->AllocateAligned(sizeof(std::atomic<uint32_t>) * count));
  for (size_t i = 0; i < count; i++) {
    new (&t->slot[i]) std::atomic<const char*>(nullptr);
    new (&t->hashes[i]) std::atomic<uint32_t>(0);
  }
  return t;
}

const char* PointIndex::FindIn(const Slots* t, std::string_view user_key, uint32_t hash) const {
  for (size_t i = Home(t, hash);; i = i + 1 == t->count ? 0 : i + 1) {
    const char* e = t->slot[i].load(std::memory_order_acquire);
    if (e == nullptr) return nullptr;  // never full (kMaxLoadNum / kMaxLoadDen)
    // The acquire above makes the slot's hash (stored before it) visible.
    if (t->hashes[i].load(std::memory_order_relaxed) == hash && key_of_(e) == user_key) return e;
  }
}

bool PointIndex::PutIn(Slots* t, const char* entry, const std::string_view* user_key, uint32_t hash,
                       bool keep_existing) {
  for (size_t i = Home(t, hash);; i = i + 1 == t->count ? 0 : i + 1) {
    const char* e = t->slot[i].load(std::memory_order_relaxed);
    if (e == nullptr) {
      t->hashes[i].store(hash, std::memory_order_relaxed);
      t->slot[i].store(entry, std::memory_order_release);  // publishes the hash too
      return true;
    }
    if (t->hashes[i].load(std::memory_order_relaxed) != hash) continue;
    const std::string_view key = user_key != nullptr ? *user_key : key_of_(entry);
    if (key_of_(e) == key) {
      if (!keep_existing) t->slot[i].store(entry, std::memory_order_release);
      return false;
    }
  }
}

void PointIndex::MoveSome() {
  Slots* old = old_.load(std::memory_order_relaxed);
  Slots* cur = current_.load(std::memory_order_relaxed);
  const size_t end = std::min(old->count, moved_ + kMoveStep);
  for (; moved_ < end; moved_++) {
    const char* e = old->slot[moved_].load(std::memory_order_relaxed);
    if (e == nullptr) continue;
    // A key Put since the switch is in current_ with a newer entry: keep it.
    // The stored hash places the entry without reading its key.
    const uint32_t hash = old->hashes[moved_].load(std::memory_order_relaxed);
    if (PutIn(cur, e, /*user_key=*/nullptr, hash, /*keep_existing=*/true)) keys_++;
  }
  if (moved_ == old->count) {
    old_.store(nullptr, std::memory_order_release);
    moved_ = 0;
  }
}

void PointIndex::Put(const char* entry, std::string_view user_key) {
  Slots* cur = current_.load(std::memory_order_relaxed);
  if (cur == nullptr) {
    cur = NewSlots(initial_slots_);
    current_.store(cur, std::memory_order_release);
  } else if (old_.load(std::memory_order_relaxed) != nullptr) {
    MoveSome();
  } else if ((keys_ + 1) * kMaxLoadDen > cur->count * kMaxLoadNum) {
    // Readers must find the old array whenever they find the new one: old_
    // first, then current_ (both release; readers load current_ first).
    Slots* next = NewSlots(cur->count * 2);
    old_.store(cur, std::memory_order_release);
    current_.store(next, std::memory_order_release);
    cur = next;
    old_keys_ = keys_;
    keys_ = 0;
    moved_ = 0;
    MoveSome();
  }
  if (PutIn(cur, entry, &user_key, HashOf(user_key), /*keep_existing=*/false)) keys_++;
}

const char* PointIndex::Find(std::string_view user_key) const {
  const Slots* cur = current_.load(std::memory_order_acquire);
  if (cur == nullptr) return nullptr;
  const Slots* old = old_.load(std::memory_order_acquire);
  const uint32_t hash = HashOf(user_key);
  const char* e = FindIn(cur, user_key, hash);
  if (e == nullptr && old != nullptr) e = FindIn(old, user_key, hash);
  return e;
}

}  // namespace basalt::lsm

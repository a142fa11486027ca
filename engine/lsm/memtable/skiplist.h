// SkipList: the memtable's ordered set of entries, allocated in an Arena.
//
// Thread safety
//   Writes (Insert) require external synchronisation: one writer at a time.
//   Reads (Contains, iterators) need no lock and run concurrently with the
//   writer: a node is fully initialised before it is published with a
//   release store, and readers load links with acquire.
// Invariants
//   Nodes are never deleted while the list lives (the arena frees them all
//   at once). Entries are unique and never modified after insertion.
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

#include "engine/base/arena.h"
#include "engine/base/random.h"

namespace basalt::lsm {

// Key is a trivially copyable handle (e.g. const char*); Cmp(a, b) returns <0, 0, >0.
template <typename Key, class Cmp>
class SkipList {
 private:
  struct Node;

 public:
  SkipList(Cmp cmp, Arena* arena);
  SkipList(const SkipList&) = delete;
  SkipList& operator=(const SkipList&) = delete;

  // REQUIRES: nothing equal to key is in the list; external synchronisation.
  void Insert(const Key& key);
  // For Key = const char*: allocates `bytes` for a new entry right after its
  // node, lets fill(char* entry) write it, then inserts it (requirements as
  // Insert). A search then reads the key next to the links it follows: one
  // cache miss per node visited instead of two.
  template <class Fill>
  void InsertNew(size_t bytes, Fill fill);
  bool Contains(const Key& key) const;
  // Estimated number of entries < key, in O(log n): the search path's steps
  // at each level, each worth kBranching^level entries (the expected spacing
  // of the nodes of that height). Exact when every step is taken at level 0.
  uint64_t EstimateCountBelow(const Key& key) const;

  class Iterator {
   public:
    explicit Iterator(const SkipList* list) : list_(list), node_(nullptr) {}
    bool Valid() const { return node_ != nullptr; }
    const Key& key() const { return node_->key; }
    void Next() { node_ = node_->Next(0); }
    void Prev() {
      node_ = list_->FindLessThan(node_->key);
      if (node_ == list_->head_) node_ = nullptr;
    }
    // First entry >= target.
    void Seek(const Key& target) { node_ = list_->FindGreaterOrEqual(target, nullptr); }
    void SeekToFirst() { node_ = list_->head_->Next(0); }
    void SeekToLast() {
      node_ = list_->FindLast();
      if (node_ == list_->head_) node_ = nullptr;
    }

   private:
    const SkipList* list_;
    Node* node_;
  };

 private:
  static constexpr int kMaxHeight = 12;
  static constexpr uint64_t kBranching = 4;

  int MaxHeight() const { return max_height_.load(std::memory_order_relaxed); }
  Node* NewNode(const Key& key, int height);
  // Links x (of `height`) in; REQUIRES nothing equal to x->key in the list.
  void Link(Node* x, int height);
  int RandomHeight();
  bool KeyIsAfterNode(const Key& key, Node* n) const {
    return n != nullptr && cmp_(n->key, key) < 0;
  }
  Node* FindGreaterOrEqual(const Key& key, Node** prev) const;
  Node* FindLessThan(const Key& key) const;
  Node* FindLast() const;

  Cmp const cmp_;
  Arena* const arena_;
  Node* const head_;
  std::atomic<int> max_height_;
  Random rnd_;
};

template <typename Key, class Cmp>
struct SkipList<Key, Cmp>::Node {
  explicit Node(const Key& k) : key(k) {}
  Key const key;
  Node* Next(int n) { return next_[n].load(std::memory_order_acquire); }
  void SetNext(int n, Node* x) { next_[n].store(x, std::memory_order_release); }
  Node* NoBarrierNext(int n) { return next_[n].load(std::memory_order_relaxed); }
  void NoBarrierSetNext(int n, Node* x) { next_[n].store(x, std::memory_order_relaxed); }

 private:
  // Length is the node's height; allocated past the struct.
  std::atomic<Node*> next_[1];
};

template <typename Key, class Cmp>
typename SkipList<Key, Cmp>::Node* SkipList<Key, Cmp>::NewNode(const Key& key, int height) {
  char* mem = arena_->AllocateAligned(sizeof(Node) + sizeof(std::atomic<Node*>) * (height - 1));
  return new (mem) Node(key);
}

template <typename Key, class Cmp>
int SkipList<Key, Cmp>::RandomHeight() {
  int h = 1;
  while (h < kMaxHeight && rnd_.OneIn(kBranching)) h++;
  return h;
}

template <typename Key, class Cmp>
typename SkipList<Key, Cmp>::Node* SkipList<Key, Cmp>::FindGreaterOrEqual(const Key& key,
                                                                          Node** prev) const {
  Node* x = head_;
  int level = MaxHeight() - 1;
  // The node the search last found not before key: when a lower level leads
  // to it again, the comparison (a cache miss) is known already.
  Node* not_before = nullptr;
  while (true) {
    Node* next = x->Next(level);
    if (next != not_before && KeyIsAfterNode(key, next)) {
      x = next;
    } else {
      not_before = next;
      if (prev != nullptr) prev[level] = x;
      if (level == 0) return next;
      level--;
    }
  }
}

template <typename Key, class Cmp>
typename SkipList<Key, Cmp>::Node* SkipList<Key, Cmp>::FindLessThan(const Key& key) const {
  Node* x = head_;
  int level = MaxHeight() - 1;
  while (true) {
    Node* next = x->Next(level);
    if (next == nullptr || cmp_(next->key, key) >= 0) {
      if (level == 0) return x;
      level--;
    } else {
      x = next;
    }
  }
}

template <typename Key, class Cmp>
typename SkipList<Key, Cmp>::Node* SkipList<Key, Cmp>::FindLast() const {
  Node* x = head_;
  int level = MaxHeight() - 1;
  while (true) {
    Node* next = x->Next(level);
    if (next == nullptr) {
      if (level == 0) return x;
      level--;
    } else {
      x = next;
    }
  }
}

template <typename Key, class Cmp>
uint64_t SkipList<Key, Cmp>::EstimateCountBelow(const Key& key) const {
  uint64_t count = 0;
  Node* x = head_;
  int level = MaxHeight() - 1;
  while (true) {
    Node* next = x->Next(level);
    if (next == nullptr || cmp_(next->key, key) >= 0) {
      if (level == 0) return count;
      count *= kBranching;
      level--;
    } else {
      x = next;
      count++;
    }
  }
}

template <typename Key, class Cmp>
SkipList<Key, Cmp>::SkipList(Cmp cmp, Arena* arena)
    : cmp_(cmp),
      arena_(arena),
      head_(NewNode(Key(), kMaxHeight)),
      max_height_(1),
      rnd_(0xdeadbeef) {
  for (int i = 0; i < kMaxHeight; i++) head_->SetNext(i, nullptr);
}

template <typename Key, class Cmp>
void SkipList<Key, Cmp>::Insert(const Key& key) {
  const int height = RandomHeight();
  Link(NewNode(key, height), height);
}

template <typename Key, class Cmp>
template <class Fill>
void SkipList<Key, Cmp>::InsertNew(size_t bytes, Fill fill) {
  static_assert(std::is_same_v<Key, const char*>, "InsertNew stores the entry as the key");
  const int height = RandomHeight();
  const size_t node_size = sizeof(Node) + sizeof(std::atomic<Node*>) * (height - 1);
  char* mem = arena_->AllocateAligned(node_size + bytes);
  char* entry = mem + node_size;
  fill(entry);
  Link(new (mem) Node(entry), height);
}

template <typename Key, class Cmp>
void SkipList<Key, Cmp>::Link(Node* x, int height) {
  Node* prev[kMaxHeight];
  Node* next = FindGreaterOrEqual(x->key, prev);
  assert(next == nullptr || cmp_(x->key, next->key) != 0);
  (void)next;
  if (height > MaxHeight()) {
    for (int i = MaxHeight(); i < height; i++) prev[i] = head_;
    // Readers that see the new height before the node see nullptr links from
    // head_ at the new levels and simply drop down: safe without a barrier.
    max_height_.store(height, std::memory_order_relaxed);
  }
  for (int i = 0; i < height; i++) {
    x->NoBarrierSetNext(i, prev[i]->NoBarrierNext(i));
    prev[i]->SetNext(i, x);  // publish
  }
}

template <typename Key, class Cmp>
bool SkipList<Key, Cmp>::Contains(const Key& key) const {
  Node* x = FindGreaterOrEqual(key, nullptr);
  return x != nullptr && cmp_(key, x->key) == 0;
}

}  // namespace basalt::lsm

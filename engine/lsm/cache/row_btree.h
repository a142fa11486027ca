// RowBTree<V>: an in-memory B+tree map from byte-string keys (bytewise order)
// to V, for the row cache (row_cache.h).
//
// Shape: inner nodes hold up to kInnerSlots children and separators; leaves
// hold up to kLeafSlots (key, value) pairs and are linked both ways, so a
// range walk is a pointer chase from one leaf to the next. A full node splits
// in two halves on insert. Erase keeps every node but the root at least half
// full: an underfull node borrows one entry from a sibling with more than
// half, else merges with it; a root with one child is replaced by that child.
// So memory stays within 2x of the entries and height stays O(log n).
//
// Invariants (checked by CheckInvariants, for tests):
//  - keys strictly increase in every node and along the leaf chain;
//  - every key under child[i] of an inner node is >= keys[i-1] and < keys[i];
//  - all leaves are at the same depth; the leaf chain visits every entry once.
//
// Keys are stored in the nodes themselves up to RowKey::kInline bytes (longer
// ones on the heap), so a binary search within a node reads the node's own
// cache lines instead of chasing one pointer per comparison.
//
// Iterators point into a leaf; any Insert or Erase invalidates all of them.
// Thread safety: none; the row cache guards each tree with its own mutex.
#pragma once

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace basalt::lsm {

// Bytewise a < b, eight bytes per step (no libc call for short keys).
inline bool RowKeyLess(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) {
      if constexpr (std::endian::native == std::endian::little) {
        x = __builtin_bswap64(x);
        y = __builtin_bswap64(y);
      }
      return x < y;
    }
  }
  for (; i < n; i++) {
    if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
  }
  return a.size() < b.size();
}

// A byte string in 32 bytes: inline up to kInline bytes, else on the heap.
class RowKey {
 public:
  static constexpr size_t kInline = 28;

  RowKey() = default;
  explicit RowKey(std::string_view s) { Assign(s); }
  RowKey(const RowKey& o) { Assign(o.view()); }
  RowKey(RowKey&& o) noexcept { Take(&o); }
  RowKey& operator=(const RowKey& o) {
    if (this != &o) {
      Free();
      Assign(o.view());
    }
    return *this;
  }
  RowKey& operator=(RowKey&& o) noexcept {
    if (this != &o) {
      Free();
      Take(&o);
    }
    return *this;
  }
  ~RowKey() { Free(); }

  std::string_view view() const { return {size_ <= kInline ? buf_ : ptr_, size_}; }

 private:
  void Assign(std::string_view s) {
    size_ = static_cast<uint32_t>(s.size());
    if (size_ <= kInline) {
      if (size_ > 0) std::memcpy(buf_, s.data(), size_);
    } else {
      ptr_ = new char[size_];
      std::memcpy(ptr_, s.data(), size_);
    }
  }
  void Take(RowKey* o) {
    size_ = o->size_;
    if (size_ <= kInline) {
      std::memcpy(buf_, o->buf_, size_);
    } else {
      ptr_ = o->ptr_;
    }
    o->size_ = 0;
  }
  void Free() {
    if (size_ > kInline) delete[] ptr_;
    size_ = 0;
  }

  uint32_t size_ = 0;
  union {
    char buf_[kInline];
    char* ptr_;
  };
};

template <typename V>
class RowBTree {
 public:
  static constexpr int kLeafSlots = 32;   // max entries per leaf
  static constexpr int kInnerSlots = 64;  // max children per inner node

 private:
  struct Node {
    explicit Node(bool l) : leaf(l) {}
    const bool leaf;
    int n = 0;  // leaf: entries; inner: separators (children = n + 1)
  };
  // One spare slot lets a node overflow by one before it splits.
  struct Leaf : Node {
    Leaf() : Node(true) {}
    RowKey keys[kLeafSlots + 1];
    V vals[kLeafSlots + 1];
    Leaf* prev = nullptr;
    Leaf* next = nullptr;
  };
  struct Inner : Node {
    Inner() : Node(false) {}
    RowKey keys[kInnerSlots];
    Node* child[kInnerSlots + 1] = {};
  };
  static constexpr int kMinLeaf = kLeafSlots / 2;
  static constexpr int kMinInnerKeys = kInnerSlots / 2 - 1;

 public:
  // Position of one entry; invalid past either end.
  class Iterator {
   public:
    Iterator() = default;
    bool Valid() const { return leaf_ != nullptr; }
    std::string_view key() const { return leaf_->keys[pos_].view(); }
    V& value() const { return leaf_->vals[pos_]; }
    void Next() {
      if (++pos_ >= leaf_->n) {
        leaf_ = leaf_->next;
        pos_ = 0;
      }
    }
    void Prev() {
      if (--pos_ < 0) {
        leaf_ = leaf_->prev;
        pos_ = leaf_ != nullptr ? leaf_->n - 1 : 0;
      }
    }
    bool operator==(const Iterator& o) const { return leaf_ == o.leaf_ && pos_ == o.pos_; }

   private:
    friend class RowBTree;
    Iterator(Leaf* leaf, int pos) : leaf_(leaf), pos_(pos) {
      if (leaf_ != nullptr && pos_ >= leaf_->n) {  // past this leaf: next one (or end)
        leaf_ = leaf_->next;
        pos_ = 0;
      }
    }
    Leaf* leaf_ = nullptr;
    int pos_ = 0;
  };

  RowBTree() : root_(new Leaf) {}
  ~RowBTree() { Free(root_); }
  RowBTree(const RowBTree&) = delete;
  RowBTree& operator=(const RowBTree&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int height() const {
    int h = 1;
    for (const Node* x = root_; !x->leaf; x = static_cast<const Inner*>(x)->child[0]) h++;
    return h;
  }

  // First entry with key >= k (invalid if none).
  Iterator LowerBound(std::string_view k) const {
    Leaf* leaf = FindLeaf(k);
    return Iterator(leaf, LeafLowerBound(leaf, k));
  }
  // The entry with key k, or invalid.
  Iterator Find(std::string_view k) const {
    Iterator it = LowerBound(k);
    return it.Valid() && it.key() == k ? it : Iterator();
  }
  Iterator Begin() const {
    const Node* x = root_;
    while (!x->leaf) x = static_cast<const Inner*>(x)->child[0];
    return Iterator(const_cast<Leaf*>(static_cast<const Leaf*>(x)), 0);
  }
  Iterator Last() const {
    const Node* x = root_;
    while (!x->leaf) {
      const Inner* in = static_cast<const Inner*>(x);
      x = in->child[in->n];
    }
    const Leaf* leaf = static_cast<const Leaf*>(x);
    return leaf->n > 0 ? Iterator(const_cast<Leaf*>(leaf), leaf->n - 1) : Iterator();
  }
  // The entry before it (it may be invalid = past the end: then the last entry).
  Iterator PrevOf(Iterator it) const {
    if (!it.Valid()) return Last();
    it.Prev();
    return it;
  }
  // The last entry with key < k (invalid if none).
  Iterator Before(std::string_view k) const {
    Leaf* leaf = FindLeaf(k);
    const int pos = LeafLowerBound(leaf, k);
    if (pos > 0) return Iterator(leaf, pos - 1);
    Leaf* p = leaf->prev;
    return p != nullptr ? Iterator(p, p->n - 1) : Iterator();
  }

  // Inserts k -> v, or replaces the value if k is present. Returns true if inserted.
  bool Insert(std::string_view k, V v) { return InsertImpl(k, std::move(v), true).second; }
  // Inserts k -> v if k is absent. Returns the entry for k and whether it was
  // inserted (false: an entry existed and is left as it was). One descent.
  std::pair<Iterator, bool> TryInsert(std::string_view k, V v) {
    return InsertImpl(k, std::move(v), false);
  }
  // TryInsert of a key that follows hint's: when k belongs in hint's leaf
  // right after hint and the leaf has room, it goes there without a descent
  // (ascending runs, e.g. the rows of a range read); else a plain TryInsert.
  std::pair<Iterator, bool> TryInsertAfter(Iterator hint, std::string_view k, V v) {
    Leaf* leaf = hint.leaf_;
    if (leaf != nullptr && leaf->n < kLeafSlots && RowKeyLess(hint.key(), k)) {
      const int pos = hint.pos_ + 1;
      // Below the leaf's next key (or past the last key of the whole tree):
      // then k is inside the leaf's range and the separators above still hold.
      const bool fits =
          pos < leaf->n ? RowKeyLess(k, leaf->keys[pos].view()) : leaf->next == nullptr;
      if (fits) {
        std::move_backward(leaf->keys + pos, leaf->keys + leaf->n, leaf->keys + leaf->n + 1);
        std::move_backward(leaf->vals + pos, leaf->vals + leaf->n, leaf->vals + leaf->n + 1);
        leaf->keys[pos] = RowKey(k);
        leaf->vals[pos] = std::move(v);
        leaf->n++;
        size_++;
        return {Iterator(leaf, pos), true};
      }
    }
    return TryInsert(k, std::move(v));
  }

  // Erases the entry at it (valid) and returns the entry after it. Without a
  // descent when the leaf stays at least half full (or is the root).
  Iterator EraseAt(Iterator it) {
    Leaf* leaf = it.leaf_;
    if (leaf->n > kMinLeaf || leaf == root_) {
      // Removing a leaf's first key keeps the separators above valid bounds.
      const int pos = it.pos_;
      std::move(leaf->keys + pos + 1, leaf->keys + leaf->n, leaf->keys + pos);
      std::move(leaf->vals + pos + 1, leaf->vals + leaf->n, leaf->vals + pos);
      leaf->n--;
      ResetSlots(leaf, leaf->n, leaf->n + 1);
      size_--;
      return Iterator(leaf, pos);
    }
    const std::string key(it.key());
    Erase(key);
    return LowerBound(key);
  }

  // Erases k; returns whether it was present.
  bool Erase(std::string_view k) {
    if (!EraseRec(root_, k)) return false;
    size_--;
    if (!root_->leaf && root_->n == 0) {  // one child left: shrink a level
      Inner* old = static_cast<Inner*>(root_);
      root_ = old->child[0];
      delete old;
    }
    return true;
  }

 private:
  std::pair<Iterator, bool> InsertImpl(std::string_view k, V&& v, bool replace) {
    RowKey sep;
    Node* right = nullptr;
    bool inserted = false;
    Iterator at;
    InsertRec(root_, k, std::move(v), replace, &inserted, &at, &sep, &right);
    if (right != nullptr) {  // the root split: grow a level
      Inner* r = new Inner;
      r->n = 1;
      r->keys[0] = std::move(sep);
      r->child[0] = root_;
      r->child[1] = right;
      root_ = r;
    }
    if (inserted) size_++;
    return {at, inserted};
  }

 public:
  void Clear() {
    Free(root_);
    root_ = new Leaf;
    size_ = 0;
  }

  // Verifies the invariants above; on failure returns false and says why.
  bool CheckInvariants(std::string* why) const {
    int leaf_depth = -1;
    size_t counted = 0;
    if (!CheckNode(root_, nullptr, nullptr, 0, true, &leaf_depth, &counted, why)) return false;
    if (counted != size_) return Fail(why, "size() disagrees with the entries in the leaves");
    // The leaf chain, both ways.
    size_t chained = 0;
    std::string_view last;
    const Leaf* prev = nullptr;
    for (Iterator it = Begin(); it.Valid(); it.Next()) {
      if (it.pos_ == 0 && it.leaf_->prev != prev) return Fail(why, "broken prev link");
      if (chained > 0 && !(last < it.key())) return Fail(why, "leaf chain not increasing");
      last = it.key();
      prev = it.leaf_;
      chained++;
    }
    if (size_ > 0 && !(Last().key() == last)) return Fail(why, "Last() is not the last entry");
    if (chained != size_) return Fail(why, "leaf chain misses entries");
    return true;
  }

 private:
  static bool Fail(std::string* why, const char* msg) {
    if (why != nullptr) *why = msg;
    return false;
  }

  static void Free(Node* x) {
    if (x->leaf) {
      delete static_cast<Leaf*>(x);
      return;
    }
    Inner* in = static_cast<Inner*>(x);
    for (int i = 0; i <= in->n; i++) Free(in->child[i]);
    delete in;
  }

  // Index of the child of an inner node whose range holds k.
  static int ChildIndex(const Inner* in, std::string_view k) {
    return static_cast<int>(std::upper_bound(in->keys, in->keys + in->n, k,
                                             [](std::string_view a, const RowKey& b) {
                                               return RowKeyLess(a, b.view());
                                             }) -
                            in->keys);
  }
  static int LeafLowerBound(const Leaf* leaf, std::string_view k) {
    return static_cast<int>(std::lower_bound(leaf->keys, leaf->keys + leaf->n, k,
                                             [](const RowKey& a, std::string_view b) {
                                               return RowKeyLess(a.view(), b);
                                             }) -
                            leaf->keys);
  }
  Leaf* FindLeaf(std::string_view k) const {
    Node* x = root_;
    while (!x->leaf) {
      Inner* in = static_cast<Inner*>(x);
      x = in->child[ChildIndex(in, k)];
    }
    return static_cast<Leaf*>(x);
  }

  // Inserts into the subtree at x (or, if present, replaces the value when
  // replace); *at is the entry's position. If x overflowed and split, *right
  // is the new right sibling and *sep the smallest key under it.
  void InsertRec(Node* x, std::string_view k, V&& v, bool replace, bool* inserted, Iterator* at,
                 RowKey* sep, Node** right) {
    if (x->leaf) {
      Leaf* leaf = static_cast<Leaf*>(x);
      const int pos = LeafLowerBound(leaf, k);
      if (pos < leaf->n && leaf->keys[pos].view() == k) {
        if (replace) leaf->vals[pos] = std::move(v);
        *at = Iterator(leaf, pos);
        return;
      }
      std::move_backward(leaf->keys + pos, leaf->keys + leaf->n, leaf->keys + leaf->n + 1);
      std::move_backward(leaf->vals + pos, leaf->vals + leaf->n, leaf->vals + leaf->n + 1);
      leaf->keys[pos] = RowKey(k);
      leaf->vals[pos] = std::move(v);
      leaf->n++;
      *inserted = true;
      *at = Iterator(leaf, pos);
      if (leaf->n > kLeafSlots) {
        Leaf* r = new Leaf;
        const int keep = leaf->n / 2;
        r->n = leaf->n - keep;
        std::move(leaf->keys + keep, leaf->keys + leaf->n, r->keys);
        std::move(leaf->vals + keep, leaf->vals + leaf->n, r->vals);
        ResetSlots(leaf, keep, leaf->n);
        leaf->n = keep;
        r->next = leaf->next;
        r->prev = leaf;
        if (r->next != nullptr) r->next->prev = r;
        leaf->next = r;
        *sep = r->keys[0];
        *right = r;
        if (pos >= keep) *at = Iterator(r, pos - keep);
      }
      return;
    }
    Inner* in = static_cast<Inner*>(x);
    const int i = ChildIndex(in, k);
    RowKey child_sep;
    Node* child_right = nullptr;
    InsertRec(in->child[i], k, std::move(v), replace, inserted, at, &child_sep, &child_right);
    if (child_right == nullptr) return;
    std::move_backward(in->keys + i, in->keys + in->n, in->keys + in->n + 1);
    std::move_backward(in->child + i + 1, in->child + in->n + 1, in->child + in->n + 2);
    in->keys[i] = std::move(child_sep);
    in->child[i + 1] = child_right;
    in->n++;
    if (in->n + 1 > kInnerSlots) {  // too many children: split around the middle separator
      Inner* r = new Inner;
      const int mid = in->n / 2;
      *sep = std::move(in->keys[mid]);
      r->n = in->n - mid - 1;
      std::move(in->keys + mid + 1, in->keys + in->n, r->keys);
      std::copy(in->child + mid + 1, in->child + in->n + 1, r->child);
      for (int j = mid; j < in->n; j++) in->keys[j] = RowKey();
      in->n = mid;
      *right = r;
    }
  }

  // Moved-from slots keep no memory (values may hold strings).
  static void ResetSlots(Leaf* leaf, int from, int to) {
    for (int j = from; j < to; j++) {
      leaf->keys[j] = RowKey();
      leaf->vals[j] = V();
    }
  }

  bool EraseRec(Node* x, std::string_view k) {
    if (x->leaf) {
      Leaf* leaf = static_cast<Leaf*>(x);
      const int pos = LeafLowerBound(leaf, k);
      if (pos >= leaf->n || leaf->keys[pos].view() != k) return false;
      std::move(leaf->keys + pos + 1, leaf->keys + leaf->n, leaf->keys + pos);
      std::move(leaf->vals + pos + 1, leaf->vals + leaf->n, leaf->vals + pos);
      leaf->n--;
      ResetSlots(leaf, leaf->n, leaf->n + 1);
      return true;
    }
    Inner* in = static_cast<Inner*>(x);
    const int i = ChildIndex(in, k);
    if (!EraseRec(in->child[i], k)) return false;
    Node* c = in->child[i];
    if (c->leaf ? c->n < kMinLeaf : c->n < kMinInnerKeys) Rebalance(in, i);
    return true;
  }

  // child[i] of p is underfull: borrow from a sibling that can spare one, else merge.
  void Rebalance(Inner* p, int i) {
    Node* c = p->child[i];
    Node* left = i > 0 ? p->child[i - 1] : nullptr;
    Node* right = i < p->n ? p->child[i + 1] : nullptr;
    if (c->leaf) {
      Leaf* cl = static_cast<Leaf*>(c);
      Leaf* ll = static_cast<Leaf*>(left);
      Leaf* rl = static_cast<Leaf*>(right);
      if (ll != nullptr && ll->n > kMinLeaf) {
        std::move_backward(cl->keys, cl->keys + cl->n, cl->keys + cl->n + 1);
        std::move_backward(cl->vals, cl->vals + cl->n, cl->vals + cl->n + 1);
        cl->keys[0] = std::move(ll->keys[ll->n - 1]);
        cl->vals[0] = std::move(ll->vals[ll->n - 1]);
        cl->n++;
        ll->n--;
        ResetSlots(ll, ll->n, ll->n + 1);
        p->keys[i - 1] = cl->keys[0];
      } else if (rl != nullptr && rl->n > kMinLeaf) {
        cl->keys[cl->n] = std::move(rl->keys[0]);
        cl->vals[cl->n] = std::move(rl->vals[0]);
        cl->n++;
        std::move(rl->keys + 1, rl->keys + rl->n, rl->keys);
        std::move(rl->vals + 1, rl->vals + rl->n, rl->vals);
        rl->n--;
        ResetSlots(rl, rl->n, rl->n + 1);
        p->keys[i] = rl->keys[0];
      } else if (ll != nullptr) {
        MergeLeaves(p, i - 1);
      } else if (rl != nullptr) {
        MergeLeaves(p, i);
      }
      return;
    }
    Inner* ci = static_cast<Inner*>(c);
    Inner* li = static_cast<Inner*>(left);
    Inner* ri = static_cast<Inner*>(right);
    if (li != nullptr && li->n > kMinInnerKeys) {  // rotate right through the parent
      std::move_backward(ci->keys, ci->keys + ci->n, ci->keys + ci->n + 1);
      std::copy_backward(ci->child, ci->child + ci->n + 1, ci->child + ci->n + 2);
      ci->keys[0] = std::move(p->keys[i - 1]);
      ci->child[0] = li->child[li->n];
      ci->n++;
      p->keys[i - 1] = std::move(li->keys[li->n - 1]);
      li->keys[li->n - 1] = RowKey();
      li->n--;
    } else if (ri != nullptr && ri->n > kMinInnerKeys) {  // rotate left through the parent
      ci->keys[ci->n] = std::move(p->keys[i]);
      ci->child[ci->n + 1] = ri->child[0];
      ci->n++;
      p->keys[i] = std::move(ri->keys[0]);
      std::move(ri->keys + 1, ri->keys + ri->n, ri->keys);
      std::copy(ri->child + 1, ri->child + ri->n + 1, ri->child);
      ri->keys[ri->n - 1] = RowKey();
      ri->n--;
    } else if (li != nullptr) {
      MergeInner(p, i - 1);
    } else if (ri != nullptr) {
      MergeInner(p, i);
    }
  }

  // Removes separator j and child j+1 of p (after child j+1 was merged into child j).
  static void RemoveFromParent(Inner* p, int j) {
    std::move(p->keys + j + 1, p->keys + p->n, p->keys + j);
    std::copy(p->child + j + 2, p->child + p->n + 1, p->child + j + 1);
    p->keys[p->n - 1] = RowKey();
    p->child[p->n] = nullptr;
    p->n--;
  }

  // Appends leaf child[j+1] of p to child[j] and frees it.
  static void MergeLeaves(Inner* p, int j) {
    Leaf* a = static_cast<Leaf*>(p->child[j]);
    Leaf* b = static_cast<Leaf*>(p->child[j + 1]);
    std::move(b->keys, b->keys + b->n, a->keys + a->n);
    std::move(b->vals, b->vals + b->n, a->vals + a->n);
    a->n += b->n;
    a->next = b->next;
    if (b->next != nullptr) b->next->prev = a;
    delete b;
    RemoveFromParent(p, j);
  }

  // Appends inner child[j+1] of p to child[j], pulling down separator j, and frees it.
  static void MergeInner(Inner* p, int j) {
    Inner* a = static_cast<Inner*>(p->child[j]);
    Inner* b = static_cast<Inner*>(p->child[j + 1]);
    a->keys[a->n] = std::move(p->keys[j]);
    std::move(b->keys, b->keys + b->n, a->keys + a->n + 1);
    std::copy(b->child, b->child + b->n + 1, a->child + a->n + 1);
    a->n += 1 + b->n;
    delete b;  // frees the node only: its children now belong to a
    RemoveFromParent(p, j);
  }

  bool CheckNode(const Node* x, const RowKey* lo, const RowKey* hi, int depth, bool is_root,
                 int* leaf_depth, size_t* counted, std::string* why) const {
    const int n = x->n;
    if (x->leaf) {
      const Leaf* leaf = static_cast<const Leaf*>(x);
      if (n > kLeafSlots || (!is_root && n < kMinLeaf)) return Fail(why, "leaf fill out of bounds");
      if (*leaf_depth < 0) *leaf_depth = depth;
      if (*leaf_depth != depth) return Fail(why, "leaves at different depths");
      for (int j = 0; j < n; j++) {
        const std::string_view k = leaf->keys[j].view();
        if (j > 0 && !(leaf->keys[j - 1].view() < k)) return Fail(why, "leaf not sorted");
        if (lo != nullptr && k < lo->view()) return Fail(why, "leaf key below its range");
        if (hi != nullptr && !(k < hi->view())) return Fail(why, "leaf key above its range");
      }
      *counted += static_cast<size_t>(n);
      return true;
    }
    const Inner* in = static_cast<const Inner*>(x);
    if (n + 1 > kInnerSlots || (is_root ? n < 1 : n < kMinInnerKeys)) {
      return Fail(why, "inner fill out of bounds");
    }
    for (int j = 0; j < n; j++) {
      const std::string_view k = in->keys[j].view();
      if (j > 0 && !(in->keys[j - 1].view() < k)) return Fail(why, "separators not sorted");
      if (lo != nullptr && k < lo->view()) return Fail(why, "separator below its range");
      if (hi != nullptr && !(k < hi->view())) return Fail(why, "separator above its range");
    }
    for (int j = 0; j <= n; j++) {
      const RowKey* clo = j == 0 ? lo : &in->keys[j - 1];
      const RowKey* chi = j == n ? hi : &in->keys[j];
      if (!CheckNode(in->child[j], clo, chi, depth + 1, false, leaf_depth, counted, why)) {
        return false;
      }
    }
    return true;
  }

  Node* root_;
  size_t size_ = 0;
};

}  // namespace basalt::lsm

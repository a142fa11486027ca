// FileBlockIndex and BlockIndex (block_index.h).

#include "engine/lsm/index/block_index.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>

#include "engine/lsm/dbformat.h"
#include "engine/lsm/iterator.h"
#include "engine/lsm/sstable/table.h"

namespace basalt::lsm {

namespace {

// The 8 bytes of user key u after its first p bytes (zero-padded) as a
// big-endian integer, so comparing heads compares those bytes: a smaller head
// means a smaller user key; equal heads decide nothing (padding, or a
// difference further on).
uint64_t Head(std::string_view u, size_t p) {
  unsigned char b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  if (p < u.size()) std::memcpy(b, u.data() + p, std::min<size_t>(8, u.size() - p));
  uint64_t h;
  std::memcpy(&h, b, 8);
  if constexpr (std::endian::native == std::endian::little) h = __builtin_bswap64(h);
  return h;
}

size_t CommonPrefix(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) i++;
  return i;
}

// First index in [begin, end) whose key >= ikey (CompareInternalKey), end if
// none, over keys whose user keys all start with prefix. key_at(i) is key i,
// heads[i] its head after the prefix.
template <typename KeyAt>
size_t SearchNode(const uint64_t* heads, size_t begin, size_t end, std::string_view prefix,
                  std::string_view ikey, const KeyAt& key_at) {
  const std::string_view uk = ExtractUserKey(ikey);
  const size_t m = std::min(uk.size(), prefix.size());
  const int c = m == 0 ? 0 : std::memcmp(uk.data(), prefix.data(), m);
  if (c < 0 || (c == 0 && uk.size() < prefix.size())) return begin;  // before every key
  if (c > 0) return end;                                             // after every key
  const uint64_t h = Head(uk, prefix.size());
  while (begin < end) {
    const size_t mid = begin + (end - begin) / 2;
    const bool less = heads[mid] != h ? heads[mid] < h : CompareInternalKey(key_at(mid), ikey) < 0;
    if (less) {
      begin = mid + 1;
    } else {
      end = mid;
    }
  }
  return begin;
}

template <typename T>
size_t VectorBytes(const std::vector<T>& v) {
  return v.capacity() * sizeof(T);
}

}  // namespace

// ---------------------------------------------------------------------------
// FileBlockIndex

size_t FileBlockIndex::Leaf::LowerBound(std::string_view ikey) const {
  if (size() == 0) return 0;
  return SearchNode(heads.data(), 0, size(), std::string_view(keys.data(), prefix_len), ikey,
                    [this](size_t i) { return key(i); });
}

Status FileBlockIndex::Build(const Table& table, std::string_view largest,
                             std::shared_ptr<const FileBlockIndex>* out, size_t fanout) {
  assert(fanout >= 2);
  out->reset();
  std::shared_ptr<FileBlockIndex> index(new FileBlockIndex());
  const uint64_t blocks = table.properties().num_data_blocks;
  index->leaves_.reserve(static_cast<size_t>((blocks + fanout - 1) / fanout));
  std::unique_ptr<Iterator> it = table.NewIndexIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    BlockHandle handle;
    std::string_view v = it->value();
    if (!handle.DecodeFrom(&v) || !v.empty()) {
      return Status::Corruption("sstable: bad block handle in index block");
    }
    if (index->leaves_.empty() || index->leaves_.back().size() == fanout) {
      Leaf& leaf = index->leaves_.emplace_back();
      leaf.offsets.reserve(fanout + 1);
      leaf.offsets.push_back(0);
      leaf.handles.reserve(fanout);
    }
    Leaf& leaf = index->leaves_.back();
    leaf.keys.append(it->key());
    leaf.offsets.push_back(static_cast<uint32_t>(leaf.keys.size()));
    leaf.handles.push_back(handle);
    index->num_blocks_++;
  }
  if (!it->status().ok()) {
    return Status::Corruption(it->status().message(), "(index block)");
  }
  if (!index->leaves_.empty()) {
    // The last separator is a successor that may sort after the file's
    // largest key and so after the next file's first separator; entries past
    // largest belong to the next file.
    Leaf& last = index->leaves_.back();
    const size_t n = last.size();
    if (largest.size() >= 8 && CompareInternalKey(largest, last.key(n - 1)) < 0) {
      last.keys.resize(last.offsets[n - 1]);
      last.keys.append(largest);
      last.offsets[n] = static_cast<uint32_t>(last.keys.size());
    }
  }
  size_t bytes = sizeof(FileBlockIndex) + VectorBytes(index->leaves_);
  for (Leaf& leaf : index->leaves_) {
    leaf.keys.shrink_to_fit();
    const size_t n = leaf.size();
    leaf.prefix_len = static_cast<uint32_t>(
        CommonPrefix(ExtractUserKey(leaf.key(0)), ExtractUserKey(leaf.key(n - 1))));
    leaf.heads.reserve(n);
    for (size_t i = 0; i < n; i++) {
      leaf.heads.push_back(Head(ExtractUserKey(leaf.key(i)), leaf.prefix_len));
    }
    bytes += leaf.keys.capacity() + VectorBytes(leaf.offsets) + VectorBytes(leaf.heads) +
             VectorBytes(leaf.handles);
  }
  index->memory_usage_ = bytes;
  *out = std::move(index);
  return Status::OK();
}

// ---------------------------------------------------------------------------
// BlockIndex

void BlockIndex::Tree::Build(size_t fanout) {
  if (leaves.empty()) return;
  InnerLevel bottom;
  bottom.keys.reserve(leaves.size());
  for (const LeafRef& r : leaves) bottom.keys.push_back(r.leaf->key(r.leaf->size() - 1));
  inner.push_back(std::move(bottom));
  while (inner.back().keys.size() > fanout) {
    const std::vector<std::string_view>& below = inner.back().keys;
    InnerLevel up;
    up.keys.reserve((below.size() + fanout - 1) / fanout);
    for (size_t end = fanout; end - fanout < below.size(); end += fanout) {
      up.keys.push_back(below[std::min(end, below.size()) - 1]);
    }
    inner.push_back(std::move(up));
  }
  for (InnerLevel& level : inner) {
    const size_t n = level.keys.size();
    level.heads.resize(n);
    level.prefix_len.reserve((n + fanout - 1) / fanout);
    for (size_t begin = 0; begin < n; begin += fanout) {
      const size_t end = std::min(begin + fanout, n);
      const size_t p =
          CommonPrefix(ExtractUserKey(level.keys[begin]), ExtractUserKey(level.keys[end - 1]));
      level.prefix_len.push_back(static_cast<uint32_t>(p));
      for (size_t i = begin; i < end; i++) level.heads[i] = Head(ExtractUserKey(level.keys[i]), p);
    }
  }
}

size_t BlockIndex::Tree::SearchInner(size_t fanout, size_t h, size_t node,
                                     std::string_view ikey) const {
  const InnerLevel& level = inner[h];
  const size_t begin = node * fanout;
  const size_t end = std::min(begin + fanout, level.keys.size());
  const std::string_view prefix =
      ExtractUserKey(level.keys[begin]).substr(0, level.prefix_len[node]);
  return SearchNode(level.heads.data(), begin, end, prefix, ikey,
                    [&level](size_t i) { return level.keys[i]; });
}

const BlockIndex::LeafRef* BlockIndex::Tree::FindLeaf(size_t fanout, std::string_view ikey) const {
  if (inner.empty()) return nullptr;
  size_t i = SearchInner(fanout, inner.size() - 1, 0, ikey);
  if (i == inner.back().keys.size()) return nullptr;  // past the last key
  // Below the root the key is always found: the parent's key (the largest
  // of the node) is >= ikey.
  for (size_t h = inner.size() - 1; h-- > 0;) i = SearchInner(fanout, h, i, ikey);
  return &leaves[i];
}

size_t BlockIndex::Tree::MemoryUsage() const {
  size_t bytes = VectorBytes(leaves) + VectorBytes(inner);
  for (const InnerLevel& level : inner) {
    bytes += VectorBytes(level.keys) + VectorBytes(level.heads) + VectorBytes(level.prefix_len);
  }
  return bytes;
}

std::shared_ptr<const BlockIndex> BlockIndex::Build(
    const std::vector<std::vector<FileEntry>>& levels, size_t fanout) {
  assert(fanout >= 2);
  std::shared_ptr<BlockIndex> index(new BlockIndex());
  index->fanout_ = fanout;
  index->levels_.resize(std::max<size_t>(levels.size(), 1));
  // Adds the leaves of the file at position pos to t; false if it has none.
  auto add_file = [&](const FileEntry& f, size_t pos, Tree* t) {
    if (f.leaves == nullptr) return false;
    index->pinned_.push_back(f.leaves);
    index->leaf_bytes_ += f.leaves->MemoryUsage();
    for (const FileBlockIndex::Leaf& leaf : f.leaves->leaves()) {
      if (leaf.size() > 0) t->leaves.push_back({&leaf, pos});
    }
    return true;
  };
  if (!levels.empty()) {
    const std::vector<FileEntry>& l0 = levels[0];
    index->l0_.resize(l0.size());
    for (size_t i = 0; i < l0.size(); i++) {
      Tree& t = index->l0_[i];
      if (!add_file(l0[i], i, &t)) return nullptr;
      t.Build(fanout);
    }
  }
  for (size_t level = 1; level < levels.size(); level++) {
    Tree& t = index->levels_[level];
    const std::vector<FileEntry>& files = levels[level];
    size_t total = 0;
    for (const FileEntry& f : files) total += f.leaves ? f.leaves->leaves().size() : 0;
    t.leaves.reserve(total);
    for (size_t i = 0; i < files.size(); i++) {
      // One sequence across the level needs the files in key order.
      if (i > 0 && CompareInternalKey(files[i - 1].largest, files[i].smallest) >= 0) {
        return nullptr;
      }
      if (!add_file(files[i], i, &t)) return nullptr;
    }
    t.Build(fanout);
  }
  size_t bytes = sizeof(BlockIndex) + VectorBytes(index->l0_) + VectorBytes(index->levels_) +
                 VectorBytes(index->pinned_);
  for (const Tree& t : index->l0_) bytes += t.MemoryUsage();
  for (const Tree& t : index->levels_) bytes += t.MemoryUsage();
  index->inner_bytes_ = bytes;
  return index;
}

bool BlockIndex::FindCandidate(int level, std::string_view ikey, Candidate* c) const {
  assert(level >= 1 && level < static_cast<int>(levels_.size()));
  const LeafRef* r = levels_[level].FindLeaf(fanout_, ikey);
  if (r == nullptr) return false;
  c->file = r->file;
  c->leaf = r->leaf;
  return true;
}

BlockHandle BlockIndex::BlockOf(const Candidate& c, std::string_view ikey) {
  // The leaf's largest key is >= ikey, so the search ends inside it.
  const size_t e = c.leaf->LowerBound(ikey);
  assert(e < c.leaf->size());
  return c.leaf->handles[e];
}

bool BlockIndex::Find(int level, std::string_view ikey, size_t* file, BlockHandle* handle) const {
  Candidate c;
  if (!FindCandidate(level, ikey, &c)) return false;
  *file = c.file;
  *handle = BlockOf(c, ikey);
  return true;
}

bool BlockIndex::FindInL0File(size_t i, std::string_view ikey, BlockHandle* handle) const {
  assert(i < l0_.size());
  const LeafRef* r = l0_[i].FindLeaf(fanout_, ikey);
  if (r == nullptr) return false;
  *handle = BlockOf(Candidate{r->file, r->leaf}, ikey);
  return true;
}

}  // namespace basalt::lsm

#include "engine/lsm/sstable/block.h"

#include <fmt/format.h>

#include <cstring>
#include <utility>

#include "engine/base/coding.h"
#include "engine/lsm/dbformat.h"

namespace basalt::lsm {

namespace {

// Decodes the header of the entry at p; checks that key delta and value fit
// before limit. Returns a pointer to the key delta, or nullptr.
inline const char* DecodeEntry(const char* p, const char* limit, uint32_t* shared,
                               uint32_t* non_shared, uint32_t* value_length) {
  if (limit - p < 3) return nullptr;
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  if ((u[0] | u[1] | u[2]) < 128) {
    // Fast path: all three values fit in one byte each.
    *shared = u[0];
    *non_shared = u[1];
    *value_length = u[2];
    p += 3;
  } else {
    if ((p = DecodeVarint32(p, limit, shared)) == nullptr) return nullptr;
    if ((p = DecodeVarint32(p, limit, non_shared)) == nullptr) return nullptr;
    if ((p = DecodeVarint32(p, limit, value_length)) == nullptr) return nullptr;
  }
  if (static_cast<uint64_t>(limit - p) < uint64_t{*non_shared} + *value_length) return nullptr;
  return p;
}

}  // namespace

Block::Block(BlockBuffer contents) : data_(std::move(contents)) { Init(); }

Block::Block(std::string_view contents) : data_(contents.size()) {
  if (!contents.empty()) std::memcpy(data_.data(), contents.data(), contents.size());
  Init();
}

void Block::Init() {
  if (data_.size() < sizeof(uint32_t) || data_.size() > UINT32_MAX) {
    status_ = Status::Corruption(fmt::format("sstable: bad block size {}", data_.size()));
    return;
  }
  const uint32_t n = DecodeFixed32(data_.data() + data_.size() - sizeof(uint32_t));
  const uint64_t max_restarts = (data_.size() - sizeof(uint32_t)) / sizeof(uint32_t);
  if (n > max_restarts) {
    status_ = Status::Corruption(
        fmt::format("sstable: block of {} bytes claims {} restart points", data_.size(), n));
    return;
  }
  num_restarts_ = n;
  restart_offset_ = static_cast<uint32_t>(data_.size() - (1 + uint64_t{n}) * sizeof(uint32_t));
}

std::unique_ptr<Iterator> Block::NewIterator(KeyOrder order) const {
  if (!status_.ok()) return NewEmptyIterator(status_);
  return std::make_unique<BlockIterator>(this, order);
}

BlockIterator::BlockIterator(const Block* block, KeyOrder order)
    : data_(block->data_.data()),
      restarts_(block->status_.ok() ? block->restart_offset_ : 0),
      num_restarts_(block->status_.ok() ? block->num_restarts_ : 0),
      order_(order),
      current_(restarts_),
      restart_index_(num_restarts_),
      value_(data_, 0),
      status_(block->status_) {}

int BlockIterator::Compare(std::string_view a, std::string_view b) const {
  if (order_ == KeyOrder::kInternal) return CompareInternalKey(a, b);
  const int r = a.compare(b);
  return r < 0 ? -1 : (r > 0 ? 1 : 0);
}

uint32_t BlockIterator::GetRestartPoint(uint32_t index) const {
  return DecodeFixed32(data_ + restarts_ + index * sizeof(uint32_t));
}

void BlockIterator::MarkInvalid() {
  current_ = restarts_;
  restart_index_ = num_restarts_;
  key_.clear();
  value_ = std::string_view(data_ + restarts_, 0);
}

void BlockIterator::CorruptionError(std::string_view what) {
  const uint32_t at = current_;
  MarkInvalid();
  if (status_.ok()) {
    status_ = Status::Corruption(fmt::format("sstable: {} at block offset {}", what, at));
  }
}

bool BlockIterator::SeekToRestartPoint(uint32_t index) {
  key_.clear();
  restart_index_ = index;
  const uint32_t offset = GetRestartPoint(index);
  if (offset > restarts_) {
    current_ = offset;
    CorruptionError("restart point out of range");
    return false;
  }
  // current_ is fixed by ParseNextKey; value_ marks where the entry starts.
  value_ = std::string_view(data_ + offset, 0);
  return true;
}

bool BlockIterator::ParseNextKey() {
  current_ = NextEntryOffset();
  const char* p = data_ + current_;
  const char* limit = data_ + restarts_;
  if (p >= limit) {
    // No more entries: mark as invalid.
    MarkInvalid();
    return false;
  }
  uint32_t shared, non_shared, value_length;
  p = DecodeEntry(p, limit, &shared, &non_shared, &value_length);
  if (p == nullptr || key_.size() < shared) {
    CorruptionError("bad entry");
    return false;
  }
  key_.resize(shared);
  key_.append(p, non_shared);
  value_ = std::string_view(p + non_shared, value_length);
  if (order_ == KeyOrder::kInternal && key_.size() < 8) {
    CorruptionError("internal key too short");
    return false;
  }
  while (restart_index_ + 1 < num_restarts_ && GetRestartPoint(restart_index_ + 1) < current_) {
    ++restart_index_;
  }
  return true;
}

void BlockIterator::SeekToFirst() {
  if (num_restarts_ == 0) return MarkInvalid();
  if (SeekToRestartPoint(0)) ParseNextKey();
}

void BlockIterator::SeekToLast() {
  if (num_restarts_ == 0) return MarkInvalid();
  if (!SeekToRestartPoint(num_restarts_ - 1)) return;
  while (ParseNextKey() && NextEntryOffset() < restarts_) {
    // Keep skipping.
  }
}

void BlockIterator::Next() {
  if (!Valid()) return;
  ParseNextKey();
}

void BlockIterator::Prev() {
  if (!Valid()) return;
  // Scan backwards to a restart point before current_.
  const uint32_t original = current_;
  while (GetRestartPoint(restart_index_) >= original) {
    if (restart_index_ == 0) {
      // No more entries.
      MarkInvalid();
      return;
    }
    restart_index_--;
  }
  if (!SeekToRestartPoint(restart_index_)) return;
  // Loop until the end of the current entry hits the start of original.
  do {
    if (!ParseNextKey()) return;
  } while (NextEntryOffset() < original);
  // current_ < original here even for a corrupt block (the scan starts at a
  // restart point < original), so repeated Prev calls always terminate.
}

void BlockIterator::Seek(std::string_view target) {
  if (num_restarts_ == 0) return MarkInvalid();
  // Binary search in the restart array for the last restart point whose key
  // is < target.
  uint32_t left = 0;
  uint32_t right = num_restarts_ - 1;
  while (left < right) {
    const uint32_t mid = left + (right - left + 1) / 2;
    const uint32_t region_offset = GetRestartPoint(mid);
    uint32_t shared, non_shared, value_length;
    const char* key_ptr = region_offset >= restarts_
                              ? nullptr
                              : DecodeEntry(data_ + region_offset, data_ + restarts_, &shared,
                                            &non_shared, &value_length);
    if (key_ptr == nullptr || shared != 0 || (order_ == KeyOrder::kInternal && non_shared < 8)) {
      current_ = region_offset;
      CorruptionError("bad restart entry");
      return;
    }
    if (Compare(std::string_view(key_ptr, non_shared), target) < 0) {
      left = mid;  // key at mid < target: everything before mid is too.
    } else {
      right = mid - 1;  // key at mid >= target: the answer is before mid.
    }
  }
  // Linear search (within the restart block) for the first key >= target.
  if (!SeekToRestartPoint(left)) return;
  while (true) {
    if (!ParseNextKey()) return;
    if (Compare(key_, target) >= 0) return;
  }
}

}  // namespace basalt::lsm

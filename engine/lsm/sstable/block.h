// Block: the reader side of BlockBuilder (format in block_builder.h and
// docs/format/sstable.md, "Block contents").
//
// The reader trusts nothing: every varint, length and restart offset is
// checked against the block bounds. A malformed block yields an iterator
// whose status() is Corruption; it never reads outside the block.
//
// Thread safety: a Block is immutable and may be shared by threads; each
// BlockIterator is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/base/status.h"
#include "engine/lsm/iterator.h"
#include "engine/lsm/sstable/block_buffer.h"

namespace basalt::lsm {

// How a block's keys are ordered, and so how Seek compares.
enum class KeyOrder {
  kBytewise,  // plain byte strings
  kInternal,  // internal keys (dbformat.h); a stored key < 8 bytes is Corruption
};

class Block {
 public:
  // Takes ownership of the block contents (uncompressed, without trailer).
  explicit Block(BlockBuffer contents);
  // Copies contents (index blocks at open, tests).
  explicit Block(std::string_view contents);
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  // OK if the restart array is well-formed (entries are checked lazily, by
  // iterators).
  const Status& status() const { return status_; }
  std::string_view contents() const { return data_.view(); }
  // Bytes of memory the contents take (what a cache should charge).
  size_t memory_usage() const { return data_.capacity(); }
  uint32_t num_restarts() const { return num_restarts_; }

  // The Block must outlive the iterator.
  std::unique_ptr<Iterator> NewIterator(KeyOrder order) const;

 private:
  friend class BlockIterator;

  void Init();

  BlockBuffer data_;
  uint32_t restart_offset_ = 0;  // offset of the restart array
  uint32_t num_restarts_ = 0;
  Status status_;
};

// Iterator over one block. Exposed (rather than only through
// Block::NewIterator) so hot paths can keep it on the stack.
//
// Seek: binary search over the restart points (their keys are stored whole),
// then a linear scan. Prev: back to the restart point before the current
// entry, then forward. Errors end iteration and stick in status().
class BlockIterator final : public Iterator {
 public:
  // block: not owned; must outlive the iterator. REQUIRES for kInternal:
  // every Seek target is a valid internal key (>= 8 bytes).
  BlockIterator(const Block* block, KeyOrder order);

  bool Valid() const override { return current_ < restarts_; }
  void SeekToFirst() override;
  void SeekToLast() override;
  void Seek(std::string_view target) override;
  void Next() override;
  void Prev() override;
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  Status status() const override { return status_; }

 private:
  int Compare(std::string_view a, std::string_view b) const;
  uint32_t NextEntryOffset() const {
    return static_cast<uint32_t>(value_.data() + value_.size() - data_);
  }
  uint32_t GetRestartPoint(uint32_t index) const;
  // False (and Corruption) if the restart point is out of range.
  bool SeekToRestartPoint(uint32_t index);
  // Parses the entry at NextEntryOffset(); false at the end or on corruption.
  bool ParseNextKey();
  void MarkInvalid();
  void CorruptionError(std::string_view what);

  const char* const data_;
  const uint32_t restarts_;  // offset of the restart array (= end of entries)
  const uint32_t num_restarts_;
  const KeyOrder order_;

  // current_ is the offset of the current entry; >= restarts_ if !Valid().
  uint32_t current_;
  uint32_t restart_index_;  // index of the restart block holding current_
  std::string key_;
  std::string_view value_;
  Status status_;
};

}  // namespace basalt::lsm

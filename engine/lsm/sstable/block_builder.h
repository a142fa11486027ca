// BlockBuilder: builds the contents of a data or index block. See
// docs/format/sstable.md ("Block contents").
//
//   entry:   varint32 shared | varint32 non_shared | varint32 value_len |
//            key[shared..] (non_shared bytes) | value (value_len bytes)
//   trailer: fixed32 restart_offset[num_restarts] | fixed32 num_restarts
//
// Every block_restart_interval keys the full key is stored (shared = 0) and
// its offset recorded as a restart point, so readers can binary-search.
//
// Thread safety: single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace basalt::lsm {

class BlockBuilder {
 public:
  // restart_interval < 1 is treated as 1.
  explicit BlockBuilder(int restart_interval);
  BlockBuilder(const BlockBuilder&) = delete;
  BlockBuilder& operator=(const BlockBuilder&) = delete;

  // Forgets everything; the builder can build a new block.
  void Reset();

  // REQUIRES: Finish() not called since the last Reset(); key sorts after
  // every key added before (in the order the block's reader will use).
  void Add(std::string_view key, std::string_view value);

  // Appends the restart array and returns the block contents, valid until
  // the next Reset() or the builder's destruction.
  std::string_view Finish();

  // Size of the block if Finish() were called now.
  size_t CurrentSizeEstimate() const;
  bool empty() const { return num_entries_ == 0; }
  size_t num_entries() const { return num_entries_; }
  // The last key added ("" if none).
  std::string_view last_key() const { return last_key_; }

 private:
  const int restart_interval_;
  std::string buffer_;
  std::vector<uint32_t> restarts_;
  int counter_ = 0;  // entries since the last restart
  size_t num_entries_ = 0;
  bool finished_ = false;
  std::string last_key_;
};

}  // namespace basalt::lsm

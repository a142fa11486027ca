// WriteBatch: a set of puts and deletes, possibly across trees, applied
// atomically: after a crash either all of it is visible or none of it.
// Its bytes are the WAL record payload (docs/format/wal.md, "WriteBatch").
//
//   batch = sequence fixed64 | count fixed32 | entry*
//   entry = kind u8 | tree id varint32 | key (varint32 len + bytes) | value (kValue only)
//
// Thread safety: not safe for concurrent mutation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base/status.h"
#include "engine/lsm/types.h"

namespace basalt::lsm {

class WriteBatch {
 public:
  WriteBatch() { Clear(); }

  void Put(TreeId tree, std::string_view key, std::string_view value);
  void Delete(TreeId tree, std::string_view key);
  // Appends every entry of other.
  void Append(const WriteBatch& other);
  void Clear();

  uint32_t Count() const;
  bool Empty() const { return Count() == 0; }
  size_t ApproximateSize() const { return rep_.size(); }

  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void Put(TreeId tree, std::string_view key, std::string_view value) = 0;
    virtual void Delete(TreeId tree, std::string_view key) = 0;
  };
  // Calls handler for each entry in order; Corruption if the bytes are malformed.
  Status Iterate(Handler* handler) const;

  // The encoded form (WAL payload) and its header fields.
  std::string_view Contents() const { return rep_; }
  SequenceNumber Sequence() const;
  void SetSequence(SequenceNumber seq);
  // Replaces the contents with WAL payload bytes; Corruption if too short.
  Status SetContents(std::string_view contents);

 private:
  static constexpr size_t kHeader = 12;
  std::string rep_;
};

}  // namespace basalt::lsm

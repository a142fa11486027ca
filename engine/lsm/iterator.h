// Iterator: ordered traversal over (key, value) pairs. Used for the public
// user-key iterator of a tree and for internal iterators (memtable, block,
// table, merging), whose keys are internal keys (see dbformat.h).
//
// Contract: after any positioning call, Valid() tells whether key()/value()
// may be called. key()/value() stay valid until the next positioning call.
// Errors end iteration (Valid() false) and are reported by status().
// Thread safety: an iterator is used by one thread at a time.
#pragma once

#include <memory>
#include <string_view>

#include "engine/base/status.h"

namespace basalt::lsm {

class Iterator {
 public:
  Iterator() = default;
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;
  virtual ~Iterator() = default;

  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  // Positions at the first entry with key >= target.
  virtual void Seek(std::string_view target) = 0;
  // REQUIRES: Valid().
  virtual void Next() = 0;
  // REQUIRES: Valid().
  virtual void Prev() = 0;
  // REQUIRES: Valid().
  virtual std::string_view key() const = 0;
  // REQUIRES: Valid().
  virtual std::string_view value() const = 0;
  virtual Status status() const = 0;
};

// An iterator over nothing, optionally carrying an error.
std::unique_ptr<Iterator> NewEmptyIterator(Status s = Status::OK());

}  // namespace basalt::lsm

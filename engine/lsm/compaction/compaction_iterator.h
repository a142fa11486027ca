// CompactionIterator: the one rule for which versions of a key survive when
// a flush or a compaction rewrites them (RocksDB's CompactionIterator plays
// the same part; LevelDB's DoCompactionWork keeps only the oldest snapshot).
//
// Over an input of internal keys in order (newest version of each user key
// first), an entry is dropped when
//  - a newer version of the same user key is in the same snapshot stripe: no
//    reader can see it. Snapshot S sees version v iff v.seq <= S < the seq of
//    the next newer version, so v is hidden iff no live snapshot lies in
//    [v.seq, newer.seq). A reader without a snapshot reads the newest, which
//    is always kept;
//  - it is a tombstone, no live snapshot is older than it, and the user key is
//    in no level below the output (Rules::bottommost): there is nothing left
//    for it to hide. The older versions of the key behind it are then in its
//    stripe and dropped by the first rule;
//  - its user key lies outside [lower, upper) (a split child's inherited
//    files also hold its sibling's keys).
// Snapshots taken after the job started are newer than every input entry
// (inputs were written before), so they see what the newest-stripe readers
// see and need not be in the list.
//
// A surviving value whose user key is in no level below the output and that
// no live snapshot is older than gets sequence number 0 (RocksDB does the
// same at the bottommost level): every reader sees it either way, since at
// most one version of a key can be older than all snapshots and it is the
// oldest kept, and a trailer of zeros compresses to almost nothing. Nothing
// reads an entry's sequence number after that but the visibility rule.
//
// Errors: a key that does not parse ends iteration with Corruption; the
// input's own error is reported by status(). Not thread-safe (one job).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/iterator.h"

namespace basalt::lsm {

struct SurvivorRules {
  // Live snapshots' sequence numbers, ascending (duplicates allowed).
  std::vector<SequenceNumber> snapshots;
  // True when user_key is in no level below the output. Null: never (a
  // flush, which writes L0 above everything).
  std::function<bool(std::string_view user_key)> bottommost;
  // The tree's key range; empty lower and no upper: everything.
  std::string lower;
  std::optional<std::string> upper;
};

class CompactionIterator {
 public:
  // input and rules must outlive the iterator; input is not yet positioned.
  CompactionIterator(Iterator* input, const SurvivorRules* rules);

  // Positions at the first surviving entry.
  void SeekToFirst();
  void Next();  // REQUIRES: Valid()
  bool Valid() const { return valid_; }
  // The survivor's internal key (its sequence number zeroed, see above).
  // Valid until the next move. REQUIRES: Valid()
  std::string_view key() const { return zeroed_ ? std::string_view(zeroed_key_) : input_->key(); }
  std::string_view value() const { return input_->value(); }
  const ParsedInternalKey& parsed() const { return current_; }  // REQUIRES: Valid()
  // True when the current entry's user key differs from the previous
  // surviving entry's (outputs are cut only there). REQUIRES: Valid()
  bool new_user_key() const { return new_user_key_; }
  Status status() const;
  uint64_t dropped() const { return dropped_; }
  uint64_t zeroed() const { return zeroed_count_; }  // survivors given sequence number 0

 private:
  // Moves to the first survivor at or after the input's position.
  void FindSurvivor();
  bool Drop(const ParsedInternalKey& p, bool first_of_key, SequenceNumber newer_seq) const;
  // Whether survivor p's sequence number can be zeroed (see above).
  bool CanZero(const ParsedInternalKey& p) const;

  Iterator* const input_;
  const SurvivorRules* const rules_;
  bool valid_ = false;
  Status status_;
  ParsedInternalKey current_;
  std::string user_key_;  // of the entry last looked at (survivor or not)
  bool has_user_key_ = false;
  SequenceNumber newer_seq_ = kMaxSequenceNumber;  // seq of the last version seen of user_key_
  std::string last_output_key_;                    // user key of the last survivor
  bool has_output_ = false;
  bool new_user_key_ = false;
  bool zeroed_ = false;     // current_ is input_->key() with sequence 0: zeroed_key_
  std::string zeroed_key_;  // buffer reused between entries
  uint64_t dropped_ = 0;
  uint64_t zeroed_count_ = 0;
};

}  // namespace basalt::lsm

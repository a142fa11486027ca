#include "engine/lsm/compaction/compaction_iterator.h"

#include <algorithm>

namespace basalt::lsm {

CompactionIterator::CompactionIterator(Iterator* input, const SurvivorRules* rules)
    : input_(input), rules_(rules) {}

void CompactionIterator::SeekToFirst() {
  has_user_key_ = false;
  has_output_ = false;
  input_->SeekToFirst();
  FindSurvivor();
}

void CompactionIterator::Next() {
  input_->Next();
  FindSurvivor();
}

Status CompactionIterator::status() const { return status_.ok() ? input_->status() : status_; }

bool CompactionIterator::Drop(const ParsedInternalKey& p, bool first_of_key,
                              SequenceNumber newer_seq) const {
  const std::vector<SequenceNumber>& snaps = rules_->snapshots;
  if (!first_of_key) {
    // Hidden unless a snapshot lies in [p.sequence, newer_seq).
    auto s = std::lower_bound(snaps.begin(), snaps.end(), p.sequence);
    if (s == snaps.end() || *s >= newer_seq) return true;
  }
  if (p.kind == ValueKind::kDelete && (snaps.empty() || snaps.front() >= p.sequence) &&
      rules_->bottommost && rules_->bottommost(p.user_key)) {
    return true;
  }
  if (p.user_key < rules_->lower || (rules_->upper && p.user_key >= *rules_->upper)) return true;
  return false;
}

bool CompactionIterator::CanZero(const ParsedInternalKey& p) const {
  const std::vector<SequenceNumber>& snaps = rules_->snapshots;
  return p.kind == ValueKind::kValue && p.sequence != 0 &&
         (snaps.empty() || snaps.front() >= p.sequence) && rules_->bottommost &&
         rules_->bottommost(p.user_key);
}

void CompactionIterator::FindSurvivor() {
  valid_ = false;
  zeroed_ = false;
  for (; input_->Valid(); input_->Next()) {
    ParsedInternalKey p;
    if (!ParseInternalKey(input_->key(), &p)) {
      status_ = Status::Corruption("compaction input has a malformed key");
      return;
    }
    const bool first_of_key = !has_user_key_ || p.user_key != user_key_;
    if (first_of_key) {
      user_key_.assign(p.user_key);
      has_user_key_ = true;
      newer_seq_ = kMaxSequenceNumber;
    }
    const bool drop = Drop(p, first_of_key, newer_seq_);
    newer_seq_ = p.sequence;  // a dropped version still hides the older ones of its stripe
    if (drop) {
      dropped_++;
      continue;
    }
    current_ = p;
    if (CanZero(p)) {
      zeroed_key_.assign(p.user_key);
      PutFixed64(&zeroed_key_, PackTrailer(0, p.kind));
      current_.sequence = 0;
      zeroed_ = true;
      zeroed_count_++;
    }
    new_user_key_ = !has_output_ || p.user_key != last_output_key_;
    if (new_user_key_) last_output_key_.assign(p.user_key);
    has_output_ = true;
    valid_ = true;
    return;
  }
}

}  // namespace basalt::lsm

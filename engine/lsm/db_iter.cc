#include "engine/lsm/db_iter.h"

#include <functional>
#include <string>
#include <thread>

#include "engine/base/random.h"

namespace basalt::lsm {
namespace {

// Direction invariants (as in LevelDB's DBIter):
//  kForward: internal iterator is at the entry that yields key()/value().
//  kReverse: internal iterator is just before all entries of key(); the
//            current entry is held in saved_key_/saved_value_.
class DBIter : public Iterator {
 public:
  DBIter(std::unique_ptr<Iterator> iter, SequenceNumber seq, std::function<void()> cleanup,
         std::function<void(std::string_view)> on_read)
      : iter_(std::move(iter)),
        sequence_(seq),
        cleanup_(std::move(cleanup)),
        on_read_(std::move(on_read)),
        bytes_until_sample_(on_read_ ? RandomSamplePeriod() : 0) {}
  ~DBIter() override {
    iter_.reset();
    if (cleanup_) cleanup_();
  }

  bool Valid() const override { return valid_; }
  std::string_view key() const override {
    return direction_ == kForward ? ExtractUserKey(iter_->key()) : std::string_view(saved_key_);
  }
  std::string_view value() const override {
    return direction_ == kForward ? iter_->value() : std::string_view(saved_value_);
  }
  Status status() const override { return status_.ok() ? iter_->status() : status_; }

  void Next() override {
    if (direction_ == kReverse) {
      direction_ = kForward;
      // iter_ is before the current key's entries; step onto them, then skip them.
      if (!iter_->Valid()) {
        iter_->SeekToFirst();
      } else {
        iter_->Next();
      }
      if (!iter_->Valid()) {
        valid_ = false;
        saved_key_.clear();
        return;
      }
      // saved_key_ already holds the current key: skip its entries.
    } else {
      saved_key_.assign(ExtractUserKey(iter_->key()));
      iter_->Next();
    }
    FindNextUserEntry(true);
  }

  void Prev() override {
    if (direction_ == kForward) {
      // Move iter_ before all entries of the current key.
      saved_key_.assign(ExtractUserKey(iter_->key()));
      while (true) {
        iter_->Prev();
        if (!iter_->Valid()) {
          valid_ = false;
          saved_key_.clear();
          saved_value_.clear();
          return;
        }
        if (ExtractUserKey(iter_->key()) < std::string_view(saved_key_)) break;
      }
      direction_ = kReverse;
    }
    FindPrevUserEntry();
  }

  void Seek(std::string_view target) override {
    direction_ = kForward;
    saved_value_.clear();
    saved_key_.clear();
    AppendInternalKey(&saved_key_, target, sequence_, kValueKindForSeek);
    if (on_read_) on_read_(target);
    iter_->Seek(saved_key_);
    FindNextUserEntry(false);
  }
  void SeekToFirst() override {
    direction_ = kForward;
    saved_value_.clear();
    iter_->SeekToFirst();
    FindNextUserEntry(false);
  }
  void SeekToLast() override {
    direction_ = kReverse;
    saved_value_.clear();
    iter_->SeekToLast();
    FindPrevUserEntry();
  }

 private:
  enum Direction { kForward, kReverse };

  bool Parse(ParsedInternalKey* p) {
    if (!ParseInternalKey(iter_->key(), p)) {
      status_ = Status::Corruption("malformed internal key in iterator");
      return false;
    }
    if (on_read_) CountRead(p->user_key);
    return true;
  }

  // Every entry the iterator steps over counts toward the next on_read_ sample.
  void CountRead(std::string_view user_key) {
    bytes_until_sample_ -= static_cast<int64_t>(iter_->key().size() + iter_->value().size());
    if (bytes_until_sample_ > 0) return;
    bytes_until_sample_ += RandomSamplePeriod();
    on_read_(user_key);
  }

  // Uniform in [0, 2 x kReadSampleBytes), as LevelDB's: a fixed period would
  // never sample scans shorter than it, however many ran.
  static int64_t RandomSamplePeriod() {
    thread_local Random rnd(std::hash<std::thread::id>{}(std::this_thread::get_id()));
    return static_cast<int64_t>(rnd.Uniform(2 * kReadSampleBytes));
  }

  // Advances to the first visible entry at or after iter_; with skipping,
  // entries of user key saved_key_ are hidden.
  void FindNextUserEntry(bool skipping) {
    while (iter_->Valid()) {
      ParsedInternalKey p;
      if (!Parse(&p)) break;
      if (p.sequence <= sequence_) {
        if (p.kind == ValueKind::kDelete) {
          saved_key_.assign(p.user_key);
          skipping = true;
        } else if (!(skipping && p.user_key <= std::string_view(saved_key_))) {
          valid_ = true;
          saved_key_.clear();
          return;
        }
      }
      iter_->Next();
    }
    saved_key_.clear();
    valid_ = false;
  }

  void FindPrevUserEntry() {
    bool found_value = false;  // saved_key_/saved_value_ hold a live entry
    while (iter_->Valid()) {
      ParsedInternalKey p;
      if (!Parse(&p)) break;
      if (p.sequence <= sequence_) {
        if (found_value && p.user_key < std::string_view(saved_key_)) break;  // key complete
        if (p.kind == ValueKind::kDelete) {
          found_value = false;
          saved_key_.clear();
          saved_value_.clear();
        } else {
          found_value = true;
          saved_key_.assign(p.user_key);
          saved_value_.assign(iter_->value());
        }
      }
      iter_->Prev();
    }
    if (!found_value) {
      valid_ = false;
      saved_key_.clear();
      saved_value_.clear();
      direction_ = kForward;
    } else {
      valid_ = true;
    }
  }

  std::unique_ptr<Iterator> iter_;
  const SequenceNumber sequence_;
  std::function<void()> cleanup_;
  const std::function<void(std::string_view)> on_read_;
  int64_t bytes_until_sample_;
  Status status_;
  std::string saved_key_;  // see direction invariants
  std::string saved_value_;
  Direction direction_ = kForward;
  bool valid_ = false;
};

class BoundedIterator : public Iterator {
 public:
  BoundedIterator(std::unique_ptr<Iterator> it, std::string lower, std::optional<std::string> upper)
      : it_(std::move(it)), lower_(std::move(lower)), upper_(std::move(upper)) {}
  bool Valid() const override {
    if (!it_->Valid()) return false;
    std::string_view k = it_->key();
    return k >= std::string_view(lower_) && (!upper_ || k < std::string_view(*upper_));
  }
  void SeekToFirst() override {
    if (lower_.empty()) {
      it_->SeekToFirst();
    } else {
      it_->Seek(lower_);
    }
  }
  void SeekToLast() override {
    if (!upper_) {
      it_->SeekToLast();
      return;
    }
    it_->Seek(*upper_);
    if (it_->Valid()) {
      it_->Prev();
    } else if (it_->status().ok()) {
      it_->SeekToLast();
    }
  }
  void Seek(std::string_view target) override {
    it_->Seek(target < std::string_view(lower_) ? std::string_view(lower_) : target);
  }
  void Next() override { it_->Next(); }
  void Prev() override { it_->Prev(); }
  std::string_view key() const override { return it_->key(); }
  std::string_view value() const override { return it_->value(); }
  Status status() const override { return it_->status(); }

 private:
  std::unique_ptr<Iterator> it_;
  const std::string lower_;
  const std::optional<std::string> upper_;
};

}  // namespace

std::unique_ptr<Iterator> NewBoundedIterator(std::unique_ptr<Iterator> iter, std::string lower,
                                             std::optional<std::string> upper) {
  if (lower.empty() && !upper) return iter;
  return std::make_unique<BoundedIterator>(std::move(iter), std::move(lower), std::move(upper));
}

std::unique_ptr<Iterator> NewDBIterator(std::unique_ptr<Iterator> internal, SequenceNumber sequence,
                                        std::function<void()> cleanup,
                                        std::function<void(std::string_view)> on_read) {
  return std::make_unique<DBIter>(std::move(internal), sequence, std::move(cleanup),
                                  std::move(on_read));
}

}  // namespace basalt::lsm

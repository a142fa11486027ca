#include "engine/lsm/merging_iterator.h"

#include "engine/lsm/dbformat.h"

namespace basalt::lsm {
namespace {

// Linear scan over children per step: the number of children is small
// (memtables + L0 files + one per level), and the scan avoids heap upkeep.
class MergingIterator : public Iterator {
 public:
  explicit MergingIterator(std::vector<std::unique_ptr<Iterator>> children)
      : children_(std::move(children)) {}

  bool Valid() const override { return current_ != nullptr; }

  void SeekToFirst() override {
    for (auto& c : children_) c->SeekToFirst();
    FindSmallest();
    forward_ = true;
  }
  void SeekToLast() override {
    for (auto& c : children_) c->SeekToLast();
    FindLargest();
    forward_ = false;
  }
  void Seek(std::string_view target) override {
    for (auto& c : children_) c->Seek(target);
    FindSmallest();
    forward_ = true;
  }

  void Next() override {
    // After moving backwards, every non-current child sits before key();
    // move each to the first entry after key().
    if (!forward_) {
      std::string k(key());
      for (auto& c : children_) {
        if (c.get() == current_) continue;
        c->Seek(k);
        if (c->Valid() && CompareInternalKey(k, c->key()) == 0) c->Next();
      }
      forward_ = true;
    }
    current_->Next();
    FindSmallest();
  }

  void Prev() override {
    if (forward_) {
      std::string k(key());
      for (auto& c : children_) {
        if (c.get() == current_) continue;
        c->Seek(k);
        if (c->Valid()) {
          c->Prev();  // first entry < k
        } else {
          c->SeekToLast();
        }
      }
      forward_ = false;
    }
    current_->Prev();
    FindLargest();
  }

  std::string_view key() const override { return current_->key(); }
  std::string_view value() const override { return current_->value(); }

  Status status() const override {
    for (const auto& c : children_) {
      Status s = c->status();
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

 private:
  void FindSmallest() {
    current_ = nullptr;
    for (auto& c : children_) {
      if (c->Valid() &&
          (current_ == nullptr || CompareInternalKey(c->key(), current_->key()) < 0)) {
        current_ = c.get();
      }
    }
  }
  void FindLargest() {
    current_ = nullptr;
    for (auto& c : children_) {
      if (c->Valid() &&
          (current_ == nullptr || CompareInternalKey(c->key(), current_->key()) > 0)) {
        current_ = c.get();
      }
    }
  }

  std::vector<std::unique_ptr<Iterator>> children_;
  Iterator* current_ = nullptr;
  bool forward_ = true;
};

}  // namespace

std::unique_ptr<Iterator> NewMergingIterator(std::vector<std::unique_ptr<Iterator>> children) {
  if (children.empty()) return NewEmptyIterator();
  if (children.size() == 1) return std::move(children[0]);
  return std::make_unique<MergingIterator>(std::move(children));
}

}  // namespace basalt::lsm

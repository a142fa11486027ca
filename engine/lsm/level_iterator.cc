#include "engine/lsm/level_iterator.h"

#include <algorithm>
#include <cassert>
#include <utility>
#include <vector>

#include "engine/lsm/dbformat.h"

namespace basalt::lsm {
namespace {

class LevelIterator final : public Iterator {
 public:
  LevelIterator(std::span<const std::shared_ptr<TableFile>> files, const TableReadOptions& options)
      : files_(files), options_(options) {}

  bool Valid() const override { return file_iter_ != nullptr && file_iter_->Valid(); }
  void SeekToFirst() override {
    if (!Open(0)) return;
    file_iter_->SeekToFirst();
    SkipEmptyForward();
  }
  void SeekToLast() override {
    if (!Open(files_.size() - 1)) return;
    file_iter_->SeekToLast();
    SkipEmptyBackward();
  }
  void Seek(std::string_view target) override {
    // The first file whose largest key is >= target; the ones before it
    // hold only smaller keys.
    auto it = std::lower_bound(files_.begin(), files_.end(), target,
                               [](const std::shared_ptr<TableFile>& f, std::string_view k) {
                                 return CompareInternalKey(f->meta.largest, k) < 0;
                               });
    if (it == files_.end()) {
      Close();
      return;
    }
    if (!Open(static_cast<size_t>(it - files_.begin()))) return;
    file_iter_->Seek(target);
    SkipEmptyForward();
  }
  void Next() override {
    assert(Valid());
    file_iter_->Next();
    SkipEmptyForward();
  }
  void Prev() override {
    assert(Valid());
    file_iter_->Prev();
    SkipEmptyBackward();
  }
  std::string_view key() const override { return file_iter_->key(); }
  std::string_view value() const override { return file_iter_->value(); }
  Status status() const override {
    if (!status_.ok()) return status_;
    return file_iter_ != nullptr ? file_iter_->status() : Status::OK();
  }

 private:
  // Points file_iter_ at files_[i] (unpositioned), reusing it when it is
  // already there: a seek that stays in the file keeps its cached block.
  // False after an error (then nothing is open). An open file_iter_ implies
  // status_ is OK: status_ is only set when one is closed.
  bool Open(size_t i) {
    if (file_iter_ != nullptr && index_ == i) return true;
    Close();
    if (!status_.ok()) return false;
    file_iter_ = files_[i]->table->NewIterator(options_);
    index_ = i;
    return true;
  }
  // Keeps the closed iterator's error.
  void Close() {
    if (file_iter_ != nullptr && status_.ok()) status_ = file_iter_->status();
    file_iter_.reset();
  }

  // An exhausted table moves on to the next (or previous) one; an error
  // stops where it is, so status() reports it.
  void SkipEmptyForward() {
    while (file_iter_ != nullptr && !file_iter_->Valid()) {
      if (!file_iter_->status().ok() || index_ + 1 >= files_.size()) return;
      if (!Open(index_ + 1)) return;
      file_iter_->SeekToFirst();
    }
  }
  void SkipEmptyBackward() {
    while (file_iter_ != nullptr && !file_iter_->Valid()) {
      if (!file_iter_->status().ok() || index_ == 0) return;
      if (!Open(index_ - 1)) return;
      file_iter_->SeekToLast();
    }
  }

  const std::span<const std::shared_ptr<TableFile>> files_;
  const TableReadOptions options_;
  std::unique_ptr<Iterator> file_iter_;  // over files_[index_]; null: none open
  size_t index_ = 0;
  Status status_;  // an error of a table iterator that was closed
};

}  // namespace

std::unique_ptr<Iterator> NewLevelIterator(std::span<const std::shared_ptr<TableFile>> files,
                                           const TableReadOptions& options) {
  assert(!files.empty());
  if (files.size() == 1) return files[0]->table->NewIterator(options);
  return std::make_unique<LevelIterator>(files, options);
}

void AppendRunIterators(std::span<const std::shared_ptr<TableFile>> files,
                        const TableReadOptions& options,
                        std::vector<std::unique_ptr<Iterator>>* children) {
  size_t start = 0;
  for (size_t i = 1; i <= files.size(); i++) {
    if (i < files.size() &&
        CompareInternalKey(files[i - 1]->meta.largest, files[i]->meta.smallest) < 0) {
      continue;
    }
    if (i > start) children->push_back(NewLevelIterator(files.subspan(start, i - start), options));
    start = i;
  }
}

}  // namespace basalt::lsm

#include "engine/lsm/write_batch.h"

#include "engine/base/coding.h"
#include "engine/lsm/dbformat.h"

namespace basalt::lsm {

void WriteBatch::Clear() {
  rep_.clear();
  rep_.resize(kHeader);
}

uint32_t WriteBatch::Count() const { return DecodeFixed32(rep_.data() + 8); }

SequenceNumber WriteBatch::Sequence() const { return DecodeFixed64(rep_.data()); }

void WriteBatch::SetSequence(SequenceNumber seq) { EncodeFixed64(rep_.data(), seq); }

static void SetCount(std::string* rep, uint32_t n) { EncodeFixed32(rep->data() + 8, n); }

void WriteBatch::Put(TreeId tree, std::string_view key, std::string_view value) {
  SetCount(&rep_, Count() + 1);
  rep_.push_back(static_cast<char>(ValueKind::kValue));
  PutVarint32(&rep_, tree);
  PutLengthPrefixed(&rep_, key);
  PutLengthPrefixed(&rep_, value);
}

void WriteBatch::Delete(TreeId tree, std::string_view key) {
  SetCount(&rep_, Count() + 1);
  rep_.push_back(static_cast<char>(ValueKind::kDelete));
  PutVarint32(&rep_, tree);
  PutLengthPrefixed(&rep_, key);
}

void WriteBatch::Append(const WriteBatch& other) {
  SetCount(&rep_, Count() + other.Count());
  rep_.append(other.rep_.data() + kHeader, other.rep_.size() - kHeader);
}

Status WriteBatch::SetContents(std::string_view contents) {
  if (contents.size() < kHeader) return Status::Corruption("write batch too small");
  rep_.assign(contents.data(), contents.size());
  return Status::OK();
}

Status WriteBatch::Iterate(Handler* handler) const {
  std::string_view in(rep_);
  in.remove_prefix(kHeader);
  uint32_t found = 0;
  while (!in.empty()) {
    auto kind = static_cast<ValueKind>(in[0]);
    in.remove_prefix(1);
    uint32_t tree;
    std::string_view key, value;
    if (!GetVarint32(&in, &tree) || !GetLengthPrefixed(&in, &key)) {
      return Status::Corruption("write batch: bad entry");
    }
    if (kind == ValueKind::kValue) {
      if (!GetLengthPrefixed(&in, &value)) return Status::Corruption("write batch: bad value");
      handler->Put(tree, key, value);
    } else if (kind == ValueKind::kDelete) {
      handler->Delete(tree, key);
    } else {
      return Status::Corruption("write batch: unknown entry kind");
    }
    found++;
  }
  if (found != Count()) return Status::Corruption("write batch: wrong count");
  return Status::OK();
}

}  // namespace basalt::lsm

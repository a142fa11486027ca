#include "engine/lsm/compaction/output_file.h"

#include <algorithm>

#include "engine/lsm/filename.h"

namespace basalt::lsm {

std::string OutputFile::path() const { return TableFileName(env_->dir, meta_.number); }

Status OutputFile::Open(uint64_t number) {
  meta_ = FileMetaData();
  meta_.number = number;
  meta_.smallest_seq = kMaxSequenceNumber;
  std::unique_ptr<FileCipher> cipher;
  if (env_->keys != nullptr) {
    Status s = FileCipher::ForNewFile(*env_->keys, EncryptedFileKind::kTable, number, &cipher);
    if (!s.ok()) return s;
  }
  Status s = env_->env->NewWritableFile(path(), &file_);
  if (!s.ok()) return s;
  builder_ = std::make_unique<TableBuilder>(env_->table, file_.get(), std::move(cipher));
  return Status::OK();
}

void OutputFile::Add(std::string_view ikey, std::string_view value, SequenceNumber seq) {
  if (meta_.num_entries == 0) meta_.smallest.assign(ikey);
  meta_.largest.assign(ikey);
  meta_.smallest_seq = std::min(meta_.smallest_seq, seq);
  meta_.largest_seq = std::max(meta_.largest_seq, seq);
  meta_.num_entries++;
  builder_->Add(ikey, value);
}

uint64_t OutputFile::FileSize() const { return builder_->FileSize(); }

Status OutputFile::Finish() {
  Status s = builder_->Finish();
  if (s.ok()) s = file_->Sync();
  if (s.ok()) s = file_->Close();
  meta_.file_size = builder_->FileSize();
  builder_.reset();
  file_.reset();
  return s;
}

void OutputFile::Abandon() {
  if (builder_) builder_->Abandon();
  builder_.reset();
  file_.reset();
}

}  // namespace basalt::lsm

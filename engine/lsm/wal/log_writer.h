// LogWriter: appends framed records (log_format.h) to a WritableFile.
// Thread safety: single writer; Sync may be called from another thread
// concurrently with AddRecord only if the caller serialises them (the DB does).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/base/status.h"
#include "engine/io/env.h"
#include "engine/lsm/wal/log_format.h"

namespace basalt::lsm::log {

// Appends the framing of one record to dst (so several records can be written
// with one Append).
void EncodeRecord(std::string* dst, RecordType type, std::string_view payload);

class Writer {
 public:
  explicit Writer(std::unique_ptr<io::WritableFile> file) : file_(std::move(file)) {}
  // Writes the file header record (magic, version, number).
  Status WriteHeader(uint64_t magic, uint64_t file_number);
  Status AddRecord(std::string_view payload);
  // Appends already framed bytes (from EncodeRecord).
  Status AddEncoded(std::string_view framed) { return file_->Append(framed); }
  Status Sync() { return file_->Sync(); }
  Status Close() { return file_->Close(); }
  uint64_t Size() const { return file_->Size(); }
  io::WritableFile* file() const { return file_.get(); }

 private:
  std::unique_ptr<io::WritableFile> file_;
};

}  // namespace basalt::lsm::log

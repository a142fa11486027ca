// LogWriter: appends framed records (log_format.h) to a WritableFile.
// With a FileCipher the file is format version 2: the header record carries
// the encryption header and every data record's payload is sealed
// (AES-256-GCM, engine/base/encryption.h) with its file offset in the AAD.
// Thread safety: single writer; Sync may be called from another thread
// concurrently with AddRecord only if the caller serialises them (the DB does).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/base/encryption.h"
#include "engine/base/status.h"
#include "engine/io/env.h"
#include "engine/lsm/wal/log_format.h"

namespace basalt::lsm::log {

// Appends the framing of one record to dst (so several records can be written
// with one Append). Plain: the payload is stored as given.
void EncodeRecord(std::string* dst, RecordType type, std::string_view payload);

class Writer {
 public:
  // cipher: null writes a plain file (format version 1); otherwise an
  // encrypted one (version 2). A writer that continues a file (after
  // WriteHeader by an earlier writer) must get that file's cipher.
  explicit Writer(std::unique_ptr<io::WritableFile> file,
                  std::shared_ptr<const FileCipher> cipher = nullptr)
      : file_(std::move(file)), cipher_(std::move(cipher)) {}
  // Writes the file header record (magic, version, number; the encryption
  // header when encrypted). REQUIRES: file_number == cipher's file number.
  Status WriteHeader(uint64_t magic, uint64_t file_number);
  Status AddRecord(std::string_view payload);
  // Appends the framed data record of payload to *dst, for dst's bytes to be
  // appended next with AddEncoded: the record's offset in the file is
  // Size() + dst->size() (bound into the AAD when encrypted). Fails only if
  // encryption fails (IOError); *dst is then unchanged.
  Status EncodeData(std::string* dst, std::string_view payload) const;
  // Appends already framed bytes (from EncodeData).
  Status AddEncoded(std::string_view framed) { return file_->Append(framed); }
  Status Sync() { return file_->Sync(); }
  Status Close() { return file_->Close(); }
  uint64_t Size() const { return file_->Size(); }
  // Size of this file's header record: a file of this size holds no record.
  uint64_t HeaderSize() const {
    return static_cast<uint64_t>(cipher_ ? kEncryptedFileHeaderRecordSize : kFileHeaderRecordSize);
  }
  io::WritableFile* file() const { return file_.get(); }
  const std::shared_ptr<const FileCipher>& cipher() const { return cipher_; }

 private:
  std::unique_ptr<io::WritableFile> file_;
  const std::shared_ptr<const FileCipher> cipher_;  // null: plain
};

}  // namespace basalt::lsm::log

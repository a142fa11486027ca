// LogReader: reads framed records (log_format.h) from a WAL segment or a manifest.
//
// Damage handling (docs/format/wal.md, "Recovery"):
//  - A record cut short by the end of the file (its header incomplete, or an
//    intact header whose length runs past the end) is a torn tail: reading
//    stops, torn_tail() is true and valid_end() is where the intact prefix
//    ends. Such bytes were never acknowledged (a sync covers every byte
//    before it).
//  - A damaged record (bad header check, bad checksum, unknown type) is a
//    torn tail only if no intact record follows it; otherwise status() is
//    Corruption naming the file and the offsets. Data is never skipped silently.
//  - Encrypted files (format version 2): a data record whose framing is
//    intact (header check and XXH3 checksum pass) but whose AES-GCM tag does
//    not verify is Corruption naming the file and the record's offset, never
//    a torn tail: a crash cuts or garbles bytes, which the checksum catches
//    first; a record that passes the checksum and fails authentication was
//    written by someone without the key, or moved from another file or offset.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/base/encryption.h"
#include "engine/base/status.h"
#include "engine/io/env.h"

namespace basalt::lsm::log {

class Reader {
 public:
  // Reads the whole file. A file shorter than its header record was cut while
  // being created: has_header() is false and it reads as empty with a torn
  // tail at 0 (so does a version-2 header record cut short). A damaged header
  // record, another magic or an unknown version is Corruption. keys: the
  // key ring for encrypted files (may be null); an encrypted file without
  // its key is InvalidArgument, a failed key check Corruption (encryption.h).
  static Status Open(io::Env* env, const std::string& path, uint64_t expected_magic,
                     std::unique_ptr<Reader>* reader, const KeyRing* keys = nullptr);

  // Next data record (decrypted); false at the end, at a torn tail, or on
  // corruption. *payload is valid until the next call.
  bool ReadRecord(std::string_view* payload, uint64_t* offset = nullptr);
  const Status& status() const { return status_; }
  bool torn_tail() const { return torn_tail_; }
  // End of the intact prefix (file size when not torn).
  uint64_t valid_end() const { return valid_end_; }
  uint64_t file_number() const { return file_number_; }
  bool has_header() const { return has_header_; }
  const std::string& path() const { return path_; }
  // The header's format version (0 without a header); 2 = encrypted.
  uint32_t format_version() const { return format_version_; }
  // Key id of an encrypted file; 0 for a plain one.
  uint32_t key_id() const { return cipher_ ? cipher_->key_id() : 0; }

 private:
  Reader() = default;
  enum class Damage {
    kNone,
    kTruncatedHeader,
    kBadHeader,
    kTruncatedPayload,
    kBadType,
    kBadChecksum
  };
  static const char* DamageName(Damage d);
  // Checks the record at pos; on kNone sets *type/*payload/*next.
  Damage ParseAt(uint64_t pos, uint8_t* type, std::string_view* payload, uint64_t* next) const;
  // Classifies damage at pos as a torn tail or as corruption.
  void HandleDamage(uint64_t pos, Damage d);

  std::string path_;
  std::string data_;
  uint64_t pos_ = 0;
  uint64_t valid_end_ = 0;
  uint64_t file_number_ = 0;
  uint32_t format_version_ = 0;
  std::unique_ptr<FileCipher> cipher_;  // null: plain file
  std::string plain_;                   // the last decrypted payload
  bool has_header_ = false;
  bool torn_tail_ = false;
  bool done_ = false;
  Status status_;
};

}  // namespace basalt::lsm::log

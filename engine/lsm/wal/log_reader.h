// LogReader: reads framed records (log_format.h) from a WAL segment or a manifest.
//
// Damage handling (docs/format/wal.md, "Recovery"):
//  - A record that fails its checksum (or is cut short) with no valid record
//    anywhere after it is a torn tail: reading stops, torn_tail() is true and
//    valid_end() is where the intact prefix ends. Such bytes were never
//    acknowledged as durable (a sync covers every byte before it).
//  - A bad record followed by a valid one is corruption in the middle of the
//    log: status() is Corruption naming the file and offsets. Data is never
//    skipped silently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/base/status.h"
#include "engine/io/env.h"

namespace basalt::lsm::log {

class Reader {
 public:
  // Reads the whole file. A file whose header record is missing or torn is
  // treated as empty with a torn tail at 0. A valid header with another magic
  // or an unknown version is Corruption.
  static Status Open(io::Env* env, const std::string& path, uint64_t expected_magic,
                     std::unique_ptr<Reader>* reader);

  // Next data record; false at the end, at a torn tail, or on corruption.
  bool ReadRecord(std::string_view* payload, uint64_t* offset = nullptr);
  const Status& status() const { return status_; }
  bool torn_tail() const { return torn_tail_; }
  // End of the intact prefix (file size when not torn).
  uint64_t valid_end() const { return valid_end_; }
  uint64_t file_number() const { return file_number_; }
  bool has_header() const { return has_header_; }
  const std::string& path() const { return path_; }

 private:
  Reader() = default;
  // Checks the record at pos; on success sets *type/*payload and returns the next pos.
  bool ParseAt(uint64_t pos, uint8_t* type, std::string_view* payload, uint64_t* next,
               const char** why) const;
  void HandleBadRecord(uint64_t pos, const char* why);

  std::string path_;
  std::string data_;
  uint64_t pos_ = 0;
  uint64_t valid_end_ = 0;
  uint64_t file_number_ = 0;
  bool has_header_ = false;
  bool torn_tail_ = false;
  bool done_ = false;
  Status status_;
};

}  // namespace basalt::lsm::log

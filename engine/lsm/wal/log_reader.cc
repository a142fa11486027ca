#include "engine/lsm/wal/log_reader.h"

#include <fmt/format.h>

#include "engine/base/checksum.h"
#include "engine/base/coding.h"
#include "engine/lsm/wal/log_format.h"

namespace basalt::lsm::log {

Status Reader::Open(io::Env* env, const std::string& path, uint64_t expected_magic,
                    std::unique_ptr<Reader>* reader) {
  std::unique_ptr<Reader> r(new Reader());
  r->path_ = path;
  Status s = io::ReadFileToString(env, path, &r->data_);
  if (!s.ok()) return s;
  uint8_t type;
  std::string_view payload;
  uint64_t next;
  const char* why;
  if (!r->ParseAt(0, &type, &payload, &next, &why)) {
    // The header itself is damaged. Decide between torn-at-creation and corruption.
    r->HandleBadRecord(0, why);
    if (!r->status_.ok()) return r->status_;
    *reader = std::move(r);
    return Status::OK();
  }
  if (static_cast<RecordType>(type) != RecordType::kFileHeader || payload.size() < 20) {
    return Status::Corruption(fmt::format("{}: missing file header record", path));
  }
  uint64_t magic = DecodeFixed64(payload.data());
  uint32_t version = DecodeFixed32(payload.data() + 8);
  if (magic != expected_magic) {
    return Status::Corruption(fmt::format("{}: bad magic number {:#x}", path, magic));
  }
  if (version != kFormatVersion) {
    return Status::Corruption(fmt::format("{}: unsupported log format version {}", path, version));
  }
  r->file_number_ = DecodeFixed64(payload.data() + 12);
  r->has_header_ = true;
  r->pos_ = next;
  r->valid_end_ = next;
  *reader = std::move(r);
  return Status::OK();
}

bool Reader::ParseAt(uint64_t pos, uint8_t* type, std::string_view* payload, uint64_t* next,
                     const char** why) const {
  if (data_.size() - pos < static_cast<uint64_t>(kHeaderSize)) {
    *why = "truncated record header";
    return false;
  }
  const char* p = data_.data() + pos;
  uint32_t len = DecodeFixed32(p + 8);
  uint8_t t = static_cast<uint8_t>(p[12]);
  if (len > kMaxRecordSize || data_.size() - pos - kHeaderSize < len) {
    *why = "truncated record";
    return false;
  }
  if (t != static_cast<uint8_t>(RecordType::kFileHeader) &&
      t != static_cast<uint8_t>(RecordType::kData)) {
    *why = "unknown record type";
    return false;
  }
  std::string_view body(p + kHeaderSize, len);
  if (Checksum2(std::string_view(p + 8, 5), body) != DecodeFixed64(p)) {
    *why = "checksum mismatch";
    return false;
  }
  *type = t;
  *payload = body;
  *next = pos + kHeaderSize + len;
  return true;
}

void Reader::HandleBadRecord(uint64_t pos, const char* why) {
  done_ = true;
  // Look for any intact record after the damage. A record type byte and a
  // fitting length are cheap filters before the checksum.
  for (uint64_t q = pos + 1; q + kHeaderSize <= data_.size(); q++) {
    uint8_t type;
    std::string_view payload;
    uint64_t next;
    const char* ignored;
    if (ParseAt(q, &type, &payload, &next, &ignored)) {
      status_ = Status::Corruption(
          fmt::format("{}: damaged record at offset {} ({}) followed by an intact record at "
                      "offset {}; refusing to drop data",
                      path_, pos, why, q));
      return;
    }
  }
  torn_tail_ = true;
  valid_end_ = pos;
}

bool Reader::ReadRecord(std::string_view* payload, uint64_t* offset) {
  while (!done_) {
    if (pos_ == data_.size()) {
      done_ = true;
      valid_end_ = pos_;
      return false;
    }
    uint8_t type;
    uint64_t next;
    const char* why;
    if (!ParseAt(pos_, &type, payload, &next, &why)) {
      HandleBadRecord(pos_, why);
      return false;
    }
    uint64_t at = pos_;
    pos_ = next;
    valid_end_ = next;
    if (static_cast<RecordType>(type) != RecordType::kData) {
      status_ = Status::Corruption(fmt::format("{}: unexpected header record at offset {}", path_, at));
      done_ = true;
      return false;
    }
    if (offset != nullptr) *offset = at;
    return true;
  }
  return false;
}

}  // namespace basalt::lsm::log

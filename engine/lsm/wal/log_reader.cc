#include "engine/lsm/wal/log_reader.h"

#include <fmt/format.h>

#include "engine/base/checksum.h"
#include "engine/base/coding.h"
#include "engine/lsm/wal/log_format.h"

namespace basalt::lsm::log {

Status Reader::Open(io::Env* env, const std::string& path, uint64_t expected_magic,
                    std::unique_ptr<Reader>* reader, const KeyRing* keys) {
  std::unique_ptr<Reader> r(new Reader());
  r->path_ = path;
  Status s = io::ReadFileToString(env, path, &r->data_);
  if (!s.ok()) return s;
  uint8_t type;
  std::string_view payload;
  uint64_t next;
  Damage d = Damage::kTruncatedHeader;
  if (r->data_.size() >= static_cast<size_t>(kFileHeaderRecordSize)) {
    d = r->ParseAt(0, &type, &payload, &next);
  }
  // Cut while being created (the header is synced before any record): shorter
  // than a version-1 header record, or an intact version-2 header record
  // start whose payload runs past the end.
  const bool cut =
      d == Damage::kTruncatedHeader ||
      (d == Damage::kTruncatedPayload &&
       static_cast<uint8_t>(r->data_[4]) == static_cast<uint8_t>(RecordType::kFileHeader) &&
       DecodeFixed32(r->data_.data()) == static_cast<uint32_t>(kEncryptedFileHeaderPayloadSize));
  if (cut) {
    r->done_ = true;
    r->torn_tail_ = true;
    r->valid_end_ = 0;
    *reader = std::move(r);
    return Status::OK();
  }
  if (d != Damage::kNone || static_cast<RecordType>(type) != RecordType::kFileHeader ||
      payload.size() < static_cast<size_t>(kFileHeaderPayloadSize)) {
    return Status::Corruption(fmt::format("{}: damaged file header ({})", path,
                                          d != Damage::kNone ? DamageName(d) : "not a header"));
  }
  uint64_t magic = DecodeFixed64(payload.data());
  uint32_t version = DecodeFixed32(payload.data() + 8);
  if (magic != expected_magic) {
    return Status::Corruption(fmt::format("{}: bad magic number {:#x}", path, magic));
  }
  if (version != kFormatVersion && version != kEncryptedFormatVersion) {
    return Status::Corruption(fmt::format("{}: unsupported log format version {}", path, version));
  }
  const size_t want = static_cast<size_t>(
      version == kFormatVersion ? kFileHeaderPayloadSize : kEncryptedFileHeaderPayloadSize);
  if (payload.size() != want) {
    return Status::Corruption(fmt::format(
        "{}: damaged file header ({}-byte payload for version {})", path, payload.size(), version));
  }
  r->file_number_ = DecodeFixed64(payload.data() + 12);
  r->format_version_ = version;
  if (version == kEncryptedFormatVersion) {
    const EncryptedFileKind kind =
        magic == kManifestMagic ? EncryptedFileKind::kManifest : EncryptedFileKind::kWal;
    s = FileCipher::ForExistingFile(keys, kind, r->file_number_,
                                    payload.substr(kFileHeaderPayloadSize), path, &r->cipher_);
    if (!s.ok()) return s;
  }
  r->has_header_ = true;
  r->pos_ = next;
  r->valid_end_ = next;
  *reader = std::move(r);
  return Status::OK();
}

const char* Reader::DamageName(Damage d) {
  switch (d) {
    case Damage::kNone:
      return "intact";
    case Damage::kTruncatedHeader:
      return "truncated record header";
    case Damage::kBadHeader:
      return "record header check mismatch";
    case Damage::kTruncatedPayload:
      return "truncated record";
    case Damage::kBadType:
      return "unknown record type";
    case Damage::kBadChecksum:
      return "checksum mismatch";
  }
  return "?";
}

Reader::Damage Reader::ParseAt(uint64_t pos, uint8_t* type, std::string_view* payload,
                               uint64_t* next) const {
  if (data_.size() - pos < static_cast<uint64_t>(kHeaderSize)) return Damage::kTruncatedHeader;
  const char* p = data_.data() + pos;
  if (static_cast<uint32_t>(Checksum(std::string_view(p, 5))) != DecodeFixed32(p + 5)) {
    return Damage::kBadHeader;
  }
  uint32_t len = DecodeFixed32(p);
  uint8_t t = static_cast<uint8_t>(p[4]);
  if (len > kMaxRecordSize) return Damage::kBadHeader;
  if (data_.size() - pos - kHeaderSize < len) return Damage::kTruncatedPayload;
  if (t != static_cast<uint8_t>(RecordType::kFileHeader) &&
      t != static_cast<uint8_t>(RecordType::kData)) {
    return Damage::kBadType;
  }
  std::string_view body(p + kHeaderSize, len);
  if (Checksum2(std::string_view(p + 4, 1), body) != DecodeFixed64(p + 9)) {
    return Damage::kBadChecksum;
  }
  *type = t;
  *payload = body;
  *next = pos + kHeaderSize + len;
  return Damage::kNone;
}

void Reader::HandleDamage(uint64_t pos, Damage d) {
  done_ = true;
  uint64_t scan_from;
  switch (d) {
    case Damage::kTruncatedHeader:
    case Damage::kTruncatedPayload:
      // Cut by the end of the file: nothing after it.
      torn_tail_ = true;
      valid_end_ = pos;
      return;
    case Damage::kBadType:
    case Damage::kBadChecksum:
      // The header is intact, so its length is trusted: look after the record.
      scan_from = pos + kHeaderSize + DecodeFixed32(data_.data() + pos);
      break;
    default:
      scan_from = pos + 1;
      break;
  }
  for (uint64_t q = scan_from; q + kHeaderSize <= data_.size(); q++) {
    uint8_t type;
    std::string_view payload;
    uint64_t next;
    if (ParseAt(q, &type, &payload, &next) == Damage::kNone) {
      status_ = Status::Corruption(
          fmt::format("{}: damaged record at offset {} ({}) followed by an intact record at "
                      "offset {}; refusing to drop data",
                      path_, pos, DamageName(d), q));
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
    Damage d = ParseAt(pos_, &type, payload, &next);
    if (d != Damage::kNone) {
      HandleDamage(pos_, d);
      return false;
    }
    uint64_t at = pos_;
    pos_ = next;
    valid_end_ = next;
    if (static_cast<RecordType>(type) != RecordType::kData) {
      status_ =
          Status::Corruption(fmt::format("{}: unexpected header record at offset {}", path_, at));
      done_ = true;
      return false;
    }
    if (cipher_ != nullptr) {
      // The framing is intact, so this is not crash damage: a record that
      // fails authentication was changed or moved (log_reader.h).
      const bool ok = payload->size() >= kEncryptionOverhead;
      if (ok) plain_.resize(payload->size() - kEncryptionOverhead);
      if (!ok ||
          !cipher_->Decrypt(at, static_cast<uint8_t>(RecordType::kData), *payload, plain_.data())) {
        status_ = Status::Corruption(fmt::format(
            "{}: record at offset {} failed authentication (AES-256-GCM tag mismatch: the record "
            "was modified, or moved from another file or offset)",
            path_, at));
        done_ = true;
        valid_end_ = at;
        return false;
      }
      *payload = plain_;
    }
    if (offset != nullptr) *offset = at;
    return true;
  }
  return false;
}

}  // namespace basalt::lsm::log

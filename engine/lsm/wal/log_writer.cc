#include "engine/lsm/wal/log_writer.h"

#include <cassert>

#include "engine/base/checksum.h"
#include "engine/base/coding.h"

namespace basalt::lsm::log {

namespace {

// Fills the kHeaderSize bytes at hdr for a record of type whose payload
// follows them.
void FillHeader(char* hdr, RecordType type, std::string_view payload) {
  EncodeFixed32(hdr, static_cast<uint32_t>(payload.size()));
  hdr[4] = static_cast<char>(type);
  EncodeFixed32(hdr + 5, static_cast<uint32_t>(Checksum(std::string_view(hdr, 5))));
  EncodeFixed64(hdr + 9, Checksum2(std::string_view(hdr + 4, 1), payload));
}

}  // namespace

void EncodeRecord(std::string* dst, RecordType type, std::string_view payload) {
  char hdr[kHeaderSize];
  FillHeader(hdr, type, payload);
  dst->append(hdr, kHeaderSize);
  dst->append(payload.data(), payload.size());
}

Status Writer::WriteHeader(uint64_t magic, uint64_t file_number) {
  std::string payload;
  PutFixed64(&payload, magic);
  PutFixed32(&payload, cipher_ ? kEncryptedFormatVersion : kFormatVersion);
  PutFixed64(&payload, file_number);
  if (cipher_) {
    assert(cipher_->file_number() == file_number);
    cipher_->EncodeHeader(&payload);
  }
  std::string rec;
  EncodeRecord(&rec, RecordType::kFileHeader, payload);
  return file_->Append(rec);
}

Status Writer::EncodeData(std::string* dst, std::string_view payload) const {
  if (!cipher_) {
    EncodeRecord(dst, RecordType::kData, payload);
    return Status::OK();
  }
  const size_t start = dst->size();
  const uint64_t offset = file_->Size() + start;
  dst->resize(start + kHeaderSize);
  Status s = cipher_->Encrypt(offset, static_cast<uint8_t>(RecordType::kData), payload, dst);
  if (!s.ok()) {
    dst->resize(start);
    return s;
  }
  char* hdr = dst->data() + start;
  FillHeader(hdr, RecordType::kData,
             std::string_view(hdr + kHeaderSize, dst->size() - start - kHeaderSize));
  return Status::OK();
}

Status Writer::AddRecord(std::string_view payload) {
  std::string rec;
  rec.reserve(kHeaderSize + payload.size() + (cipher_ ? kEncryptionOverhead : 0));
  Status s = EncodeData(&rec, payload);
  if (!s.ok()) return s;
  return file_->Append(rec);
}

}  // namespace basalt::lsm::log

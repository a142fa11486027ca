#include "engine/lsm/wal/log_writer.h"

#include "engine/base/checksum.h"
#include "engine/base/coding.h"

namespace basalt::lsm::log {

void EncodeRecord(std::string* dst, RecordType type, std::string_view payload) {
  char hdr[kHeaderSize];
  EncodeFixed32(hdr, static_cast<uint32_t>(payload.size()));
  hdr[4] = static_cast<char>(type);
  EncodeFixed32(hdr + 5, static_cast<uint32_t>(Checksum(std::string_view(hdr, 5))));
  EncodeFixed64(hdr + 9, Checksum2(std::string_view(hdr + 4, 1), payload));
  dst->append(hdr, kHeaderSize);
  dst->append(payload.data(), payload.size());
}

Status Writer::WriteHeader(uint64_t magic, uint64_t file_number) {
  std::string payload;
  PutFixed64(&payload, magic);
  PutFixed32(&payload, kFormatVersion);
  PutFixed64(&payload, file_number);
  std::string rec;
  EncodeRecord(&rec, RecordType::kFileHeader, payload);
  return file_->Append(rec);
}

Status Writer::AddRecord(std::string_view payload) {
  std::string rec;
  rec.reserve(kHeaderSize + payload.size());
  EncodeRecord(&rec, RecordType::kData, payload);
  return file_->Append(rec);
}

}  // namespace basalt::lsm::log

// Record framing shared by WAL segments and the manifest.
// See docs/format/wal.md. Values here are written to disk: DO NOT CHANGE THEM.
//
//   record = length fixed32 | type u8 | header check fixed32 | checksum fixed64 | payload[length]
//   header check = low 32 bits of XXH3-64 over (length, type)
//   checksum     = XXH3-64 over (type, payload)
//
// The header check makes the length trustworthy on its own: a record whose
// header is intact but whose payload runs past the end of the file was cut
// by a crash (a torn tail), never corrupted in place.
//
// Every file starts with a kFileHeader record whose payload is
//   magic fixed64 | format version fixed32 | file number fixed64
#pragma once

#include <cstdint>

namespace basalt::lsm::log {

enum class RecordType : uint8_t {
  kFileHeader = 1,
  kData = 2,  // WAL: one WriteBatch; manifest: one VersionEdit
};

inline constexpr int kHeaderSize = 4 + 1 + 4 + 8;
// Upper bound on one record's payload; larger lengths are treated as damage.
inline constexpr uint32_t kMaxRecordSize = 1u << 30;
inline constexpr int kFileHeaderPayloadSize = 8 + 4 + 8;
inline constexpr int kFileHeaderRecordSize = kHeaderSize + kFileHeaderPayloadSize;

inline constexpr uint64_t kWalMagic = 0x314c4157544c5342ULL;       // "BSLTWAL1" (LE)
inline constexpr uint64_t kManifestMagic = 0x314e414d544c5342ULL;  // "BSLTMAN1" (LE)
inline constexpr uint32_t kFormatVersion = 1;

}  // namespace basalt::lsm::log

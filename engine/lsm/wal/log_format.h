// Record framing shared by WAL segments and the manifest.
// See docs/format/wal.md. Values here are written to disk: DO NOT CHANGE THEM.
//
//   record = checksum fixed64 | length fixed32 | type u8 | payload[length]
//   checksum = XXH3-64 over (length, type, payload)
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

inline constexpr int kHeaderSize = 8 + 4 + 1;
// Upper bound on one record's payload; larger lengths are treated as garbage.
inline constexpr uint32_t kMaxRecordSize = 1u << 30;

inline constexpr uint64_t kWalMagic = 0x314c4157544c5342ULL;       // "BSLTWAL1" (LE)
inline constexpr uint64_t kManifestMagic = 0x314e414d544c5342ULL;  // "BSLTMAN1" (LE)
inline constexpr uint32_t kFormatVersion = 1;

}  // namespace basalt::lsm::log

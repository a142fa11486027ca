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
//   version 1 (plain):     magic fixed64 | format version fixed32 | file number fixed64
//   version 2 (encrypted): the same, then the encryption header (engine/base/encryption.h):
//                          key id fixed32 | salt[16] | key check[16]
// In a version-2 file every data record's payload is sealed with AES-256-GCM:
// nonce[12] | ciphertext | tag[16], with AAD = file kind | file number |
// record offset | record type (docs/format/wal.md, "Encryption").
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
// Version 2: the version-1 payload + key id fixed32, salt[16], key check[16].
inline constexpr int kEncryptedFileHeaderPayloadSize = kFileHeaderPayloadSize + 4 + 16 + 16;
inline constexpr int kEncryptedFileHeaderRecordSize = kHeaderSize + kEncryptedFileHeaderPayloadSize;

inline constexpr uint64_t kWalMagic = 0x314c4157544c5342ULL;       // "BSLTWAL1" (LE)
inline constexpr uint64_t kManifestMagic = 0x314e414d544c5342ULL;  // "BSLTMAN1" (LE)
// Version 1: plain records (written with encryption off). Version 2: sealed
// data records (written with encryption on). Readers accept both.
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint32_t kEncryptedFormatVersion = 2;

}  // namespace basalt::lsm::log

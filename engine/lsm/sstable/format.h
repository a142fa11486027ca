// SSTable on-disk constants, block handles, the footer and block I/O.
// See docs/format/sstable.md (format versions 1 and 2) for the byte layouts; every
// constant marked "frozen" is written to disk and must not change without a
// new format version.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base/encryption.h"
#include "engine/base/status.h"
#include "engine/io/env.h"
#include "engine/lsm/sstable/block_buffer.h"

namespace basalt::lsm {

// Frozen: the last 8 bytes of every sstable ("BASALTST" read as a LE fixed64:
// the file ends with the bytes 42 41 53 41 4c 54 53 54 = "BASALTST").
inline constexpr uint64_t kTableMagic = 0x5453544c41534142ull;

// Format versions. 1: plain (written with encryption off). 2: encrypted
// (written with encryption on): every block's stored contents are sealed
// with AES-256-GCM, and the footer carries the file number and the
// encryption header. Readers accept both.
inline constexpr uint32_t kTableFormatVersion = 1;
inline constexpr uint32_t kEncryptedTableFormatVersion = 2;

// Written to disk in every block trailer: DO NOT CHANGE THESE VALUES.
enum class CompressionType : uint8_t {
  kNone = 0,
  kLz4 = 1,
};

// Block trailer: u8 compression type + fixed64 XXH3-64(contents | type byte).
inline constexpr size_t kBlockTrailerSize = 1 + 8;

// Largest uncompressed block a reader accepts (and the largest block the
// writer tries to compress). A compressed block claiming more is corrupt.
inline constexpr size_t kMaxUncompressedBlockSize = size_t{64} << 20;

// Location of a block in the file: offset of its first byte and the size of
// its (possibly compressed) contents, excluding the trailer.
// Encoded as varint64 offset + varint64 size (in index entries).
struct BlockHandle {
  uint64_t offset = 0;
  uint64_t size = 0;

  static constexpr size_t kMaxEncodedLength = 10 + 10;

  void EncodeTo(std::string* dst) const;
  // Consumes a handle from *input; false if truncated or malformed.
  bool DecodeFrom(std::string_view* input);
};

// At the end of the file. Version 1, 64 bytes:
//   [0,16)  filter handle      fixed64 offset, fixed64 size (size 0 = no filter)
//   [16,32) properties handle  fixed64 offset, fixed64 size
//   [32,48) index handle       fixed64 offset, fixed64 size
//   [48,52) fixed32 format version
//   [52,56) fixed32 low 32 bits of XXH3-64 over bytes [0,52)
//   [56,64) fixed64 kTableMagic
// Version 2 (encrypted), 108 bytes:
//   [0,48)   the three handles, as above
//   [48,56)  fixed64 file number
//   [56,92)  encryption header: key id fixed32, salt[16], key check[16]
//   [92,96)  fixed32 format version
//   [96,100) fixed32 low 32 bits of XXH3-64 over bytes [0,96)
//   [100,108) fixed64 kTableMagic
// The version and the magic are always the last 16 bytes but 4 and 8 of them.
struct Footer {
  static constexpr size_t kEncodedLength = 64;            // version 1
  static constexpr size_t kEncryptedEncodedLength = 108;  // version 2
  static constexpr size_t kMaxEncodedLength = kEncryptedEncodedLength;

  BlockHandle filter;
  BlockHandle properties;
  BlockHandle index;
  uint32_t format_version = kTableFormatVersion;
  // Version 2 only.
  uint64_t file_number = 0;
  std::string encryption_header;  // kEncryptionHeaderBytes

  size_t encoded_length() const {
    return format_version == kEncryptedTableFormatVersion ? kEncryptedEncodedLength
                                                          : kEncodedLength;
  }
  // Appends exactly encoded_length() bytes.
  void EncodeTo(std::string* dst) const;
  // tail: the last min(file size, kMaxEncodedLength) bytes of the file.
  // Checks, in order: length, magic, version, checksum. Corruption names
  // the check that failed.
  Status DecodeFrom(std::string_view tail);
};

// Index keys. The index entry of a data block may be any internal key k with
// last_key <= k < next block's first key (or any k >= last_key for the last
// block); shorter keys make a smaller index. Both functions only shorten the
// user-key part and then append the trailer (kMaxSequenceNumber,
// kValueKindForSeek), the smallest internal key with that user key; when
// no shorter user key exists they leave *key unchanged.
//
// REQUIRES: *key < limit (CompareInternalKey); both are internal keys.
void ShortenIndexSeparator(std::string* key, std::string_view limit);
// REQUIRES: *key is an internal key.
void ShortenIndexSuccessor(std::string* key);

// Block encryption (format version 2). A block's stored contents are
// nonce | AES-256-GCM(contents after compression) | tag, with AAD = table
// kind | file number | block offset | compression type, so a block moved to
// another offset or file, or given another type byte, fails authentication.
// A null cipher: plain (version 1).

// Appends contents and its trailer to file at *offset; sets *handle and
// advances *offset by the stored size + kBlockTrailerSize. With a cipher the
// stored contents are sealed (handle->size includes kEncryptionOverhead);
// scratch holds them.
Status WriteRawBlock(io::WritableFile* file, std::string_view contents, CompressionType type,
                     uint64_t* offset, BlockHandle* handle, const FileCipher* cipher = nullptr,
                     std::string* scratch = nullptr);

// Reads the block at handle, verifies its checksum (and tag), decrypts and
// decompresses it. file_limit: the block and its trailer must end at or
// before this offset (the start of the footer). Corruption messages name the
// block offset (and, for authentication failures, the file).
// It is BlockReadRange + one file Read + DecodeBlock.
Status ReadBlock(const io::RandomAccessFile* file, uint64_t file_limit, const BlockHandle& handle,
                 std::string* contents, const FileCipher* cipher = nullptr);
// The same into a BlockBuffer: the read buffer and the contents come from
// this thread's recycled buffers, nothing is zero-filled, and an
// uncompressed, unencrypted block keeps the read buffer (no copy). The path
// of data blocks.
Status ReadBlock(const io::RandomAccessFile* file, uint64_t file_limit, const BlockHandle& handle,
                 BlockBuffer* contents, const FileCipher* cipher = nullptr);

// The bytes ReadBlock reads for handle: *n = handle.size + kBlockTrailerSize
// at handle.offset. Corruption if they do not end by file_limit.
Status BlockReadRange(uint64_t file_limit, const BlockHandle& handle, uint64_t* offset, size_t* n);

// The rest of ReadBlock, for bytes read elsewhere (a batched read, a
// read-ahead window): raw must be exactly the BlockReadRange bytes (shorter is
// a truncated read: Corruption); verifies the checksum, decrypts and
// decompresses into *contents.
Status DecodeBlock(const BlockHandle& handle, std::string_view raw, std::string* contents,
                   const FileCipher* cipher = nullptr);
Status DecodeBlock(const BlockHandle& handle, std::string_view raw, BlockBuffer* contents,
                   const FileCipher* cipher = nullptr);

}  // namespace basalt::lsm

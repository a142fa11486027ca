#include "engine/lsm/sstable/format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "engine/base/checksum.h"
#include "engine/base/coding.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/sstable/compression.h"

namespace basalt::lsm {

namespace {

// Low 32 bits of XXH3-64 over the footer bytes before the checksum field.
uint32_t FooterChecksum(const char* p, size_t n) {
  return static_cast<uint32_t>(Checksum(std::string_view(p, n)));
}

void PutHandleFixed(std::string* dst, const BlockHandle& h) {
  PutFixed64(dst, h.offset);
  PutFixed64(dst, h.size);
}

BlockHandle GetHandleFixed(const char* p) {
  return BlockHandle{DecodeFixed64(p), DecodeFixed64(p + 8)};
}

}  // namespace

void ShortenIndexSeparator(std::string* key, std::string_view limit) {
  const std::string_view user_key = ExtractUserKey(*key);
  const std::string_view user_limit = ExtractUserKey(limit);
  const size_t min_len = std::min(user_key.size(), user_limit.size());
  size_t diff = 0;
  while (diff < min_len && user_key[diff] == user_limit[diff]) diff++;
  if (diff >= min_len) return;  // one user key is a prefix of the other
  const auto byte = static_cast<uint8_t>(user_key[diff]);
  if (byte == 0xff || byte + 1 >= static_cast<uint8_t>(user_limit[diff])) return;
  if (diff + 1 >= user_key.size()) return;  // would not be shorter
  // user_key[0, diff] with its last byte incremented: > user_key (same
  // prefix, larger byte at diff) and < user_limit (same prefix, byte + 1 <
  // user_limit[diff]).
  std::string shortened(user_key.substr(0, diff + 1));
  shortened[diff] = static_cast<char>(byte + 1);
  PutFixed64(&shortened, PackTrailer(kMaxSequenceNumber, kValueKindForSeek));
  *key = std::move(shortened);
}

void ShortenIndexSuccessor(std::string* key) {
  const std::string_view user_key = ExtractUserKey(*key);
  for (size_t i = 0; i < user_key.size(); i++) {
    const auto byte = static_cast<uint8_t>(user_key[i]);
    if (byte == 0xff) continue;
    if (i + 1 >= user_key.size()) return;  // would not be shorter
    std::string shortened(user_key.substr(0, i + 1));
    shortened[i] = static_cast<char>(byte + 1);
    PutFixed64(&shortened, PackTrailer(kMaxSequenceNumber, kValueKindForSeek));
    *key = std::move(shortened);
    return;
  }
  // All 0xff (or empty): no shorter successor.
}

void BlockHandle::EncodeTo(std::string* dst) const {
  PutVarint64(dst, offset);
  PutVarint64(dst, size);
}

bool BlockHandle::DecodeFrom(std::string_view* input) {
  return GetVarint64(input, &offset) && GetVarint64(input, &size);
}

void Footer::EncodeTo(std::string* dst) const {
  const size_t start = dst->size();
  PutHandleFixed(dst, filter);
  PutHandleFixed(dst, properties);
  PutHandleFixed(dst, index);
  if (format_version == kEncryptedTableFormatVersion) {
    PutFixed64(dst, file_number);
    dst->append(encryption_header);
  }
  PutFixed32(dst, format_version);
  PutFixed32(dst, FooterChecksum(dst->data() + start, dst->size() - start));
  PutFixed64(dst, kTableMagic);
}

Status Footer::DecodeFrom(std::string_view tail) {
  if (tail.size() < kEncodedLength) {
    return Status::Corruption(
        fmt::format("sstable: footer is {} bytes, expected {}", tail.size(), kEncodedLength));
  }
  const char* end = tail.data() + tail.size();
  const uint64_t magic = DecodeFixed64(end - 8);
  if (magic != kTableMagic) {
    return Status::Corruption(fmt::format("sstable: bad magic number {:#018x}", magic));
  }
  const uint32_t version = DecodeFixed32(end - 16);
  size_t length = 0;
  if (version == kTableFormatVersion) {
    length = kEncodedLength;
  } else if (version == kEncryptedTableFormatVersion) {
    length = kEncryptedEncodedLength;
    if (tail.size() < length) {
      return Status::Corruption(fmt::format(
          "sstable: file is {} bytes, shorter than the {}-byte version-2 footer (truncated?)",
          tail.size(), length));
    }
  } else {
    return Status::Corruption(fmt::format("unsupported sstable format version {}", version));
  }
  const char* p = end - length;
  if (DecodeFixed32(end - 12) != FooterChecksum(p, length - 12)) {
    return Status::Corruption("sstable: bad footer checksum");
  }
  filter = GetHandleFixed(p);
  properties = GetHandleFixed(p + 16);
  index = GetHandleFixed(p + 32);
  format_version = version;
  if (version == kEncryptedTableFormatVersion) {
    file_number = DecodeFixed64(p + 48);
    encryption_header.assign(p + 56, kEncryptionHeaderBytes);
  } else {
    file_number = 0;
    encryption_header.clear();
  }
  return Status::OK();
}

Status WriteRawBlock(io::WritableFile* file, std::string_view contents, CompressionType type,
                     uint64_t* offset, BlockHandle* handle, const FileCipher* cipher,
                     std::string* scratch) {
  std::string local;
  if (cipher != nullptr) {
    if (scratch == nullptr) scratch = &local;
    scratch->clear();
    Status s = cipher->Encrypt(*offset, static_cast<uint8_t>(type), contents, scratch);
    if (!s.ok()) return s;
    contents = *scratch;
  }
  handle->offset = *offset;
  handle->size = contents.size();
  Status s = file->Append(contents);
  if (!s.ok()) return s;
  char trailer[kBlockTrailerSize];
  trailer[0] = static_cast<char>(type);
  EncodeFixed64(trailer + 1, Checksum2(contents, std::string_view(trailer, 1)));
  s = file->Append(std::string_view(trailer, kBlockTrailerSize));
  if (!s.ok()) return s;
  *offset += contents.size() + kBlockTrailerSize;
  return Status::OK();
}

Status BlockReadRange(uint64_t file_limit, const BlockHandle& handle, uint64_t* offset, size_t* n) {
  // Overflow-safe: offset + size + trailer <= file_limit.
  if (file_limit < kBlockTrailerSize || handle.size > file_limit - kBlockTrailerSize ||
      handle.offset > file_limit - kBlockTrailerSize - handle.size) {
    return Status::Corruption(
        fmt::format("sstable: block handle out of range (offset {}, size {}, limit {})",
                    handle.offset, handle.size, file_limit));
  }
  *offset = handle.offset;
  *n = static_cast<size_t>(handle.size) + kBlockTrailerSize;
  return Status::OK();
}

namespace {

// DecodeBlock; when owned holds raw's bytes (raw.data() == owned->data()), an
// uncompressed block takes them over instead of being copied.
Status DecodeBlockImpl(const BlockHandle& handle, std::string_view raw, BlockBuffer* owned,
                       BlockBuffer* contents, const FileCipher* cipher) {
  const size_t n = static_cast<size_t>(handle.size);
  if (raw.size() != n + kBlockTrailerSize) {
    return Status::Corruption(
        fmt::format("sstable: truncated block read at offset {}", handle.offset));
  }
  const char* trailer = raw.data() + n;
  const uint64_t expected = DecodeFixed64(trailer + 1);
  if (Checksum2(raw.substr(0, n), std::string_view(trailer, 1)) != expected) {
    return Status::Corruption(
        fmt::format("sstable: bad block checksum at offset {}", handle.offset));
  }
  const auto type = static_cast<uint8_t>(trailer[0]);
  std::string_view stored = raw.substr(0, n);
  BlockBuffer plain;
  if (cipher != nullptr) {
    // The checksum passed, so a failure here is not a torn or garbled write
    // but a block that was changed, moved, or sealed with another key.
    const bool ok = n >= kEncryptionOverhead;
    if (ok) plain = BlockBuffer(n - kEncryptionOverhead);
    if (!ok || !cipher->Decrypt(handle.offset, type, stored, plain.data())) {
      return Status::Corruption(fmt::format(
          "sstable {:06}.sst: block at offset {} failed authentication (AES-256-GCM tag "
          "mismatch: the block was modified, or moved from another file or offset)",
          cipher->file_number(), handle.offset));
    }
    stored = plain.view();
    owned = &plain;
  }
  switch (static_cast<CompressionType>(type)) {
    case CompressionType::kNone:
      if (owned != nullptr && owned->data() == stored.data()) {
        owned->Truncate(stored.size());
        *contents = std::move(*owned);
      } else {
        *contents = BlockBuffer(stored.size());
        if (!stored.empty()) std::memcpy(contents->data(), stored.data(), stored.size());
      }
      return Status::OK();
    case CompressionType::kLz4: {
      Status s = Lz4Uncompress(stored, contents);
      if (!s.ok()) {
        return Status::Corruption(fmt::format("sstable: block at offset {}", handle.offset),
                                  s.message());
      }
      return Status::OK();
    }
  }
  return Status::Corruption(
      fmt::format("sstable: unknown compression type {} at offset {}", type, handle.offset));
}

}  // namespace

Status DecodeBlock(const BlockHandle& handle, std::string_view raw, BlockBuffer* contents,
                   const FileCipher* cipher) {
  return DecodeBlockImpl(handle, raw, nullptr, contents, cipher);
}

Status DecodeBlock(const BlockHandle& handle, std::string_view raw, std::string* contents,
                   const FileCipher* cipher) {
  BlockBuffer b;
  Status s = DecodeBlockImpl(handle, raw, nullptr, &b, cipher);
  if (s.ok()) contents->assign(b.view());
  return s;
}

Status ReadBlock(const io::RandomAccessFile* file, uint64_t file_limit, const BlockHandle& handle,
                 BlockBuffer* contents, const FileCipher* cipher) {
  uint64_t offset = 0;
  size_t n = 0;
  Status s = BlockReadRange(file_limit, handle, &offset, &n);
  if (!s.ok()) return s;
  BlockBuffer buf(n);
  std::string_view result;
  s = file->Read(offset, n, buf.data(), &result);
  if (!s.ok()) return s;
  return DecodeBlockImpl(handle, result, &buf, contents, cipher);
}

Status ReadBlock(const io::RandomAccessFile* file, uint64_t file_limit, const BlockHandle& handle,
                 std::string* contents, const FileCipher* cipher) {
  BlockBuffer b;
  Status s = ReadBlock(file, file_limit, handle, &b, cipher);
  if (s.ok()) contents->assign(b.view());
  return s;
}

}  // namespace basalt::lsm

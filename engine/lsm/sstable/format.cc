#include "engine/lsm/sstable/format.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/base/checksum.h"
#include "engine/base/coding.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/sstable/compression.h"

namespace basalt::lsm {

namespace {

uint32_t FooterChecksum(const char* p) {
  return static_cast<uint32_t>(Checksum(std::string_view(p, 52)));
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
  PutFixed32(dst, format_version);
  PutFixed32(dst, FooterChecksum(dst->data() + start));
  PutFixed64(dst, kTableMagic);
}

Status Footer::DecodeFrom(std::string_view input) {
  if (input.size() != kEncodedLength) {
    return Status::Corruption(
        fmt::format("sstable: footer is {} bytes, expected {}", input.size(), kEncodedLength));
  }
  const char* p = input.data();
  const uint64_t magic = DecodeFixed64(p + 56);
  if (magic != kTableMagic) {
    return Status::Corruption(fmt::format("sstable: bad magic number {:#018x}", magic));
  }
  const uint32_t version = DecodeFixed32(p + 48);
  if (version != kTableFormatVersion) {
    return Status::Corruption(fmt::format("unsupported sstable format version {}", version));
  }
  if (DecodeFixed32(p + 52) != FooterChecksum(p)) {
    return Status::Corruption("sstable: bad footer checksum");
  }
  filter = GetHandleFixed(p);
  properties = GetHandleFixed(p + 16);
  index = GetHandleFixed(p + 32);
  format_version = version;
  return Status::OK();
}

Status WriteRawBlock(io::WritableFile* file, std::string_view contents, CompressionType type,
                     uint64_t* offset, BlockHandle* handle) {
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
Status DecodeBlockImpl(const BlockHandle& handle, std::string_view raw, std::string* owned,
                       std::string* contents) {
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
  switch (static_cast<CompressionType>(static_cast<uint8_t>(trailer[0]))) {
    case CompressionType::kNone:
      if (owned != nullptr && owned->data() == raw.data()) {
        owned->resize(n);
        *contents = std::move(*owned);
      } else {
        contents->assign(raw.data(), n);
      }
      return Status::OK();
    case CompressionType::kLz4: {
      Status s = Lz4Uncompress(raw.substr(0, n), contents);
      if (!s.ok()) {
        return Status::Corruption(fmt::format("sstable: block at offset {}", handle.offset),
                                  s.message());
      }
      return Status::OK();
    }
  }
  return Status::Corruption(fmt::format("sstable: unknown compression type {} at offset {}",
                                        static_cast<uint8_t>(trailer[0]), handle.offset));
}

}  // namespace

Status DecodeBlock(const BlockHandle& handle, std::string_view raw, std::string* contents) {
  return DecodeBlockImpl(handle, raw, nullptr, contents);
}

Status ReadBlock(const io::RandomAccessFile* file, uint64_t file_limit, const BlockHandle& handle,
                 std::string* contents) {
  uint64_t offset = 0;
  size_t n = 0;
  Status s = BlockReadRange(file_limit, handle, &offset, &n);
  if (!s.ok()) return s;
  std::string buf;
  buf.resize(n);
  std::string_view result;
  s = file->Read(offset, n, buf.data(), &result);
  if (!s.ok()) return s;
  return DecodeBlockImpl(handle, result, &buf, contents);
}

}  // namespace basalt::lsm

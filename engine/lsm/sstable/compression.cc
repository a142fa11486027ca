#include "engine/lsm/sstable/compression.h"

#include <lz4.h>

#include <cstdint>

#include "engine/base/coding.h"

namespace basalt::lsm {

bool Lz4Compress(std::string_view raw, std::string* out) {
  out->clear();
  if (raw.size() > kMaxUncompressedBlockSize) return false;
  const int bound = LZ4_compressBound(static_cast<int>(raw.size()));
  if (bound <= 0) return false;
  PutVarint32(out, static_cast<uint32_t>(raw.size()));
  const size_t header = out->size();
  out->resize(header + static_cast<size_t>(bound));
  const int n =
      LZ4_compress_default(raw.data(), out->data() + header, static_cast<int>(raw.size()), bound);
  if (n <= 0) {
    out->clear();
    return false;
  }
  out->resize(header + static_cast<size_t>(n));
  return true;
}

namespace {

// Checks the length prefix; leaves *compressed at the LZ4 data.
Status ParseLz4Header(std::string_view* compressed, uint32_t* len) {
  if (!GetVarint32(compressed, len)) {
    return Status::Corruption("sstable: bad LZ4 length prefix");
  }
  if (*len > kMaxUncompressedBlockSize) {
    return Status::Corruption("sstable: LZ4 block claims an absurd uncompressed length");
  }
  if (compressed->size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) {
    return Status::Corruption("sstable: LZ4 block too large");
  }
  return Status::OK();
}

// Decodes data (after ParseLz4Header) into exactly out[0, len).
Status Lz4Decode(std::string_view data, char* out, uint32_t len) {
  if (len == 0) {
    // LZ4 encodes an empty input as a single token byte.
    if (data.size() == 1 && data[0] == 0) return Status::OK();
    return Status::Corruption("sstable: bad LZ4 data for an empty block");
  }
  const int n =
      LZ4_decompress_safe(data.data(), out, static_cast<int>(data.size()), static_cast<int>(len));
  if (n < 0 || static_cast<uint32_t>(n) != len) {
    return Status::Corruption("sstable: bad LZ4 data");
  }
  return Status::OK();
}

}  // namespace

Status Lz4Uncompress(std::string_view compressed, std::string* out) {
  uint32_t len = 0;
  Status s = ParseLz4Header(&compressed, &len);
  if (!s.ok()) return s;
  out->resize(len);
  s = Lz4Decode(compressed, out->data(), len);
  if (!s.ok()) out->clear();
  return s;
}

Status Lz4Uncompress(std::string_view compressed, BlockBuffer* out) {
  uint32_t len = 0;
  Status s = ParseLz4Header(&compressed, &len);
  if (!s.ok()) return s;
  *out = BlockBuffer(len);  // not zero-filled: LZ4 writes every byte
  s = Lz4Decode(compressed, out->data(), len);
  if (!s.ok()) *out = BlockBuffer();
  return s;
}

CompressionType CompressBlock(std::string_view raw, bool enabled, std::string* scratch,
                              std::string_view* out) {
  if (enabled && !raw.empty() && Lz4Compress(raw, scratch) && scratch->size() < raw.size() &&
      raw.size() - scratch->size() >= raw.size() / 8) {
    *out = *scratch;
    return CompressionType::kLz4;
  }
  *out = raw;
  return CompressionType::kNone;
}

}  // namespace basalt::lsm

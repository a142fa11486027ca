// Per-block LZ4 compression for sstables. See docs/format/sstable.md
// ("Compressed block contents").
//
// A compressed block is: varint32 uncompressed length | LZ4 block data
// (LZ4_compress_default). The writer keeps it only when it pays (see
// CompressBlock); readers accept any block either way.
#pragma once

#include <string>
#include <string_view>

#include "engine/base/status.h"
#include "engine/lsm/sstable/block_buffer.h"
#include "engine/lsm/sstable/format.h"

namespace basalt::lsm {

// Writes the compressed form of raw (varint32 length + LZ4 data) to *out.
// False if raw is larger than kMaxUncompressedBlockSize or LZ4 fails.
bool Lz4Compress(std::string_view raw, std::string* out);

// Inverse of Lz4Compress. Corruption if the length prefix is malformed or
// larger than kMaxUncompressedBlockSize, or the LZ4 data does not decode to
// exactly that many bytes. Never reads or writes out of bounds.
Status Lz4Uncompress(std::string_view compressed, std::string* out);
// The same into a BlockBuffer (not zero-filled first).
Status Lz4Uncompress(std::string_view compressed, BlockBuffer* out);

// Writer policy: when enabled, compresses raw into *scratch and returns kLz4
// with *out = *scratch if that saves at least 1/8 of raw's size
// (raw - compressed >= raw / 8, and compressed < raw); otherwise returns
// kNone with *out = raw.
CompressionType CompressBlock(std::string_view raw, bool enabled, std::string* scratch,
                              std::string_view* out);

}  // namespace basalt::lsm

// TableOptions: how the engine lays out the SSTables it writes (block size,
// restart interval, bloom filter, compression). Part of Options (options.h).
// Public header: includes nothing of the engine's internals. Readers need
// none of these: every table file records its own format (footer, block
// trailers; docs/format/sstable.md).
#pragma once

#include <cstddef>

namespace basalt::lsm {

struct TableOptions {
  // Target uncompressed size of a data block. Default: 4 KiB.
  size_t block_size = 4096;
  // Keys between restart points in a block (full key stored at a restart). Default: 16.
  int block_restart_interval = 16;
  // Bloom filter bits per user key; 0 disables the filter. Default: 10 (~1% false positives).
  int bloom_bits_per_key = 10;
  // LZ4 per block (stored raw when it saves < 1/8). Default: on.
  bool compression = true;
};

}  // namespace basalt::lsm

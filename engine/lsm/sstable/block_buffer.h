// BlockBuffer: the bytes of one block as read or decompressed, without the
// zero-fill std::string::resize does (C++20 has no resize_and_overwrite),
// and recycled: a buffer freed on a thread goes to that thread's small free
// list, and the next buffer that thread needs of about its size comes from
// there instead of malloc.
//
// Why: on a random read that misses the block cache the reader allocates a
// buffer for the raw bytes, another for the decompressed block, and the
// block it evicts frees one of the same size. Profiled on seekrandom
// (docs/benchmarks.md), malloc, free and the zero-fill of those ~4 KiB
// buffers took about a fifth of the time; with the free list a steady
// stream of misses reuses the same few buffers.
//
// The free list holds at most kMaxPooled buffers and kMaxPooledBytes per
// thread (buffers larger than kMaxPooledBuffer are never kept), memory the
// block cache does not charge: 256 KiB per reading thread at most, so a
// server with many worker threads keeps little; it is freed when the thread
// exits. A steady stream of misses needs two or three buffers. Capacity is
// rounded up to kGranule, so a cached block's memory is within kGranule of
// its size (BlockCache charges capacity()).
//
// A buffer larger than kMaxPooledBuffer (an index or filter block of a
// large table, a compaction read-ahead window) is mapped from the kernel
// and unmapped when freed, never taken from malloc: see
// engine/base/page_buffer.h for why.
//
// Thread safety: a BlockBuffer is a value (one owner); the free lists are
// per thread, so allocation and release take no lock.
#pragma once

#include <cstddef>
#include <string_view>

namespace basalt::lsm {

class BlockBuffer {
 public:
  static constexpr size_t kGranule = 64;
  static constexpr size_t kMaxPooled = 16;
  static constexpr size_t kMaxPooledBuffer = size_t{256} << 10;
  static constexpr size_t kMaxPooledBytes = size_t{256} << 10;

  BlockBuffer() = default;
  // n bytes, uninitialized. n may be 0 (no allocation).
  explicit BlockBuffer(size_t n);
  BlockBuffer(BlockBuffer&& other) noexcept;
  BlockBuffer& operator=(BlockBuffer&& other) noexcept;
  BlockBuffer(const BlockBuffer&) = delete;
  BlockBuffer& operator=(const BlockBuffer&) = delete;
  ~BlockBuffer() { Release(); }

  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  std::string_view view() const { return {data_, size_}; }
  // REQUIRES: n <= size(). Keeps the allocation.
  void Truncate(size_t n) { size_ = n; }

  // How many buffers the calling thread's free list holds.
  static size_t PooledOnThisThread();
  // Frees the calling thread's pooled buffers.
  static void TrimThisThread();

 private:
  void Release();

  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace basalt::lsm

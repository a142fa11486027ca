// Arena: bump allocator for the memtable. Memory is freed only when the arena
// is destroyed. Thread safety: Allocate* require external synchronisation
// (the memtable has one writer); MemoryUsage() may be read concurrently.
//
// Block sizes grow with the arena (an eighth of what it holds, 4 KiB to
// 1 MiB), so the many small memtables of a partitioned table stay small
// while a 64 MiB memtable takes 1 MiB blocks. Blocks of 256 KiB and more
// are mapped with mmap and unmapped when the arena dies: a flushed
// memtable's memory goes back to the OS at once instead of staying in the
// malloc heap, fragmented by the block cache's allocations, as resident
// memory the process no longer uses.
#pragma once

#include <atomic>
#include <cstddef>
#include <vector>

namespace basalt {

class Arena {
 public:
  Arena() = default;
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  char* Allocate(size_t bytes);
  // Aligned to alignof(std::max_align_t)-friendly pointer size (8 bytes).
  char* AllocateAligned(size_t bytes);
  size_t MemoryUsage() const { return usage_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kMinBlockSize = 4096;
  static constexpr size_t kMaxBlockSize = 1 << 20;
  static constexpr size_t kMmapThreshold = 256 << 10;
  // Objects larger than this get a block of their own (LevelDB: a quarter block).
  static constexpr size_t kLargeObject = kMinBlockSize / 4;
  char* AllocateFallback(size_t bytes);
  char* NewBlock(size_t bytes);

  struct BlockRef {
    char* data;
    size_t size;
  };
  char* ptr_ = nullptr;
  size_t remaining_ = 0;
  std::vector<BlockRef> blocks_;
  std::atomic<size_t> usage_{0};
};

inline char* Arena::Allocate(size_t bytes) {
  if (bytes <= remaining_) {
    char* r = ptr_;
    ptr_ += bytes;
    remaining_ -= bytes;
    return r;
  }
  return AllocateFallback(bytes);
}

}  // namespace basalt

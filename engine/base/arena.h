// Arena: bump allocator for the memtable. Memory is freed only when the arena
// is destroyed. Thread safety: Allocate* require external synchronisation
// (the memtable has one writer); MemoryUsage() may be read concurrently.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

namespace basalt {

class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  char* Allocate(size_t bytes);
  // Aligned to alignof(std::max_align_t)-friendly pointer size (8 bytes).
  char* AllocateAligned(size_t bytes);
  size_t MemoryUsage() const { return usage_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kBlockSize = 4096;
  char* AllocateFallback(size_t bytes);
  char* NewBlock(size_t bytes);

  char* ptr_ = nullptr;
  size_t remaining_ = 0;
  std::vector<std::unique_ptr<char[]>> blocks_;
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

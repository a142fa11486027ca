#include "engine/base/arena.h"

#include <algorithm>
#include <cstdint>
#include <new>

#include "engine/base/page_buffer.h"

namespace basalt {

Arena::~Arena() {
  for (const BlockRef& b : blocks_) {
    if (b.size >= kMmapThreshold) {
      UnmapPages(b.data, b.size);
    } else {
      delete[] b.data;
    }
  }
}

char* Arena::NewBlock(size_t bytes) {
  char* data;
  if (bytes >= kMmapThreshold) {
    size_t mapped = bytes;  // page-rounded by MapPages; unmapping `bytes` unmaps them all
    data = MapPages(&mapped);
  } else {
    data = new char[bytes];
  }
  blocks_.push_back({data, bytes});
  usage_.fetch_add(bytes + sizeof(BlockRef), std::memory_order_relaxed);
  return data;
}

char* Arena::AllocateFallback(size_t bytes) {
  if (bytes > kLargeObject) return NewBlock(bytes);  // large object: own block
  // An eighth of the arena, in whole pages: the unused tail of the current
  // block stays a small fraction of the memory held.
  size_t block = std::clamp(MemoryUsage() / 8, kMinBlockSize, kMaxBlockSize);
  block = (block + kMinBlockSize - 1) / kMinBlockSize * kMinBlockSize;
  ptr_ = NewBlock(block);
  remaining_ = block;
  char* r = ptr_;
  ptr_ += bytes;
  remaining_ -= bytes;
  return r;
}

char* Arena::AllocateAligned(size_t bytes) {
  constexpr size_t kAlign = 8;
  size_t mod = reinterpret_cast<uintptr_t>(ptr_) & (kAlign - 1);
  size_t slop = mod == 0 ? 0 : kAlign - mod;
  if (bytes + slop <= remaining_) {
    char* r = ptr_ + slop;
    ptr_ += bytes + slop;
    remaining_ -= bytes + slop;
    return r;
  }
  return AllocateFallback(bytes);  // new blocks are aligned (operator new[], mmap)
}

}  // namespace basalt

#include "engine/lsm/sstable/block_buffer.h"

#include <sanitizer/asan_interface.h>

#include <cstdlib>
#include <new>
#include <utility>

#include "engine/base/page_buffer.h"

namespace basalt::lsm {
namespace {

struct FreeList {
  char* data[BlockBuffer::kMaxPooled];
  size_t capacity[BlockBuffer::kMaxPooled];
  size_t count = 0;
  size_t bytes = 0;
  void Clear();
  ~FreeList();
};

// Set when this thread's free list has been destroyed (thread exit): a
// buffer released after that (a cache torn down by a static destructor) is
// freed directly. A plain bool has no destructor, so it stays readable.
thread_local bool t_free_list_gone = false;

FreeList* ThisThreadFreeList() {
  if (t_free_list_gone) return nullptr;
  thread_local FreeList list;
  return &list;
}

void FreeList::Clear() {
  for (size_t i = 0; i < count; i++) {
    ASAN_UNPOISON_MEMORY_REGION(data[i], capacity[i]);
    std::free(data[i]);
  }
  count = 0;
  bytes = 0;
}

FreeList::~FreeList() {
  Clear();
  t_free_list_gone = true;
}

size_t RoundUp(size_t n) { return (n + BlockBuffer::kGranule - 1) & ~(BlockBuffer::kGranule - 1); }

}  // namespace

BlockBuffer::BlockBuffer(size_t n) : size_(n) {
  if (n == 0) return;
  const size_t want = RoundUp(n);
  if (want <= kMaxPooledBuffer) {
    if (FreeList* list = ThisThreadFreeList(); list != nullptr) {
      // Reuse one that fits without wasting more than a quarter of it.
      for (size_t i = 0; i < list->count; i++) {
        if (list->capacity[i] >= want && list->capacity[i] <= want + want / 4) {
          data_ = list->data[i];
          capacity_ = list->capacity[i];
          list->bytes -= capacity_;
          list->count--;
          list->data[i] = list->data[list->count];
          list->capacity[i] = list->capacity[list->count];
          ASAN_UNPOISON_MEMORY_REGION(data_, n);
          return;
        }
      }
    }
  }
  if (want > kMaxPooledBuffer) {
    // Large: pages of its own, so freeing it does not raise malloc's mmap
    // threshold (engine/base/page_buffer.h). capacity_ > kMaxPooledBuffer
    // marks a mapped buffer.
    size_t mapped = want;
    data_ = MapPages(&mapped);
    capacity_ = mapped;
  } else {
    data_ = static_cast<char*>(std::malloc(want));
    if (data_ == nullptr) throw std::bad_alloc();
    capacity_ = want;
  }
  ASAN_POISON_MEMORY_REGION(data_ + n, capacity_ - n);  // past size(): off limits
}

BlockBuffer::BlockBuffer(BlockBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

BlockBuffer& BlockBuffer::operator=(BlockBuffer&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void BlockBuffer::Release() {
  if (data_ == nullptr) return;
  FreeList* list = capacity_ <= kMaxPooledBuffer ? ThisThreadFreeList() : nullptr;
  if (list != nullptr && list->count < kMaxPooled && list->bytes + capacity_ <= kMaxPooledBytes) {
    // Under ASan a pooled buffer stays off limits until it is handed out
    // again, so a use after release is still reported.
    ASAN_POISON_MEMORY_REGION(data_, capacity_);
    list->data[list->count] = data_;
    list->capacity[list->count] = capacity_;
    list->count++;
    list->bytes += capacity_;
  } else {
    ASAN_UNPOISON_MEMORY_REGION(data_, capacity_);
    if (capacity_ > kMaxPooledBuffer) {
      UnmapPages(data_, capacity_);
    } else {
      std::free(data_);
    }
  }
  data_ = nullptr;
  size_ = capacity_ = 0;
}

void BlockBuffer::TrimThisThread() {
  if (FreeList* list = ThisThreadFreeList(); list != nullptr) list->Clear();
}

size_t BlockBuffer::PooledOnThisThread() {
  FreeList* list = ThisThreadFreeList();
  return list == nullptr ? 0 : list->count;
}

}  // namespace basalt::lsm

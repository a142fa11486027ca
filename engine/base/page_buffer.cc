#include "engine/base/page_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <new>

namespace basalt {

namespace {

size_t RoundToPages(size_t n) {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (n + page - 1) / page * page;
}

}  // namespace

char* MapPages(size_t* n) {
  *n = RoundToPages(*n);
  void* p = mmap(nullptr, *n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return static_cast<char*>(p);
}

void UnmapPages(char* p, size_t n) {
  if (p != nullptr) munmap(p, n);
}

void PageBuffer::Reserve(size_t n) {
  if (n <= capacity_) return;
  if (data_ == nullptr) {
    data_ = MapPages(&n);
    capacity_ = n;
    return;
  }
  const size_t want = RoundToPages(n);
  void* p = mremap(data_, capacity_, want, MREMAP_MAYMOVE);
  if (p == MAP_FAILED) throw std::bad_alloc();  // the old mapping is intact
  data_ = static_cast<char*>(p);
  capacity_ = want;
}

void PageBuffer::Unmap() {
  UnmapPages(data_, capacity_);
  data_ = nullptr;
  capacity_ = 0;
}

}  // namespace basalt

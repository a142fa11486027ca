// PageBuffer and PageVector: memory for the engine's large short-lived
// buffers (compaction read-ahead windows, a table builder's filter key
// hashes, large blocks), mapped straight from the kernel instead of taken
// from malloc.
//
// Why: glibc's malloc serves a request above its mmap threshold (128 KiB at
// first) with a mapping of its own, but when such a chunk is freed it raises
// the threshold to that size, and the trim threshold to twice it. After the
// first 16 MiB key-hash array of a 64 MiB table is freed, every later
// read-ahead window and hash array comes from the heap, and up to 32 MiB of
// free heap top stays resident per arena between malloc_trim calls
// (mallopt(3), M_MMAP_THRESHOLD). Measured in docs/benchmarks.md ("Large
// buffers outside malloc"): with the threshold pinned, the bench's peak RSS
// per phase fell by 19-29 MiB. An engine must not pin a process-wide malloc
// setting, so its own large buffers bypass malloc instead: unmapped when
// freed, they never raise the threshold and never stay resident.
//
// Pages are zero-filled by the kernel and made resident on first touch.
// Allocation failure throws std::bad_alloc, as operator new does.
// Thread safety: values (one owner each); no shared state.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <type_traits>
#include <utility>

namespace basalt {

// Maps at least *n bytes (rounded up to whole pages; *n is set to the mapped
// size) / unmaps what MapPages returned. MapPages throws std::bad_alloc.
char* MapPages(size_t* n);
void UnmapPages(char* p, size_t n);

class PageBuffer {
 public:
  PageBuffer() = default;
  // At least n bytes (rounded up to whole pages); n == 0 maps nothing.
  explicit PageBuffer(size_t n) { Reserve(n); }
  PageBuffer(PageBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), capacity_(std::exchange(o.capacity_, 0)) {}
  PageBuffer& operator=(PageBuffer&& o) noexcept {
    if (this != &o) {
      Unmap();
      data_ = std::exchange(o.data_, nullptr);
      capacity_ = std::exchange(o.capacity_, 0);
    }
    return *this;
  }
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;
  ~PageBuffer() { Unmap(); }

  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t capacity() const { return capacity_; }

  // Grows to at least n bytes, keeping the contents (mremap: the pages are
  // moved, not copied; data() may change). Never shrinks.
  void Reserve(size_t n);

 private:
  void Unmap();

  char* data_ = nullptr;
  size_t capacity_ = 0;
};

// A growable array of trivially copyable T in a PageBuffer: push_back grows
// by doubling without the copy (and the old and new arrays both resident)
// that a std::vector's growth costs.
template <typename T>
class PageVector {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  void push_back(const T& v) {
    if ((size_ + 1) * sizeof(T) > buf_.capacity()) {
      buf_.Reserve(std::max<size_t>(2 * buf_.capacity(), kInitialBytes));
    }
    std::memcpy(buf_.data() + size_ * sizeof(T), &v, sizeof(T));
    size_++;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<const T> span() const { return {reinterpret_cast<const T*>(buf_.data()), size_}; }

 private:
  static constexpr size_t kInitialBytes = 64 << 10;
  PageBuffer buf_;
  size_t size_ = 0;
};

}  // namespace basalt

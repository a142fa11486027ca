// Helpers shared by the posix and io_uring Envs for O_DIRECT reads. Internal
// to engine/io.
//
// An O_DIRECT read must start at an aligned offset, move an aligned number of
// bytes and land in an aligned buffer (kDirectIoAlignment, env.h). Callers of
// RandomAccessFile do not follow those rules, so a direct file reads the
// aligned superset of the request into an AlignedBuffer and copies the
// requested bytes out; a request that is already aligned on all three counts
// is read in place.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include "engine/io/env.h"

namespace basalt::io {

// A kDirectIoAlignment-aligned heap buffer.
class AlignedBuffer {
 public:
  // Allocates at least n bytes (rounded up to the alignment). False if out of memory.
  bool Allocate(size_t n) {
    size_t rounded = (n + kDirectIoAlignment - 1) / kDirectIoAlignment * kDirectIoAlignment;
    if (rounded == 0) rounded = kDirectIoAlignment;
    data_.reset(static_cast<char*>(std::aligned_alloc(kDirectIoAlignment, rounded)));
    return data_ != nullptr;
  }
  char* data() const { return data_.get(); }

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> data_;
};

// The aligned file range that covers [offset, offset + n).
struct AlignedRange {
  AlignedRange(uint64_t offset, size_t n) {
    begin = offset / kDirectIoAlignment * kDirectIoAlignment;
    const uint64_t end =
        (offset + n + kDirectIoAlignment - 1) / kDirectIoAlignment * kDirectIoAlignment;
    length = static_cast<size_t>(end - begin);
    skip = static_cast<size_t>(offset - begin);
  }
  uint64_t begin;  // aligned start
  size_t length;   // aligned length
  size_t skip;     // offset - begin: where the requested bytes start in the buffer
};

// Whether a request can be read with O_DIRECT as it is, into scratch.
inline bool DirectReadIsAligned(uint64_t offset, size_t n, const char* scratch) {
  return offset % kDirectIoAlignment == 0 && n % kDirectIoAlignment == 0 &&
         reinterpret_cast<uintptr_t>(scratch) % kDirectIoAlignment == 0;
}

// Copies the requested bytes out of a bounce buffer that received `got`
// bytes of range; returns the view of scratch that was filled (shorter than n
// only at end of file).
inline std::string_view CopyOutDirect(const AlignedRange& range, const char* bounce, size_t got,
                                      size_t n, char* scratch) {
  size_t avail = got > range.skip ? got - range.skip : 0;
  if (avail > n) avail = n;
  if (avail > 0) std::memcpy(scratch, bounce + range.skip, avail);
  return std::string_view(scratch, avail);
}

// An O_DIRECT read that returned a non-aligned count reached end of file:
// the remainder cannot be asked for (its offset is unaligned) and is empty.
inline bool DirectReadHitEof(size_t done) { return done % kDirectIoAlignment != 0; }

}  // namespace basalt::io

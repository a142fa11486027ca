// Returning freed heap memory to the operating system.
#pragma once

namespace basalt {

// Hands the allocator's free heap pages back to the kernel (glibc:
// malloc_trim(0), which also releases free pages inside the heap, not only
// at its top). Background flushes and compactions allocate and free tens of
// MiB of short-lived buffers (table builders, key hashes for filters,
// read-ahead windows); glibc's dynamic mmap threshold moves such buffers
// onto the heap after the first ones are freed, and freed heap pages stay
// resident until trimmed, so the process's RSS would keep the high-water
// mark of every past compaction. The background threads call this after each
// job. It only releases memory that is free; it costs a walk of the
// allocator's free lists (well under a millisecond for our heaps, measured
// in docs/benchmarks.md). A no-op with other C libraries.
// Thread safety: safe to call from any thread.
void ReleaseFreeMemory();

}  // namespace basalt

// What basalt_db_bench reports about the machine and the run: memory from
// /proc, load average, CPU model, the file system of the DB directory, and
// disk usage. Linux only; every function answers "unknown"/0 instead of
// failing.
#pragma once

#include <cstdint>
#include <string>

namespace basalt::bench {

// A "Key: value" line of /proc/self/status or /proc/meminfo, in bytes (kB units); 0 if absent.
uint64_t ProcKb(const char* path, const char* key);
// Resets this process's peak resident set size (VmHWM) to its current RSS
// by writing "5" to /proc/self/clear_refs (Linux >= 4.0, proc(5)); false if
// the kernel refused.
bool ResetPeakRss();
// "1.00 0.50 0.25" from /proc/loadavg.
std::string LoadAverage();
std::string CpuModel();
// ext4, xfs, btrfs, tmpfs, ... of the nearest existing ancestor of `path`.
std::string FilesystemType(const std::string& path);
// du of dir: allocated bytes (st_blocks) and apparent bytes (st_size).
void DiskUsage(const std::string& dir, uint64_t* allocated, uint64_t* apparent);

// The shared library (its path, from dladdr) that holds `code`, e.g. the
// address of a function of RocksDB; "" if unknown.
std::string LibraryOf(const void* code);
// How a library was built, read off its dynamic symbol table (nm -D): a
// library compiled without -DNDEBUG calls glibc's __assert_fail from its
// assert()s, one built with it does not. "assertions ON (no NDEBUG)",
// "assertions off (NDEBUG)", or "unknown (...)".
std::string AssertionState(const std::string& library);
// "<path>, <AssertionState>" for the library holding `code`.
std::string DescribeLibrary(const void* code);

}  // namespace basalt::bench

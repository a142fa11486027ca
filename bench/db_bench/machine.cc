#include "bench/db_bench/machine.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace basalt::bench {

uint64_t ProcKb(const char* path, const char* key) {
  std::ifstream in(path);
  std::string line;
  const size_t n = std::strlen(key);
  while (std::getline(in, line)) {
    if (line.compare(0, n, key) == 0 && line.size() > n && line[n] == ':') {
      return std::strtoull(line.c_str() + n + 1, nullptr, 10) * 1024;
    }
  }
  return 0;
}

bool ResetPeakRss() {
  std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (f == nullptr) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, 10, "model name") == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown";
}

std::string FilesystemType(const std::string& path) {
  struct statfs st;
  std::filesystem::path p(path);
  while (!p.empty() && !std::filesystem::exists(p)) p = p.parent_path();
  if (statfs(p.empty() ? "/" : p.c_str(), &st) != 0) return "unknown";
  switch (static_cast<uint64_t>(st.f_type)) {
    case 0xEF53:
      return "ext4";
    case 0x01021994:
      return "tmpfs (memory: fsync is free)";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x794C7630:
      return "overlayfs";
    default:
      return fmt::format("f_type {:#x}", static_cast<uint64_t>(st.f_type));
  }
}

void DiskUsage(const std::string& dir, uint64_t* allocated, uint64_t* apparent) {
  *allocated = *apparent = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    *allocated += static_cast<uint64_t>(st.st_blocks) * 512;
    *apparent += static_cast<uint64_t>(st.st_size);
  }
}

std::string LibraryOf(const void* code) {
  Dl_info info{};
  if (dladdr(code, &info) == 0 || info.dli_fname == nullptr) return "";
  std::error_code ec;
  const auto canonical = std::filesystem::canonical(info.dli_fname, ec);
  return ec ? std::string(info.dli_fname) : canonical.string();
}

std::string AssertionState(const std::string& library) {
  if (library.empty()) return "unknown (library not found)";
  const std::string cmd = fmt::format("nm -D --undefined-only '{}' 2>/dev/null", library);
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "unknown (nm not run)";
  char line[512];
  bool any = false, asserts = false;
  while (std::fgets(line, sizeof(line), p) != nullptr) {
    any = true;
    if (std::strstr(line, "__assert_fail") != nullptr) asserts = true;
  }
  pclose(p);
  if (!any) return "unknown (nm found no symbols: binutils missing?)";
  return asserts ? "assertions ON (built without NDEBUG)" : "assertions off (NDEBUG)";
}

std::string DescribeLibrary(const void* code) {
  const std::string lib = LibraryOf(code);
  return fmt::format("{}, {}", lib.empty() ? "?" : lib, AssertionState(lib));
}

}  // namespace basalt::bench

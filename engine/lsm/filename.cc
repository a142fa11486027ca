#include "engine/lsm/filename.h"

#include <fmt/format.h>

#include <charconv>

namespace basalt::lsm {

std::string WalFileName(const std::string& dir, uint64_t n) {
  return fmt::format("{}/{:06}.log", dir, n);
}
std::string TableFileName(const std::string& dir, uint64_t n) {
  return fmt::format("{}/{:06}.sst", dir, n);
}
std::string ManifestFileName(const std::string& dir, uint64_t n) {
  return fmt::format("{}/MANIFEST-{:06}", dir, n);
}
std::string CurrentFileName(const std::string& dir) { return dir + "/CURRENT"; }
std::string LockFileName(const std::string& dir) { return dir + "/LOCK"; }
std::string TempFileName(const std::string& dir, uint64_t n) {
  return fmt::format("{}/{:06}.tmp", dir, n);
}

static bool ParseNumber(std::string_view s, uint64_t* n) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto r = std::from_chars(s.data(), s.data() + s.size(), *n);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

FileType ParseFileName(std::string_view name, uint64_t* number) {
  *number = 0;
  if (name == "CURRENT") return FileType::kCurrent;
  if (name == "LOCK") return FileType::kLock;
  if (name.starts_with("MANIFEST-")) {
    return ParseNumber(name.substr(9), number) && fmt::format("{:06}", *number) == name.substr(9)
               ? FileType::kManifest
               : FileType::kUnknown;
  }
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos || !ParseNumber(name.substr(0, dot), number)) {
    return FileType::kUnknown;
  }
  std::string_view ext = name.substr(dot + 1);
  // Only canonical names (what the *FileName functions produce) are ours.
  if (fmt::format("{:06}", *number) != name.substr(0, dot)) return FileType::kUnknown;
  if (ext == "log") return FileType::kWal;
  if (ext == "sst") return FileType::kTable;
  if (ext == "tmp") return FileType::kTemp;
  return FileType::kUnknown;
}

}  // namespace basalt::lsm

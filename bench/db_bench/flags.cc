#include "bench/db_bench/flags.h"

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>

namespace basalt::bench {

std::vector<FlagInfo>& Flags() {
  static std::vector<FlagInfo> flags;
  return flags;
}

bool ParseFlag(const char* arg) {
  if (std::strncmp(arg, "--", 2) != 0) return false;
  const char* eq = std::strchr(arg, '=');
  if (eq == nullptr) return false;
  const std::string name(arg + 2, eq);
  const char* value = eq + 1;
  for (const FlagInfo& f : Flags()) {
    if (name != f.name) continue;
    char* end = nullptr;
    switch (f.type) {
      case FlagType::kBool:
        if (!std::strcmp(value, "1") || !std::strcmp(value, "true")) {
          *static_cast<bool*>(f.ptr) = true;
        } else if (!std::strcmp(value, "0") || !std::strcmp(value, "false")) {
          *static_cast<bool*>(f.ptr) = false;
        } else {
          return false;
        }
        return true;
      case FlagType::kInt:
      case FlagType::kBytes: {
        long long v = std::strtoll(value, &end, 10);
        if (end == value) return false;
        if (f.type == FlagType::kBytes && *end != '\0') {
          const char unit = static_cast<char>(*end | 0x20);
          if (unit == 'k')
            v <<= 10;
          else if (unit == 'm')
            v <<= 20;
          else if (unit == 'g')
            v <<= 30;
          else
            return false;
          end++;
          if (*end == 'i' || *end == 'I') end++;
          if (*end == 'b' || *end == 'B') end++;
        }
        if (*end != '\0') return false;
        *static_cast<int64_t*>(f.ptr) = v;
        return true;
      }
      case FlagType::kDouble:
        *static_cast<double*>(f.ptr) = std::strtod(value, &end);
        return end != value && *end == '\0';
      case FlagType::kString:
        *static_cast<std::string*>(f.ptr) = value;
        return true;
    }
  }
  return false;
}

void PrintFlags(const char* skip) {
  for (const FlagInfo& f : Flags()) {
    if (std::strcmp(f.name, skip) == 0) continue;
    std::string def;
    switch (f.type) {
      case FlagType::kBool:
        def = std::to_string(static_cast<int>(*static_cast<bool*>(f.ptr)));
        break;
      case FlagType::kInt:
      case FlagType::kBytes:
        def = std::to_string(*static_cast<int64_t*>(f.ptr));
        break;
      case FlagType::kDouble:
        def = fmt::format("{}", *static_cast<double*>(f.ptr));
        break;
      case FlagType::kString:
        def = *static_cast<std::string*>(f.ptr);
        break;
    }
    fmt::print("  --{}={}\n      {}\n", f.name, def, f.help);
  }
}

}  // namespace basalt::bench

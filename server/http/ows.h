// Optional whitespace (RFC 9110 5.6.3: spaces and horizontal tabs) around
// header field values and list elements.
#pragma once

#include <string_view>

namespace basalt::server {

inline bool IsOws(char c) { return c == ' ' || c == '\t'; }

// s without leading and trailing optional whitespace.
inline std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace basalt::server

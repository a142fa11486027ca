// UTF-8 text lengths. DynamoDB counts its string limits (tag keys and values,
// PartiQL statements) in characters — Unicode code points — not bytes.
#pragma once

#include <cstddef>
#include <string_view>

namespace basalt {

// The code points of UTF-8 text: the bytes that do not continue a sequence
// (not 10xxxxxx). Invalid UTF-8 is counted the same way, without checks.
inline size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace basalt

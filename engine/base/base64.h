// Base64 (RFC 4648 section 4: the standard alphabet, '=' padding): the one
// codec every layer uses — binary attribute values in JSON and messages,
// exports, stream iterators, key files, policy conditions.
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace basalt {

std::string Base64Encode(std::string_view bytes);

// Decodes `text` into *out; false (with *out unspecified) for a length that
// is not a multiple of 4, a character outside the alphabet, or misplaced
// padding. With require_padding false, text without its trailing '='
// characters is accepted too (a length of 4n+2 or 4n+3).
bool Base64Decode(std::string_view text, std::string* out, bool require_padding = true);

}  // namespace basalt

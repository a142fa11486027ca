#include "engine/lsm/dbformat.h"

#include <fmt/format.h>

namespace basalt::lsm {

std::string EscapeBytes(std::string_view bytes) {
  std::string r;
  r.reserve(bytes.size());
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      r.push_back(static_cast<char>(c));
    } else {
      r += fmt::format("\\x{:02x}", c);
    }
  }
  return r;
}

std::string InternalKeyDebugString(std::string_view ikey) {
  ParsedInternalKey p;
  if (!ParseInternalKey(ikey, &p)) return "(bad internal key: " + EscapeBytes(ikey) + ")";
  return fmt::format("'{}' @ {} : {}", EscapeBytes(p.user_key), p.sequence,
                     p.kind == ValueKind::kDelete ? "del" : "val");
}

}  // namespace basalt::lsm

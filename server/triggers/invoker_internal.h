// Small pieces shared by the two invokers (invoker.cc: URL and HTTP,
// command_invoker.cc: commands). Not part of the module's interface.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>

namespace basalt::server::triggers::invoker_internal {

using Clock = std::chrono::steady_clock;

// Bytes moved per read or write call.
inline constexpr size_t kChunkBytes = 64 * 1024;

inline std::string ErrnoText(int err) { return std::strerror(err); }

inline std::string TimeoutText(std::chrono::milliseconds timeout) {
  return "timed out after " + std::to_string(timeout.count()) + " ms";
}

}  // namespace basalt::server::triggers::invoker_internal

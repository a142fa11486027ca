// The per-response values the server puts on every response besides
// x-amz-crc32 (Crc32 is declared in http_server.h, which API code includes).
// Separate from http_server.cc so that they are testable without a socket and
// cheap to compile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace basalt::server {

// A fresh x-amzn-RequestId: 52 random upper-case alphanumerics, as AWS sends.
// 52 base-36 digits are ~268 random bits, so ids do not repeat in practice.
// Thread-safe.
std::string NewRequestId();

// `t` (seconds since the epoch) as an RFC 7231 IMF-fixdate, e.g.
// "Sun, 06 Nov 1994 08:49:37 GMT". Locale-independent.
std::string HttpDate(std::time_t t);

// HttpDate of now, computed once per second per thread.
const std::string& HttpDateNow();

// The status line and headers of a response, through the blank line that
// ends them, as the server sends them: `extra` headers first (skipped when
// the name is empty, reserved (ReservedHeader) or holds CR, LF, ':' or ' ',
// or the value holds CR or LF), then Server, Date, Content-Type (unless
// empty), x-amzn-RequestId, x-amz-crc32, Connection (close when not
// keep_alive; keep-alive for a kept HTTP/1.0 connection), and Content-Length
// (unless status is 204, RFC 9110). `version` 10 or 11.
struct ResponseHead {
  int status = 200;
  std::string_view reason;
  unsigned version = 11;
  const std::vector<std::pair<std::string, std::string>>* extra = nullptr;
  std::string_view content_type;
  std::string_view request_id;
  uint32_t crc32 = 0;
  bool keep_alive = true;
  size_t content_length = 0;
};
void FrameResponseHead(const ResponseHead& head, std::string* out);

// Header names the server sets itself (case-insensitive); a Handler's copies
// are dropped.
bool ReservedHeader(std::string_view name);

}  // namespace basalt::server

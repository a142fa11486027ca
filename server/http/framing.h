// The per-response values the server puts on every response besides
// x-amz-crc32 (Crc32 is declared in http_server.h, which API code includes).
// Separate from http_server.cc so that they are testable without a socket and
// cheap to compile.
#pragma once

#include <ctime>
#include <string>

namespace basalt::server {

// A fresh x-amzn-RequestId: 52 random upper-case alphanumerics, as AWS sends.
// 52 base-36 digits are ~268 random bits, so ids do not repeat in practice.
// Thread-safe.
std::string NewRequestId();

// `t` (seconds since the epoch) as an RFC 7231 IMF-fixdate, e.g.
// "Sun, 06 Nov 1994 08:49:37 GMT". Locale-independent.
std::string HttpDate(std::time_t t);

}  // namespace basalt::server

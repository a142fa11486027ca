#include "server/http/framing.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>

#include "server/http/http_server.h"

using namespace basalt::server;

TEST_CASE("framing: Crc32 known vectors") {
  CHECK(Crc32("") == 0u);
  CHECK(Crc32("123456789") == 0xCBF43926u);
  CHECK(Crc32("The quick brown fox jumps over the lazy dog") == 0x414FA339u);
  CHECK(Crc32("{}") == 2745614147u);  // python3: zlib.crc32(b"{}")
  // Binary bytes, including NUL, count.
  CHECK(Crc32(std::string_view("\0", 1)) == 0xD202EF8Du);
}

TEST_CASE("framing: request ids are 52 upper-case alphanumerics and unique") {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    std::string id = NewRequestId();
    REQUIRE(id.size() == 52);
    CHECK(std::all_of(id.begin(), id.end(),
                      [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }));
    seen.insert(std::move(id));
  }
  CHECK(seen.size() == 2000);
}

TEST_CASE("framing: HttpDate is an RFC 7231 IMF-fixdate") {
  CHECK(HttpDate(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(HttpDate(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(HttpDate(951782400) == "Tue, 29 Feb 2000 00:00:00 GMT");
}

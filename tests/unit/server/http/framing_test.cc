#include "server/http/framing.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "server/http/http_server.h"

using namespace basalt::server;

TEST_CASE("framing: Crc32 known vectors") {
  CHECK(Crc32("") == 0u);
  CHECK(Crc32("123456789") == 0xCBF43926u);
  CHECK(Crc32("The quick brown fox jumps over the lazy dog") == 0x414FA339u);
  CHECK(Crc32("{}") == 2745614147u);  // python3: zlib.crc32(b"{}")
  // Every length and alignment against the bitwise definition.
  std::string data;
  for (int i = 0; i < 300; i++) data.push_back(static_cast<char>(i * 37 + 11));
  for (size_t off = 0; off < 9; off++) {
    for (size_t len = 0; off + len <= data.size(); len += 7) {
      uint32_t c = 0xFFFFFFFFu;
      for (size_t i = off; i < off + len; i++) {
        c ^= static_cast<unsigned char>(data[i]);
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
      }
      CHECK(Crc32(std::string_view(data).substr(off, len)) == (c ^ 0xFFFFFFFFu));
    }
  }
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

TEST_CASE("framing: FrameResponseHead writes the status line and the server's headers") {
  std::vector<std::pair<std::string, std::string>> extra = {{"x-amzn-ErrorType", "Test"},
                                                            {"Content-Length", "999"},
                                                            {"X-Evil\r\nX", "v"},
                                                            {"x-ok", "a\r\nb"},
                                                            {"", "empty"},
                                                            {"Date", "mine"}};
  ResponseHead h;
  h.status = 400;
  h.reason = "Bad Request";
  h.extra = &extra;
  h.content_type = "application/x-amz-json-1.0";
  h.request_id = "RID";
  h.crc32 = 12345;
  h.keep_alive = true;
  h.content_length = 17;
  std::string out;
  FrameResponseHead(h, &out);
  CHECK(
      out.starts_with("HTTP/1.1 400 Bad Request\r\nx-amzn-ErrorType: Test\r\nServer: basalt\r\n"
                      "Date: "));
  CHECK(
      out.ends_with("\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: RID\r\n"
                    "x-amz-crc32: 12345\r\nContent-Length: 17\r\n\r\n"));
  CHECK(out.find("999") == std::string::npos);
  CHECK(out.find("Evil") == std::string::npos);
  CHECK(out.find("x-ok") == std::string::npos);
  CHECK(out.find("mine") == std::string::npos);
  CHECK(out.find("Connection") == std::string::npos);  // HTTP/1.1 keep-alive is the default

  h.keep_alive = false;
  h.status = 204;
  h.reason = "No Content";
  h.extra = nullptr;
  h.content_type = "";
  FrameResponseHead(h, &out);
  CHECK(out.find("Connection: close\r\n") != std::string::npos);
  CHECK(out.find("Content-Length") == std::string::npos);
  CHECK(out.find("Content-Type") == std::string::npos);

  h.version = 10;
  h.keep_alive = true;
  h.status = 200;
  FrameResponseHead(h, &out);
  CHECK(out.starts_with("HTTP/1.0 200 "));
  CHECK(out.find("Connection: keep-alive\r\n") != std::string::npos);
  const std::time_t t0 = std::time(nullptr);
  const std::string now = HttpDateNow();
  CHECK((now == HttpDate(t0) || now == HttpDate(t0 + 1)));
  CHECK(ReservedHeader("X-AMZ-CRC32"));
  CHECK(!ReservedHeader("x-amz-crc"));
}

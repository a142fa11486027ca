#include "server/http/framing.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string_view>

#include "server/http/http_server.h"

namespace basalt::server {

namespace {

// Slicing-by-8 tables for the reflected polynomial 0xEDB88320: kCrc[0] is
// the classic byte table; kCrc[k][b] is the CRC of byte b followed by k zero
// bytes, so eight input bytes are folded with eight lookups.
struct CrcTables {
  uint32_t t[8][256];
  constexpr CrcTables() : t() {
    for (uint32_t b = 0; b < 256; b++) {
      uint32_t c = b;
      for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
      t[0][b] = c;
    }
    for (uint32_t b = 0; b < 256; b++) {
      for (int k = 1; k < 8; k++) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFF];
    }
  }
};
constexpr CrcTables kCrc;

}  // namespace

uint32_t Crc32(std::string_view data) {
  // The reflected 0x04C11DB7 CRC with ~0 init and final xor: the one gzip,
  // zlib and java.util.zip.CRC32 compute (and DynamoDB's x-amz-crc32).
  // Response bodies run to megabytes: eight bytes per step, not one.
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  uint32_t c = 0xFFFFFFFFu;
  const auto& t = kCrc.t;
  while (n >= 8) {
    const uint32_t lo =
        c ^ (uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24);
    c = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
        t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = (c >> 8) ^ t[0][(c ^ *p++) & 0xFF];
  return c ^ 0xFFFFFFFFu;
}

std::string NewRequestId() {
  static constexpr std::string_view kAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  // One generator per thread, each seeded from the OS with a full seed
  // sequence, so threads never share a sequence and no lock is needed.
  thread_local std::mt19937_64 rng = [] {
    std::random_device rd;
    std::array<uint32_t, 8> words;
    for (auto& w : words) w = rd();
    std::seed_seq seq(words.begin(), words.end());
    return std::mt19937_64(seq);
  }();
  std::string id(52, '0');
  size_t i = 0;
  while (i < id.size()) {
    // 36^12 < 2^64: each draw yields 12 digits (the modulo bias is ~1e-7).
    uint64_t r = rng();
    for (int k = 0; k < 12 && i < id.size(); ++k, ++i) {
      id[i] = kAlphabet[r % 36];
      r /= 36;
    }
  }
  return id;
}

std::string HttpDate(std::time_t t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  int n = std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                        kDays[tm.tm_wday % 7], tm.tm_mday, kMonths[tm.tm_mon % 12],
                        tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

const std::string& HttpDateNow() {
  thread_local std::time_t cached_second = -1;
  thread_local std::string cached;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    cached = HttpDate(now);
    cached_second = now;
  }
  return cached;
}

bool ReservedHeader(std::string_view name) {
  static constexpr std::string_view kReserved[] = {
      "content-length", "transfer-encoding", "connection",      "content-type", "date",
      "server",         "x-amz-crc32",       "x-amzn-requestid"};
  for (std::string_view r : kReserved) {
    if (name.size() != r.size()) continue;
    bool same = true;
    for (size_t i = 0; i < r.size() && same; i++) {
      char c = name[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      same = c == r[i];
    }
    if (same) return true;
  }
  return false;
}

void FrameResponseHead(const ResponseHead& h, std::string* out) {
  out->clear();
  out->reserve(256);
  out->append(h.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out->append(std::to_string(h.status));
  out->push_back(' ');
  out->append(h.reason);
  out->append("\r\n");
  auto field = [out](std::string_view name, std::string_view value) {
    out->append(name);
    out->append(": ");
    out->append(value);
    out->append("\r\n");
  };
  if (h.extra != nullptr) {
    for (const auto& [name, value] : *h.extra) {
      if (name.empty() || ReservedHeader(name) ||
          name.find_first_of("\r\n: ") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        continue;
      }
      field(name, value);
    }
  }
  field("Server", "basalt");
  field("Date", HttpDateNow());
  if (!h.content_type.empty()) field("Content-Type", h.content_type);
  field("x-amzn-RequestId", h.request_id);
  field("x-amz-crc32", std::to_string(h.crc32));
  if (!h.keep_alive) {
    field("Connection", "close");
  } else if (h.version == 10) {
    field("Connection", "keep-alive");
  }
  if (h.status != 204) field("Content-Length", std::to_string(h.content_length));
  out->append("\r\n");
}

}  // namespace basalt::server

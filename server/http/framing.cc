#include "server/http/framing.h"

#include <array>
#include <boost/crc.hpp>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string_view>

#include "server/http/http_server.h"

namespace basalt::server {

uint32_t Crc32(std::string_view data) {
  // crc_32_type is the reflected 0x04C11DB7 CRC with ~0 init and final xor:
  // the one gzip, zlib and java.util.zip.CRC32 compute.
  boost::crc_32_type crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
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

}  // namespace basalt::server

#include "engine/base/coding.h"

#include <doctest/doctest.h>

#include <vector>

#include "engine/base/random.h"

using namespace basalt;

TEST_CASE("coding: fixed and varint round trip") {
  Random rnd(1);
  std::string buf;
  std::vector<uint64_t> vals;
  for (int i = 0; i < 1000; i++) {
    uint64_t v = rnd.Next() >> rnd.Uniform(64);
    vals.push_back(v);
    PutVarint64(&buf, v);
    PutFixed64(&buf, v);
    PutFixed32(&buf, static_cast<uint32_t>(v));
  }
  std::string_view in(buf);
  for (uint64_t v : vals) {
    uint64_t a, b;
    uint32_t c;
    REQUIRE(GetVarint64(&in, &a));
    REQUIRE(GetFixed64(&in, &b));
    REQUIRE(GetFixed32(&in, &c));
    CHECK(a == v);
    CHECK(b == v);
    CHECK(c == static_cast<uint32_t>(v));
  }
  CHECK(in.empty());
}

TEST_CASE("coding: truncated and overflowing varints are rejected") {
  std::string buf;
  PutVarint64(&buf, ~uint64_t{0});
  for (size_t n = 0; n < buf.size(); n++) {
    std::string_view in(buf.data(), n);
    uint64_t v;
    CHECK_FALSE(GetVarint64(&in, &v));
  }
  std::string over(10, '\xff');
  over.push_back('\x01');
  std::string_view in(over);
  uint64_t v;
  CHECK_FALSE(GetVarint64(&in, &v));
  std::string big;
  PutVarint64(&big, uint64_t{1} << 40);
  std::string_view in32(big);
  uint32_t v32;
  CHECK_FALSE(GetVarint32(&in32, &v32));
}

TEST_CASE("coding: length-prefixed strings") {
  std::string buf;
  PutLengthPrefixed(&buf, "hello");
  PutLengthPrefixed(&buf, "");
  std::string_view in(buf), s;
  REQUIRE(GetLengthPrefixed(&in, &s));
  CHECK(s == "hello");
  REQUIRE(GetLengthPrefixed(&in, &s));
  CHECK(s.empty());
  CHECK_FALSE(GetLengthPrefixed(&in, &s));
  std::string bad;
  PutVarint32(&bad, 10);
  bad += "abc";
  std::string_view bin(bad);
  CHECK_FALSE(GetLengthPrefixed(&bin, &s));
}

TEST_CASE("coding: big-endian keys sort in numeric order") {
  std::string a = BigEndian64(0x0102030405060708ULL);
  CHECK(a == std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  CHECK(DecodeBigEndian64(a) == 0x0102030405060708ULL);
  std::string b;
  PutBigEndian32(&b, 0xA0B0C0D0u);
  CHECK(b == "\xA0\xB0\xC0\xD0");
  const uint64_t values[] = {0, 1, 255, 256, 1ULL << 32, ~0ULL - 1, ~0ULL};
  for (size_t i = 1; i < std::size(values); i++) {
    CHECK(BigEndian64(values[i - 1]) < BigEndian64(values[i]));
    CHECK(DecodeBigEndian64(BigEndian64(values[i])) == values[i]);
  }
}

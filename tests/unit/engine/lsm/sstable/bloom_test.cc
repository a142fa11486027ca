#include "engine/lsm/sstable/bloom.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/base/coding.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

std::string Key(uint64_t i, char tag) {
  std::string k(1, tag);
  PutFixed64(&k, i);
  return k;
}

std::string BuildFilter(const BloomFilterPolicy& policy, uint64_t n, char tag) {
  std::vector<std::string> keys;
  for (uint64_t i = 0; i < n; i++) keys.push_back(Key(i, tag));
  std::vector<std::string_view> views(keys.begin(), keys.end());
  return policy.CreateFilter(views);
}

}  // namespace

TEST_CASE("bloom: probes from bits per key") {
  CHECK(BloomFilterPolicy(10).num_probes() == 7);  // round(6.93)
  CHECK(BloomFilterPolicy(1).num_probes() == 1);
  CHECK(BloomFilterPolicy(0).num_probes() == 1);
  CHECK(BloomFilterPolicy(0).bits_per_key() == 1);
  CHECK(BloomFilterPolicy(5).num_probes() == 3);  // round(3.47)
  CHECK(BloomFilterPolicy(100).num_probes() == 30);
}

TEST_CASE("bloom: layout is bit array plus k") {
  BloomFilterPolicy policy(10);
  // 1000 keys * 10 bits = 10000 bits = 1250 bytes, then the k byte.
  const std::string f = BuildFilter(policy, 1000, 'k');
  CHECK(f.size() == 1251);
  CHECK(f.back() == 7);
  // Small sets get at least 64 bits.
  const std::string small = BuildFilter(policy, 1, 'k');
  CHECK(small.size() == 9);
  // Keys and their hashes give the same filter.
  std::vector<uint64_t> hashes;
  for (uint64_t i = 0; i < 1000; i++) hashes.push_back(BloomFilterPolicy::KeyHash(Key(i, 'k')));
  CHECK(policy.CreateFilterFromHashes(hashes) == f);
}

TEST_CASE("bloom: frozen probe positions") {
  // The bit positions are part of format version 1: pin them. Key "hello",
  // 64-bit filter: bits (h1 + i*h2) mod 64 for i < 7.
  BloomFilterPolicy policy(10);
  std::vector<std::string_view> keys{"hello"};
  const std::string f = policy.CreateFilter(keys);
  REQUIRE(f.size() == 9);
  const uint64_t h = Hash64("hello", 0);
  std::string expected(9, '\0');
  for (uint64_t i = 0; i < 7; i++) {
    const uint64_t b = ((h & 0xffffffffu) + i * (h >> 32)) % 64;
    expected[b / 8] = static_cast<char>(expected[b / 8] | (1 << (b % 8)));
  }
  expected[8] = 7;
  CHECK(f == expected);
}

TEST_CASE("bloom: empty and malformed filters") {
  BloomFilterPolicy policy(10);
  const std::string empty = policy.CreateFilter({});
  CHECK(empty.size() == 9);
  CHECK_FALSE(BloomFilterPolicy::KeyMayMatch("hello", empty));
  CHECK_FALSE(BloomFilterPolicy::KeyMayMatch("", empty));
  // Malformed filters match everything (never a false negative).
  CHECK(BloomFilterPolicy::KeyMayMatch("hello", ""));
  CHECK(BloomFilterPolicy::KeyMayMatch("hello", "x"));
  std::string bad_k(9, '\0');
  bad_k[8] = 31;
  CHECK(BloomFilterPolicy::KeyMayMatch("hello", bad_k));
  bad_k[8] = 0;
  CHECK(BloomFilterPolicy::KeyMayMatch("hello", bad_k));
}

TEST_CASE("bloom: no false negatives") {
  for (int bits : {1, 4, 10, 20}) {
    BloomFilterPolicy policy(bits);
    for (uint64_t n : {1, 10, 100, 1000, 10000}) {
      const std::string f = BuildFilter(policy, n, 'k');
      for (uint64_t i = 0; i < n; i++) {
        if (!BloomFilterPolicy::KeyMayMatch(Key(i, 'k'), f)) {
          FAIL("false negative: bits=" << bits << " n=" << n << " i=" << i);
        }
      }
    }
  }
}

TEST_CASE("bloom: false-positive rate at 10 bits per key") {
  BloomFilterPolicy policy(10);
  constexpr uint64_t kPresent = 100000;
  constexpr uint64_t kAbsent = 100000;
  const std::string f = BuildFilter(policy, kPresent, 'k');
  uint64_t fp = 0;
  for (uint64_t i = 0; i < kAbsent; i++) {
    if (BloomFilterPolicy::KeyMayMatch(Key(i, 'a'), f)) fp++;
  }
  const double rate = static_cast<double>(fp) / kAbsent;
  MESSAGE("bloom false-positive rate at 10 bits/key, k=7, "
          << kPresent << " keys, " << kAbsent << " absent probes: " << rate * 100 << "%");
  CHECK(rate < 0.02);

  // Smaller sets too (the 64-bit minimum keeps tiny filters reasonable).
  for (uint64_t n : {10, 100, 1000, 10000}) {
    const std::string g = BuildFilter(policy, n, 'k');
    uint64_t hits = 0;
    for (uint64_t i = 0; i < 10000; i++) {
      if (BloomFilterPolicy::KeyMayMatch(Key(i, 'a'), g)) hits++;
    }
    CAPTURE(n);
    CHECK(hits < 10000 * 3 / 100);
  }
}

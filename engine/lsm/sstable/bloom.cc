#include "engine/lsm/sstable/bloom.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace basalt::lsm {

namespace {

constexpr int kMaxProbes = 30;
constexpr size_t kMinBits = 64;

}  // namespace

BloomFilterPolicy::BloomFilterPolicy(int bits_per_key) : bits_per_key_(std::max(bits_per_key, 1)) {
  const long k = std::lround(bits_per_key_ * 0.69314718055994530942);  // ln 2
  k_ = static_cast<int>(std::clamp<long>(k, 1, kMaxProbes));
}

std::string BloomFilterPolicy::CreateFilter(std::span<const std::string_view> keys) const {
  // Hash first, then build: one code path for keys and hashes.
  std::vector<uint64_t> hashes;
  hashes.reserve(keys.size());
  for (std::string_view k : keys) hashes.push_back(KeyHash(k));
  return CreateFilterFromHashes(hashes);
}

std::string BloomFilterPolicy::CreateFilterFromHashes(std::span<const uint64_t> hashes) const {
  // Small sets would see a high false-positive rate: use at least kMinBits.
  const size_t bits = std::max(hashes.size() * static_cast<size_t>(bits_per_key_), kMinBits);
  const size_t bytes = (bits + 7) / 8;
  const uint64_t m = uint64_t{bytes} * 8;

  std::string filter(bytes + 1, '\0');
  filter[bytes] = static_cast<char>(k_);
  auto* array = reinterpret_cast<unsigned char*>(filter.data());
  for (uint64_t h : hashes) {
    const uint64_t h1 = h & 0xffffffffu;
    const uint64_t h2 = h >> 32;
    for (int i = 0; i < k_; i++) {
      const uint64_t b = (h1 + static_cast<uint64_t>(i) * h2) % m;
      array[b / 8] |= static_cast<unsigned char>(1u << (b % 8));
    }
  }
  return filter;
}

bool BloomFilterPolicy::HashMayMatch(uint64_t hash, std::string_view filter) {
  if (filter.size() < 2) return true;
  const size_t bytes = filter.size() - 1;
  const int k = static_cast<unsigned char>(filter[bytes]);
  if (k < 1 || k > kMaxProbes) return true;  // not an encoding we know: be safe
  const uint64_t m = uint64_t{bytes} * 8;
  const auto* array = reinterpret_cast<const unsigned char*>(filter.data());
  const uint64_t h1 = hash & 0xffffffffu;
  const uint64_t h2 = hash >> 32;
  for (int i = 0; i < k; i++) {
    const uint64_t b = (h1 + static_cast<uint64_t>(i) * h2) % m;
    if ((array[b / 8] & (1u << (b % 8))) == 0) return false;
  }
  return true;
}

}  // namespace basalt::lsm

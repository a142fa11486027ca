// Bloom filter over user keys, one per sstable. See docs/format/sstable.md
// ("Filter block").
//
//   filter = bit array (m = 8 * bytes bits) | u8 k (number of probes)
//
// Probes: h = XXH3-64(key, seed 0), h1 = low 32 bits, h2 = high 32 bits;
// probe i (0 <= i < k) sets bit (h1 + i * h2) mod m, computed in 64-bit
// unsigned arithmetic; bit b is (byte b / 8) & (1 << (b % 8)).
//
// Thread safety: BloomFilterPolicy is immutable; all functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "engine/base/checksum.h"

namespace basalt::lsm {

class BloomFilterPolicy {
 public:
  // bits_per_key < 1 is treated as 1. k = round(bits_per_key * ln 2),
  // clamped to [1, 30].
  explicit BloomFilterPolicy(int bits_per_key);

  int bits_per_key() const { return bits_per_key_; }
  int num_probes() const { return k_; }

  // The hash every probe is derived from.
  static uint64_t KeyHash(std::string_view key) { return Hash64(key, 0); }

  // A filter over keys (duplicates allowed; they only cost bits).
  std::string CreateFilter(std::span<const std::string_view> keys) const;
  // Same, from KeyHash values (the table builder keeps hashes, not keys).
  std::string CreateFilterFromHashes(std::span<const uint64_t> hashes) const;

  // False only if key was certainly not among the filter's keys. A malformed
  // filter (too short, or k outside [1, 30]) matches everything.
  static bool KeyMayMatch(std::string_view key, std::string_view filter) {
    return HashMayMatch(KeyHash(key), filter);
  }
  static bool HashMayMatch(uint64_t hash, std::string_view filter);

 private:
  int bits_per_key_;
  int k_;
};

}  // namespace basalt::lsm

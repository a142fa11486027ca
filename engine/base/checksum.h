// Checksums for every on-disk record: XXH3-64 (xxHash), stored as 8 bytes LE.
#pragma once

#ifndef XXH_STATIC_LINKING_ONLY
#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack (Checksum2)
#endif
#include <xxhash.h>

#include <cstdint>
#include <string_view>

namespace basalt {

inline uint64_t Checksum(std::string_view data) { return XXH3_64bits(data.data(), data.size()); }

// Checksum of the concatenation a|b without copying.
inline uint64_t Checksum2(std::string_view a, std::string_view b) {
  XXH3_state_t st;
  XXH3_64bits_reset(&st);
  XXH3_64bits_update(&st, a.data(), a.size());
  XXH3_64bits_update(&st, b.data(), b.size());
  return XXH3_64bits_digest(&st);
}

// Seeded hash for bloom filters and hash partitioning.
inline uint64_t Hash64(std::string_view data, uint64_t seed = 0) {
  return XXH3_64bits_withSeed(data.data(), data.size(), seed);
}

}  // namespace basalt

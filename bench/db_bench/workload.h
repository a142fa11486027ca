// basalt_db_bench's keys and values: the key encoding, LevelDB's value
// generator, YCSB's scrambled zipfian key chooser, the load order of
// ycsbload, and the set of keys a run has written. Plain classes; thread
// safety per class.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/random.h"

namespace basalt::bench {

// The key of number k: key_size bytes, zero-padded decimal.
inline void EncodeKey(uint64_t k, size_t key_size, char* dst) {
  for (int64_t i = static_cast<int64_t>(key_size) - 1; i >= 0; i--) {
    dst[i] = static_cast<char>('0' + k % 10);
    k /= 10;
  }
}

// LevelDB's RandomGenerator: a buffer of 100-byte pieces, each a random
// printable string of 100 * ratio bytes repeated to fill the piece, so that
// values compress to about `compression_ratio`. Generate() hands out consecutive slices.
class ValueGenerator {
 public:
  ValueGenerator(uint64_t seed, size_t value_size, double compression_ratio) {
    Random rnd(seed);
    const size_t total = std::max<size_t>(1 << 20, 2 * value_size);
    while (data_.size() < total) {
      const size_t raw = std::max<size_t>(1, static_cast<size_t>(100 * compression_ratio));
      std::string random;
      for (size_t i = 0; i < raw; i++) random.push_back(static_cast<char>(' ' + rnd.Uniform(95)));
      std::string piece;
      while (piece.size() < 100) piece.append(random, 0, std::min(raw, 100 - piece.size()));
      data_ += piece;
    }
  }
  std::string_view Generate(size_t len) {
    if (pos_ + len > data_.size()) pos_ = 0;
    pos_ += len;
    return std::string_view(data_).substr(pos_ - len, len);
  }

 private:
  std::string data_;
  size_t pos_ = 0;
};

// YCSB's zipfian generator (Gray et al., "Quickly generating billion-record
// synthetic databases"): rank r in [0, n) with probability ~ 1/(r+1)^theta.
// Scrambled as YCSB's ScrambledZipfianGenerator: the key is a hash (FNV-1a)
// of the rank mod n, so the hot keys are spread over the key space instead of
// sitting in its first blocks. Const methods only after construction: share
// it; Grow changes it: call it on a thread's own copy.
class ZipfianGenerator {
 public:
  ZipfianGenerator(uint64_t n, double theta) : n_(n), theta_(theta) {
    double zetan = 0;
    for (uint64_t i = 1; i <= n; i++) zetan += 1.0 / std::pow(static_cast<double>(i), theta);
    zetan_ = zetan;
    zeta2_ = 1.0 + 1.0 / std::pow(2.0, theta);
    alpha_ = 1.0 / (1.0 - theta);
    eta_ = (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta)) / (1.0 - zeta2_ / zetan_);
  }
  // Extends the item count to n (no-op if n <= the current count) by adding
  // the new terms to zeta, as YCSB's ZipfianGenerator.nextLong(itemcount)
  // does when the count grows (its "latest" distribution over a growing
  // table).
  void Grow(uint64_t n) {
    if (n <= n_) return;
    for (uint64_t i = n_ + 1; i <= n; i++) zetan_ += 1.0 / std::pow(static_cast<double>(i), theta_);
    n_ = n;
    eta_ = (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta_)) / (1.0 - zeta2_ / zetan_);
  }
  uint64_t NextRank(Random* rnd) const {
    const double u = static_cast<double>(rnd->Next() >> 11) * 0x1.0p-53;
    const double uz = u * zetan_;
    if (uz < 1.0) return 0;
    if (uz < 1.0 + std::pow(0.5, theta_)) return 1;
    const auto r =
        static_cast<uint64_t>(static_cast<double>(n_) * std::pow(eta_ * u - eta_ + 1.0, alpha_));
    return std::min(r, n_ - 1);
  }
  uint64_t NextKey(Random* rnd) const { return Fnv1a64(NextRank(rnd)) % n_; }

 private:
  static uint64_t Fnv1a64(uint64_t v) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < 8; i++) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 0x100000001b3ULL;
    }
    return h;
  }
  uint64_t n_;
  double theta_;
  double zetan_ = 0, zeta2_ = 0, alpha_ = 0, eta_ = 0;
};

// A permutation of [0, n): the order in which ycsbload inserts the records.
// YCSB loads record i under the key hash(i) (insertorder=hashed), so the
// load's inserts land all over the key space; this does the same with
// every number in [0, n) exactly once. A bijection on the b-bit numbers
// (b = bits of n - 1: multiply by an odd constant, xor-shift, add, three
// rounds, all mod 2^b) walked until it lands in [0, n) (cycle walking,
// Black and Rogaway, "Ciphers with Arbitrary Finite Domains", 2002): fewer
// than two bijection steps per key on average, as 2^b < 2n. Immutable: share
// it.
class KeyPermutation {
 public:
  explicit KeyPermutation(uint64_t n) : n_(n) {
    bits_ = n <= 1 ? 0 : 64 - std::countl_zero(n - 1);
    mask_ = bits_ == 64 ? ~uint64_t{0} : (uint64_t{1} << bits_) - 1;
    shift_ = std::max(1, bits_ / 2);
  }
  // The i-th key number, i in [0, n).
  uint64_t At(uint64_t i) const {
    uint64_t x = i;
    do {
      x = Mix(x);
    } while (x >= n_);
    return x;
  }

 private:
  uint64_t Mix(uint64_t x) const {
    for (int round = 0; round < 3; round++) {
      x = (x * 0x9e3779b97f4a7c15ULL) & mask_;
      x ^= x >> shift_;
      x = (x + 0x632be59bd9b4e019ULL) & mask_;
    }
    return x;
  }
  uint64_t n_;
  int bits_;
  uint64_t mask_;
  int shift_;
};

// Which key numbers are present in the DB, as far as this process wrote them.
// Lets readrandom read only existing keys and readseq check its count.
// Thread-safe (atomic words).
class KeySet {
 public:
  explicit KeySet(uint64_t n) : n_(n), words_((n + 63) / 64) {}
  // known: the DB is empty (we track it from here on); !known: unknown contents.
  void Reset(bool known) {
    for (auto& w : words_) w.store(0, std::memory_order_relaxed);
    known_ = known;
  }
  bool known() const { return known_; }
  // Key numbers [0, Capacity()) can be tracked.
  uint64_t Capacity() const { return n_; }
  void Set(uint64_t k) { words_[k / 64].fetch_or(Bit(k), std::memory_order_relaxed); }
  void Clear(uint64_t k) { words_[k / 64].fetch_and(~Bit(k), std::memory_order_relaxed); }
  bool Test(uint64_t k) const {
    return (words_[k / 64].load(std::memory_order_relaxed) & Bit(k)) != 0;
  }
  uint64_t Count() const {
    uint64_t c = 0;
    for (auto& w : words_)
      c += static_cast<uint64_t>(std::popcount(w.load(std::memory_order_relaxed)));
    return c;
  }
  // A uniformly chosen present key, or nullopt if none is.
  std::optional<uint64_t> PickPresent(Random* rnd) const {
    for (int i = 0; i < 64; i++) {
      const uint64_t k = rnd->Uniform(n_);
      if (Test(k)) return k;
    }
    const uint64_t start = rnd->Uniform(n_);  // sparse set: scan forward
    for (uint64_t i = 0; i < n_; i++) {
      const uint64_t k = (start + i) % n_;
      if (Test(k)) return k;
    }
    return std::nullopt;
  }

 private:
  static uint64_t Bit(uint64_t k) { return uint64_t{1} << (k % 64); }
  uint64_t n_;
  std::vector<std::atomic<uint64_t>> words_;
  bool known_ = false;
};

}  // namespace basalt::bench

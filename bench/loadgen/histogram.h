// Latency histogram for basalt_loadgen: HDR-style log-linear buckets over
// nanoseconds. Each power of two is split into 128 equal sub-buckets, so a
// bucket is at most 1/128 (0.8%) of its value wide and a reported percentile
// (the bucket's midpoint) is within 0.4% of the true sample. Fixed memory
// (about 60 KB), O(1) Add, no allocation on the hot path.
//
// Thread safety: none. One Histogram per thread; Merge after the threads joined.
#pragma once

#include <array>
#include <cstdint>

namespace basalt::loadgen {

class Histogram {
 public:
  Histogram() { buckets_.fill(0); }

  // Records one sample of nanos nanoseconds.
  void Add(uint64_t nanos) {
    buckets_[BucketFor(nanos)]++;
    count_++;
    if (nanos < min_) min_ = nanos;
    if (nanos > max_) max_ = nanos;
  }
  void Merge(const Histogram& other);

  uint64_t Count() const { return count_; }
  // The p-th percentile (p in [0, 100]) in microseconds; 0 when empty.
  double PercentileMicros(double p) const;
  double MaxMicros() const { return static_cast<double>(max_) / 1000.0; }

 private:
  static constexpr int kSubBits = 7;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kLinear = 2 * kSub;  // below 256 ns: one bucket per nanosecond
  static constexpr int kNumBuckets = kLinear + (64 - kSubBits - 1) * kSub;

  static int BucketFor(uint64_t v) {
    if (v < static_cast<uint64_t>(kLinear)) return static_cast<int>(v);
    const int e = 63 - __builtin_clzll(v);  // >= kSubBits + 1
    const int sub = static_cast<int>((v >> (e - kSubBits)) & (kSub - 1));
    return kLinear + (e - kSubBits - 1) * kSub + sub;
  }
  // [low, high) in nanoseconds of bucket b.
  static void BucketRange(int b, double* low, double* high);

  std::array<uint64_t, kNumBuckets> buckets_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace basalt::loadgen

// Latency histogram for basalt_db_bench: log-linear buckets over nanoseconds
// (64 sub-buckets per power of two, so a percentile is within ~1.6% of the
// true value), merged across threads, reported in microseconds.
//
// Thread safety: one Histogram per thread; Merge after the threads joined.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace basalt::bench {

class Histogram {
 public:
  Histogram() { Clear(); }

  void Clear();
  // Records one sample of nanos nanoseconds.
  void Add(uint64_t nanos) {
    buckets_[BucketFor(nanos)]++;
    count_++;
    sum_ += static_cast<double>(nanos);
    sum_squares_ += static_cast<double>(nanos) * static_cast<double>(nanos);
    if (nanos < min_) min_ = nanos;
    if (nanos > max_) max_ = nanos;
  }
  void Merge(const Histogram& other);

  uint64_t Count() const { return count_; }
  // All in microseconds; 0 when empty. p in [0, 100].
  double PercentileMicros(double p) const;
  double AverageMicros() const;
  double StdDevMicros() const;
  double MinMicros() const { return count_ == 0 ? 0 : static_cast<double>(min_) / 1000.0; }
  double MaxMicros() const { return static_cast<double>(max_) / 1000.0; }

  // LevelDB-style dump: count, average, stddev, percentiles, then one row per
  // non-empty power-of-two range (in µs) with percent, cumulative percent and a bar.
  std::string ToString() const;

 private:
  static constexpr int kSubBits = 6;  // 64 sub-buckets per power of two
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kLinear = 2 * kSub;  // values below 128 ns: one bucket each
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
  uint64_t count_;
  double sum_;
  double sum_squares_;
  uint64_t min_;
  uint64_t max_;
};

}  // namespace basalt::bench

#include "bench/db_bench/histogram.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace basalt::bench {

void Histogram::Clear() {
  buckets_.fill(0);
  count_ = 0;
  sum_ = 0;
  sum_squares_ = 0;
  min_ = std::numeric_limits<uint64_t>::max();
  max_ = 0;
}

void Histogram::Merge(const Histogram& other) {
  for (int b = 0; b < kNumBuckets; b++) buckets_[b] += other.buckets_[b];
  count_ += other.count_;
  sum_ += other.sum_;
  sum_squares_ += other.sum_squares_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void Histogram::BucketRange(int b, double* low, double* high) {
  if (b < kLinear) {
    *low = b;
    *high = b + 1;
    return;
  }
  const int e = (b - kLinear) / kSub + kSubBits + 1;
  const int sub = (b - kLinear) % kSub;
  *low = std::ldexp(static_cast<double>(kSub + sub), e - kSubBits);
  *high = std::ldexp(static_cast<double>(kSub + sub + 1), e - kSubBits);
}

double Histogram::PercentileMicros(double p) const {
  if (count_ == 0) return 0;
  const double threshold = static_cast<double>(count_) * (p / 100.0);
  double cumulative = 0;
  for (int b = 0; b < kNumBuckets; b++) {
    if (buckets_[b] == 0) continue;
    const double before = cumulative;
    cumulative += static_cast<double>(buckets_[b]);
    if (cumulative >= threshold) {
      double low, high;
      BucketRange(b, &low, &high);
      // Interpolate inside the bucket, clamped to the observed extremes.
      const double pos = (threshold - before) / static_cast<double>(buckets_[b]);
      double r = low + (high - low) * pos;
      r = std::clamp(r, static_cast<double>(min_), static_cast<double>(max_));
      return r / 1000.0;
    }
  }
  return MaxMicros();
}

double Histogram::AverageMicros() const {
  return count_ == 0 ? 0 : sum_ / static_cast<double>(count_) / 1000.0;
}

double Histogram::StdDevMicros() const {
  if (count_ == 0) return 0;
  const double n = static_cast<double>(count_);
  const double variance = (sum_squares_ * n - sum_ * sum_) / (n * n);
  return std::sqrt(std::max(0.0, variance)) / 1000.0;
}

std::string Histogram::ToString() const {
  std::string r = fmt::format("Count: {}  Average: {:.3f}  StdDev: {:.2f} (us)\n", count_,
                              AverageMicros(), StdDevMicros());
  r += fmt::format("Min: {:.3f}  Median: {:.3f}  Max: {:.3f}\n", MinMicros(), PercentileMicros(50),
                   MaxMicros());
  r +=
      fmt::format("Percentiles: P50: {:.2f} P75: {:.2f} P99: {:.2f} P99.9: {:.2f} P99.99: {:.2f}\n",
                  PercentileMicros(50), PercentileMicros(75), PercentileMicros(99),
                  PercentileMicros(99.9), PercentileMicros(99.99));
  r += "------------------------------------------------------\n";
  if (count_ == 0) return r;
  // Coarse rows: one per power of two of nanoseconds.
  double cumulative = 0;
  int b = 0;
  while (b < kNumBuckets) {
    double low, high, unused;
    BucketRange(b, &low, &unused);
    const double row_low = low;
    const double row_high = row_low < 1 ? 1 : 2 * row_low;
    uint64_t n = 0;
    for (; b < kNumBuckets; b++) {
      BucketRange(b, &low, &high);
      if (low >= row_high) break;
      n += buckets_[b];
    }
    if (n == 0) continue;
    cumulative += static_cast<double>(n);
    const double pct = 100.0 * static_cast<double>(n) / static_cast<double>(count_);
    r += fmt::format("[ {:>10.3f}, {:>10.3f} ) {:>9} {:>7.3f}% {:>7.3f}% {}\n", row_low / 1000.0,
                     row_high / 1000.0, n, pct, 100.0 * cumulative / static_cast<double>(count_),
                     std::string(static_cast<size_t>(std::lround(pct / 5)), '#'));
  }
  return r;
}

}  // namespace basalt::bench

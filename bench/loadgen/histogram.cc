#include "bench/loadgen/histogram.h"

#include <algorithm>
#include <cmath>

namespace basalt::loadgen {

void Histogram::Merge(const Histogram& other) {
  for (int b = 0; b < kNumBuckets; b++) buckets_[b] += other.buckets_[b];
  count_ += other.count_;
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
  const double width = std::ldexp(1.0, e - kSubBits);
  *low = std::ldexp(1.0, e) + sub * width;
  *high = *low + width;
}

double Histogram::PercentileMicros(double p) const {
  if (count_ == 0) return 0;
  // The sample of rank ceil(p% * count), 1-based, as HdrHistogram reports it.
  const double want = std::max(1.0, std::ceil(p / 100.0 * static_cast<double>(count_)));
  if (want >= static_cast<double>(count_)) return MaxMicros();
  double seen = 0;
  for (int b = 0; b < kNumBuckets; b++) {
    seen += static_cast<double>(buckets_[b]);
    if (seen >= want) {
      double low, high;
      BucketRange(b, &low, &high);
      // Clamp so that p0/p100 never lie outside the samples actually seen.
      const double mid =
          std::clamp((low + high) / 2, static_cast<double>(min_), static_cast<double>(max_));
      return mid / 1000.0;
    }
  }
  return MaxMicros();
}

}  // namespace basalt::loadgen

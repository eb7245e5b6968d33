#pragma once
#include <array>
#include <cmath>
#include <cstdint>

namespace sluice::core {

// Commit latencies in logarithmic buckets (each 25% wider than the last, from 10 µs): constant memory, and
// quantiles good to within a bucket's width, which is what p50/p99 reporting needs.
class LatencyHistogram {
 public:
  static constexpr size_t kBuckets = 80;
  static constexpr double kFirst = 10e-6, kGrowth = 1.25;

  void record(double seconds) {
    size_t i = seconds <= kFirst ? 0 : std::min(kBuckets - 1, size_t(std::ceil(std::log(seconds / kFirst) / std::log(kGrowth))));
    ++counts_[i];
    ++count_;
    sum_ += seconds;
  }
  static double upper_bound(size_t i) { return kFirst * std::pow(kGrowth, double(i)); }
  double quantile(double q) const {
    if (count_ == 0) return 0;
    uint64_t rank = uint64_t(std::ceil(q * double(count_))), seen = 0;
    for (size_t i = 0; i < kBuckets; ++i)
      if ((seen += counts_[i]) >= rank) return upper_bound(i);
    return upper_bound(kBuckets - 1);
  }
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  const std::array<uint64_t, kBuckets>& counts() const { return counts_; }

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  double sum_ = 0;
};

}  // namespace sluice::core

#pragma once
#include <cmath>
#include <cstdint>

#include "core/clock.hpp"

namespace sluice::core {

// An exponentially weighted moving average of an event rate (events/s), folded once per interval so that a
// burst inside one interval counts as its average over the interval, as Unix load averages do.
class RateMeter {
 public:
  explicit RateMeter(const Clock& clock, std::chrono::nanoseconds interval = std::chrono::seconds(1),
                     double time_constant_s = 5.0)
      : clock_(clock), interval_(interval), alpha_(1.0 - std::exp(-std::chrono::duration<double>(interval).count() / time_constant_s)),
        window_start_(clock.now()) {}

  void add(uint64_t n) {
    fold();
    pending_ += n;
  }
  double rate() {
    fold();
    return rate_;
  }

 private:
  void fold() {
    auto now = clock_.now();
    if (now - window_start_ < interval_) return;
    double window_s = std::chrono::duration<double>(interval_).count();
    // The first interval holds pending_; every further whole interval that passed was empty.
    rate_ += alpha_ * (double(pending_) / window_s - rate_);
    pending_ = 0;
    window_start_ += interval_;
    while (now - window_start_ >= interval_) {
      rate_ -= alpha_ * rate_;
      window_start_ += interval_;
      if (rate_ < 1e-9) {
        rate_ = 0;
        window_start_ = now - (now - window_start_) % interval_;
      }
    }
  }

  const Clock& clock_;
  std::chrono::nanoseconds interval_;
  double alpha_;
  Clock::time_point window_start_;
  uint64_t pending_ = 0;
  double rate_ = 0;
};

// Seconds until a queue of capacity q_max now holding q overflows at arrival rate lambda and service rate mu;
// infinity when it drains or holds steady.
inline double time_to_overflow(double q_max, double q, double lambda, double mu) {
  if (lambda <= mu) return INFINITY;
  return std::max(0.0, q_max - q) / (lambda - mu);
}

}  // namespace sluice::core

#pragma once
#include "core/clock.hpp"

namespace sluice::core {

// B tokens at once, then R per second. Refills lazily from the injected clock, so tests drive it with a
// ManualClock and nothing sleeps.
class TokenBucket {
 public:
  TokenBucket(double rate_per_second, double burst, const Clock& clock);  // starts full
  bool try_acquire(double tokens = 1);                                    // all or nothing
  // Zero when `tokens` are available now; requests above the burst are clamped to it.
  Clock::duration time_until(double tokens) const;
  double available() const;
  double rate() const { return rate_; }
  double burst() const { return burst_; }

 private:
  void refill() const;

  double rate_, burst_;
  const Clock& clock_;
  mutable double tokens_;
  mutable Clock::time_point last_;
};

}  // namespace sluice::core

#pragma once
#include "core/clock.hpp"

namespace sluice::core {

// B tokens at once, then R per second. Refills lazily from the injected clock when asked, so nothing runs in
// the background and tests drive it with a ManualClock instead of sleeping. Not thread-safe: one owner.
class TokenBucket {
 public:
  // Starts full. Throws std::invalid_argument unless rate > 0 and burst >= 1 (both finite): a burst below one
  // token could never admit a single record.
  TokenBucket(double rate_per_second, double burst, const Clock& clock);

  // All or nothing: a partial grant would let a batch through in pieces and defeat the burst bound.
  bool try_acquire(double tokens = 1);
  // How long until try_acquire(tokens) succeeds; zero when it would now. Requests above the burst are clamped
  // to it, because the bucket can never hold more (callers acquire in chunks of at most burst()).
  Clock::duration time_until(double tokens) const;
  double available() const;
  double rate() const { return rate_; }
  double burst() const { return burst_; }

 private:
  void refill() const;
  double earned(Clock::duration d) const;

  double rate_, burst_;
  double slack_;  // rounding tolerance, see token_bucket.cpp
  const Clock& clock_;
  // Refilling is a cache update, so the const observers may do it.
  mutable double tokens_;
  mutable Clock::time_point last_;
};

}  // namespace sluice::core

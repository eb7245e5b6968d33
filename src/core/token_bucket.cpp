#include "core/token_bucket.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sluice::core {

TokenBucket::TokenBucket(double rate_per_second, double burst, const Clock& clock)
    : rate_(rate_per_second), burst_(burst), clock_(clock), tokens_(burst), last_(clock.now()) {
  if (!(rate_ > 0) || !std::isfinite(rate_)) throw std::invalid_argument("token bucket rate must be above 0");
  if (!(burst_ >= 1) || !std::isfinite(burst_)) throw std::invalid_argument("token bucket burst must be at least 1");
}

void TokenBucket::refill() const {
  auto now = clock_.now();
  if (now <= last_) return;
  // Refill from the last refill point (not per call increments) so rounding never accumulates.
  tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * rate_);
  last_ = now;
}

bool TokenBucket::try_acquire(double tokens) {
  refill();
  if (tokens_ + 1e-9 < tokens) return false;
  tokens_ = std::max(0.0, tokens_ - tokens);
  return true;
}

Clock::duration TokenBucket::time_until(double tokens) const {
  refill();
  tokens = std::min(tokens, burst_);
  if (tokens_ + 1e-9 >= tokens) return Clock::duration::zero();
  return Clock::duration(int64_t(std::ceil((tokens - tokens_) / rate_ * 1e9)));
}

double TokenBucket::available() const {
  refill();
  return tokens_;
}

}  // namespace sluice::core

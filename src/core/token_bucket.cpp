#include "core/token_bucket.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace sluice::core {

namespace {
void check(double rate, double burst) {
  if (!(rate > 0) || !std::isfinite(rate)) throw std::invalid_argument("token bucket rate must be a number above 0");
  if (!(burst >= 1) || !std::isfinite(burst)) throw std::invalid_argument("token bucket burst must be a number of at least 1");
}
}  // namespace

TokenBucket::TokenBucket(double rate_per_second, double burst, const Clock& clock)
    : rate_((check(rate_per_second, burst), rate_per_second)),
      burst_(burst),
      // Refills split across calls can sum an ulp below the same interval credited at once (at 10/s from 2
      // tokens, 89ms then 11ms gives 2.9999999999999996, not 3), which would deny a request that is due.
      // A few thousand ulps of the largest balance absorb that and are far below anything a caller notices.
      slack_(1e-12 * burst),
      clock_(clock),
      tokens_(burst),
      last_(clock.now()) {}

double TokenBucket::earned(Clock::duration d) const { return std::chrono::duration<double>(d).count() * rate_; }

void TokenBucket::refill() const {
  auto now = clock_.now();
  if (now <= last_) return;
  // Credit the whole interval since the last refill, measured in integer nanoseconds, so no time is lost
  // between calls however often they poll; the only error is an ulp of the balance per refill (~1e-16
  // relative), under a millionth of a token after 10^9 polls. Capping here is what discards idle time
  // beyond a full bucket.
  tokens_ = std::min(burst_, tokens_ + earned(now - last_));
  last_ = now;
}

bool TokenBucket::try_acquire(double tokens) {
  if (tokens <= 0) return true;  // nothing to take; a negative request must not add tokens
  refill();
  if (tokens_ + slack_ < tokens) return false;
  // No clamp at zero: a grant within the slack leaves a tiny debt that the next refill repays, so the
  // tolerance never creates tokens and the long-run rate stays exactly R.
  tokens_ -= tokens;
  return true;
}

Clock::duration TokenBucket::time_until(double tokens) const {
  refill();
  tokens = std::min(tokens, burst_);
  // The very test try_acquire() will apply after refill() credits a wait of `ns` (same operations, same
  // rounding), so the answer is the smallest wait after which the acquisition succeeds: not a nanosecond
  // early, which would make the caller wake up for nothing, and not one late.
  auto enough = [&](Clock::duration::rep ns) { return tokens_ + earned(Clock::duration(ns)) + slack_ >= tokens; };
  if (enough(0)) return Clock::duration::zero();
  double estimate = std::ceil((tokens - slack_ - tokens_) / rate_ * 1e9);
  if (estimate >= double(std::numeric_limits<Clock::duration::rep>::max())) return Clock::duration::max();
  Clock::duration::rep ns = std::max<Clock::duration::rep>(1, Clock::duration::rep(estimate));
  // The division can round the estimate a nanosecond or so either way; settle it. The steps are bounded
  // because with an absurd burst-to-rate ratio a nanosecond's refill is below an ulp of the balance; the
  // estimate then stands and a caller that wakes a little early simply asks again.
  for (int i = 0; i < 64 && ns > 1 && enough(ns - 1); ++i) --ns;
  for (int i = 0; i < 64 && !enough(ns); ++i) ++ns;
  return Clock::duration(ns);
}

double TokenBucket::available() const {
  refill();
  return std::max(0.0, tokens_);
}

}  // namespace sluice::core

#include "sources/generate/arrivals.hpp"

#include <cmath>
#include <stdexcept>

namespace sluice::sources::generate {

namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
}  // namespace

Rng::Rng(uint64_t seed, uint64_t counter) {
  uint64_t s = seed;
  state_ = splitmix64(s) ^ (counter * 0xD1B54A32D192ED03ull);
  splitmix64(state_);
}

uint64_t Rng::next_u64() { return splitmix64(state_); }

double Rng::uniform01() { return (double(next_u64() >> 11) + 1.0) * 0x1.0p-53; }

double Rng::exponential(double rate) { return -std::log(uniform01()) / rate; }

double RateProfile::rate_at(double hour) const {
  if (points.empty()) return 0;
  // Before the first listed hour, the last point's rate still holds from the previous day.
  double rate = points.back().second;
  for (const auto& [h, r] : points) {
    if (h > hour) break;
    rate = r;
  }
  return rate;
}

double RateProfile::max_rate() const {
  double m = 0;
  for (const auto& [h, r] : points) m = std::max(m, r);
  return m;
}

std::optional<std::string> RateProfile::validate() const {
  if (points.empty()) return "the profile is empty; list [hour, rate] pairs";
  for (size_t i = 0; i < points.size(); ++i) {
    auto [h, r] = points[i];
    if (!(h >= 0 && h < 24)) return "hour " + std::to_string(h) + " is outside [0, 24)";
    if (!(r >= 0) || !std::isfinite(r)) return "rate at hour " + std::to_string(h) + " must be a number >= 0";
    if (i > 0 && h <= points[i - 1].first) return "hours must be listed in increasing order without repeats";
  }
  if (max_rate() <= 0) return "every rate is 0";
  return std::nullopt;
}

ArrivalProcess::ArrivalProcess(ArrivalKind kind, double rate, RateProfile profile, double start_hour_of_day)
    : kind_(kind), rate_(rate), profile_(std::move(profile)), start_hour_(start_hour_of_day), max_rate_(profile_.max_rate()) {
  if (kind_ != ArrivalKind::nhpp && !(rate_ > 0)) throw std::invalid_argument("arrival rate must be above 0");
  if (kind_ == ArrivalKind::nhpp && profile_.validate()) throw std::invalid_argument("invalid profile: " + *profile_.validate());
}

double ArrivalProcess::next_gap(double t, Rng& rng) const {
  switch (kind_) {
    case ArrivalKind::constant: return 1.0 / rate_;
    case ArrivalKind::poisson: return rng.exponential(rate_);
    case ArrivalKind::nhpp: {
      // Lewis–Shedler thinning: candidates at the peak rate, each kept with probability λ(t)/λmax.
      double s = t;
      for (;;) {
        s += rng.exponential(max_rate_);
        double hour = std::fmod(start_hour_ + s / 3600.0, 24.0);
        if (rng.uniform01() * max_rate_ <= profile_.rate_at(hour)) return s - t;
      }
    }
  }
  return 1.0 / rate_;
}

}  // namespace sluice::sources::generate

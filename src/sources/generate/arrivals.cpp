#include "sources/generate/arrivals.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sluice::sources::generate {

namespace {
double wrap_hour(double hour) {
  double h = std::fmod(hour, 24.0);
  return h < 0 ? h + 24.0 : h;  // fmod keeps the sign; a start time before 1970 gives a negative hour
}
}  // namespace

// The top 53 bits, shifted up by one step: (0, 1] rather than [0, 1), so log() never sees 0.
double Rng::uniform01() { return (double(next_u64() >> 11) + 1.0) * 0x1.0p-53; }

// Inversion: if U is uniform on (0, 1], -ln(U)/rate is exponential with mean 1/rate.
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
    if (i > 0 && h == points[i - 1].first) return "hour " + std::to_string(h) + " is listed twice";
    if (i > 0 && h < points[i - 1].first) return "hours must be listed in increasing order";
  }
  // Thinning against a peak rate of 0 would never accept a candidate: the generator would hang.
  if (max_rate() <= 0) return "every rate is 0";
  return std::nullopt;
}

ArrivalProcess::ArrivalProcess(ArrivalKind kind, double rate, RateProfile profile, double start_hour_of_day)
    : kind_(kind),
      rate_(rate),
      profile_(std::move(profile)),
      start_hour_(wrap_hour(start_hour_of_day)),
      max_rate_(profile_.max_rate()) {
  if (kind_ == ArrivalKind::nhpp) {
    if (auto err = profile_.validate()) throw std::invalid_argument("invalid nhpp profile: " + *err);
  } else if (!(rate_ > 0) || !std::isfinite(rate_)) {
    throw std::invalid_argument("arrival rate must be a number above 0");
  }
}

double ArrivalProcess::next_gap(double t, Rng& rng) const {
  switch (kind_) {
    case ArrivalKind::constant: return 1.0 / rate_;
    case ArrivalKind::poisson: return rng.exponential(rate_);
    case ArrivalKind::nhpp: {
      // Lewis–Shedler thinning: candidates from a homogeneous process at the peak rate, each kept with
      // probability λ(s)/λmax, form exactly the process with rate λ(s). Starting from t is valid because
      // the process is memoryless, and the draws depend only on this record's Rng.
      double s = t;
      for (;;) {
        s += rng.exponential(max_rate_);
        double hour = std::fmod(start_hour_ + s / 3600.0, 24.0);
        // uniform01() > 0, so an hour with rate 0 never accepts.
        if (rng.uniform01() * max_rate_ <= profile_.rate_at(hour)) return s - t;
      }
    }
  }
  return 1.0 / rate_;  // unreachable: every kind returns above
}

}  // namespace sluice::sources::generate

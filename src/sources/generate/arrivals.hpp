#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sluice::sources::generate {

// Counter-based randomness: record n's draws depend only on (seed, n), so a generator resumed at seq n
// reproduces the stream it would have produced without the restart.
class Rng {
 public:
  Rng(uint64_t seed, uint64_t counter);
  uint64_t next_u64();
  double uniform01();  // in (0, 1], never 0, so log() is finite
  double exponential(double rate);

 private:
  uint64_t state_;
};

// Rates by hour of day: each point's rate holds until the next point's hour, wrapping past midnight.
struct RateProfile {
  std::vector<std::pair<double, double>> points;  // (hour in [0,24), rate >= 0), sorted by hour
  double rate_at(double hour_of_day) const;
  double max_rate() const;
  std::optional<std::string> validate() const;
};

enum class ArrivalKind { constant, poisson, nhpp };

class ArrivalProcess {
 public:
  ArrivalProcess(ArrivalKind kind, double rate, RateProfile profile, double start_hour_of_day);
  // Seconds from an arrival at virtual time t (seconds since the timeline's start) to the next one.
  double next_gap(double t, Rng& rng) const;

 private:
  ArrivalKind kind_;
  double rate_;
  RateProfile profile_;
  double start_hour_;
  double max_rate_;
};

}  // namespace sluice::sources::generate

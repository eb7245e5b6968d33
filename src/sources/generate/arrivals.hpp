#pragma once
// Deterministic arrival processes for the synthetic generator: when each record "happens" in virtual time.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sluice::sources::generate {

// Counter-based randomness: record n's draws depend only on (seed, n), never on the records before it, so a
// generator resumed at seq n from a checkpoint reproduces the stream it would have produced without the
// restart. Each (seed, counter) pair starts an independent splitmix64 stream.
// Inline: the generator draws several words per record.
class Rng {
 public:
  // The exact mixing is part of the checkpoint format in effect: changing it would make a resumed generator
  // continue a different stream from the one it started, so keep it as is.
  Rng(uint64_t seed, uint64_t counter) {
    uint64_t s = seed;
    state_ = splitmix64(s) ^ (counter * 0xD1B54A32D192ED03ull);  // odd multiplier: distinct counters, distinct states
    splitmix64(state_);
  }
  uint64_t next_u64() { return splitmix64(state_); }
  double uniform01();               // in (0, 1], never 0, so -log(u) is finite
  double exponential(double rate);  // mean 1/rate

 private:
  // splitmix64 (Steele, Lea, Flood): a Weyl sequence through a strong 64-bit finalizer. Each output is a
  // good hash of the state, which is what lets nearby (seed, counter) pairs give unrelated streams.
  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t state_;
};

// Rates by hour of day: each point's rate holds until the next point's hour, and the last point's rate
// wraps past midnight up to the first point's hour.
struct RateProfile {
  std::vector<std::pair<double, double>> points;  // (hour in [0, 24), events per second >= 0), sorted by hour
  double rate_at(double hour_of_day) const;
  double max_rate() const;
  // Why the profile is unusable (empty, unsorted or repeated hours, hour outside [0, 24), negative rate,
  // every rate 0), or nullopt if it is fine.
  std::optional<std::string> validate() const;
};

enum class ArrivalKind { constant, poisson, nhpp };

class ArrivalProcess {
 public:
  // `rate` is used by constant and poisson (must be > 0), `profile` by nhpp (must validate); throws
  // std::invalid_argument otherwise. Virtual time 0 is at `start_hour_of_day` (any value; taken modulo 24).
  ArrivalProcess(ArrivalKind kind, double rate, RateProfile profile, double start_hour_of_day);
  // Seconds from an arrival at virtual time t (seconds since the timeline's start) to the next one.
  //   constant: 1/rate.   poisson: Exp(rate).
  //   nhpp: Lewis–Shedler thinning against the profile's peak rate, at hour of day fmod(start + t/3600, 24).
  double next_gap(double t, Rng& rng) const;

 private:
  ArrivalKind kind_;
  double rate_;
  RateProfile profile_;
  double start_hour_;
  double max_rate_;
};

}  // namespace sluice::sources::generate

#pragma once
// Time as a dependency: rates, token buckets and batching deadlines read it through this interface so that
// tests drive them with a ManualClock instead of sleeping.
#include <chrono>

namespace sluice::core {

class Clock {
 public:
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<std::chrono::steady_clock, duration>;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
};

class SteadyClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::time_point_cast<duration>(std::chrono::steady_clock::now()); }
  static const SteadyClock& instance() {
    static const SteadyClock clock;
    return clock;
  }
};

class ManualClock final : public Clock {
 public:
  time_point now() const override { return now_; }
  void advance(duration d) { now_ += d; }
  void set(time_point t) { now_ = t; }

 private:
  time_point now_{};
};

}  // namespace sluice::core

#include "sources/generate/arrivals.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

using namespace sluice::sources::generate;

namespace {
std::vector<double> poisson_gaps(double rate, size_t n, uint64_t seed) {
  ArrivalProcess p(ArrivalKind::poisson, rate, {}, 0);
  std::vector<double> gaps(n);
  for (size_t i = 0; i < n; ++i) {
    Rng rng(seed, i);
    gaps[i] = p.next_gap(0, rng);
  }
  return gaps;
}
}  // namespace

TEST_CASE("Poisson inter-arrival times have mean 1/lambda within 1% over a million draws", "[arrivals]") {
  const double lambda = 250;
  auto gaps = poisson_gaps(lambda, 1'000'000, 42);
  double mean = 0;
  for (double g : gaps) mean += g;
  mean /= double(gaps.size());
  CHECK(mean == Approx(1 / lambda).epsilon(0.01));
}

TEST_CASE("Poisson inter-arrival times pass Kolmogorov-Smirnov and chi-square tests of the exponential", "[arrivals]") {
  const double lambda = 40;
  const size_t n = 200'000;
  auto gaps = poisson_gaps(lambda, n, 7);
  std::sort(gaps.begin(), gaps.end());
  double d = 0;
  for (size_t i = 0; i < n; ++i) {
    double cdf = 1 - std::exp(-lambda * gaps[i]);
    d = std::max({d, cdf - double(i) / double(n), double(i + 1) / double(n) - cdf});
  }
  CHECK(d < 1.63 / std::sqrt(double(n)));  // 1% critical value

  // 20 equiprobable bins of the exponential: the k-th boundary is -ln(1 - k/20)/λ.
  std::vector<double> counts(20, 0);
  for (double g : gaps) {
    double u = 1 - std::exp(-lambda * g);
    counts[std::min<size_t>(19, size_t(u * 20))]++;
  }
  double chi2 = 0, expected = double(n) / 20;
  for (double c : counts) chi2 += (c - expected) * (c - expected) / expected;
  CHECK(chi2 < 43.82);  // 0.1% critical value, 19 degrees of freedom
}

TEST_CASE("a uniform distribution with the same mean fails the goodness-of-fit test", "[arrivals]") {
  // Guards the test above: it can tell an exponential from something else with the right mean.
  const double lambda = 40;
  const size_t n = 200'000;
  std::vector<double> gaps(n);
  for (size_t i = 0; i < n; ++i) {
    Rng rng(7, i);
    gaps[i] = rng.uniform01() * 2 / lambda;
  }
  std::sort(gaps.begin(), gaps.end());
  double d = 0;
  for (size_t i = 0; i < n; ++i) d = std::max(d, std::abs(1 - std::exp(-lambda * gaps[i]) - double(i) / double(n)));
  CHECK(d > 1.63 / std::sqrt(double(n)));
}

TEST_CASE("constant arrivals are exactly 1/rate apart and draws are deterministic", "[arrivals]") {
  ArrivalProcess c(ArrivalKind::constant, 8, {}, 0);
  Rng rng(1, 1);
  CHECK(c.next_gap(123, rng) == 0.125);
  Rng a(5, 99), b(5, 99), other(6, 99);
  uint64_t x = a.next_u64();
  CHECK(x == b.next_u64());
  CHECK(x != other.next_u64());
  for (int i = 0; i < 1000; ++i) {
    double u = a.uniform01();
    REQUIRE(u > 0);
    REQUIRE(u <= 1);
  }
}

TEST_CASE("NHPP arrivals follow the hourly profile", "[arrivals]") {
  RateProfile profile{{{0, 2}, {6, 10}, {12, 30}, {18, 5}}};
  REQUIRE_FALSE(profile.validate());
  ArrivalProcess p(ArrivalKind::nhpp, 0, profile, 0);
  const int days = 10;
  std::vector<double> per_hour(24, 0);
  double t = 0;
  for (uint64_t n = 0; t < days * 86400.0; ++n) {
    Rng rng(11, n);
    t += p.next_gap(t, rng);
    if (t < days * 86400.0) per_hour[size_t(std::fmod(t / 3600, 24))]++;
  }
  for (int h = 0; h < 24; ++h) {
    double expected = profile.rate_at(h + 0.5) * 3600 * days;
    INFO("hour " << h << ": " << per_hour[size_t(h)] << " arrivals, expected " << expected);
    CHECK(std::abs(per_hour[size_t(h)] - expected) < 4 * std::sqrt(expected));
  }
}

TEST_CASE("a rate profile wraps past midnight and rejects bad points", "[arrivals]") {
  RateProfile p{{{6, 10}, {18, 5}}};
  CHECK(p.rate_at(3) == 5);  // before 06:00 the 18:00 rate still holds
  CHECK(p.rate_at(6) == 10);
  CHECK(p.rate_at(17.99) == 10);
  CHECK(p.rate_at(23) == 5);
  CHECK(RateProfile{}.validate());
  CHECK(RateProfile{{{25, 1}}}.validate()->find("outside") != std::string::npos);
  CHECK(RateProfile{{{5, 1}, {3, 1}}}.validate()->find("increasing") != std::string::npos);
  CHECK(RateProfile{{{5, -1}}}.validate());
  CHECK(RateProfile{{{5, 0}}}.validate()->find("every rate is 0") != std::string::npos);
}

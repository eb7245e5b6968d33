#include "sources/generate/arrivals.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

using namespace sluice::sources::generate;

namespace {
constexpr size_t kDraws = 1'000'000;

// One gap per record, each from its own Rng(seed, n), as the generator draws them.
std::vector<double> poisson_gaps(double rate, size_t n, uint64_t seed) {
  ArrivalProcess p(ArrivalKind::poisson, rate, {}, 0);
  std::vector<double> gaps(n);
  for (size_t i = 0; i < n; ++i) {
    Rng rng(seed, i);
    gaps[i] = p.next_gap(0, rng);
  }
  return gaps;
}

double exp_cdf(double lambda, double x) { return 1 - std::exp(-lambda * x); }

// Kolmogorov–Smirnov: the largest distance between the sample's empirical CDF and 1 - e^(-λx).
double ks_statistic(std::vector<double> sample, double lambda) {
  std::sort(sample.begin(), sample.end());
  const double n = double(sample.size());
  double d = 0;
  for (size_t i = 0; i < sample.size(); ++i) {
    double f = exp_cdf(lambda, sample[i]);
    d = std::max({d, f - double(i) / n, double(i + 1) / n - f});
  }
  return d;
}

// Pearson's chi-square over 20 bins that are equiprobable under Exp(λ): bin k holds F(x) in [k/20, (k+1)/20).
double chi_square(const std::vector<double>& sample, double lambda) {
  std::vector<double> counts(20, 0);
  for (double x : sample) counts[std::min<size_t>(19, size_t(exp_cdf(lambda, x) * 20))]++;
  double chi2 = 0, expected = double(sample.size()) / 20;
  for (double c : counts) chi2 += (c - expected) * (c - expected) / expected;
  return chi2;
}

const double kKsCritical = 1.63 / std::sqrt(double(kDraws));  // 1% level
constexpr double kChi2Critical = 43.82;                         // 0.1% level, 19 degrees of freedom

double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return sum / double(v.size());
}
}  // namespace

TEST_CASE("Poisson inter-arrival times have mean 1/lambda within 1% over a million draws", "[arrivals]") {
  for (double lambda : {0.5, 250.0, 60000.0}) {
    INFO("lambda " << lambda);
    CHECK(mean(poisson_gaps(lambda, kDraws, 42)) == Approx(1 / lambda).epsilon(0.01));
  }
}

TEST_CASE("Poisson inter-arrival times pass Kolmogorov-Smirnov and chi-square tests of the exponential", "[arrivals]") {
  const double lambda = 40;
  auto gaps = poisson_gaps(lambda, kDraws, 7);
  double d = ks_statistic(gaps, lambda);
  double chi2 = chi_square(gaps, lambda);
  INFO("KS D = " << d << " (critical " << kKsCritical << "), chi-square = " << chi2);
  CHECK(d < kKsCritical);
  CHECK(chi2 < kChi2Critical);
}

TEST_CASE("the goodness-of-fit tests reject near misses of the exponential", "[arrivals]") {
  // Guards the test above: it must tell the exponential from plausible wrong implementations.
  const double lambda = 40;
  std::vector<double> uniform(kDraws), wrong_rate = poisson_gaps(lambda * 1.02, kDraws, 7);
  for (size_t i = 0; i < kDraws; ++i) {
    Rng rng(7, i);
    uniform[i] = rng.uniform01() * 2 / lambda;  // the same mean, 1/λ
  }
  REQUIRE(mean(uniform) == Approx(1 / lambda).epsilon(0.01));
  CHECK(ks_statistic(uniform, lambda) > kKsCritical);
  CHECK(chi_square(uniform, lambda) > kChi2Critical);
  CHECK(ks_statistic(wrong_rate, lambda) > kKsCritical);  // 2% off in rate
  CHECK(chi_square(wrong_rate, lambda) > kChi2Critical);
}

TEST_CASE("constant arrivals are exactly 1/rate apart whatever the time or draw", "[arrivals]") {
  ArrivalProcess eighth(ArrivalKind::constant, 8, {}, 0);
  ArrivalProcess third(ArrivalKind::constant, 3, {}, 13.25);
  for (uint64_t n = 0; n < 100; ++n) {
    Rng rng(1, n);
    CHECK(eighth.next_gap(double(n) * 1234.5, rng) == 0.125);
    CHECK(third.next_gap(double(n), rng) == 1.0 / 3);
  }
}

TEST_CASE("draws depend only on the seed and the counter", "[arrivals]") {
  Rng a(5, 99), b(5, 99), other_seed(6, 99), other_counter(5, 100);
  int same_seed_collisions = 0, same_counter_collisions = 0;
  for (int i = 0; i < 1000; ++i) {
    uint64_t x = a.next_u64();
    REQUIRE(x == b.next_u64());
    same_counter_collisions += x == other_seed.next_u64();
    same_seed_collisions += x == other_counter.next_u64();
  }
  CHECK(same_counter_collisions == 0);
  CHECK(same_seed_collisions == 0);

  // A stream resumed at counter n is the stream a fresh generator would use for record n.
  Rng resumed(5, 123456);
  Rng fresh(5, 123456);
  CHECK(resumed.exponential(3) == fresh.exponential(3));

  // Neighbouring counters and seeds start unrelated streams: no repeated first value among many.
  std::set<uint64_t> firsts;
  for (uint64_t n = 0; n < 100'000; ++n) {
    firsts.insert(Rng(1, n).next_u64());
    firsts.insert(Rng(n + 2, 0).next_u64());
  }
  CHECK(firsts.size() == 200'000);
}

TEST_CASE("uniform draws lie above 0 and at most 1 with mean one half", "[arrivals]") {
  double sum = 0, lowest = 1;
  for (uint64_t n = 0; n < 100'000; ++n) {
    Rng rng(3, n);
    for (int k = 0; k < 4; ++k) {
      double u = rng.uniform01();
      REQUIRE(u > 0);
      REQUIRE(u <= 1);
      lowest = std::min(lowest, u);
      sum += u;
    }
  }
  CHECK(sum / 400'000 == Approx(0.5).epsilon(0.005));
  CHECK(lowest < 1e-4);
  CHECK(std::isfinite(Rng(3, 0).exponential(1e-9)));
}

namespace {
// Arrivals per hour of day over `days` virtual days of one NHPP timeline.
std::vector<double> nhpp_counts_by_hour(const RateProfile& profile, double start_hour, int days, uint64_t seed) {
  ArrivalProcess p(ArrivalKind::nhpp, 0, profile, start_hour);
  const double end = days * 86400.0;
  std::vector<double> per_hour(24, 0);
  double t = 0;
  for (uint64_t n = 0;; ++n) {
    Rng rng(seed, n);
    t += p.next_gap(t, rng);
    if (t >= end) return per_hour;
    double hour = std::fmod(start_hour + t / 3600, 24);
    per_hour[size_t(hour < 0 ? hour + 24 : hour)]++;
  }
}

void check_counts_follow_profile(const RateProfile& profile, double start_hour, int days, uint64_t seed) {
  auto per_hour = nhpp_counts_by_hour(profile, start_hour, days, seed);
  for (int h = 0; h < 24; ++h) {
    // Whole days, so each hour of day is covered `days` times; the count is Poisson, sd = sqrt(mean).
    double expected = profile.rate_at(h + 0.5) * 3600 * days;
    INFO("start hour " << start_hour << ", hour " << h << ": " << per_hour[size_t(h)] << " arrivals, expected " << expected);
    if (expected == 0) CHECK(per_hour[size_t(h)] == 0);
    else CHECK(std::abs(per_hour[size_t(h)] - expected) < 4 * std::sqrt(expected));
  }
}
}  // namespace

TEST_CASE("NHPP arrivals follow the hourly profile over ten virtual days", "[arrivals]") {
  RateProfile profile{{{0, 2}, {6, 10}, {12, 30}, {18, 5}}};
  REQUIRE_FALSE(profile.validate());
  check_counts_follow_profile(profile, 0, 10, 11);
}

TEST_CASE("NHPP arrivals follow the profile from a start hour that is not midnight, with idle hours", "[arrivals]") {
  // Starting at 20:30 wraps the timeline past midnight; hours 0-6 have rate 0 and must stay empty.
  RateProfile profile{{{0, 0}, {7, 1.5}, {9, 4}, {17, 0.5}}};
  REQUIRE_FALSE(profile.validate());
  check_counts_follow_profile(profile, 20.5, 10, 12);
  check_counts_follow_profile(profile, -3.5, 10, 13);  // the same as 20.5: start hours wrap modulo 24
}

TEST_CASE("an NHPP gap from an idle period waits for the rate to resume, then is exponential", "[arrivals]") {
  // From midnight with rate 0 until noon, every gap exceeds 12 h; beyond noon the rest is Exp(0.01).
  ArrivalProcess p(ArrivalKind::nhpp, 0, RateProfile{{{0, 0}, {12, 0.01}}}, 0);
  std::vector<double> excess(10'000);
  for (uint64_t n = 0; n < excess.size(); ++n) {
    Rng rng(17, n);
    double gap = p.next_gap(0, rng);
    REQUIRE(gap > 12 * 3600.0);
    excess[n] = gap - 12 * 3600.0;
  }
  CHECK(mean(excess) == Approx(100).epsilon(0.05));  // sd of the mean is 1%
}

TEST_CASE("a rate profile holds each rate until the next hour and wraps past midnight", "[arrivals]") {
  RateProfile p{{{6, 10}, {18, 5}}};
  CHECK(p.rate_at(0) == 5);  // before 06:00 the 18:00 rate still holds
  CHECK(p.rate_at(3) == 5);
  CHECK(p.rate_at(6) == 10);
  CHECK(p.rate_at(17.99) == 10);
  CHECK(p.rate_at(18) == 5);
  CHECK(p.rate_at(23.99) == 5);
  CHECK(p.max_rate() == 10);
  CHECK(RateProfile{{{0, 7}}}.rate_at(13) == 7);
}

TEST_CASE("a rate profile names what is wrong with it", "[arrivals]") {
  auto error = [](std::vector<std::pair<double, double>> points) {
    auto err = RateProfile{std::move(points)}.validate();
    return err ? *err : std::string("valid");
  };
  CHECK(error({}) == "the profile is empty; list [hour, rate] pairs");
  CHECK(error({{25, 1}}).find("hour 25.000000 is outside [0, 24)") != std::string::npos);
  CHECK(error({{24, 1}}).find("is outside [0, 24)") != std::string::npos);
  CHECK(error({{-1, 1}}).find("is outside [0, 24)") != std::string::npos);
  CHECK(error({{std::nan(""), 1}}).find("is outside [0, 24)") != std::string::npos);
  CHECK(error({{5, 1}, {3, 1}}) == "hours must be listed in increasing order");
  CHECK(error({{5, 1}, {5, 2}}).find("is listed twice") != std::string::npos);
  CHECK(error({{5, -1}}).find("must be a number >= 0") != std::string::npos);
  CHECK(error({{5, std::numeric_limits<double>::infinity()}}).find("must be a number >= 0") != std::string::npos);
  CHECK(error({{0, 0}, {5, 0}}) == "every rate is 0");
  CHECK(error({{0, 0}, {23.5, 1}}) == "valid");
}

TEST_CASE("an arrival process rejects a rate or profile it cannot follow", "[arrivals]") {
  CHECK_THROWS_AS(ArrivalProcess(ArrivalKind::constant, 0, {}, 0), std::invalid_argument);
  CHECK_THROWS_AS(ArrivalProcess(ArrivalKind::poisson, -1, {}, 0), std::invalid_argument);
  CHECK_THROWS_AS(ArrivalProcess(ArrivalKind::poisson, std::numeric_limits<double>::infinity(), {}, 0), std::invalid_argument);
  CHECK_THROWS_AS(ArrivalProcess(ArrivalKind::nhpp, 0, RateProfile{{{0, 0}}}, 0), std::invalid_argument);
  CHECK_THROWS_AS(ArrivalProcess(ArrivalKind::nhpp, 0, RateProfile{}, 0), std::invalid_argument);
  CHECK_NOTHROW(ArrivalProcess(ArrivalKind::nhpp, 0, RateProfile{{{0, 1}}}, 0));  // nhpp ignores `rate`
}

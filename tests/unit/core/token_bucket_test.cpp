#include "core/token_bucket.hpp"

#include <catch2/catch.hpp>

using namespace sluice::core;
using namespace std::chrono_literals;

TEST_CASE("the burst is available at once, then the bucket is empty", "[token_bucket]") {
  ManualClock clock;
  TokenBucket bucket(1000, 100, clock);
  for (int i = 0; i < 100; ++i) REQUIRE(bucket.try_acquire());
  CHECK_FALSE(bucket.try_acquire());
  CHECK(bucket.time_until(1) == 1ms);
}

TEST_CASE("tokens refill at the rate, never beyond the burst", "[token_bucket]") {
  ManualClock clock;
  TokenBucket bucket(1000, 100, clock);
  REQUIRE(bucket.try_acquire(100));
  int granted = 0;
  for (int ms = 0; ms < 1000; ++ms) {
    clock.advance(1ms);
    while (bucket.try_acquire()) ++granted;
  }
  CHECK(granted == 1000);
  clock.advance(1h);
  CHECK(bucket.available() == Approx(100));
  CHECK(bucket.try_acquire(100));
  CHECK_FALSE(bucket.try_acquire(1));
}

TEST_CASE("acquisition is all or nothing and time_until is exact", "[token_bucket]") {
  ManualClock clock;
  TokenBucket bucket(10, 5, clock);
  REQUIRE(bucket.try_acquire(3));
  CHECK_FALSE(bucket.try_acquire(3));
  CHECK(bucket.available() == Approx(2));
  CHECK(bucket.time_until(3) == 100ms);
  CHECK(bucket.time_until(50) == 300ms);  // clamped to the burst
  clock.advance(100ms);
  CHECK(bucket.try_acquire(3));
}

TEST_CASE("fractional rates hold their long-run average", "[token_bucket]") {
  ManualClock clock;
  TokenBucket bucket(0.5, 1, clock);
  REQUIRE(bucket.try_acquire());
  int granted = 0;
  for (int s = 0; s < 1000; ++s) {
    clock.advance(1s);
    if (bucket.try_acquire()) ++granted;
  }
  CHECK(granted == 500);
}

TEST_CASE("the long-run rate is R within 0.1% with irregular acquisitions", "[token_bucket]") {
  ManualClock clock;
  const double rate = 2500;
  TokenBucket bucket(rate, 50, clock);
  uint64_t granted = 0;
  uint64_t step = 1;
  for (int i = 0; i < 1'000'000; ++i) {
    step = (step * 6364136223846793005ull + 1442695040888963407ull);
    clock.advance(std::chrono::microseconds(100 + (step >> 60) * 50));  // 100–850 µs, irregular
    while (bucket.try_acquire(1 + double((step >> 32) % 3))) granted += 1 + (step >> 32) % 3;
  }
  double seconds = std::chrono::duration<double>(clock.now().time_since_epoch()).count();
  CHECK(double(granted) / seconds == Approx(rate).epsilon(0.001));
}

TEST_CASE("a bucket rejects a rate or burst it cannot honour", "[token_bucket]") {
  ManualClock clock;
  CHECK_THROWS_AS(TokenBucket(0, 10, clock), std::invalid_argument);
  CHECK_THROWS_AS(TokenBucket(10, 0.5, clock), std::invalid_argument);
}

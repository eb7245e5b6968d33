#include "core/units.hpp"

#include <catch2/catch.hpp>

using namespace sluice::core;
using namespace std::chrono_literals;

namespace {
std::string size_error(const std::string& text) {
  try {
    parse_size(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}
std::string duration_error(const std::string& text) {
  try {
    parse_duration(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}
}  // namespace

TEST_CASE("sizes accept binary and decimal units, spaces and whole fractions", "[units]") {
  CHECK(parse_size("512B") == 512);
  CHECK(parse_size("1048576") == 1048576);
  CHECK(parse_size("4KiB") == 4096);
  CHECK(parse_size("64MiB") == 64ull << 20);
  CHECK(parse_size("64 MiB") == 64ull << 20);
  CHECK(parse_size("1GiB") == 1ull << 30);
  CHECK(parse_size("2TiB") == 2ull << 40);
  CHECK(parse_size("10KB") == 10'000);
  CHECK(parse_size("10MB") == 10'000'000);
  CHECK(parse_size("3GB") == 3'000'000'000ull);
  CHECK(parse_size("1.5KiB") == 1536);
  CHECK(parse_size("0") == 0);
}

TEST_CASE("bad sizes name the text and the reason", "[units]") {
  CHECK(size_error("64XB") == "invalid size '64XB': unknown unit 'XB' (use B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)");
  CHECK(size_error("-1MiB") == "invalid size '-1MiB': must not be negative");
  CHECK(size_error("") == "invalid size '': empty");
  CHECK(size_error("MiB") == "invalid size 'MiB': expected a number such as 64MiB");
  CHECK(size_error("0.1B") == "invalid size '0.1B': not a whole number of bytes");
  CHECK(size_error("99999999TiB") == "invalid size '99999999TiB': too large");
  CHECK(size_error("64mib") .find("unknown unit 'mib'") != std::string::npos);
  CHECK(size_error("1MiB2") == "invalid size '1MiB2': unexpected '2'");
}

TEST_CASE("durations accept every unit, fractions and compounds", "[units]") {
  CHECK(parse_duration("250ns") == 250ns);
  CHECK(parse_duration("100us") == 100us);
  CHECK(parse_duration("200ms") == 200ms);
  CHECK(parse_duration("30s") == 30s);
  CHECK(parse_duration("1.5s") == 1500ms);
  CHECK(parse_duration("5m") == 5min);
  CHECK(parse_duration("1h") == 1h);
  CHECK(parse_duration("1h30m") == 90min);
  CHECK(parse_duration("0") == 0s);
}

TEST_CASE("bad durations name the text and the reason", "[units]") {
  CHECK(duration_error("5") == "invalid duration '5': missing unit (use ns, us, ms, s, m, h)");
  CHECK(duration_error("200 parsecs").find("invalid duration '200 parsecs'") == 0);
  CHECK(duration_error("2d") == "invalid duration '2d': unknown unit 'd' (use ns, us, ms, s, m, h)");
  CHECK(duration_error("-1s") == "invalid duration '-1s': must not be negative");
  CHECK(duration_error("") == "invalid duration '': empty");
  CHECK(duration_error("9999999999h") == "invalid duration '9999999999h': too large");
}

TEST_CASE("formatting round-trips through parsing", "[units]") {
  for (uint64_t bytes : {0ull, 1ull, 1000ull, 1024ull, 1536ull, 64ull << 20, 3ull << 30, 5ull << 40, 123456789ull})
    CHECK(parse_size(format_size(bytes)) == bytes);
  CHECK(format_size(64ull << 20) == "64MiB");
  CHECK(format_size(1000) == "1000B");
  for (auto d : {0ns, 1ns, 1500ns, std::chrono::nanoseconds(200ms), std::chrono::nanoseconds(1500ms), std::chrono::nanoseconds(90min),
                 std::chrono::nanoseconds(25h + 1s), std::chrono::nanoseconds(5min + 250ms)})
    CHECK(parse_duration(format_duration(d)) == d);
  CHECK(format_duration(200ms) == "200ms");
  CHECK(format_duration(90min) == "1h30m");
}

#include "core/units.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>

using namespace sluice::core;
using namespace std::chrono_literals;

namespace {
// The message, or "accepted": comparing strings shows the whole message when a check fails.
template <typename Parse>
std::string error_of(Parse parse, const std::string& text) {
  try {
    parse(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}
std::string size_error(const std::string& text) { return error_of(parse_size, text); }
std::string duration_error(const std::string& text) { return error_of(parse_duration, text); }

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

// Deterministic xorshift for round-trip inputs, so a failure names a value that reproduces.
uint64_t next(uint64_t& x) {
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return x;
}
}  // namespace

TEST_CASE("sizes accept every binary and decimal unit, bare bytes and a space before the unit", "[units]") {
  CHECK(parse_size("512B") == 512);
  CHECK(parse_size("1048576") == 1048576);
  CHECK(parse_size("0") == 0);
  CHECK(parse_size("0B") == 0);
  CHECK(parse_size("4KiB") == 4096);
  CHECK(parse_size("64MiB") == 64ull << 20);
  CHECK(parse_size("64 MiB") == 64ull << 20);
  CHECK(parse_size("  64MiB ") == 64ull << 20);
  CHECK(parse_size("1GiB") == 1ull << 30);
  CHECK(parse_size("1TiB") == 1ull << 40);
  CHECK(parse_size("10KB") == 10'000);
  CHECK(parse_size("10MB") == 10'000'000);
  CHECK(parse_size("10GB") == 10'000'000'000ull);
  CHECK(parse_size("18446744073709551615") == std::numeric_limits<uint64_t>::max());
  CHECK(parse_size("16777215TiB") == 16777215ull << 40);  // the largest whole TiB count that fits
}

TEST_CASE("size fractions are exact and allowed only when the bytes are whole", "[units]") {
  CHECK(parse_size("1.5KiB") == 1536);
  CHECK(parse_size("1.1KB") == 1100);  // exact decimal arithmetic: no 1099.9999 from binary floating point
  CHECK(parse_size("2.3GB") == 2'300'000'000ull);
  CHECK(parse_size("0.5MiB") == 512ull << 10);
  CHECK(parse_size("0.0009765625KiB") == 1);  // 1/1024
  CHECK(parse_size("1.50KiB") == 1536);      // trailing zeros add nothing
  CHECK(parse_size("3.0") == 3);
  CHECK(size_error("0.1B") == "invalid size '0.1B': not a whole number of bytes");
  CHECK(size_error("1.5") == "invalid size '1.5': not a whole number of bytes");
  CHECK(size_error("1.0001KB") == "invalid size '1.0001KB': not a whole number of bytes");
  CHECK(size_error("1.3KiB") == "invalid size '1.3KiB': not a whole number of bytes");
}

TEST_CASE("bad sizes name the text and the reason", "[units]") {
  CHECK(size_error("64XB") == "invalid size '64XB': unknown unit 'XB' (use B, KB, MB, GB, KiB, MiB, GiB, TiB)");
  CHECK(contains(size_error("64mib"), "unknown unit 'mib'"));  // units are case-sensitive
  CHECK(contains(size_error("64k"), "unknown unit 'k'"));
  CHECK(contains(size_error("1TB"), "unknown unit 'TB'"));
  CHECK(size_error("-1MiB") == "invalid size '-1MiB': must not be negative");
  CHECK(size_error("") == "invalid size '': empty");
  CHECK(size_error("   ") == "invalid size '   ': empty");
  CHECK(size_error("MiB") == "invalid size 'MiB': expected a number such as 64MiB");
  CHECK(size_error(".5KiB") == "invalid size '.5KiB': expected a number such as 64MiB");
  CHECK(size_error("+5") == "invalid size '+5': expected a number such as 64MiB");
  CHECK(size_error("5.KiB") == "invalid size '5.KiB': expected digits after the decimal point");
  CHECK(size_error("1MiB2") == "invalid size '1MiB2': unexpected '2'");
  CHECK(size_error("1 2") == "invalid size '1 2': unexpected '2'");
  CHECK(size_error("18446744073709551616") == "invalid size '18446744073709551616': too large");
  CHECK(size_error("16777216TiB") == "invalid size '16777216TiB': too large");
  CHECK(size_error("99999999999999999999999TiB") == "invalid size '99999999999999999999999TiB': too large");
  CHECK(size_error("1.0000000000000000001KiB") == "invalid size '1.0000000000000000001KiB': too many decimal places");
}

TEST_CASE("durations accept every unit, fractions and spaces before the unit", "[units]") {
  CHECK(parse_duration("250ns") == 250ns);
  CHECK(parse_duration("100us") == 100us);
  CHECK(parse_duration("200ms") == 200ms);
  CHECK(parse_duration("30s") == 30s);
  CHECK(parse_duration("5m") == 5min);
  CHECK(parse_duration("1h") == 1h);
  CHECK(parse_duration("200 ms") == 200ms);
  CHECK(parse_duration("1.5s") == 1500ms);
  CHECK(parse_duration("0.25ms") == 250us);
  CHECK(parse_duration("2.5h") == 150min);
  CHECK(parse_duration("0.000000001s") == 1ns);
  CHECK(parse_duration("0") == 0s);
  CHECK(parse_duration("0s") == 0s);
  CHECK(parse_duration("9223372036854775807ns") == std::chrono::nanoseconds::max());
}

TEST_CASE("compound durations add their parts from the largest unit to the smallest", "[units]") {
  CHECK(parse_duration("1h30m") == 90min);
  CHECK(parse_duration("1h 30m") == 90min);
  CHECK(parse_duration("2m30.5s") == 150500ms);
  CHECK(parse_duration("1h2m3s4ms5us6ns") == 1h + 2min + 3s + 4ms + 5us + 6ns);
  CHECK(parse_duration("1m0s") == 1min);
  CHECK(duration_error("30m1h") == "invalid duration '30m1h': units must go from largest to smallest, each once, as in 1h30m");
  CHECK(contains(duration_error("1m1m"), "units must go from largest to smallest"));
  CHECK(duration_error("1h30") == "invalid duration '1h30': missing unit (use ns, us, ms, s, m, h)");
}

TEST_CASE("bad durations name the text and the reason", "[units]") {
  CHECK(duration_error("5") == "invalid duration '5': missing unit (use ns, us, ms, s, m, h)");
  CHECK(duration_error("1.5") == "invalid duration '1.5': missing unit (use ns, us, ms, s, m, h)");
  CHECK(duration_error("2d") == "invalid duration '2d': unknown unit 'd' (use ns, us, ms, s, m, h)");
  CHECK(duration_error("200 parsecs") == "invalid duration '200 parsecs': unknown unit 'parsecs' (use ns, us, ms, s, m, h)");
  CHECK(contains(duration_error("5S"), "unknown unit 'S'"));
  CHECK(duration_error("-1s") == "invalid duration '-1s': must not be negative");
  CHECK(duration_error("") == "invalid duration '': empty");
  CHECK(duration_error("ms") == "invalid duration 'ms': expected a number such as 200ms");
  CHECK(duration_error("1h-5m") == "invalid duration '1h-5m': expected a number such as 200ms");
  CHECK(duration_error("1.s") == "invalid duration '1.s': expected digits after the decimal point");
  CHECK(duration_error("1.5ns") == "invalid duration '1.5ns': not a whole number of nanoseconds");
  CHECK(duration_error("9999999999h") == "invalid duration '9999999999h': too large");
  CHECK(duration_error("9223372036854775808ns") == "invalid duration '9223372036854775808ns': too large");
  CHECK(duration_error("2562047h48m") == "invalid duration '2562047h48m': too large");  // each part fits, the sum does not
}

TEST_CASE("sizes format in the largest binary unit that divides them exactly", "[units]") {
  CHECK(format_size(0) == "0B");
  CHECK(format_size(1) == "1B");
  CHECK(format_size(1000) == "1000B");
  CHECK(format_size(1536) == "1536B");
  CHECK(format_size(4096) == "4KiB");
  CHECK(format_size(64ull << 20) == "64MiB");
  CHECK(format_size(1ull << 30) == "1GiB");
  CHECK(format_size(1024ull << 30) == "1TiB");
  CHECK(format_size(3ull << 40) == "3TiB");
}

TEST_CASE("durations format as hours, minutes and a decimal remainder", "[units]") {
  CHECK(format_duration(0ns) == "0");
  CHECK(format_duration(250ns) == "250ns");
  CHECK(format_duration(1500ns) == "1.5us");
  CHECK(format_duration(100us) == "100us");
  CHECK(format_duration(200ms) == "200ms");
  CHECK(format_duration(1500ms) == "1.5s");
  CHECK(format_duration(30s) == "30s");
  CHECK(format_duration(5min) == "5m");
  CHECK(format_duration(1h) == "1h");
  CHECK(format_duration(90min) == "1h30m");
  CHECK(format_duration(1h + 250ms) == "1h250ms");
  CHECK(format_duration(5min + 1s + 1ns) == "5m1.000000001s");
  CHECK(format_duration(-1500ms) == "-1.5s");
  CHECK(format_duration(std::chrono::nanoseconds::min()) == "-2562047h47m16.854775808s");
}

TEST_CASE("formatting round-trips through parsing for many values", "[units]") {
  uint64_t x = 0x2545F4914F6CDD1Dull;
  for (int i = 0; i < 20000; ++i) {
    // Mix magnitudes: a random value shifted right by a random amount, and whole multiples of each unit.
    uint64_t r = next(x);
    uint64_t bytes = r >> (next(x) % 64);
    if (i % 2) bytes = (bytes >> 24) << (10 * (next(x) % 5));
    INFO("bytes " << bytes << " formatted " << format_size(bytes));
    REQUIRE(parse_size(format_size(bytes)) == bytes);

    auto d = std::chrono::nanoseconds(int64_t((next(x) >> 1) >> (next(x) % 63)));
    if (i % 2) d = std::chrono::nanoseconds(int64_t(next(x) % 100000) * std::chrono::nanoseconds(1ms).count());
    INFO("duration " << d.count() << "ns formatted " << format_duration(d));
    REQUIRE(parse_duration(format_duration(d)) == d);
  }
  for (uint64_t bytes : std::initializer_list<uint64_t>{0, 1, 1023, std::numeric_limits<uint64_t>::max(), 16777215ull << 40})
    CHECK(parse_size(format_size(bytes)) == bytes);
  for (auto d : {0ns, 1ns, 999ns, std::chrono::nanoseconds(59s + 999ms), std::chrono::nanoseconds(25h + 1s),
                 std::chrono::nanoseconds::max()})
    CHECK(parse_duration(format_duration(d)) == d);
}

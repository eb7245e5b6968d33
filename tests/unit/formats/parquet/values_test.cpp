#include <algorithm>
#include <catch2/catch.hpp>
#include <charconv>
#include <cmath>
#include <cstring>
#include <random>

#include "formats/parquet/value_parse.hpp"
#include "formats/parquet/value_text.hpp"

using namespace sluice::formats::parquet;

namespace {

template <class F>
std::string text(F&& append) {
  std::string out;
  append(out);
  return out;
}

std::string decimal_text(std::string_view text_in, int32_t precision, int32_t scale) {
  std::string error;
  auto v = parse_decimal(text_in, precision, scale, error);
  if (!v) return "error: " + error;
  std::string bytes;
  append_big_endian(bytes, *v, 16);
  std::string out;
  append_decimal(out, bytes, scale);
  return out;
}

}  // namespace

TEST_CASE("decimals print exactly from every physical form") {
  CHECK(text([](auto& o) { append_decimal(o, int64_t(12345), 2); }) == "\"123.45\"");
  CHECK(text([](auto& o) { append_decimal(o, int64_t(-5), 2); }) == "\"-0.05\"");
  CHECK(text([](auto& o) { append_decimal(o, int64_t(0), 3); }) == "\"0.000\"");
  CHECK(text([](auto& o) { append_decimal(o, int64_t(7), 0); }) == "\"7\"");
  CHECK(text([](auto& o) { append_decimal(o, INT64_MIN, 4); }) == "\"-922337203685477.5808\"");
  // 38 nines in 16 bytes, and a 20-byte BYTE_ARRAY decimal beyond what 128 bits hold.
  std::string bytes;
  append_big_endian(bytes, __int128(10000000000000000000ULL) * 10000000000000000000ULL - 1, 16);
  CHECK(text([&](auto& o) { append_decimal(o, bytes, 10); }) == "\"9999999999999999999999999999.9999999999\"" );
  const std::string wide = std::string("\x01", 1) + std::string(19, '\0');  // 2^152
  CHECK(text([&](auto& o) { append_decimal(o, wide, 0); }) == "\"5708990770823839524233143877797980545530986496\"");
  const std::string minus_one(20, '\xff');
  CHECK(text([&](auto& o) { append_decimal(o, minus_one, 1); }) == "\"-0.1\"");
  CHECK(text([&](auto& o) { append_decimal(o, std::string_view("\x80", 1), 0); }) == "\"-128\"");
}

TEST_CASE("decimal text parses exactly or says why not") {
  CHECK(decimal_text("123.45", 9, 2) == "\"123.45\"");
  CHECK(decimal_text("-0.05", 9, 2) == "\"-0.05\"");
  CHECK(decimal_text("12.5", 9, 2) == "\"12.50\"");
  CHECK(decimal_text("12.500", 9, 2) == "\"12.50\"");
  CHECK(decimal_text("1e3", 9, 2) == "\"1000.00\"");
  CHECK(decimal_text("1.5E-1", 9, 2) == "\"0.15\"");
  CHECK(decimal_text("0", 9, 2) == "\"0.00\"");
  CHECK(decimal_text("-0.000", 9, 2) == "\"0.00\"");
  CHECK(decimal_text("+7", 1, 0) == "\"7\"");
  CHECK(decimal_text("99999999999999999999999999999999999999", 38, 0) == "\"99999999999999999999999999999999999999\"");
  CHECK_THAT(decimal_text("12.345", 9, 2), Catch::StartsWith("error: more decimal places"));
  CHECK_THAT(decimal_text("1234567890", 9, 0), Catch::StartsWith("error: more digits than the column's precision"));
  CHECK_THAT(decimal_text("1e40", 38, 0), Catch::StartsWith("error: more digits"));
  CHECK_THAT(decimal_text("abc", 9, 2), Catch::StartsWith("error: not a number"));
  CHECK_THAT(decimal_text("1.2.3", 9, 2), Catch::StartsWith("error: not a number"));
  CHECK_THAT(decimal_text("", 9, 2), Catch::StartsWith("error: not a number"));
  CHECK_THAT(decimal_text("1e", 9, 2), Catch::StartsWith("error: an exponent without digits"));
}

TEST_CASE("dates print and parse across the calendar") {
  CHECK(text([](auto& o) { append_date(o, 0); }) == "\"1970-01-01\"");
  CHECK(text([](auto& o) { append_date(o, -1); }) == "\"1969-12-31\"");
  CHECK(text([](auto& o) { append_date(o, 19782); }) == "\"2024-02-29\"");
  CHECK(text([](auto& o) { append_date(o, -719529); }) == "\"-0001-12-31\"");
  CHECK(parse_date("2024-02-29") == 19782);
  CHECK(parse_date("-0001-12-31") == -719529);
  CHECK(parse_date("1969-12-31") == -1);
  CHECK_FALSE(parse_date("2023-02-29"));
  CHECK_FALSE(parse_date("2024-13-01"));
  CHECK_FALSE(parse_date("2024-1-01"));
  CHECK_FALSE(parse_date("2024-01-01x"));
}

TEST_CASE("timestamps print by unit with floor division before 1970") {
  CHECK(text([](auto& o) { append_timestamp(o, -1, TimeUnit::millis, true); }) == "\"1969-12-31T23:59:59.999Z\"");
  CHECK(text([](auto& o) { append_timestamp(o, 1, TimeUnit::nanos, false); }) == "\"1970-01-01T00:00:00.000000001\"");
  CHECK(text([](auto& o) { append_timestamp(o, 1709214300123456, TimeUnit::micros, true); }) == "\"2024-02-29T13:45:00.123456Z\"");
  CHECK(text([](auto& o) { append_time(o, 49500250, TimeUnit::millis); }) == "\"13:45:00.250\"");
  CHECK(text([](auto& o) { append_time(o, 1, TimeUnit::nanos); }) == "\"00:00:00.000000001\"");
}

TEST_CASE("timestamp text parses to the column's unit, offsets only for instants") {
  std::string error;
  CHECK(parse_timestamp("2024-02-29T13:45:00.123456Z", TimeUnit::micros, true, error) == 1709214300123456);
  CHECK(parse_timestamp("2024-02-29 13:45:00.123456", TimeUnit::micros, true, error) == 1709214300123456);
  CHECK(parse_timestamp("2024-02-29T15:45:00.123456+02:00", TimeUnit::micros, true, error) == 1709214300123456);
  CHECK(parse_timestamp("2024-02-29T12:45:00.123456-0100", TimeUnit::micros, true, error) == 1709214300123456);
  CHECK(parse_timestamp("1969-12-31T23:59:59.999Z", TimeUnit::millis, true, error) == -1);
  CHECK(parse_timestamp("2024-02-29", TimeUnit::millis, true, error) == 1709164800000);
  CHECK(parse_timestamp("1970-01-01T00:00:00.5", TimeUnit::nanos, false, error) == 500000000);
  CHECK(parse_timestamp("1970-01-01T00:00:00.120000", TimeUnit::millis, true, error) == 120);
  CHECK_FALSE(parse_timestamp("1970-01-01T00:00:00.1234", TimeUnit::millis, true, error));
  CHECK_THAT(error, Catch::Contains("fractional digits"));
  CHECK_FALSE(parse_timestamp("2024-02-29T13:45:00Z", TimeUnit::millis, false, error));
  CHECK_THAT(error, Catch::Contains("without utc"));
  CHECK_FALSE(parse_timestamp("2024-02-29T25:00:00Z", TimeUnit::millis, true, error));
  CHECK_FALSE(parse_timestamp("yesterday", TimeUnit::millis, true, error));
  CHECK_FALSE(parse_timestamp("9999999-01-01T00:00:00Z", TimeUnit::nanos, true, error));
}

TEST_CASE("floats print as their shortest exact text, non-finite as strings") {
  CHECK(text([](auto& o) { append_float(o, 0.1f); }) == "0.1");
  CHECK(text([](auto& o) { append_double(o, 0.1); }) == "0.1");
  // Laid out as JavaScript prints numbers, so a float reads back the same widened to a double.
  CHECK(text([](auto& o) { append_float(o, 13653698560.0f); }) == "13653699000");
  CHECK(text([](auto& o) { append_double(o, 1e21); }) == "1e+21");
  CHECK(text([](auto& o) { append_double(o, 123456789012345680000.0); }) == "123456789012345680000");
  CHECK(text([](auto& o) { append_double(o, 1.5e-7); }) == "1.5e-7");
  CHECK(text([](auto& o) { append_double(o, 0.000001); }) == "0.000001");
  CHECK(text([](auto& o) { append_double(o, -0.0); }) == "-0");
  CHECK(text([](auto& o) { append_double(o, 5e-324); }) == "5e-324");
  CHECK(text([](auto& o) { append_float(o, -363007.625f); }) == "-363007.62");
  CHECK(text([](auto& o) { append_double(o, NAN); }) == "\"NaN\"");
  CHECK(text([](auto& o) { append_double(o, -INFINITY); }) == "\"-Infinity\"");
  CHECK(text([](auto& o) { append_float16(o, 0x3c00); }) == "1");
  CHECK(text([](auto& o) { append_float16(o, 0xc000); }) == "-2");
  CHECK(text([](auto& o) { append_float16(o, 0x0001); }) == "5.9604645e-8");
  CHECK(text([](auto& o) { append_float16(o, 0x7c00); }) == "\"Infinity\"");
}

TEST_CASE("doubles of few decimal places print as the shortest-digits search would print them") {
  // The decimal fast path against the search it stands in for, on decimals of every place count, values just
  // beside them, and doubles of full precision, across the range the fast path takes and past its edges.
  const auto shortest = [](double v) {
    char buf[48];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed).ptr);
  };
  std::mt19937_64 rng(11);
  std::vector<double> values = {1e-6, 0.000001, 0.0000015, 0.1, 0.2, 0.3, 0.7, 1, 2.5, 910.36, 0.3882, 999999999.999999,
                                1e9, 1e9 - 0.5, 4294967296.5, 123456.789, 0.1 + 0.2, 1.0 / 3};
  for (int i = 0; i < 200000; ++i) {
    const int places = int(rng() % 7);
    const double scale = std::pow(10.0, places);
    double v = double(int64_t(rng() % 2000000000000ull) - 1000000000000ll) / scale;
    if (i % 4 == 1) v = std::nextafter(v, 1e300);
    if (i % 4 == 2) v = std::ldexp(double(rng() >> 11), -int(rng() % 60));  // full precision
    values.push_back(v);
  }
  for (double v : values) {
    if (std::abs(v) < 1e-6 || std::abs(v) >= 1e15) continue;  // laid out with an exponent, not by this path
    INFO(shortest(v));
    std::string out;
    append_double(out, v);
    REQUIRE(out == shortest(v));
  }
}

TEST_CASE("INT96, UUID and INTERVAL values print in their text forms") {
  // 2000-01-01T00:00:01.000000002: Julian day 2451545, 1 s + 2 ns into it.
  char int96[12];
  const uint64_t nanos = 1'000'000'002;
  const uint32_t julian = 2451545;
  std::memcpy(int96, &nanos, 8);
  std::memcpy(int96 + 8, &julian, 4);
  CHECK(text([&](auto& o) { append_int96(o, int96); }) == "\"2000-01-01T00:00:01.000000002Z\"");
  const char uuid[] = "\x0f\x8f\xad\x5b\xd9\xcb\x46\x9f\xa1\x65\x70\x86\x77\x28\x95\x0e";
  CHECK(text([&](auto& o) { append_uuid(o, uuid); }) == "\"0f8fad5b-d9cb-469f-a165-70867728950e\"");
  const char interval[] = "\x01\0\0\0\x02\0\0\0\x03\0\0\0";
  CHECK(text([&](auto& o) { append_interval(o, interval); }) == "{\"months\":1,\"days\":2,\"millis\":3}");
}

namespace {

// JavaScript's Number-to-String layout (ECMA-262 Number::toString) of the shortest round-trip digits, written
// here from the spec's steps, not from the code under test.
template <class F>
std::string js_layout(F v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, end), sign;
  if (s[0] == '-') sign = "-", s.erase(0, 1);
  const size_t e = s.find('e');
  const int exponent = std::stoi(s.substr(e + 1));
  std::string digits = s.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int k = int(digits.size()), n = exponent + 1;
  if (k <= n && n <= 21) return sign + digits + std::string(size_t(n - k), '0');
  if (0 < n && n <= 21) return sign + digits.substr(0, size_t(n)) + "." + digits.substr(size_t(n));
  if (-6 < n && n <= 0) return sign + "0." + std::string(size_t(-n), '0') + digits;
  return sign + digits.substr(0, 1) + (k > 1 ? "." + digits.substr(1) : "") + "e" + (n - 1 < 0 ? "-" : "+") +
         std::to_string(std::abs(n - 1));
}

}  // namespace

TEST_CASE("floats and doubles of every magnitude print in JavaScript's layout of their shortest digits") {
  std::mt19937_64 rng(77);
  auto check_double = [](double v) {
    INFO(v);
    CHECK(text([&](auto& o) { append_double(o, v); }) == js_layout(v));
  };
  auto check_float = [](float v) {
    INFO(v);
    CHECK(text([&](auto& o) { append_float(o, v); }) == js_layout(v));
  };
  for (int i = 0; i < 200000; ++i) {
    // Random bits (every magnitude), and values near the layout's edges: 1e-7..1e-5, 1e6..1e8, 1e14..1e22.
    uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, 8);
    if (std::isfinite(d)) check_double(d);
    const double edges[] = {1e-6, 1e7, 1e15, 1e21};
    const double near = edges[i % 4] * std::exp2(double(int64_t(rng() % 2000) - 1000) / 300.0);
    check_double(near);
    check_double(-std::round(near));
    check_float(float(near));
    uint32_t fbits = uint32_t(rng());
    float f;
    std::memcpy(&f, &fbits, 4);
    if (std::isfinite(f)) check_float(f);
  }
  for (double v : {9007199254740993.0, 999999999999999.9, 1e15, 1e15 - 0.5, 123456789012345.67, 0.1 + 0.2})
    check_double(v);
  for (float v : {16777217.0f, 9999999.0f, 10000000.0f, 123456792.0f, 0.3f})
    check_float(v);
}

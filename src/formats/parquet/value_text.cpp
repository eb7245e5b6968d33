#include "formats/parquet/value_text.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "formats/parquet/little_endian.hpp"
#include "formats/timestamp.hpp"

namespace sluice::formats::parquet {

namespace {

void append_padded(std::string& out, uint64_t v, int width) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  for (int pad = width - int(end - buf); pad > 0; --pad) out.push_back('0');
  out.append(buf, end);
}

// Floor division: before 1970 (and before midnight) the remainder must come out non-negative. No product that
// could overflow at the ends of int64 (INT64_MIN nanoseconds is a valid timestamp).
struct Split {
  int64_t whole, rest;
};
Split floor_split(int64_t a, int64_t b) {
  Split s{a / b, a % b};
  if (s.rest < 0) {
    s.rest += b;
    --s.whole;
  }
  return s;
}

int64_t unit_per_second(TimeUnit unit) {
  return unit == TimeUnit::millis ? 1'000 : unit == TimeUnit::micros ? 1'000'000 : 1'000'000'000;
}
int fraction_digits(TimeUnit unit) { return unit == TimeUnit::millis ? 3 : unit == TimeUnit::micros ? 6 : 9; }

void append_clock(std::string& out, int64_t seconds_of_day, int64_t fraction, int digits) {
  append_padded(out, uint64_t(seconds_of_day / 3600), 2);
  out.push_back(':');
  append_padded(out, uint64_t(seconds_of_day / 60 % 60), 2);
  out.push_back(':');
  append_padded(out, uint64_t(seconds_of_day % 60), 2);
  out.push_back('.');
  append_padded(out, uint64_t(fraction), digits);
}

// Digits of a magnitude, with the point `scale` places from the right.
void append_scaled_digits(std::string& out, bool negative, std::string_view digits, int32_t scale) {
  out.push_back('"');
  if (negative) out.push_back('-');
  if (scale <= 0) {
    out.append(digits);
    if (digits != "0") out.append(size_t(-int64_t(scale)), '0');
  } else if (digits.size() > size_t(scale)) {
    out.append(digits.substr(0, digits.size() - size_t(scale)));
    out.push_back('.');
    out.append(digits.substr(digits.size() - size_t(scale)));
  } else {
    out.append("0.");
    out.append(size_t(scale) - digits.size(), '0');
    out.append(digits);
  }
  out.push_back('"');
}

}  // namespace

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// The shortest digits that read back as the same value, laid out as ECMAScript's Number::toString does (plain
// digits from 1e-7 up to 1e21, an exponent outside): JSON's own convention, and the same text whether a float is
// read as a float or widened to a double.
namespace {

// A double that is the nearest one to some decimal with at most six places (a price, a rate) has that decimal
// as its shortest round-trip text: below 1e9 doubles are closer together than 1e-6, so no other six-place
// decimal reads back as the same value, and one with fewer places would show as trailing zeros of this one.
// Written from the integer, without the shortest-digits search: most of a double column's cost when read.
// False (nothing written) for any other value.
bool append_few_places(std::string& out, double v, double magnitude) {
  if (!(magnitude >= 1e-6 && magnitude < 1e9)) return false;
  const double scaled = v * 1e6;
  const auto units = static_cast<int64_t>(scaled < 0 ? scaled - 0.5 : scaled + 0.5);
  if (static_cast<double>(units) / 1e6 != v) return false;
  const uint64_t n = units < 0 ? uint64_t(-units) : uint64_t(units);
  if (units < 0) out.push_back('-');
  append_uint(out, n / 1000000);
  uint64_t fraction = n % 1000000;
  if (fraction == 0) return true;
  int places = 6;
  for (; fraction % 10 == 0; fraction /= 10) --places;
  char digits[6];
  for (int i = places; i-- > 0; fraction /= 10) digits[i] = char('0' + fraction % 10);
  out.push_back('.');
  out.append(digits, size_t(places));
  return true;
}

template <class F>
void append_shortest(std::string& out, F v) {
  char buf[48];
  const F magnitude = v < 0 ? -v : v;
  if constexpr (std::is_same_v<F, double>)
    if (append_few_places(out, v, magnitude)) return;
  // Below 2^24 (float) or 2^53 (double) integers are exact, so the shortest round-trip text in fixed notation
  // has the shortest digits, as JavaScript's layout does; above, fixed texts of equal length tie and the tie
  // rule picks the value's exact digits instead of trailing zeros. The common case, in one call.
  constexpr F plain_below = std::is_same_v<F, float> ? F(1e7) : F(1e15);
  if (magnitude >= F(1e-6) && magnitude < plain_below) {
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    out.append(buf, end);
    return;
  }
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view text(buf, size_t(end - buf));
  if (text.front() == '-') {
    out.push_back('-');
    text.remove_prefix(1);
  }
  const size_t e = text.find('e');
  char digit_buf[48];
  size_t digit_count = 0;
  for (char c : text.substr(0, e))
    if (c != '.') digit_buf[digit_count++] = c;
  const std::string_view digits(digit_buf, digit_count);
  int exponent = 0;
  std::from_chars(text.data() + e + 1 + (text[e + 1] == '+'), text.data() + text.size(), exponent);
  const int k = int(digits.size()), n = exponent + 1;  // n: where the point falls among the digits
  if (k <= n && n <= 21) {
    out.append(digits);
    out.append(size_t(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, size_t(n));
    out.push_back('.');
    out.append(digits, size_t(n), std::string::npos);
  } else if (-6 < n && n <= 0) {
    out.append("0.");
    out.append(size_t(-n), '0');
    out.append(digits);
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits, 1, std::string::npos);
    }
    out.push_back('e');
    out.push_back(n - 1 < 0 ? '-' : '+');
    out.append(std::to_string(std::abs(n - 1)));
  }
}

}  // namespace

void append_double(std::string& out, double v) {
  if (std::isnan(v)) {
    out.append("\"NaN\"");
  } else if (std::isinf(v)) {
    out.append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    append_shortest(out, v);
  }
}

void append_float(std::string& out, float v) {
  if (std::isnan(v) || std::isinf(v)) return append_double(out, v);
  append_shortest(out, v);
}

void append_float16(std::string& out, uint16_t bits) {
  const int exponent = (bits >> 10) & 0x1f;
  const int mantissa = bits & 0x3ff;
  double v;
  if (exponent == 0) {
    v = std::ldexp(mantissa, -24);
  } else if (exponent == 31) {
    v = mantissa ? NAN : INFINITY;
  } else {
    v = std::ldexp(mantissa | 0x400, exponent - 25);
  }
  append_float(out, float((bits & 0x8000) ? -v : v));
}

void append_decimal(std::string& out, int64_t unscaled, int32_t scale) {
  const bool negative = unscaled < 0;
  const uint64_t magnitude = negative ? 0 - uint64_t(unscaled) : uint64_t(unscaled);
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, magnitude);
  append_scaled_digits(out, negative, std::string_view(buf, size_t(end - buf)), scale);
}

void append_decimal(std::string& out, std::string_view bytes, int32_t scale) {
  if (bytes.empty()) return append_decimal(out, int64_t(0), scale);
  const bool negative = uint8_t(bytes[0]) & 0x80;
  // The magnitude as base-2^32 limbs, most significant first; two's complement negated when negative.
  std::string magnitude(bytes);
  if (negative) {
    bool carry = true;
    for (size_t i = magnitude.size(); i-- > 0;) {
      uint8_t b = uint8_t(~uint8_t(magnitude[i]));
      if (carry) carry = ++b == 0;
      magnitude[i] = char(b);
    }
  }
  std::vector<uint32_t> limbs((magnitude.size() + 3) / 4, 0);
  for (size_t i = 0; i < magnitude.size(); ++i) {
    const size_t from_right = magnitude.size() - 1 - i;
    limbs[limbs.size() - 1 - from_right / 4] |= uint32_t(uint8_t(magnitude[i])) << (8 * (from_right % 4));
  }
  // Repeated division by 10^9 gives the decimal digits nine at a time, least significant first.
  std::vector<uint32_t> chunks;
  size_t first = 0;
  while (first < limbs.size()) {
    uint64_t remainder = 0;
    for (size_t i = first; i < limbs.size(); ++i) {
      const uint64_t cur = (remainder << 32) | limbs[i];
      limbs[i] = uint32_t(cur / 1'000'000'000);
      remainder = cur % 1'000'000'000;
    }
    chunks.push_back(uint32_t(remainder));
    while (first < limbs.size() && limbs[first] == 0) ++first;
  }
  std::string digits;
  append_uint(digits, chunks.empty() ? 0 : chunks.back());
  for (size_t i = chunks.size() >= 2 ? chunks.size() - 1 : 0; i-- > 0;) append_padded(digits, chunks[i], 9);
  append_scaled_digits(out, negative && digits != "0", digits, scale);
}

void append_date(std::string& out, int32_t days) {
  out.push_back('"');
  formats::append_date(out, days);
  out.push_back('"');
}

void append_time(std::string& out, int64_t since_midnight, TimeUnit unit) {
  const Split seconds = floor_split(since_midnight, unit_per_second(unit));
  out.push_back('"');
  // A time of day is within 0..24h by the spec; anything else still prints, wrapped, rather than failing.
  append_clock(out, floor_split(seconds.whole, 86400).rest, seconds.rest, fraction_digits(unit));
  out.push_back('"');
}

// Exactly `width` digits of v (v < 10^width) ending just before `end`.
void put_digits(char* end, uint64_t v, int width) {
  for (int i = 0; i < width; ++i, v /= 10) *--end = char('0' + v % 10);
}

void append_timestamp(std::string& out, int64_t since_epoch, TimeUnit unit, bool utc) {
  const Split seconds = floor_split(since_epoch, unit_per_second(unit));
  const Split days = floor_split(seconds.whole, 86400);
  const CivilDate date = civil_from_days(days.whole);
  if (date.year >= 0 && date.year <= 9999) {
    // Every timestamp column renders one per row: one append of fixed-width fields instead of a dozen.
    const int digits = fraction_digits(unit);
    char buf[40] = "\"0000-00-00T00:00:00.";
    put_digits(buf + 5, uint64_t(date.year), 4);
    put_digits(buf + 8, date.month, 2);
    put_digits(buf + 11, date.day, 2);
    put_digits(buf + 14, uint64_t(days.rest / 3600), 2);
    put_digits(buf + 17, uint64_t(days.rest / 60 % 60), 2);
    put_digits(buf + 20, uint64_t(days.rest % 60), 2);
    char* end = buf + 21 + digits;
    put_digits(end, uint64_t(seconds.rest), digits);
    if (utc) *end++ = 'Z';
    *end++ = '"';
    out.append(buf, end);
    return;
  }
  out.push_back('"');
  formats::append_date(out, days.whole);
  out.push_back('T');
  append_clock(out, days.rest, seconds.rest, fraction_digits(unit));
  if (utc) out.push_back('Z');
  out.push_back('"');
}

void append_int96(std::string& out, const char* p) {
  uint64_t nanos_of_day;
  std::memcpy(&nanos_of_day, p, 8);
  const int64_t julian_day = int64_t(load_le32(p + 8));
  constexpr int64_t kJulianDayOfEpoch = 2440588;
  const int64_t days = julian_day - kJulianDayOfEpoch;
  const int64_t seconds = int64_t(nanos_of_day / 1'000'000'000);
  out.push_back('"');
  formats::append_date(out, days + seconds / 86400);  // nanos_of_day is unsigned: no flooring needed
  out.push_back('T');
  append_clock(out, seconds % 86400, int64_t(nanos_of_day % 1'000'000'000), 9);
  out.append("Z\"");
}

void append_uuid(std::string& out, const char* p) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[uint8_t(p[i]) >> 4]);
    out.push_back(kHex[uint8_t(p[i]) & 15]);
  }
  out.push_back('"');
}

void append_interval(std::string& out, const char* p) {
  out.append("{\"months\":");
  append_uint(out, load_le32(p));
  out.append(",\"days\":");
  append_uint(out, load_le32(p + 4));
  out.append(",\"millis\":");
  append_uint(out, load_le32(p + 8));
  out.push_back('}');
}

}  // namespace sluice::formats::parquet

#include "formats/parquet/value_parse.hpp"

#include "formats/timestamp.hpp"

namespace sluice::formats::parquet {

namespace {

bool digits(std::string_view text, size_t at, size_t count, int64_t& out) {
  if (at + count > text.size()) return false;
  out = 0;
  for (size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

int days_in_month(int64_t year, int64_t month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// "YYYY-MM-DD" at the start of text, with an optional '-' before the year; returns the characters used, 0 if none.
size_t parse_civil_date(std::string_view text, int64_t& days) {
  size_t at = 0;
  const bool negative = !text.empty() && text[0] == '-';
  at += negative;
  size_t year_digits = 0;
  while (at + year_digits < text.size() && year_digits < 6 && text[at + year_digits] >= '0' && text[at + year_digits] <= '9')
    ++year_digits;
  int64_t year, month, day;
  if (year_digits < 4 || !digits(text, at, year_digits, year)) return 0;
  at += year_digits;
  if (at >= text.size() || text[at] != '-' || !digits(text, at + 1, 2, month)) return 0;
  at += 3;
  if (at >= text.size() || text[at] != '-' || !digits(text, at + 1, 2, day)) return 0;
  at += 3;
  if (negative) year = -year;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return 0;
  days = days_from_civil(year, unsigned(month), unsigned(day));
  return at;
}

int64_t per_second(TimeUnit unit) {
  return unit == TimeUnit::millis ? 1'000 : unit == TimeUnit::micros ? 1'000'000 : 1'000'000'000;
}

}  // namespace

std::optional<int32_t> parse_date(std::string_view text) {
  int64_t days;
  if (parse_civil_date(text, days) != text.size() || days < INT32_MIN || days > INT32_MAX) return std::nullopt;
  return int32_t(days);
}

std::optional<int64_t> parse_timestamp(std::string_view text, TimeUnit unit, bool utc, std::string& error) {
  int64_t days;
  size_t at = parse_civil_date(text, days);
  if (at == 0) {
    error = "not a date and time (expected 2024-02-29T13:45:00Z)";
    return std::nullopt;
  }
  int64_t hours = 0, minutes = 0, seconds = 0, fraction = 0;
  if (at < text.size()) {
    if ((text[at] != 'T' && text[at] != 't' && text[at] != ' ') || !digits(text, at + 1, 2, hours) || text.size() < at + 9 ||
        text[at + 3] != ':' || !digits(text, at + 4, 2, minutes) || text[at + 6] != ':' || !digits(text, at + 7, 2, seconds) ||
        hours > 23 || minutes > 59 || seconds > 60) {
      error = "not a date and time (expected 2024-02-29T13:45:00Z)";
      return std::nullopt;
    }
    seconds = std::min<int64_t>(seconds, 59);  // a leap second is the last second of its minute
    at += 9;
    if (at < text.size() && (text[at] == '.' || text[at] == ',')) {
      ++at;
      const int64_t scale = per_second(unit);
      int64_t place = scale / 10;
      size_t count = 0;
      for (; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++count) {
        const int digit = text[at] - '0';
        if (place > 0) {
          fraction += digit * place;
          place /= 10;
        } else if (digit != 0) {
          error = "more fractional digits than the column's unit keeps";
          return std::nullopt;
        }
      }
      if (count == 0) {
        error = "a decimal point without digits";
        return std::nullopt;
      }
    }
  }
  int64_t offset_seconds = 0;
  if (at < text.size()) {
    if ((text[at] == 'Z' || text[at] == 'z') && at + 1 == text.size()) {
      ++at;
    } else if (text[at] == '+' || text[at] == '-') {
      int64_t oh, om;
      const size_t colon = text.size() - at == 6 && text[at + 3] == ':' ? 1 : 0;
      if (text.size() - at != 5 + colon || !digits(text, at + 1, 2, oh) || !digits(text, at + 3 + colon, 2, om) ||
          oh > 23 || om > 59) {
        error = "a malformed UTC offset";
        return std::nullopt;
      }
      offset_seconds = (oh * 3600 + om * 60) * (text[at] == '-' ? -1 : 1);
      at = text.size();
    } else {
      error = "unexpected text after the time";
      return std::nullopt;
    }
    if (!utc) {
      error = "an offset or Z for a timestamp column without utc (it holds wall-clock times)";
      return std::nullopt;
    }
  }
  const __int128 total = (__int128(days) * 86400 + hours * 3600 + minutes * 60 + seconds - offset_seconds) * per_second(unit) + fraction;
  if (total < INT64_MIN || total > INT64_MAX) {
    error = "out of the column's range";
    return std::nullopt;
  }
  return int64_t(total);
}

std::optional<__int128> parse_decimal(std::string_view text, int32_t precision, int32_t scale, std::string& error) {
  size_t at = 0;
  const bool negative = !text.empty() && text[0] == '-';
  at += negative || (!text.empty() && text[0] == '+');
  // Significant digits (leading zeros dropped), and where the point falls among all the digits.
  std::string significant;
  int64_t point = -1, count = 0;
  for (; at < text.size(); ++at) {
    const char c = text[at];
    if (c == '.') {
      if (point >= 0) break;
      point = count;
    } else if (c >= '0' && c <= '9') {
      if (!significant.empty() || c != '0') significant.push_back(c);  // leading zeros still count as places
      ++count;
      if (significant.size() > 80) {
        error = "too many digits";
        return std::nullopt;
      }
    } else {
      break;
    }
  }
  if (count == 0) {
    error = "not a number";
    return std::nullopt;
  }
  int64_t exponent = 0;
  if (at < text.size() && (text[at] == 'e' || text[at] == 'E')) {
    ++at;
    const bool exp_negative = at < text.size() && text[at] == '-';
    at += at < text.size() && (text[at] == '-' || text[at] == '+');
    const size_t start = at;
    for (; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at)
      if (exponent < 1000) exponent = exponent * 10 + (text[at] - '0');
    if (at == start) {
      error = "an exponent without digits";
      return std::nullopt;
    }
    if (exp_negative) exponent = -exponent;
  }
  if (at != text.size()) {
    error = "not a number";
    return std::nullopt;
  }
  // The unscaled value is the digits moved left by `shift` places; trailing zeros that would fall past the
  // scale are dropped, any other digit there is a loss of precision.
  const int64_t fraction_digits = (point < 0 ? 0 : count - point) - exponent;
  int64_t shift = scale - fraction_digits;
  while (shift < 0 && !significant.empty() && significant.back() == '0') {
    significant.pop_back();
    ++shift;
  }
  if (shift < 0 && !significant.empty()) {
    error = "more decimal places than the column's scale of " + std::to_string(scale);
    return std::nullopt;
  }
  if (significant.empty()) return __int128(0);
  if (int64_t(significant.size()) + shift > precision) {
    error = "more digits than the column's precision of " + std::to_string(precision);
    return std::nullopt;
  }
  __int128 v = 0;
  for (char c : significant) v = v * 10 + (c - '0');
  for (int64_t i = 0; i < shift; ++i) v *= 10;
  return negative ? -v : v;
}

void append_big_endian(std::string& out, __int128 v, size_t bytes) {
  for (size_t i = bytes; i-- > 0;) out.push_back(char(uint8_t(i < 16 ? (v >> (8 * i)) & 0xff : (v < 0 ? 0xff : 0))));
}

}  // namespace sluice::formats::parquet

#include "core/units.hpp"

#include <iterator>
#include <limits>
#include <optional>
#include <stdexcept>

namespace sluice::core {
namespace {

// GCC and Clang on 64-bit targets; exact products of a uint64 and a unit factor need more than 64 bits.
__extension__ typedef unsigned __int128 u128;

struct Unit {
  std::string_view name;
  uint64_t factor;  // in the base unit (bytes or nanoseconds); every unit is a whole multiple of it
};

constexpr Unit kSizeUnits[] = {{"B", 1},
                               {"KB", 1'000},
                               {"MB", 1'000'000},
                               {"GB", 1'000'000'000},
                               {"KiB", 1ull << 10},
                               {"MiB", 1ull << 20},
                               {"GiB", 1ull << 30},
                               {"TiB", 1ull << 40}};
constexpr const char* kSizeUnitList = "(use B, KB, MB, GB, KiB, MiB, GiB, TiB)";

// Largest first: a compound must list its units in this order, each at most once, which catches "1m30m".
constexpr Unit kDurationUnits[] = {
    {"h", 3'600'000'000'000}, {"m", 60'000'000'000}, {"s", 1'000'000'000}, {"ms", 1'000'000}, {"us", 1'000}, {"ns", 1}};
constexpr const char* kDurationUnitList = "(use ns, us, ms, s, m, h)";

// 18 significant decimals keep frac * factor (< 10^18 * 2^42) inside 128 bits; no real setting needs more.
constexpr int kMaxFractionDigits = 18;

// value = whole + frac / 10^frac_digits, kept as integers so that scaling by a unit is exact.
struct Decimal {
  u128 whole = 0;  // saturates just above UINT64_MAX, which is already "too large" for any unit
  uint64_t frac = 0;
  int frac_digits = 0;
  bool zero() const { return whole == 0 && frac == 0; }
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
void skip_spaces(std::string_view& s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
}
std::string_view trim(std::string_view s) {
  skip_spaces(s);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses "digits[.digits]" off the front of `text`. nullopt (nothing consumed) unless it starts with a digit;
// `why` explains a malformed number that does start with one.
std::optional<Decimal> take_decimal(std::string_view& text, std::string& why) {
  if (text.empty() || !is_digit(text.front())) return std::nullopt;
  Decimal d;
  constexpr u128 kSaturated = u128(std::numeric_limits<uint64_t>::max()) + 1;
  while (!text.empty() && is_digit(text.front())) {
    if (d.whole < kSaturated) d.whole = d.whole * 10 + u128(text.front() - '0');
    if (d.whole > kSaturated) d.whole = kSaturated;
    text.remove_prefix(1);
  }
  if (text.empty() || text.front() != '.') return d;
  text.remove_prefix(1);
  std::string_view digits = text;
  size_t n = 0;
  while (n < digits.size() && is_digit(digits[n])) ++n;
  text.remove_prefix(n);
  digits = digits.substr(0, n);
  if (digits.empty()) {
    why = "expected digits after the decimal point";
    return std::nullopt;
  }
  while (!digits.empty() && digits.back() == '0') digits.remove_suffix(1);  // "1.50" is "1.5"
  if (digits.size() > kMaxFractionDigits) {
    why = "too many decimal places";
    return std::nullopt;
  }
  for (char c : digits) d.frac = d.frac * 10 + uint64_t(c - '0');
  d.frac_digits = int(digits.size());
  return d;
}

std::string_view take_unit(std::string_view& text) {
  size_t n = 0;
  while (n < text.size() && is_alpha(text[n])) ++n;
  std::string_view unit = text.substr(0, n);
  text.remove_prefix(n);
  return unit;
}

enum class Scaled { ok, fractional, overflow };

// d * factor into `out`, exactly; `limit` is the largest acceptable result.
Scaled scale(const Decimal& d, uint64_t factor, u128 limit, u128& out) {
  u128 pow10 = 1;
  for (int i = 0; i < d.frac_digits; ++i) pow10 *= 10;
  u128 frac_part = u128(d.frac) * factor;
  if (frac_part % pow10 != 0) return Scaled::fractional;
  if (d.whole > limit / factor) return Scaled::overflow;  // also keeps whole * factor inside 128 bits
  out = d.whole * factor + frac_part / pow10;
  return out > limit ? Scaled::overflow : Scaled::ok;
}

// Writes n / unit with a decimal fraction and no trailing zeros: (1500, 1000) → "1.5".
std::string decimal_string(uint64_t n, uint64_t unit) {
  std::string out = std::to_string(n / unit);
  uint64_t rest = n % unit;
  if (rest == 0) return out;
  std::string frac;
  for (uint64_t place = unit / 10; place > 0; place /= 10) frac += char('0' + rest / place % 10);
  while (frac.back() == '0') frac.pop_back();
  return out + "." + frac;
}

}  // namespace

uint64_t parse_size(std::string_view original) {
  auto fail = [&](const std::string& why) {
    return std::invalid_argument("invalid size '" + std::string(original) + "': " + why);
  };
  std::string_view text = trim(original);
  if (text.empty()) throw fail("empty");
  if (text.front() == '-') throw fail("must not be negative");
  std::string why;
  auto value = take_decimal(text, why);
  if (!value) throw fail(why.empty() ? "expected a number such as 64MiB" : why);
  skip_spaces(text);
  std::string_view unit = take_unit(text);
  if (!text.empty()) throw fail("unexpected '" + std::string(text) + "'");
  uint64_t factor = unit.empty() ? 1 : 0;  // a bare number counts bytes
  for (const auto& u : kSizeUnits)
    if (unit == u.name) factor = u.factor;
  if (factor == 0) throw fail("unknown unit '" + std::string(unit) + "' " + kSizeUnitList);
  u128 bytes = 0;
  switch (scale(*value, factor, std::numeric_limits<uint64_t>::max(), bytes)) {
    case Scaled::fractional: throw fail("not a whole number of bytes");
    case Scaled::overflow: throw fail("too large");
    case Scaled::ok: break;
  }
  return uint64_t(bytes);
}

std::string format_size(uint64_t bytes) {
  static constexpr Unit units[] = {{"TiB", 1ull << 40}, {"GiB", 1ull << 30}, {"MiB", 1ull << 20}, {"KiB", 1ull << 10}};
  if (bytes > 0)  // "0B" rather than "0TiB"
    for (const auto& u : units)
      if (bytes % u.factor == 0) return std::to_string(bytes / u.factor) + std::string(u.name);
  return std::to_string(bytes) + "B";
}

std::chrono::nanoseconds parse_duration(std::string_view original) {
  auto fail = [&](const std::string& why) {
    return std::invalid_argument("invalid duration '" + std::string(original) + "': " + why);
  };
  constexpr u128 kMax = u128(std::numeric_limits<int64_t>::max());
  std::string_view text = trim(original);
  if (text.empty()) throw fail("empty");
  if (text.front() == '-') throw fail("must not be negative");
  u128 total = 0;
  size_t next_unit = 0;  // index into kDurationUnits of the largest unit still allowed
  bool first = true;
  while (!text.empty()) {
    std::string why;
    auto value = take_decimal(text, why);
    if (!value) throw fail(why.empty() ? "expected a number such as 200ms" : why);
    skip_spaces(text);
    std::string_view unit = take_unit(text);
    if (unit.empty()) {
      // Zero is zero in any unit, so "0" needs none; any other bare number is ambiguous.
      if (first && text.empty() && value->zero()) return std::chrono::nanoseconds(0);
      throw fail(std::string("missing unit ") + kDurationUnitList);
    }
    size_t index = std::size(kDurationUnits);
    for (size_t i = 0; i < std::size(kDurationUnits); ++i)
      if (unit == kDurationUnits[i].name) index = i;
    if (index == std::size(kDurationUnits)) throw fail("unknown unit '" + std::string(unit) + "' " + kDurationUnitList);
    if (index < next_unit) throw fail("units must go from largest to smallest, each once, as in 1h30m");
    next_unit = index + 1;
    u128 part = 0;
    switch (scale(*value, kDurationUnits[index].factor, kMax, part)) {
      case Scaled::fractional: throw fail("not a whole number of nanoseconds");
      case Scaled::overflow: throw fail("too large");
      case Scaled::ok: break;
    }
    total += part;
    if (total > kMax) throw fail("too large");
    skip_spaces(text);
    first = false;
  }
  return std::chrono::nanoseconds(int64_t(total));
}

std::string format_duration(std::chrono::nanoseconds d) {
  if (d.count() == 0) return "0";
  // Negative durations cannot be parsed back but still deserve a readable log line; the magnitude is taken
  // unsigned so that the most negative value does not overflow.
  std::string out = d.count() < 0 ? "-" : "";
  uint64_t ns = d.count() < 0 ? 0 - uint64_t(d.count()) : uint64_t(d.count());
  for (const auto& u : {kDurationUnits[0], kDurationUnits[1]}) {  // whole hours and minutes: "1h30m"
    if (ns >= u.factor) out += std::to_string(ns / u.factor) + std::string(u.name);
    ns %= u.factor;
  }
  if (ns == 0) return out;
  for (size_t i = 2; i < std::size(kDurationUnits); ++i) {  // the rest: "1.5s", "200ms", "250ns"
    const auto& u = kDurationUnits[i];
    if (ns >= u.factor) return out + decimal_string(ns, u.factor) + std::string(u.name);
  }
  return out;  // unreachable: ns >= 1 reaches the "ns" unit
}

}  // namespace sluice::core

#include "core/units.hpp"

#include <cmath>
#include <stdexcept>
#include <utility>

namespace sluice::core {
namespace {

struct Unit {
  const char* name;
  long double factor;
};

constexpr Unit kSizeUnits[] = {{"B", 1},
                               {"KB", 1e3},
                               {"MB", 1e6},
                               {"GB", 1e9},
                               {"TB", 1e12},
                               {"KiB", 1024.0L},
                               {"MiB", 1024.0L * 1024},
                               {"GiB", 1024.0L * 1024 * 1024},
                               {"TiB", 1024.0L * 1024 * 1024 * 1024}};
constexpr Unit kDurationUnits[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};

// Reads "digits[.digits]" from the front of text; false if there is none.
bool take_number(std::string_view& text, long double& value) {
  size_t i = 0;
  bool digits = false, dot = false;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || (text[i] == '.' && !dot))) {
    if (text[i] == '.') dot = true;
    else digits = true;
    ++i;
  }
  if (!digits) return false;
  value = std::stold(std::string(text.substr(0, i)));
  text.remove_prefix(i);
  return true;
}

std::string_view take_unit(std::string_view& text) {
  size_t i = 0;
  while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
  std::string_view unit = text.substr(0, i);
  text.remove_prefix(i);
  return unit;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

uint64_t parse_size(std::string_view original) {
  auto fail = [&](const std::string& why) {
    return std::invalid_argument("invalid size '" + std::string(original) + "': " + why);
  };
  std::string_view text = trim(original);
  if (text.empty()) throw fail("empty");
  if (text.front() == '-') throw fail("must not be negative");
  long double value;
  if (!take_number(text, value)) throw fail("expected a number such as 64MiB");
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  std::string_view unit = take_unit(text);
  if (!text.empty()) throw fail("unexpected '" + std::string(text) + "'");
  long double factor = 0;
  if (unit.empty()) {
    factor = 1;
  } else {
    for (const auto& u : kSizeUnits)
      if (unit == u.name) factor = u.factor;
    if (factor == 0) throw fail("unknown unit '" + std::string(unit) + "' (use B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)");
  }
  long double bytes = value * factor;
  if (bytes > 1.8e19L) throw fail("too large");
  if (bytes != std::floor(bytes)) throw fail("not a whole number of bytes");
  return uint64_t(bytes);
}

std::string format_size(uint64_t bytes) {
  static constexpr std::pair<const char*, uint64_t> units[] = {
      {"TiB", 1ull << 40}, {"GiB", 1ull << 30}, {"MiB", 1ull << 20}, {"KiB", 1ull << 10}};
  if (bytes > 0)
    for (const auto& [name, factor] : units)
      if (bytes % factor == 0) return std::to_string(bytes / factor) + name;
  return std::to_string(bytes) + "B";
}

std::chrono::nanoseconds parse_duration(std::string_view original) {
  auto fail = [&](const std::string& why) {
    return std::invalid_argument("invalid duration '" + std::string(original) + "': " + why);
  };
  std::string_view text = trim(original);
  if (text.empty()) throw fail("empty");
  if (text == "0") return std::chrono::nanoseconds(0);
  if (text.front() == '-') throw fail("must not be negative");
  long double total = 0;
  while (!text.empty()) {
    long double value;
    if (!take_number(text, value)) throw fail("expected a number such as 200ms");
    std::string_view unit = take_unit(text);
    if (unit.empty()) throw fail("missing unit (use ns, us, ms, s, m, h)");
    long double factor = 0;
    for (const auto& u : kDurationUnits)
      if (unit == u.name) factor = u.factor;
    if (factor == 0) throw fail("unknown unit '" + std::string(unit) + "' (use ns, us, ms, s, m, h)");
    total += value * factor;
  }
  if (total > 9.2e18L) throw fail("too large");
  return std::chrono::nanoseconds(int64_t(std::llround(total)));
}

std::string format_duration(std::chrono::nanoseconds d) {
  int64_t ns = d.count();
  if (ns == 0) return "0";
  std::string out;
  auto part = [&](int64_t factor, const char* name) {
    if (ns >= factor) {
      out += std::to_string(ns / factor) + name;
      ns %= factor;
    }
  };
  // Whole hours and minutes read naturally ("1h30m"); below a minute the most exact single unit is used.
  part(3600'000'000'000, "h");
  part(60'000'000'000, "m");
  if (ns == 0) return out;
  if (ns % 1'000'000'000 == 0) return out + std::to_string(ns / 1'000'000'000) + "s";
  if (ns % 1'000'000 == 0) return out + std::to_string(ns / 1'000'000) + "ms";
  if (ns % 1'000 == 0) return out + std::to_string(ns / 1'000) + "us";
  return out + std::to_string(ns) + "ns";
}

}  // namespace sluice::core

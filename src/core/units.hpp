#pragma once
// Sizes and durations as people write them in configuration files. Parsing is exact (integer arithmetic, no
// floating point), so "1.1KB" is 1100 bytes on every platform and the largest uint64 is still accepted.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::core {

// "64MiB", "64 MiB", "4KiB", "1GiB", "1TiB" (1024-based), "10KB", "10MB", "10GB" (1000-based), "512B",
// "1048576" (bare integer = bytes). Units are case-sensitive: "mib" is a typo, not a size. Fractions are
// accepted only when the result is a whole number of bytes ("1.5KiB" = 1536; "0.1B" is an error).
// Throws std::invalid_argument("invalid size '<text>': <reason>").
uint64_t parse_size(std::string_view text);

// The largest binary unit that divides exactly, so the output reads like what people write and is exact:
// 67108864 → "64MiB", 1000 → "1000B", 1536 → "1536B" (never "1.5KiB").
std::string format_size(uint64_t bytes);

// "250ns", "100us", "200ms", "30s", "1.5s", "5m", "1h", compounds from the largest unit to the smallest
// ("1h30m", "1m30.5s"), and "0" alone. No days: a day is not always 24h to the reader. A bare non-zero number
// is an error because "5" could mean 5s or 5ms. Throws std::invalid_argument("invalid duration '<text>': <reason>").
std::chrono::nanoseconds parse_duration(std::string_view text);

// Whole hours and minutes, then the rest below a minute in the largest unit it reaches, with a decimal
// fraction: 90min → "1h30m", 1500ms → "1.5s", 200ms → "200ms". parse_duration(format_duration(d)) == d for d >= 0.
std::string format_duration(std::chrono::nanoseconds d);

}  // namespace sluice::core

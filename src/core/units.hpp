#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::core {

// "64MiB", "4 KiB", "10MB" (1000-based), "512B", "1048576" (bytes). Throws std::invalid_argument naming the text.
uint64_t parse_size(std::string_view text);
// The largest binary unit that divides exactly: 67108864 → "64MiB", 1000 → "1000B".
std::string format_size(uint64_t bytes);
// "200ms", "5m", "1h30m", "1.5s", "100us", "250ns", "0". Throws std::invalid_argument naming the text.
std::chrono::nanoseconds parse_duration(std::string_view text);
std::string format_duration(std::chrono::nanoseconds d);

}  // namespace sluice::core

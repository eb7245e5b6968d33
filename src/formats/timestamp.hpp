#pragma once
// Timestamps as records and logs carry them: RFC 3339 / ISO 8601 in UTC with milliseconds.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::formats {

struct CivilDate {
  int64_t year;  // astronomical: 0 is 1 BC
  unsigned month, day;
};
CivilDate civil_from_days(int64_t days_since_epoch);
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);
// Appends "2026-11-25"; years before 0 get a '-' ("-0001-12-31"), years past 9999 more digits.
void append_date(std::string& out, int64_t days_since_epoch);

// Now, as Unix milliseconds (wall clock: for timestamps people read, never for measuring durations).
int64_t unix_ms_now();
// Appends "2026-11-25T07:30:00.123Z".
void append_iso8601_ms(std::string& out, int64_t unix_ms);
// Parses RFC 3339 ("2026-01-02T03:04:05Z", "...+01:00", fractional seconds) to unix ms; nullopt if invalid.
std::optional<int64_t> parse_rfc3339_ms(std::string_view text);

}  // namespace sluice::formats

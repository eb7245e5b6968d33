#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "formats/parquet/metadata.hpp"

// Text forms of values the writer accepts (the reader's output forms among them), parsed exactly.
namespace sluice::formats::parquet {

// "2024-02-29", "-0001-12-31": days since 1970-01-01; nullopt if not a valid date.
std::optional<int32_t> parse_date(std::string_view text);

// RFC 3339 / ISO 8601: "2024-02-29T13:45:00.123456789Z", a space for the 'T', an offset "+02:00", or none.
// An instant column (utc) applies the offset and reads a time without one as UTC; a wall-clock column keeps the
// time as written and refuses an offset. Digits past the unit must be zeros. On failure, `error` says why.
std::optional<int64_t> parse_timestamp(std::string_view text, TimeUnit unit, bool utc, std::string& error);

// A decimal number's text ("-12.5", "1e3", "0.050") as the unscaled integer of a decimal(precision, scale):
// digits past the scale must be zeros and the digits must fit the precision. On failure, `error` says why.
std::optional<__int128> parse_decimal(std::string_view text, int32_t precision, int32_t scale, std::string& error);

// The big-endian two's complement of v in `bytes` bytes, appended (FIXED_LEN_BYTE_ARRAY decimals).
void append_big_endian(std::string& out, __int128 v, size_t bytes);

}  // namespace sluice::formats::parquet

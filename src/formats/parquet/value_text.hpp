#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "formats/parquet/metadata.hpp"

// Parquet values as JSON text, exactly: integers and decimals never pass through a double, a float prints as the
// shortest text that reads back as the same float. The forms are listed in docs/formats/parquet.md.
namespace sluice::formats::parquet {

void append_int(std::string& out, int64_t v);
void append_uint(std::string& out, uint64_t v);
// Shortest round-trip text; NaN and the infinities, which JSON has no numbers for, as the strings "NaN",
// "Infinity" and "-Infinity".
void append_double(std::string& out, double v);
void append_float(std::string& out, float v);
void append_float16(std::string& out, uint16_t bits);
// Decimals are JSON strings with exactly `scale` digits after the point: "-0.05", "123.45", "7".
void append_decimal(std::string& out, int64_t unscaled, int32_t scale);
// Big-endian two's complement of any length (FIXED_LEN_BYTE_ARRAY and BYTE_ARRAY decimals).
void append_decimal(std::string& out, std::string_view big_endian, int32_t scale);
void append_date(std::string& out, int32_t days);                          // "2024-02-29"
void append_time(std::string& out, int64_t since_midnight, TimeUnit unit);  // "13:45:00.250"
// "2024-02-29T13:45:00.250000" by unit, with "Z" when the instant is UTC-adjusted.
void append_timestamp(std::string& out, int64_t since_epoch, TimeUnit unit, bool utc);
// Impala's INT96: nanoseconds of the day (8 bytes LE) then the Julian day (4 bytes LE); nanosecond precision, UTC.
void append_int96(std::string& out, const char* twelve_bytes);
void append_uuid(std::string& out, const char* sixteen_bytes);        // "0f8fad5b-d9cb-469f-a165-70867728950e"
void append_interval(std::string& out, const char* twelve_bytes);     // {"months":1,"days":2,"millis":3}

}  // namespace sluice::formats::parquet

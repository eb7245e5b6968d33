#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/parquet/metadata.hpp"

// The column types a pipeline declares for the Parquet writer, as text:
//   int32 int64 float double bool string bytes date timestamp timestamp(ms|us|ns[, utc]) decimal(p, s)
//   list<T> struct{name: T, ...}
// Any type may end in "not null"; everything else is nullable.
namespace sluice::formats::parquet {

struct ColumnType {
  enum class Kind : uint8_t { int32, int64, float32, float64, boolean, string, bytes, date, timestamp, decimal, list, structure };
  Kind kind = Kind::string;
  bool nullable = true;
  TimeUnit unit = TimeUnit::micros;  // timestamp
  bool utc = true;                   // timestamp: an instant (isAdjustedToUTC) rather than a wall-clock time
  int32_t precision = 0, scale = 0;  // decimal
  std::vector<std::string> field_names;  // structure
  std::vector<ColumnType> children;      // list: the element; structure: the fields

  bool operator==(const ColumnType&) const = default;
};

struct ColumnSpec {
  std::string name;
  ColumnType type;
  bool operator==(const ColumnSpec&) const = default;
};

// Throws std::invalid_argument saying what is wrong and where ("at character 12: expected '>'").
ColumnType parse_column_type(std::string_view text);
// The canonical text of a type: what parse_column_type reads back as the same type.
std::string describe(const ColumnType& type);

// The schema elements of a file with these columns: 3-level lists, STRING/DATE/TIMESTAMP/DECIMAL logical types
// with their legacy converted types where the spec defines one, decimals on INT32, INT64 or the smallest
// FIXED_LEN_BYTE_ARRAY their precision needs.
std::vector<SchemaElement> schema_elements(const std::vector<ColumnSpec>& columns);
// Bytes of a FIXED_LEN_BYTE_ARRAY decimal of this precision (precision above 18).
int32_t decimal_bytes(int32_t precision);

}  // namespace sluice::formats::parquet

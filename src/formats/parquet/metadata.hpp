#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/parquet/codec.hpp"
#include "formats/parquet/error.hpp"

// The parts of parquet.thrift that sluice reads and writes. Values of the enums are the spec's; a value this
// code does not know (a newer encoding, say) is kept as its number, so the reader can name it in its error.
namespace sluice::formats::parquet {

enum class Type : int32_t {
  boolean = 0,
  int32 = 1,
  int64 = 2,
  int96 = 3,
  float32 = 4,
  float64 = 5,
  byte_array = 6,
  fixed_len_byte_array = 7,
};

enum class ConvertedType : int32_t {
  utf8 = 0,
  map = 1,
  map_key_value = 2,
  list = 3,
  enum_ = 4,
  decimal = 5,
  date = 6,
  time_millis = 7,
  time_micros = 8,
  timestamp_millis = 9,
  timestamp_micros = 10,
  uint_8 = 11,
  uint_16 = 12,
  uint_32 = 13,
  uint_64 = 14,
  int_8 = 15,
  int_16 = 16,
  int_32 = 17,
  int_64 = 18,
  json = 19,
  bson = 20,
  interval = 21,
};

enum class Repetition : int32_t { required = 0, optional = 1, repeated = 2 };

enum class Encoding : int32_t {
  plain = 0,
  plain_dictionary = 2,
  rle = 3,
  bit_packed = 4,
  delta_binary_packed = 5,
  delta_length_byte_array = 6,
  delta_byte_array = 7,
  rle_dictionary = 8,
  byte_stream_split = 9,
};

enum class PageType : int32_t { data_page = 0, index_page = 1, dictionary_page = 2, data_page_v2 = 3 };

enum class TimeUnit : uint8_t { millis, micros, nanos };

struct LogicalType {
  enum class Kind : uint8_t {
    none,
    string,
    map,
    list,
    enum_,
    decimal,
    date,
    time,
    timestamp,
    integer,
    unknown,  // the spec's NullType: only nulls
    json,
    bson,
    uuid,
    float16,
    other,  // a union member this code does not know (VARIANT, GEOMETRY, ...): the column is refused by name
  };
  Kind kind = Kind::none;
  int16_t other_id = 0;  // the union's field id, for Kind::other
  int32_t scale = 0, precision = 0;  // decimal
  bool adjusted_to_utc = false;      // time, timestamp
  TimeUnit unit = TimeUnit::millis;  // time, timestamp
  int8_t bit_width = 0;              // integer
  bool is_signed = true;             // integer
};

struct SchemaElement {
  std::optional<Type> type;  // absent for groups
  std::optional<int32_t> type_length;
  std::optional<Repetition> repetition;  // absent only for the root
  std::string name;
  std::optional<int32_t> num_children;  // present for groups
  std::optional<ConvertedType> converted;
  std::optional<int32_t> scale, precision, field_id;
  LogicalType logical;
};

struct Statistics {
  std::optional<std::string> max, min;  // deprecated signed-order pair, still written by old writers
  std::optional<int64_t> null_count, distinct_count;
  std::optional<std::string> max_value, min_value;
};

struct KeyValue {
  std::string key;
  std::optional<std::string> value;
};

struct ColumnMetaData {
  Type type = Type::boolean;
  std::vector<Encoding> encodings;
  std::vector<std::string> path;
  Codec codec = Codec::uncompressed;
  int64_t num_values = 0;
  int64_t total_uncompressed_size = 0;
  int64_t total_compressed_size = 0;
  std::vector<KeyValue> key_value;
  int64_t data_page_offset = 0;
  std::optional<int64_t> index_page_offset, dictionary_page_offset;
  std::optional<Statistics> statistics;
};

struct ColumnChunk {
  std::optional<std::string> file_path;  // another file holds the data: refused by the reader
  int64_t file_offset = 0;
  std::optional<ColumnMetaData> meta_data;
  bool encrypted = false;  // crypto_metadata or encrypted_column_metadata present
};

struct RowGroup {
  std::vector<ColumnChunk> columns;
  int64_t total_byte_size = 0;
  int64_t num_rows = 0;
  std::optional<int64_t> file_offset, total_compressed_size;
  std::optional<int16_t> ordinal;
};

struct FileMetaData {
  int32_t version = 1;
  std::vector<SchemaElement> schema;  // depth-first, the root first
  int64_t num_rows = 0;
  std::vector<RowGroup> row_groups;
  std::vector<KeyValue> key_value;
  std::optional<std::string> created_by;
  size_t column_orders = 0;  // written as TYPE_ORDER for every leaf; read only as a count
  bool encrypted = false;    // encryption_algorithm present (a plaintext footer of an encrypted file)
};

struct DataPageHeader {
  int32_t num_values = 0;
  Encoding encoding = Encoding::plain;
  Encoding definition_level_encoding = Encoding::rle;
  Encoding repetition_level_encoding = Encoding::rle;
  std::optional<Statistics> statistics;
};

struct DictionaryPageHeader {
  int32_t num_values = 0;
  Encoding encoding = Encoding::plain;
  bool is_sorted = false;
};

struct DataPageHeaderV2 {
  int32_t num_values = 0;
  int32_t num_nulls = 0;
  int32_t num_rows = 0;
  Encoding encoding = Encoding::plain;
  int32_t definition_levels_byte_length = 0;
  int32_t repetition_levels_byte_length = 0;
  bool is_compressed = true;
  std::optional<Statistics> statistics;
};

struct PageHeader {
  PageType type = PageType::data_page;
  int32_t uncompressed_page_size = 0;
  int32_t compressed_page_size = 0;
  std::optional<int32_t> crc;
  std::optional<DataPageHeader> data_page;
  std::optional<DictionaryPageHeader> dictionary_page;
  std::optional<DataPageHeaderV2> data_page_v2;
};

// Parses a footer (the FileMetaData bytes between the data and the 4-byte length). Throws ParquetError on
// anything malformed, a missing required field, or a count or size past `limits`.
FileMetaData parse_file_metadata(std::string_view bytes, const Limits& limits);

// Parses the page header at the start of `bytes` and returns its length in bytes, or 0 when `bytes` ends
// before the header does (read more and call again). Throws ParquetError on malformed input.
size_t parse_page_header(std::string_view bytes, PageHeader& header, const Limits& limits);

void serialize(const FileMetaData& metadata, std::string& out);  // appends
void serialize(const PageHeader& header, std::string& out);      // appends

const char* type_name(Type type);
std::string encoding_name(Encoding encoding);

}  // namespace sluice::formats::parquet

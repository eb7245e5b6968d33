#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/parquet/error.hpp"

// Thrift's compact protocol, the encoding of every Parquet footer and page header. Hand-written rather than
// generated: the footer is untrusted input, so every length and count is checked against Limits before it sizes
// anything, nesting is bounded, and fields this code does not know are skipped.
namespace sluice::formats::parquet::thrift {

// The compact protocol's type nibbles.
enum class Wire : uint8_t {
  stop = 0,
  bool_true = 1,
  bool_false = 2,
  i8 = 3,
  i16 = 4,
  i32 = 5,
  i64 = 6,
  dbl = 7,
  binary = 8,
  list = 9,
  set = 10,
  map = 11,
  structure = 12,
  uuid = 13,
};

// The input ended inside a value: a page header whose bytes have not all been read yet, or a truncated file.
struct Truncated : ParquetError {
  using ParquetError::ParquetError;
};

struct FieldHeader {
  int16_t id = 0;
  Wire type = Wire::stop;
  bool bool_value = false;  // booleans travel inside the field header
};

struct ListHeader {
  Wire element = Wire::stop;
  size_t size = 0;
};

class Reader {
 public:
  Reader(std::string_view input, const Limits& limits) : in_(input), limits_(limits) {}

  // Struct framing: the field ids inside a struct are deltas from the previous one, so each level keeps its own.
  void begin_struct();
  void end_struct();
  // The next field of the current struct; false at its end (the stop byte is consumed).
  bool next_field(FieldHeader& field);

  int8_t read_i8();
  int16_t read_i16();
  int32_t read_i32();
  int64_t read_i64();
  double read_double();
  std::string read_binary();
  bool read_bool_element();  // a bool inside a list, which has a byte of its own
  // Lists and sets. Every element takes at least one byte (a bool element too), so the size is checked
  // against the bytes left as well as Limits::max_list_elements: a forged count cannot size an allocation.
  ListHeader read_list_header();

  // Skips a value of the given wire type, nested structures included.
  void skip(Wire type, bool bool_value_in_header = true);

  size_t position() const { return pos_; }
  const Limits& limits() const { return limits_; }

 private:
  uint8_t byte();
  uint64_t varint();
  void enter();

  std::string_view in_;
  size_t pos_ = 0;
  const Limits& limits_;
  std::vector<int16_t> last_field_ids_;
};

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void begin_struct();
  void end_struct();  // writes the stop byte
  void field(int16_t id, Wire type);
  void field_bool(int16_t id, bool value);
  void field_i32(int16_t id, int32_t value) { field(id, Wire::i32), write_varint(zigzag(value)); }
  void field_i64(int16_t id, int64_t value) { field(id, Wire::i64), write_varint(zigzag(value)); }
  void field_i16(int16_t id, int16_t value) { field(id, Wire::i16), write_varint(zigzag(value)); }
  void field_i8(int16_t id, int8_t value) { field(id, Wire::i8), out_.push_back(char(value)); }
  void field_binary(int16_t id, std::string_view value) { field(id, Wire::binary), write_binary(value); }
  void list_header(Wire element, size_t size);
  void write_i32(int32_t value) { write_varint(zigzag(value)); }
  void write_i64(int64_t value) { write_varint(zigzag(value)); }
  void write_binary(std::string_view value);
  void write_varint(uint64_t value);

 private:
  static uint64_t zigzag(int64_t v) { return (uint64_t(v) << 1) ^ uint64_t(v >> 63); }

  std::string& out_;
  std::vector<int16_t> last_field_ids_;
};

}  // namespace sluice::formats::parquet::thrift

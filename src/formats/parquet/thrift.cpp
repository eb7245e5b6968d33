#include "formats/parquet/thrift.hpp"

#include <cstring>

namespace sluice::formats::parquet::thrift {

namespace {

int64_t unzigzag(uint64_t v) { return int64_t(v >> 1) ^ -int64_t(v & 1); }

bool is_known(Wire type) { return uint8_t(type) <= uint8_t(Wire::uuid); }

}  // namespace

uint8_t Reader::byte() {
  if (pos_ >= in_.size()) throw Truncated("thrift: input ends at byte " + std::to_string(pos_) + " inside a value");
  return uint8_t(in_[pos_++]);
}

uint64_t Reader::varint() {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    const uint8_t b = byte();
    value |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return value;
  }
  throw ParquetError("thrift: varint at byte " + std::to_string(pos_) + " is longer than 10 bytes");
}

void Reader::enter() {
  if (last_field_ids_.size() >= limits_.max_nesting)
    throw ParquetError("thrift: structures nested deeper than " + std::to_string(limits_.max_nesting));
}

void Reader::begin_struct() {
  enter();
  last_field_ids_.push_back(0);
}

void Reader::end_struct() { last_field_ids_.pop_back(); }

bool Reader::next_field(FieldHeader& field) {
  const uint8_t header = byte();
  field.type = Wire(header & 0x0f);
  if (field.type == Wire::stop) return false;
  if (!is_known(field.type))
    throw ParquetError("thrift: unknown field type " + std::to_string(header & 0x0f) + " at byte " + std::to_string(pos_ - 1));
  const int delta = header >> 4;
  int16_t& last = last_field_ids_.back();
  field.id = delta ? int16_t(last + delta) : read_i16();
  last = field.id;
  if (field.type == Wire::bool_true || field.type == Wire::bool_false) field.bool_value = field.type == Wire::bool_true;
  return true;
}

int8_t Reader::read_i8() { return int8_t(byte()); }

int16_t Reader::read_i16() {
  const int64_t v = unzigzag(varint());
  if (v < INT16_MIN || v > INT16_MAX) throw ParquetError("thrift: i16 out of range at byte " + std::to_string(pos_));
  return int16_t(v);
}

int32_t Reader::read_i32() {
  const int64_t v = unzigzag(varint());
  if (v < INT32_MIN || v > INT32_MAX) throw ParquetError("thrift: i32 out of range at byte " + std::to_string(pos_));
  return int32_t(v);
}

int64_t Reader::read_i64() { return unzigzag(varint()); }

double Reader::read_double() {
  if (in_.size() - pos_ < 8) throw Truncated("thrift: input ends inside a double at byte " + std::to_string(pos_));
  uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) bits |= uint64_t(uint8_t(in_[pos_ + i])) << (8 * i);
  pos_ += 8;
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

std::string Reader::read_binary() {
  const uint64_t size = varint();
  if (size > limits_.max_string_bytes)
    throw ParquetError("thrift: a binary field of " + std::to_string(size) + " bytes at byte " + std::to_string(pos_) +
                       " passes the limit of " + std::to_string(limits_.max_string_bytes));
  if (size > in_.size() - pos_)
    throw Truncated("thrift: a binary field of " + std::to_string(size) + " bytes at byte " + std::to_string(pos_) +
                    " runs past the end of the input");
  std::string value(in_.substr(pos_, size));
  pos_ += size;
  return value;
}

bool Reader::read_bool_element() {
  // The spec says 1 is true and 2 false; some writers put 0 for false.
  const uint8_t b = byte();
  if (b > 2) throw ParquetError("thrift: bool list element " + std::to_string(b) + " at byte " + std::to_string(pos_ - 1));
  return b == 1;
}

ListHeader Reader::read_list_header() {
  const uint8_t header = byte();
  ListHeader list;
  list.element = Wire(header & 0x0f);
  uint64_t size = header >> 4;
  if (size == 15) size = varint();
  if (size > 0 && (list.element == Wire::stop || !is_known(list.element)))
    throw ParquetError("thrift: list of unknown element type " + std::to_string(header & 0x0f) + " at byte " +
                       std::to_string(pos_));
  if (size > limits_.max_list_elements)
    throw ParquetError("thrift: a list of " + std::to_string(size) + " elements at byte " + std::to_string(pos_) +
                       " passes the limit of " + std::to_string(limits_.max_list_elements));
  if (size > in_.size() - pos_)
    throw Truncated("thrift: a list of " + std::to_string(size) + " elements at byte " + std::to_string(pos_) +
                    " cannot fit in the " + std::to_string(in_.size() - pos_) + " bytes left");
  list.size = size_t(size);
  return list;
}

void Reader::skip(Wire type, bool bool_value_in_header) {
  switch (type) {
    case Wire::bool_true:
    case Wire::bool_false:
      if (!bool_value_in_header) read_bool_element();
      return;
    case Wire::i8: byte(); return;
    case Wire::i16:
    case Wire::i32:
    case Wire::i64: varint(); return;
    case Wire::dbl: read_double(); return;
    case Wire::binary: {
      const uint64_t size = varint();
      if (size > in_.size() - pos_) throw Truncated("thrift: skipped binary runs past the end of the input");
      pos_ += size;
      return;
    }
    case Wire::uuid:
      if (in_.size() - pos_ < 16) throw Truncated("thrift: skipped uuid runs past the end of the input");
      pos_ += 16;
      return;
    case Wire::list:
    case Wire::set: {
      const ListHeader list = read_list_header();
      enter();
      last_field_ids_.push_back(0);  // counts depth only; a list has no field ids
      for (size_t i = 0; i < list.size; ++i) skip(list.element, false);
      last_field_ids_.pop_back();
      return;
    }
    case Wire::map: {
      const uint64_t size = varint();
      if (size == 0) return;
      const uint8_t kinds = byte();
      const Wire key = Wire(kinds >> 4), value = Wire(kinds & 0x0f);
      if (!is_known(key) || !is_known(value) || key == Wire::stop || value == Wire::stop)
        throw ParquetError("thrift: map of unknown types at byte " + std::to_string(pos_ - 1));
      if (size > (in_.size() - pos_) / 2) throw Truncated("thrift: skipped map runs past the end of the input");
      enter();
      last_field_ids_.push_back(0);
      for (uint64_t i = 0; i < size; ++i) {
        skip(key, false);
        skip(value, false);
      }
      last_field_ids_.pop_back();
      return;
    }
    case Wire::structure: {
      begin_struct();
      FieldHeader field;
      while (next_field(field)) skip(field.type);
      end_struct();
      return;
    }
    case Wire::stop: break;
  }
  throw ParquetError("thrift: cannot skip a value of type " + std::to_string(int(type)));
}

void Writer::begin_struct() { last_field_ids_.push_back(0); }

void Writer::end_struct() {
  out_.push_back(char(Wire::stop));
  last_field_ids_.pop_back();
}

void Writer::field(int16_t id, Wire type) {
  int16_t& last = last_field_ids_.back();
  const int delta = id - last;
  if (delta > 0 && delta <= 15) {
    out_.push_back(char((delta << 4) | int(type)));
  } else {
    out_.push_back(char(type));
    write_varint(zigzag(id));
  }
  last = id;
}

void Writer::field_bool(int16_t id, bool value) { field(id, value ? Wire::bool_true : Wire::bool_false); }

void Writer::list_header(Wire element, size_t size) {
  if (size < 15) {
    out_.push_back(char((size << 4) | size_t(element)));
  } else {
    out_.push_back(char(0xf0 | int(element)));
    write_varint(size);
  }
}

void Writer::write_binary(std::string_view value) {
  write_varint(value.size());
  out_.append(value);
}

void Writer::write_varint(uint64_t value) {
  while (value >= 0x80) {
    out_.push_back(char(value | 0x80));
    value >>= 7;
  }
  out_.push_back(char(value));
}

}  // namespace sluice::formats::parquet::thrift

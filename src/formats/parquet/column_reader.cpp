#include "formats/parquet/column_reader.hpp"

#include <algorithm>
#include <cstring>

#include "formats/base64.hpp"
#include "formats/json_check.hpp"
#include "formats/parquet/value_text.hpp"

namespace sluice::formats::parquet {

namespace {

// Entries decoded at a time: big enough that per-batch work vanishes, small enough to stay in cache.
constexpr size_t kBatch = 4096;

template <class T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

using Kind = ValueFormat::Kind;

size_t physical_width(Type type, const SchemaElement& e) {
  switch (type) {
    case Type::boolean:
    case Type::byte_array: return 0;
    case Type::int32:
    case Type::float32: return 4;
    case Type::int64:
    case Type::float64: return 8;
    case Type::int96: return 12;
    case Type::fixed_len_byte_array: return size_t(*e.type_length);
  }
  return 0;
}

}  // namespace

ValueFormat value_format(const SchemaNode& leaf, const std::string& where) {
  const SchemaElement& e = leaf.element;
  const Type type = *e.type;
  const LogicalType& l = e.logical;
  using LK = LogicalType::Kind;
  ValueFormat f;
  f.width = physical_width(type, e);
  auto refuse = [&](const std::string& what) -> ValueFormat {
    throw ParquetError(where + ": " + what + " on " + type_name(type) + " is not a valid Parquet column type");
  };
  // The legacy converted type stands in for a logical type the file does not give.
  LK kind = l.kind;
  int32_t scale = l.scale;
  TimeUnit unit = l.unit;
  bool utc = l.adjusted_to_utc;
  bool is_signed = l.is_signed;
  int bit_width = l.bit_width;
  if (kind == LK::none && e.converted) {
    switch (*e.converted) {
      case ConvertedType::utf8: kind = LK::string; break;
      case ConvertedType::enum_: kind = LK::enum_; break;
      case ConvertedType::json: kind = LK::json; break;
      case ConvertedType::bson: kind = LK::bson; break;
      case ConvertedType::decimal: kind = LK::decimal, scale = e.scale.value_or(0); break;
      case ConvertedType::date: kind = LK::date; break;
      case ConvertedType::time_millis: kind = LK::time, unit = TimeUnit::millis, utc = true; break;
      case ConvertedType::time_micros: kind = LK::time, unit = TimeUnit::micros, utc = true; break;
      case ConvertedType::timestamp_millis: kind = LK::timestamp, unit = TimeUnit::millis, utc = true; break;
      case ConvertedType::timestamp_micros: kind = LK::timestamp, unit = TimeUnit::micros, utc = true; break;
      case ConvertedType::uint_8: kind = LK::integer, is_signed = false, bit_width = 8; break;
      case ConvertedType::uint_16: kind = LK::integer, is_signed = false, bit_width = 16; break;
      case ConvertedType::uint_32: kind = LK::integer, is_signed = false, bit_width = 32; break;
      case ConvertedType::uint_64: kind = LK::integer, is_signed = false, bit_width = 64; break;
      case ConvertedType::int_8: kind = LK::integer, bit_width = 8; break;
      case ConvertedType::int_16: kind = LK::integer, bit_width = 16; break;
      case ConvertedType::int_32: kind = LK::integer, bit_width = 32; break;
      case ConvertedType::int_64: kind = LK::integer, bit_width = 64; break;
      case ConvertedType::interval:
        if (type != Type::fixed_len_byte_array || f.width != 12) refuse("INTERVAL");
        f.kind = Kind::interval;
        return f;
      default: break;  // MAP, LIST and MAP_KEY_VALUE annotate groups; a leaf keeps its physical type
    }
  }
  if (scale < 0) throw ParquetError(where + ": negative decimal scale " + std::to_string(scale));
  f.scale = scale;
  f.unit = unit;
  f.utc = utc;
  if (kind == LK::unknown) {
    f.kind = Kind::null_only;
    return f;
  }
  switch (type) {
    case Type::boolean: f.kind = Kind::boolean; return f;
    case Type::int96: f.kind = Kind::int96; return f;
    case Type::float32: f.kind = Kind::float32; return f;
    case Type::float64: f.kind = Kind::float64; return f;
    case Type::int32:
      switch (kind) {
        case LK::integer:
          if (bit_width > 32) refuse("INTEGER(" + std::to_string(bit_width) + ")");
          f.kind = is_signed ? Kind::int32 : Kind::uint32;
          return f;
        case LK::decimal: f.kind = Kind::decimal32; return f;
        case LK::date: f.kind = Kind::date; return f;
        case LK::time:
          if (unit != TimeUnit::millis) refuse("TIME(MICROS|NANOS)");
          f.kind = Kind::time32;
          return f;
        default: f.kind = Kind::int32; return f;
      }
    case Type::int64:
      switch (kind) {
        case LK::integer: f.kind = is_signed ? Kind::int64 : Kind::uint64; return f;
        case LK::decimal: f.kind = Kind::decimal64; return f;
        case LK::time:
          if (unit == TimeUnit::millis) refuse("TIME(MILLIS)");
          f.kind = Kind::time64;
          return f;
        case LK::timestamp: f.kind = Kind::timestamp; return f;
        default: f.kind = Kind::int64; return f;
      }
    case Type::byte_array:
    case Type::fixed_len_byte_array:
      switch (kind) {
        case LK::string:
        case LK::enum_:
        case LK::json: f.kind = Kind::string; return f;
        case LK::decimal: f.kind = Kind::decimal_bytes; return f;
        case LK::uuid:
          if (f.width != 16) refuse("UUID");
          f.kind = Kind::uuid;
          return f;
        case LK::float16:
          if (f.width != 2) refuse("FLOAT16");
          f.kind = Kind::float16;
          return f;
        default: f.kind = Kind::base64; return f;
      }
  }
  throw ParquetError(where + ": unknown physical type");
}

// Decoding state of the current page's values, and the values of the current batch.
struct ColumnReader::Values {
  Encoding encoding = Encoding::plain;
  std::string_view data;
  size_t offset = 0;       // PLAIN: next byte (booleans: next bit); DELTA_*: where the next byte array is
  size_t total = 0;        // BYTE_STREAM_SPLIT: values in the page
  size_t done = 0;         // BYTE_STREAM_SPLIT: values decoded so far
  std::optional<RleDecoder> indices;  // dictionary indices, or RLE booleans
  std::optional<DeltaBinaryPackedDecoder<int32_t>> ints32, lengths, prefixes;
  std::optional<DeltaBinaryPackedDecoder<int64_t>> ints64;
  std::string previous;  // DELTA_BYTE_ARRAY: the value before the batch's first

  // The batch: exactly one of these holds it, by encoding.
  bool dictionary = false;
  bool binary_batch = false;  // in `binary`; else in `fixed`, unless a dictionary's
  const char* fixed = nullptr;  // width bytes per value
  std::string fixed_buffer;
  std::vector<uint32_t> index;
  std::vector<int32_t> lengths_buffer, prefix_buffer;
  std::vector<std::string_view> binary;
  std::string arena;
};

ColumnReader::ColumnReader(int fd, PageReader::Extent extent, const ColumnMetaData& meta, const SchemaNode& leaf,
                           const Limits& limits, std::string where)
    : where_(std::move(where)),
      limits_(limits),
      format_(value_format(leaf, where_)),
      physical_(*leaf.element.type),
      max_def_(leaf.def_level),
      max_rep_(leaf.rep_level),
      def_levels_(leaf.def_level > 0),
      rep_levels_(leaf.rep_level > 0),
      pages_(fd, extent, meta.codec, leaf.rep_level, leaf.def_level, limits, where_),
      values_(std::make_unique<Values>()) {
  if (meta.type != physical_)
    fail(std::string("the column chunk says ") + type_name(meta.type) + ", the schema " + type_name(physical_));
  def_.resize(kBatch);
  rep_.resize(kBatch);
}

ColumnReader::~ColumnReader() = default;

void ColumnReader::fail(const std::string& what) const { throw ParquetError(where_ + ": " + what); }

bool ColumnReader::next_data_page() {
  while (const Page* page = pages_.next()) {
    if (page->header.type == PageType::dictionary_page) {
      load_dictionary(*page);
      continue;
    }
    if (page->num_values == 0) continue;
    page_ = page;
    page_left_ = size_t(page->num_values);
    def_decoder_ = RleDecoder(page->definition, bit_width_for(uint32_t(max_def_)));
    rep_decoder_ = RleDecoder(page->repetition, bit_width_for(uint32_t(max_rep_)));
    start_values(*page);
    return true;
  }
  return false;
}

bool ColumnReader::fill() {
  try {
    return fill_batch();
  } catch (const ParquetError& e) {
    // Decoders and the Thrift reader know the bytes, not the column: say which column and page they were.
    if (std::string_view(e.what()).starts_with(where_)) throw;
    throw ParquetError(where_ + ", page at byte " + std::to_string(pages_.offset()) + ": " + e.what());
  }
}

bool ColumnReader::fill_batch() {
  if (page_left_ == 0 && !next_data_page()) return false;
  const size_t n = std::min(page_left_, kBatch);
  size_t present = n;
  if (def_levels_) {
    def_decoder_.get_exact(def_.data(), n);
    present = 0;
    for (size_t i = 0; i < n; ++i) {
      if (def_[i] > uint32_t(max_def_)) fail("definition level " + std::to_string(def_[i]) + " above the column's maximum");
      present += def_[i] == uint32_t(max_def_);
    }
  }
  if (rep_levels_) {
    rep_decoder_.get_exact(rep_.data(), n);
    for (size_t i = 0; i < n; ++i)
      if (rep_[i] > uint32_t(max_rep_)) fail("repetition level " + std::to_string(rep_[i]) + " above the column's maximum");
  }
  decode_values(present);
  page_left_ -= n;
  count_ = n;
  pos_ = 0;
  value_ = 0;
  return true;
}

void ColumnReader::load_dictionary(const Page& page) {
  if (has_dictionary_) fail("a second dictionary page in one column chunk");
  if (page.encoding != Encoding::plain && page.encoding != Encoding::plain_dictionary)
    fail("a dictionary page in " + encoding_name(page.encoding) + " encoding (only PLAIN is defined)");
  const std::string_view data = page.values;
  const size_t n = size_t(page.num_values);
  dict_text_.clear();
  dict_offsets_.clear();
  dict_offsets_.reserve(std::min(n, data.size()) + 1);
  dict_offsets_.push_back(0);
  auto add = [&](const char* p, size_t size) {
    render(dict_text_, p, size);
    if (dict_text_.size() > UINT32_MAX) fail("dictionary too large to render");
    dict_offsets_.push_back(uint32_t(dict_text_.size()));
  };
  if (physical_ == Type::byte_array) {
    size_t at = 0;
    for (size_t i = 0; i < n; ++i) {
      if (data.size() - at < 4) fail("the dictionary ends before its " + std::to_string(n) + " entries");
      const uint32_t size = load<uint32_t>(data.data() + at);
      if (size > data.size() - at - 4) fail("a dictionary entry runs past the page");
      add(data.data() + at + 4, size);
      at += 4 + size;
    }
  } else if (physical_ == Type::boolean) {
    fail("a dictionary for a BOOLEAN column");
  } else {
    const size_t width = format_.width;
    if (n > data.size() / width) fail("the dictionary ends before its " + std::to_string(n) + " entries");
    for (size_t i = 0; i < n; ++i) add(data.data() + i * width, width);
  }
  has_dictionary_ = true;
}

void ColumnReader::start_values(const Page& page) {
  Values& v = *values_;
  v.encoding = page.encoding;
  v.data = page.values;
  v.offset = 0;
  v.done = 0;
  v.indices.reset();
  v.ints32.reset();
  v.ints64.reset();
  v.lengths.reset();
  v.prefixes.reset();
  v.previous.clear();
  v.dictionary = false;
  streamed_ = page.streamed;
  taken_ = false;
  bool_used_ = 8;
  if (streamed_) {
    if (page.encoding != Encoding::plain) fail("a streamed page in " + encoding_name(page.encoding) + " encoding");
    v.binary_batch = false;
    return;
  }
  const size_t max_values = size_t(page.num_values);
  const bool binary = physical_ == Type::byte_array || physical_ == Type::fixed_len_byte_array;
  switch (page.encoding) {
    case Encoding::plain: return;
    case Encoding::plain_dictionary:
    case Encoding::rle_dictionary: {
      if (!has_dictionary_) fail("dictionary-encoded values without a dictionary page");
      if (v.data.empty()) {  // only nulls: no bit width byte is needed
        v.indices.emplace(std::string_view{}, 0);
      } else {
        const int width = uint8_t(v.data[0]);
        if (width > 32) fail("dictionary index bit width " + std::to_string(width));
        v.indices.emplace(v.data.substr(1), width);
      }
      v.dictionary = true;
      return;
    }
    case Encoding::rle: {
      if (physical_ != Type::boolean) fail("RLE values in a column that is not BOOLEAN");
      if (v.data.size() < 4) fail("RLE booleans without their length");
      const uint32_t length = load<uint32_t>(v.data.data());
      if (length > v.data.size() - 4) fail("RLE booleans longer than the page");
      v.indices.emplace(v.data.substr(4, length), 1);
      return;
    }
    case Encoding::delta_binary_packed:
      if (physical_ == Type::int32) v.ints32.emplace(v.data, max_values);
      else if (physical_ == Type::int64) v.ints64.emplace(v.data, max_values);
      else fail("DELTA_BINARY_PACKED values in a column that is neither INT32 nor INT64");
      return;
    case Encoding::delta_length_byte_array:
      if (physical_ != Type::byte_array) fail("DELTA_LENGTH_BYTE_ARRAY values in a column that is not BYTE_ARRAY");
      v.lengths.emplace(v.data, max_values);
      v.offset = v.lengths->consumed_bytes();
      return;
    case Encoding::delta_byte_array: {
      if (!binary) fail("DELTA_BYTE_ARRAY values in a column that is not BYTE_ARRAY or FIXED_LEN_BYTE_ARRAY");
      v.prefixes.emplace(v.data, max_values);
      const size_t suffixes = v.prefixes->consumed_bytes();
      v.lengths.emplace(v.data.substr(suffixes), max_values);
      v.offset = suffixes + v.lengths->consumed_bytes();
      if (v.lengths->total() != v.prefixes->total()) fail("DELTA_BYTE_ARRAY prefix and suffix counts differ");
      return;
    }
    case Encoding::byte_stream_split: {
      if (format_.width == 0) fail("BYTE_STREAM_SPLIT values in a column without a fixed width");
      if (v.data.size() % format_.width) fail("BYTE_STREAM_SPLIT data is not a whole number of values");
      v.total = v.data.size() / format_.width;
      return;
    }
    default: fail("values in " + encoding_name(page.encoding) + " encoding are not supported");
  }
}

void ColumnReader::decode_values(size_t n) {
  Values& v = *values_;
  if (n == 0 || streamed_) return;
  const size_t width = format_.width;
  v.binary_batch = v.encoding == Encoding::delta_length_byte_array || v.encoding == Encoding::delta_byte_array ||
                   (v.encoding == Encoding::plain && physical_ == Type::byte_array);
  auto need = [&](size_t bytes) {
    if (bytes > v.data.size() - v.offset)
      fail("the page's " + encoding_name(v.encoding) + " values end before its levels say they do");
  };
  switch (v.encoding) {
    case Encoding::plain:
      if (physical_ == Type::boolean) {
        if ((v.offset + n + 7) / 8 > v.data.size()) fail("the page's PLAIN booleans end before its levels say they do");
        v.fixed_buffer.resize(n);
        for (size_t i = 0; i < n; ++i, ++v.offset)
          v.fixed_buffer[i] = char((uint8_t(v.data[v.offset >> 3]) >> (v.offset & 7)) & 1);
        v.fixed = v.fixed_buffer.data();
      } else if (physical_ == Type::byte_array) {
        v.binary.clear();
        for (size_t i = 0; i < n; ++i) {
          need(4);
          const uint32_t size = load<uint32_t>(v.data.data() + v.offset);
          v.offset += 4;
          need(size);
          v.binary.emplace_back(v.data.data() + v.offset, size);
          v.offset += size;
        }
      } else {
        if (n > (v.data.size() - v.offset) / width) need(SIZE_MAX);
        v.fixed = v.data.data() + v.offset;
        v.offset += n * width;
      }
      return;
    case Encoding::plain_dictionary:
    case Encoding::rle_dictionary: {
      v.index.resize(n);
      v.indices->get_exact(v.index.data(), n);
      const uint32_t size = uint32_t(dict_offsets_.size() - 1);
      for (uint32_t i : v.index)
        if (i >= size) fail("dictionary index " + std::to_string(i) + " past the dictionary's " + std::to_string(size) + " entries");
      return;
    }
    case Encoding::rle: {
      v.index.resize(n);
      v.indices->get_exact(v.index.data(), n);
      v.fixed_buffer.resize(n);
      for (size_t i = 0; i < n; ++i) v.fixed_buffer[i] = char(v.index[i] & 1);
      v.fixed = v.fixed_buffer.data();
      return;
    }
    case Encoding::delta_binary_packed: {
      v.fixed_buffer.resize(n * width);
      const size_t got = physical_ == Type::int32
                             ? v.ints32->get(reinterpret_cast<int32_t*>(v.fixed_buffer.data()), n)
                             : v.ints64->get(reinterpret_cast<int64_t*>(v.fixed_buffer.data()), n);
      if (got != n) fail("the page's DELTA_BINARY_PACKED values end before its levels say they do");
      v.fixed = v.fixed_buffer.data();
      return;
    }
    case Encoding::delta_length_byte_array: {
      v.lengths_buffer.resize(n);
      if (v.lengths->get(v.lengths_buffer.data(), n) != n) fail("DELTA_LENGTH_BYTE_ARRAY has fewer lengths than values");
      v.binary.clear();
      for (int32_t size : v.lengths_buffer) {
        if (size < 0) fail("a negative byte array length");
        need(size_t(size));
        v.binary.emplace_back(v.data.data() + v.offset, size_t(size));
        v.offset += size_t(size);
      }
      return;
    }
    case Encoding::delta_byte_array: {
      v.prefix_buffer.resize(n);
      v.lengths_buffer.resize(n);
      if (v.prefixes->get(v.prefix_buffer.data(), n) != n || v.lengths->get(v.lengths_buffer.data(), n) != n)
        fail("DELTA_BYTE_ARRAY has fewer prefixes or suffixes than values");
      // Sizes first, so the arena is sized once and the views into it stay valid.
      size_t total = 0, previous = v.previous.size();
      for (size_t i = 0; i < n; ++i) {
        const int32_t prefix = v.prefix_buffer[i], suffix = v.lengths_buffer[i];
        if (prefix < 0 || suffix < 0) fail("a negative DELTA_BYTE_ARRAY length");
        if (size_t(prefix) > previous) fail("a DELTA_BYTE_ARRAY prefix longer than the value before it");
        previous = size_t(prefix) + size_t(suffix);
        total += previous;
        if (total > limits_.max_page_bytes) fail("DELTA_BYTE_ARRAY values add up to more than the page limit");
      }
      v.arena.resize(total);
      v.binary.clear();
      char* out = v.arena.data();
      std::string_view before = v.previous;
      for (size_t i = 0; i < n; ++i) {
        const size_t prefix = size_t(v.prefix_buffer[i]), suffix = size_t(v.lengths_buffer[i]);
        need(suffix);
        std::memcpy(out, before.data(), prefix);
        std::memcpy(out + prefix, v.data.data() + v.offset, suffix);
        v.offset += suffix;
        before = std::string_view(out, prefix + suffix);
        if (width && before.size() != width) fail("a DELTA_BYTE_ARRAY value of the wrong length for its FIXED_LEN_BYTE_ARRAY");
        v.binary.push_back(before);
        out += prefix + suffix;
      }
      v.previous.assign(before);
      return;
    }
    case Encoding::byte_stream_split: {
      if (n > v.total - v.done) fail("the page's BYTE_STREAM_SPLIT values end before its levels say they do");
      v.fixed_buffer.resize(n * width);
      for (size_t b = 0; b < width; ++b) {
        const char* stream = v.data.data() + b * v.total + v.done;
        for (size_t i = 0; i < n; ++i) v.fixed_buffer[i * width + b] = stream[i];
      }
      v.done += n;
      v.fixed = v.fixed_buffer.data();
      return;
    }
    default: fail("values in " + encoding_name(v.encoding) + " encoding are not supported");
  }
}

std::string_view ColumnReader::take_streamed_value() {
  taken_ = true;
  switch (physical_) {
    case Type::boolean:
      if (bool_used_ == 8) {
        bool_bits_ = uint8_t(pages_.take(1)[0]);
        bool_used_ = 0;
      }
      bool_value_ = char((bool_bits_ >> bool_used_++) & 1);
      return {&bool_value_, 1};
    case Type::byte_array: return pages_.take(load<uint32_t>(pages_.take(4).data()));
    default: return pages_.take(format_.width);
  }
}

// An entry with a value nobody appended still has its value in the stream: step over it.
void ColumnReader::advance_streamed() {
  if (has_value() && !taken_) take_streamed_value();
  taken_ = false;
}

void ColumnReader::append_value(std::string& out) {
  const Values& v = *values_;
  if (streamed_) {
    if (taken_) fail("a value appended twice");
    const std::string_view value = take_streamed_value();
    render(out, value.data(), value.size());
  } else if (v.dictionary) {
    const uint32_t i = v.index[value_];
    out.append(dict_text_, dict_offsets_[i], dict_offsets_[i + 1] - dict_offsets_[i]);
  } else if (v.binary_batch) {
    render(out, v.binary[value_].data(), v.binary[value_].size());
  } else {
    const size_t stride = format_.width ? format_.width : 1;  // booleans: a byte each
    render(out, v.fixed + value_ * stride, format_.width);
  }
}

size_t ColumnReader::render_run(size_t max_entries, std::string& text, std::vector<size_t>& ends, size_t budget) {
  size_t done = 0;
  while (done < max_entries && text.size() < budget && !at_end()) {
    // One column's entries back to back: its batch and dictionary stay in cache, unlike a value of each column in turn.
    const size_t stop = std::min(count_, pos_ + (max_entries - done));
    const size_t from = pos_;
    while (pos_ < stop && text.size() < budget) {
      if (has_value()) append_value(text);
      else text.append("null");
      advance();
      ends.push_back(text.size());
    }
    done += pos_ - from;
  }
  return done;
}

void ColumnReader::render(std::string& out, const char* p, size_t size) const {
  switch (format_.kind) {
    case Kind::null_only: out.append("null"); return;
    case Kind::boolean: out.append(*p ? "true" : "false"); return;
    case Kind::int32: append_int(out, load<int32_t>(p)); return;
    case Kind::uint32: append_uint(out, load<uint32_t>(p)); return;
    case Kind::int64: append_int(out, load<int64_t>(p)); return;
    case Kind::uint64: append_uint(out, load<uint64_t>(p)); return;
    case Kind::float32: append_float(out, load<float>(p)); return;
    case Kind::float64: append_double(out, load<double>(p)); return;
    case Kind::float16: append_float16(out, load<uint16_t>(p)); return;
    case Kind::decimal32: append_decimal(out, int64_t(load<int32_t>(p)), format_.scale); return;
    case Kind::decimal64: append_decimal(out, load<int64_t>(p), format_.scale); return;
    case Kind::decimal_bytes: append_decimal(out, std::string_view(p, size), format_.scale); return;
    case Kind::date: append_date(out, load<int32_t>(p)); return;
    case Kind::time32: append_time(out, load<int32_t>(p), TimeUnit::millis); return;
    case Kind::time64: append_time(out, load<int64_t>(p), format_.unit); return;
    case Kind::timestamp: append_timestamp(out, load<int64_t>(p), format_.unit, format_.utc); return;
    case Kind::int96: append_int96(out, p); return;
    case Kind::string: append_json_string(out, std::string_view(p, size)); return;
    case Kind::base64:
      out.push_back('"');
      append_base64(out, std::string_view(p, size));
      out.push_back('"');
      return;
    case Kind::uuid: append_uuid(out, p); return;
    case Kind::interval: append_interval(out, p); return;
  }
}

}  // namespace sluice::formats::parquet

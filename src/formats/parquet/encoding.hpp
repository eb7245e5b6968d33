#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

// Parquet's value and level encodings (apache/parquet-format Encodings.md), without page framing.
//
// Decoders take untrusted bytes: every read is bounds-checked, and input that breaks the encoding's rules throws
// ParquetError with a message naming the encoding and the problem. Nothing is allocated by a size read from the
// input; counts are bounded by what the caller passes (n, max_values, max_total_bytes). Encoders append to out.
// Encoder misuse that no file could cause (a value wider than the bit width) throws std::invalid_argument.

namespace sluice::formats::parquet {

// Bits needed for the values 0..max_value (0 for 0): the width of levels whose max level is max_value, and of
// dictionary indices into max_value + 1 entries.
int bit_width_for(uint32_t max_value);

// ---- RLE / bit-packing hybrid (RLE = 3): levels, dictionary indices, booleans. Bit widths 0..32.

class RleDecoder {
 public:
  // data holds the runs only (no length prefix). A bit width above 32 throws ParquetError, since for dictionary
  // indices it comes from the page.
  RleDecoder(std::string_view data, int bit_width);

  // Decodes up to n values into out and returns how many: fewer than n only where the data ends, which may be
  // inside a run. A final bit-packed run yields its zero padding too, so callers ask for the count they know.
  size_t get(uint32_t* out, size_t n);
  // As get, but throws ParquetError if the data holds fewer than n values.
  void get_exact(uint32_t* out, size_t n);

 private:
  bool next_run();
  void fill_from_groups(uint32_t* out, size_t n);

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;  // start of the next run's header
  int bit_width_;
  uint32_t max_value_;
  bool literal_ = false;
  size_t run_left_ = 0;  // values of the current run not yet returned, counting those in buf_
  uint32_t value_ = 0;   // the repeated run's value
  size_t group_at_ = 0;  // the bit-packed run's next unread group of 8
  uint32_t buf_[8] = {};
  unsigned buf_pos_ = 8;  // buf_[buf_pos_..8) is an unpacked group's unreturned rest
};

class RleEncoder {
 public:
  explicit RleEncoder(int bit_width);  // 0..32, else std::invalid_argument

  void put(uint32_t v);  // v must fit in the bit width, else std::invalid_argument
  void put_repeated(uint32_t v, size_t count);
  // Appends the encoded runs (no length prefix) to out; the encoder is then empty and can be reused.
  void finish(std::string& out);
  // Bytes finish would append now.
  size_t estimated_size() const;

 private:
  void end_run();
  void push_literal(uint32_t v);
  void flush_literals();
  void write_repeated(uint32_t v, size_t count);

  int bit_width_;
  uint32_t max_value_;
  std::string bytes_;
  // A bit-packed run's header is written once its values are known; 63 groups keep it to one byte, as parquet-mr
  // and Arrow do.
  static constexpr size_t max_literals = 63 * 8;
  uint32_t literals_[max_literals];
  size_t literal_count_ = 0;
  uint32_t run_value_ = 0;
  size_t run_count_ = 0;
};

// DATA_PAGE (v1) levels: a 4-byte little-endian byte length, then the runs. Returns the runs and advances page
// past them. Data page v2 headers carry the level lengths instead, so v2 levels need no helper.
std::string_view take_v1_levels(std::string_view& page);
// Finishes levels and appends them to out in the v1 layout (length prefix, then runs).
void append_v1_levels(RleEncoder& levels, std::string& out);

// ---- BOOLEAN

// PLAIN: bit-packed, least significant bit first. Writes n values of 0 or 1; returns the bytes consumed
// (ceil(n / 8)); throws ParquetError if data is shorter.
size_t decode_plain_booleans(std::string_view data, size_t n, uint8_t* out);
void encode_plain_booleans(const uint8_t* v, size_t n, std::string& out);  // nonzero is true

// RLE: a 4-byte little-endian byte length, then the hybrid at bit width 1 (in both page versions). Returns the
// bytes consumed; throws ParquetError if fewer than n values are there.
size_t decode_rle_booleans(std::string_view data, size_t n, uint8_t* out);
void encode_rle_booleans(const uint8_t* v, size_t n, std::string& out);

// ---- DELTA_BINARY_PACKED (= 5), INT32 and INT64

template <class T>
class DeltaBinaryPackedDecoder {
  static_assert(std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>);

 public:
  // Reads the header; throws ParquetError if it is malformed or counts more than max_values values.
  DeltaBinaryPackedDecoder(std::string_view data, size_t max_values);

  size_t total() const { return total_; }  // the header's value count
  // Decodes up to n values; returns how many (fewer than n only once all total() are out).
  size_t get(T* out, size_t n);
  // Offset just past the last miniblock that holds a value: where the data of DELTA_LENGTH_BYTE_ARRAY and
  // DELTA_BYTE_ARRAY follows. Walks (and checks) the blocks not decoded yet, without changing the decoder.
  size_t consumed_bytes() const;

 private:
  using U = std::make_unsigned_t<T>;
  void next_miniblock();

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;  // just past the current miniblock (or the header or block header before any)
  size_t mini_count_ = 0;
  size_t per_mini_ = 0;
  size_t total_ = 0;
  size_t read_ = 0;
  U last_ = 0;
  U min_delta_ = 0;
  size_t widths_at_ = 0;   // the current block's miniblock bit widths
  size_t mini_index_ = 0;  // next miniblock of the current block; mini_count_ means a block header is next
  size_t mini_left_ = 0;   // values of the current miniblock not yet unpacked (a multiple of 8)
  size_t group_at_ = 0;
  int width_ = 0;
  U buf_[8] = {};
  unsigned buf_pos_ = 8;
};

extern template class DeltaBinaryPackedDecoder<int32_t>;
extern template class DeltaBinaryPackedDecoder<int64_t>;

// Block size 128 with 4 miniblocks of 32, as parquet-mr and Arrow write.
template <class T>
void encode_delta_binary_packed(const T* v, size_t n, std::string& out);
extern template void encode_delta_binary_packed<int32_t>(const int32_t*, size_t, std::string&);
extern template void encode_delta_binary_packed<int64_t>(const int64_t*, size_t, std::string&);

// ---- BYTE_ARRAY encodings. Decoders replace out's contents with n values.

// PLAIN: per value a 4-byte little-endian length, then the bytes. out views data. Returns the bytes consumed.
size_t decode_plain_byte_arrays(std::string_view data, size_t n, std::vector<std::string_view>& out);
void encode_plain_byte_arrays(const std::string_view* v, size_t n, std::string& out);

// DELTA_LENGTH_BYTE_ARRAY (= 6): DELTA_BINARY_PACKED lengths, then the bytes back to back. out views data; the
// header must count exactly n values. Returns the bytes consumed.
size_t decode_delta_length_byte_array(std::string_view data, size_t n, std::vector<std::string_view>& out);
void encode_delta_length_byte_array(const std::string_view* v, size_t n, std::string& out);

// DELTA_BYTE_ARRAY (= 7), for BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY: DELTA_BINARY_PACKED prefix lengths, then the
// suffixes as DELTA_LENGTH_BYTE_ARRAY. Values are rebuilt into arena (replaced) and out views it. Values share
// prefixes, so their total size can dwarf the input: more than max_total_bytes throws ParquetError.
// FIXED_LEN_BYTE_ARRAY callers check each value's length.
void decode_delta_byte_array(std::string_view data, size_t n, size_t max_total_bytes, std::string& arena,
                             std::vector<std::string_view>& out);
void encode_delta_byte_array(const std::string_view* v, size_t n, std::string& out);

// ---- BYTE_STREAM_SPLIT (= 9): width is the element size (2, 4, 8, or a FIXED_LEN_BYTE_ARRAY's length). out
// receives n * width bytes in plain (little-endian) layout. data must be exactly n * width bytes.
void decode_byte_stream_split(std::string_view data, size_t width, size_t n, char* out);
void encode_byte_stream_split(const char* in, size_t width, size_t n, std::string& out);

}  // namespace sluice::formats::parquet

// The byte-oriented encodings: PLAIN BYTE_ARRAY, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT.
// The bit-packed ones (RLE hybrid, booleans, DELTA_BINARY_PACKED) are in encoding_bits.cpp.
#include <algorithm>
#include <bit>
#include <cstring>
#include <iterator>
#include <limits>

#include "formats/parquet/encoding.hpp"
#include "formats/parquet/little_endian.hpp"
#include "formats/parquet/error.hpp"

namespace sluice::formats::parquet {
namespace {

// BYTE_ARRAY lengths are int32 in every encoding (PLAIN's 4 bytes, the DELTA_BINARY_PACKED INT32 lengths).
constexpr size_t max_length = size_t(std::numeric_limits<int32_t>::max());


void check_writable(std::string_view v, const char* encoding) {
  if (v.size() > max_length)
    throw ParquetError(std::string(encoding) + ": a value of " + std::to_string(v.size()) +
                       " bytes exceeds the 2^31-1 byte limit");
}

template <size_t K>
void unsplit(const char* in, size_t n, char* out) {
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < K; ++k) out[i * K + k] = in[k * n + i];
}

template <size_t K>
void split(const char* in, size_t n, char* out) {
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < K; ++k) out[k * n + i] = in[i * K + k];
}

}  // namespace

// ---- PLAIN BYTE_ARRAY

size_t decode_plain_byte_arrays(std::string_view data, size_t n, std::vector<std::string_view>& out) {
  out.clear();
  // Each value takes at least its 4-byte length, which bounds n before anything is sized by it.
  if (n > data.size() / 4)
    throw ParquetError("PLAIN BYTE_ARRAY: " + std::to_string(n) + " values cannot fit in " +
                       std::to_string(data.size()) + " bytes");
  out.resize(n);
  size_t pos = 0;
  for (size_t i = 0; i < n; ++i) {
    if (data.size() - pos < 4)
      throw ParquetError("PLAIN BYTE_ARRAY: data ends inside the length of value " + std::to_string(i));
    const uint32_t len = load_le32(data.data() + pos);
    pos += 4;
    if (len > max_length)
      throw ParquetError("PLAIN BYTE_ARRAY: value " + std::to_string(i) + " has negative length " +
                         std::to_string(int32_t(len)));
    if (len > data.size() - pos)
      throw ParquetError("PLAIN BYTE_ARRAY: value " + std::to_string(i) + " of " + std::to_string(len) +
                         " bytes runs past the data's end");
    out[i] = data.substr(pos, len);
    pos += len;
  }
  return pos;
}

void encode_plain_byte_arrays(const std::string_view* v, size_t n, std::string& out) {
  for (size_t i = 0; i < n; ++i) {
    check_writable(v[i], "PLAIN BYTE_ARRAY");
    append_le32(out, uint32_t(v[i].size()));
    out += v[i];
  }
}

// ---- DELTA_LENGTH_BYTE_ARRAY

size_t decode_delta_length_byte_array(std::string_view data, size_t n, std::vector<std::string_view>& out) {
  out.clear();
  DeltaBinaryPackedDecoder<int32_t> lengths(data, n);
  if (lengths.total() != n)
    throw ParquetError("DELTA_LENGTH_BYTE_ARRAY: header counts " + std::to_string(lengths.total()) +
                       " lengths, expected " + std::to_string(n));
  out.resize(n);
  // First pass: out holds views of the right lengths at data's start (each fits, as the running total is checked),
  // since where the bytes start is known only once all lengths are decoded.
  int32_t buf[512];
  size_t total = 0;
  for (size_t done = 0; done < n;) {
    const size_t got = lengths.get(buf, std::min(n - done, std::size(buf)));
    for (size_t i = 0; i < got; ++i) {
      if (buf[i] < 0)
        throw ParquetError("DELTA_LENGTH_BYTE_ARRAY: value " + std::to_string(done + i) + " has negative length " +
                           std::to_string(buf[i]));
      total += size_t(buf[i]);
      if (total > data.size())
        throw ParquetError("DELTA_LENGTH_BYTE_ARRAY: lengths add up past the data's " + std::to_string(data.size()) +
                           " bytes");
      out[done + i] = data.substr(0, size_t(buf[i]));
    }
    done += got;
  }
  const size_t start = lengths.consumed_bytes();
  if (total > data.size() - start)
    throw ParquetError("DELTA_LENGTH_BYTE_ARRAY: values of " + std::to_string(total) + " bytes run past the " +
                       std::to_string(data.size() - start) + " bytes after the lengths");
  const char* p = data.data() + start;
  for (auto& v : out) {
    v = std::string_view(p, v.size());
    p += v.size();
  }
  return start + total;
}

void encode_delta_length_byte_array(const std::string_view* v, size_t n, std::string& out) {
  std::vector<int32_t> lengths(n);
  for (size_t i = 0; i < n; ++i) {
    check_writable(v[i], "DELTA_LENGTH_BYTE_ARRAY");
    lengths[i] = int32_t(v[i].size());
  }
  encode_delta_binary_packed(lengths.data(), n, out);
  for (size_t i = 0; i < n; ++i) out += v[i];
}

// ---- DELTA_BYTE_ARRAY

void decode_delta_byte_array(std::string_view data, size_t n, size_t max_total_bytes, std::string& arena,
                             std::vector<std::string_view>& out) {
  DeltaBinaryPackedDecoder<int32_t> prefix_decoder(data, n);
  if (prefix_decoder.total() != n)
    throw ParquetError("DELTA_BYTE_ARRAY: header counts " + std::to_string(prefix_decoder.total()) +
                       " prefix lengths, expected " + std::to_string(n));
  const size_t suffixes_at = prefix_decoder.consumed_bytes();
  decode_delta_length_byte_array(data.substr(suffixes_at), n, out);
  std::vector<int32_t> prefixes(n);
  prefix_decoder.get(prefixes.data(), n);
  // Sizes first, so arena is sized once and the views into it stay valid.
  size_t total = 0, previous = 0;
  for (size_t i = 0; i < n; ++i) {
    // A value shares a prefix of the one before it (the first has none before it).
    if (prefixes[i] < 0 || size_t(prefixes[i]) > previous)
      throw ParquetError("DELTA_BYTE_ARRAY: value " + std::to_string(i) + " has prefix length " +
                         std::to_string(prefixes[i]) + " but the previous value has " + std::to_string(previous) +
                         " bytes");
    previous = size_t(prefixes[i]) + out[i].size();
    if (previous > max_total_bytes - total)
      throw ParquetError("DELTA_BYTE_ARRAY: values add up to more than the " + std::to_string(max_total_bytes) +
                         " bytes allowed");
    total += previous;
  }
  arena.clear();
  arena.resize(total);
  char* p = arena.data();
  const char* prev = p;
  for (size_t i = 0; i < n; ++i) {
    const size_t prefix = size_t(prefixes[i]);
    std::memcpy(p, prev, prefix);
    std::memcpy(p + prefix, out[i].data(), out[i].size());
    out[i] = std::string_view(p, prefix + out[i].size());
    prev = p;
    p += out[i].size();
  }
}

void encode_delta_byte_array(const std::string_view* v, size_t n, std::string& out) {
  std::vector<int32_t> prefixes(n);
  std::vector<std::string_view> suffixes(n);
  std::string_view previous;
  for (size_t i = 0; i < n; ++i) {
    check_writable(v[i], "DELTA_BYTE_ARRAY");
    const size_t limit = std::min(previous.size(), v[i].size());
    const size_t prefix =
        size_t(std::mismatch(v[i].begin(), v[i].begin() + limit, previous.begin()).first - v[i].begin());
    prefixes[i] = int32_t(prefix);
    suffixes[i] = v[i].substr(prefix);
    previous = v[i];
  }
  encode_delta_binary_packed(prefixes.data(), n, out);
  encode_delta_length_byte_array(suffixes.data(), n, out);
}

// ---- BYTE_STREAM_SPLIT

void decode_byte_stream_split(std::string_view data, size_t width, size_t n, char* out) {
  if (width == 0) throw ParquetError("BYTE_STREAM_SPLIT: element width must be positive");
  // The streams fill the page exactly: the spec allows no padding.
  if (n > data.size() / width || data.size() != n * width)
    throw ParquetError("BYTE_STREAM_SPLIT: " + std::to_string(data.size()) + " bytes are not " + std::to_string(n) +
                       " values of " + std::to_string(width) + " bytes");
  switch (width) {
    case 2:
      return unsplit<2>(data.data(), n, out);
    case 4:
      return unsplit<4>(data.data(), n, out);
    case 8:
      return unsplit<8>(data.data(), n, out);
    default:
      for (size_t k = 0; k < width; ++k)
        for (size_t i = 0; i < n; ++i) out[i * width + k] = data[k * n + i];
  }
}

void encode_byte_stream_split(const char* in, size_t width, size_t n, std::string& out) {
  const size_t old = out.size();
  out.resize(old + n * width);
  char* o = out.data() + old;
  switch (width) {
    case 2:
      return split<2>(in, n, o);
    case 4:
      return split<4>(in, n, o);
    case 8:
      return split<8>(in, n, o);
    default:
      for (size_t k = 0; k < width; ++k)
        for (size_t i = 0; i < n; ++i) o[k * n + i] = in[i * width + k];
  }
}

}  // namespace sluice::formats::parquet

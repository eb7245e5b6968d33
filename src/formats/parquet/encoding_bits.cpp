// The bit-packed encodings: the RLE / bit-packing hybrid, booleans and DELTA_BINARY_PACKED. The byte-oriented
// ones are in encoding_bytes.cpp.
#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <utility>

#include "formats/parquet/encoding.hpp"
#include "formats/parquet/little_endian.hpp"
#include "formats/parquet/error.hpp"

namespace sluice::formats::parquet {
namespace {

// ---- Little-endian loads and stores

uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

void store_le64(uint8_t* p, uint64_t v) {
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}


// ---- ULEB128 and zigzag (Encodings.md: varint-encode, and DELTA_BINARY_PACKED's header)

enum class Varint { ok, truncated };

// Reads a ULEB128 at pos. A 64-bit value takes at most 10 bytes; anything longer or larger is malformed.
Varint read_uleb(const uint8_t* p, size_t size, size_t& pos, uint64_t& out, const char* encoding) {
  uint64_t v = 0;
  for (int i = 0; i < 10; ++i) {
    if (pos >= size) return Varint::truncated;
    const uint8_t b = p[pos++];
    if (i == 9 && b > 1) throw ParquetError(std::string(encoding) + ": varint exceeds 64 bits");
    v |= uint64_t(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      out = v;
      return Varint::ok;
    }
  }
  throw ParquetError(std::string(encoding) + ": varint longer than 10 bytes");
}

uint64_t must_read_uleb(const uint8_t* p, size_t size, size_t& pos, const char* encoding, const char* field) {
  uint64_t v = 0;
  if (read_uleb(p, size, pos, v, encoding) == Varint::truncated)
    throw ParquetError(std::string(encoding) + ": data ends inside the " + field);
  return v;
}

void append_uleb(std::string& out, uint64_t v) {
  char b[10];
  int n = 0;
  while (v >= 0x80) {
    b[n++] = char(v | 0x80);
    v >>= 7;
  }
  b[n++] = char(v);
  out.append(b, n);
}

size_t uleb_size(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

// In the unsigned domain, so that INT64_MIN needs no special case.
uint64_t zigzag_decode(uint64_t u) { return (u >> 1) ^ (0 - (u & 1)); }
uint64_t zigzag_encode(int64_t v) { return (uint64_t(v) << 1) ^ (v < 0 ? ~uint64_t(0) : 0); }

// ---- Bit unpacking: groups of 8 values, the unit of both the hybrid's bit-packed runs and (as 32 = 4 x 8)
// DELTA_BINARY_PACKED's miniblocks. Values are packed from each byte's least significant bit up, so on a
// little-endian load value i is at bit i * W of the group.

template <class U, int W, size_t I>
inline U extract(const uint8_t* in) {
  constexpr size_t bit = I * W;
  constexpr int shift = bit % 8;
  uint64_t word = load_le64(in + bit / 8) >> shift;
  if constexpr (W + shift > 64) word |= uint64_t(in[bit / 8 + 8]) << (64 - shift);
  if constexpr (W < 64) word &= (uint64_t(1) << W) - 1;
  return static_cast<U>(word);
}

template <class U, int W, size_t... I>
inline void unpack8(const uint8_t* in, U* out, std::index_sequence<I...>) {
  ((out[I] = extract<U, W, I>(in)), ...);
}

// Reads up to W + 8 bytes from each group's start (the group itself is W bytes).
template <class U, int W>
void unpack_groups(const uint8_t* in, U* out, size_t groups) {
  for (size_t g = 0; g < groups; ++g, in += W, out += 8) {
    if constexpr (W == 0) {
      std::fill(out, out + 8, U(0));
    } else {
      unpack8<U, W>(in, out, std::make_index_sequence<8>{});
    }
  }
}

template <class U>
using UnpackFn = void (*)(const uint8_t*, U*, size_t);

template <class U, size_t... W>
constexpr std::array<UnpackFn<U>, sizeof...(W)> unpack_table(std::index_sequence<W...>) {
  return {&unpack_groups<U, int(W)>...};
}

template <class U>
constexpr auto unpackers = unpack_table<U>(std::make_index_sequence<sizeof(U) * 8 + 1>{});

// Unpacks groups of 8 values of the given width from in, reading nothing at or past in + in_bytes; bits past
// the end read as zero. Groups with their over-read in bounds take the fast path.
template <class U>
void unpack(const uint8_t* in, size_t in_bytes, int width, U* out, size_t groups) {
  const UnpackFn<U> fn = unpackers<U>[width];
  const size_t w = size_t(width);
  size_t fast = groups;
  if (w > 0) fast = in_bytes >= w + 8 ? std::min(groups, (in_bytes - w - 8) / w + 1) : 0;
  fn(in, out, fast);
  for (size_t g = fast; g < groups; ++g) {
    uint8_t tmp[64 + 8] = {};
    const size_t at = g * w;
    if (at < in_bytes) std::memcpy(tmp, in + at, std::min(w, in_bytes - at));
    fn(tmp, out + g * 8, 1);
  }
}

// Packs count values (a multiple of 8, each fitting in width bits) after out's end.
template <class U>
void pack(const U* v, size_t count, int width, std::string& out) {
  if (width == 0) return;
  const size_t old = out.size();
  out.resize(old + count / 8 * size_t(width));
  uint8_t* p = reinterpret_cast<uint8_t*>(out.data()) + old;
  uint64_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < count; ++i) {
    const uint64_t x = v[i];
    acc |= x << bits;
    bits += width;
    if (bits >= 64) {
      store_le64(p, acc);
      p += 8;
      bits -= 64;
      acc = bits ? x >> (width - bits) : 0;
    }
  }
  for (; bits > 0; bits -= 8, acc >>= 8) *p++ = uint8_t(acc);
}

uint32_t max_for_width(int bit_width) { return bit_width == 32 ? ~uint32_t(0) : (uint32_t(1) << bit_width) - 1; }

// Run lengths must fit a signed 32-bit integer (Encodings.md, RLE note 3).
constexpr uint64_t max_run = (uint64_t(1) << 31) - 1;

std::string_view take_length_prefixed(std::string_view& data, const char* what) {
  if (data.size() < 4) throw ParquetError(std::string(what) + ": data ends inside the 4-byte length");
  const uint32_t len = load_le32(data.data());
  if (len > data.size() - 4)
    throw ParquetError(std::string(what) + ": length " + std::to_string(len) + " exceeds the " +
                       std::to_string(data.size() - 4) + " bytes that follow");
  const std::string_view body = data.substr(4, len);
  data.remove_prefix(4 + size_t(len));
  return body;
}

// Each byte spread to 8 bytes of 0 or 1, least significant bit first.
constexpr std::array<uint64_t, 256> byte_to_bools = [] {
  std::array<uint64_t, 256> t{};
  for (unsigned b = 0; b < 256; ++b)
    for (unsigned i = 0; i < 8; ++i) t[b] |= uint64_t((b >> i) & 1) << (8 * i);
  return t;
}();

}  // namespace

int bit_width_for(uint32_t max_value) { return std::bit_width(max_value); }

// ---- RleDecoder

RleDecoder::RleDecoder(std::string_view data, int bit_width)
    : data_(reinterpret_cast<const uint8_t*>(data.data())), size_(data.size()), bit_width_(bit_width) {
  if (bit_width < 0 || bit_width > 32)
    throw ParquetError("RLE/bit-packed hybrid: bit width " + std::to_string(bit_width) + " is not in 0..32");
  max_value_ = max_for_width(bit_width);
}

bool RleDecoder::next_run() {
  uint64_t header = 0;
  if (read_uleb(data_, size_, pos_, header, "RLE/bit-packed hybrid") == Varint::truncated) {
    pos_ = size_;
    return false;
  }
  const uint64_t count = header >> 1;
  literal_ = header & 1;
  if (literal_) {
    // Counted in groups of 8.
    if (count == 0 || count > max_run / 8)
      throw ParquetError("RLE/bit-packed hybrid: bit-packed run of " + std::to_string(count) +
                         " groups is outside 1.." + std::to_string(max_run / 8));
    const size_t bytes = size_t(count) * size_t(bit_width_);
    size_t values = size_t(count) * 8;
    // Data may end inside the run: only the values whose bits are all there count.
    if (bytes > size_ - pos_) values = (size_ - pos_) * 8 / size_t(bit_width_);
    group_at_ = pos_;
    pos_ += std::min(bytes, size_ - pos_);
    buf_pos_ = 8;
    run_left_ = values;
    return values > 0;
  }
  if (count == 0 || count > max_run)
    throw ParquetError("RLE/bit-packed hybrid: repeated run of " + std::to_string(count) + " values is outside 1.." +
                       std::to_string(max_run));
  const size_t value_bytes = size_t(bit_width_ + 7) / 8;
  if (value_bytes > size_ - pos_) {
    pos_ = size_;
    return false;
  }
  uint32_t v = 0;
  for (size_t i = 0; i < value_bytes; ++i) v |= uint32_t(data_[pos_ + i]) << (8 * i);
  pos_ += value_bytes;
  if (v > max_value_)
    throw ParquetError("RLE/bit-packed hybrid: repeated value " + std::to_string(v) + " does not fit in " +
                       std::to_string(bit_width_) + " bits");
  value_ = v;
  run_left_ = size_t(count);
  return true;
}

// Serves n (<= run_left_) values of the current bit-packed run.
void RleDecoder::fill_from_groups(uint32_t* out, size_t n) {
  while (n > 0 && buf_pos_ < 8) {
    *out++ = buf_[buf_pos_++];
    --n;
  }
  const size_t groups = n / 8;
  const size_t w = size_t(bit_width_);
  if (groups > 0) {
    unpack(data_ + group_at_, size_ - group_at_, bit_width_, out, groups);
    group_at_ = std::min(size_, group_at_ + groups * w);
    out += groups * 8;
    n -= groups * 8;
  }
  if (n > 0) {
    unpack(data_ + group_at_, size_ - group_at_, bit_width_, buf_, 1);
    group_at_ = std::min(size_, group_at_ + w);
    std::copy(buf_, buf_ + n, out);
    buf_pos_ = unsigned(n);
  }
}

size_t RleDecoder::get(uint32_t* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    if (run_left_ == 0 && !next_run()) break;
    const size_t take = std::min(n - got, run_left_);
    if (literal_) {
      fill_from_groups(out + got, take);
    } else {
      std::fill(out + got, out + got + take, value_);
    }
    run_left_ -= take;
    got += take;
  }
  return got;
}

void RleDecoder::get_exact(uint32_t* out, size_t n) {
  const size_t got = get(out, n);
  if (got < n)
    throw ParquetError("RLE/bit-packed hybrid: data ends after " + std::to_string(got) + " of " + std::to_string(n) +
                       " values");
}

// ---- RleEncoder

RleEncoder::RleEncoder(int bit_width) : bit_width_(bit_width) {
  if (bit_width < 0 || bit_width > 32) throw std::invalid_argument("RleEncoder: bit width must be in 0..32");
  max_value_ = max_for_width(bit_width);
}

void RleEncoder::put(uint32_t v) {
  if (run_count_ > 0 && v == run_value_) {
    ++run_count_;
    return;
  }
  put_repeated(v, 1);
}

void RleEncoder::put_repeated(uint32_t v, size_t count) {
  if (v > max_value_) throw std::invalid_argument("RleEncoder: value " + std::to_string(v) + " exceeds the bit width");
  if (count == 0) return;
  if (run_count_ > 0 && v == run_value_) {
    run_count_ += count;
    return;
  }
  if (run_count_ > 0) end_run();
  run_value_ = v;
  run_count_ = count;
}

void RleEncoder::push_literal(uint32_t v) {
  literals_[literal_count_++] = v;
  if (literal_count_ == max_literals) flush_literals();
}

void RleEncoder::end_run() {
  size_t count = std::exchange(run_count_, 0);
  // A bit-packed run holds whole groups of 8, so a repeated run can start only at a group boundary: the run's
  // first values complete the open group.
  while (count > 0 && literal_count_ % 8 != 0) {
    push_literal(run_value_);
    --count;
  }
  if (count >= 8) {
    flush_literals();
    write_repeated(run_value_, count);
  } else {
    for (; count > 0; --count) push_literal(run_value_);
  }
}

void RleEncoder::flush_literals() {
  if (literal_count_ == 0) return;
  append_uleb(bytes_, (literal_count_ / 8) << 1 | 1);
  pack(literals_, literal_count_, bit_width_, bytes_);
  literal_count_ = 0;
}

void RleEncoder::write_repeated(uint32_t v, size_t count) {
  const size_t value_bytes = size_t(bit_width_ + 7) / 8;
  while (count > 0) {
    const size_t len = std::min<size_t>(count, max_run);
    append_uleb(bytes_, uint64_t(len) << 1);
    for (size_t i = 0; i < value_bytes; ++i) bytes_.push_back(char(v >> (8 * i)));
    count -= len;
  }
}

void RleEncoder::finish(std::string& out) {
  if (run_count_ > 0) end_run();
  // The last group is padded with zeros; the reader knows the real count from the page.
  while (literal_count_ % 8 != 0) literals_[literal_count_++] = 0;
  flush_literals();
  out += bytes_;
  bytes_.clear();
}

size_t RleEncoder::estimated_size() const {
  // What end_run and finish would do with the pending values.
  const size_t w = size_t(bit_width_);
  size_t size = bytes_.size();
  size_t literals = literal_count_;
  size_t run = run_count_;
  const size_t align = std::min(run, (8 - literals % 8) % 8);
  literals += align;
  run -= align;
  if (run >= 8) {
    for (; run > 0; run -= std::min<size_t>(run, max_run))
      size += uleb_size(std::min<size_t>(run, max_run) << 1) + (w + 7) / 8;
  } else {
    literals += run;
  }
  const size_t groups = (literals + 7) / 8;
  return size + groups * w + (groups + 62) / 63;
}

std::string_view take_v1_levels(std::string_view& page) { return take_length_prefixed(page, "DATA_PAGE v1 levels"); }

void append_v1_levels(RleEncoder& levels, std::string& out) {
  const size_t at = out.size();
  append_le32(out, 0);
  levels.finish(out);
  const size_t len = out.size() - at - 4;
  if (len > std::numeric_limits<uint32_t>::max()) throw ParquetError("DATA_PAGE v1 levels: more than 4 GiB");
  for (size_t i = 0; i < 4; ++i) out[at + i] = char(len >> (8 * i));
}

// ---- Booleans

size_t decode_plain_booleans(std::string_view data, size_t n, uint8_t* out) {
  const size_t bytes = n / 8 + (n % 8 != 0);
  if (data.size() < bytes)
    throw ParquetError("PLAIN BOOLEAN: " + std::to_string(n) + " values need " + std::to_string(bytes) +
                       " bytes, have " + std::to_string(data.size()));
  const auto* in = reinterpret_cast<const uint8_t*>(data.data());
  for (size_t i = 0; i < n / 8; ++i) store_le64(out + 8 * i, byte_to_bools[in[i]]);
  for (size_t i = n / 8 * 8; i < n; ++i) out[i] = (in[i / 8] >> (i % 8)) & 1;
  return bytes;
}

void encode_plain_booleans(const uint8_t* v, size_t n, std::string& out) {
  for (size_t i = 0; i < n; i += 8) {
    uint8_t b = 0;
    for (size_t j = 0; j < 8 && i + j < n; ++j) b |= uint8_t(v[i + j] != 0) << j;
    out.push_back(char(b));
  }
}

size_t decode_rle_booleans(std::string_view data, size_t n, uint8_t* out) {
  std::string_view rest = data;
  RleDecoder decoder(take_length_prefixed(rest, "RLE BOOLEAN"), 1);
  uint32_t buf[1024];
  for (size_t done = 0; done < n;) {
    const size_t want = std::min(n - done, std::size(buf));
    const size_t got = decoder.get(buf, want);
    for (size_t i = 0; i < got; ++i) out[done + i] = uint8_t(buf[i]);
    done += got;
    if (got < want)
      throw ParquetError("RLE BOOLEAN: data ends after " + std::to_string(done) + " of " + std::to_string(n) +
                         " values");
  }
  return data.size() - rest.size();
}

void encode_rle_booleans(const uint8_t* v, size_t n, std::string& out) {
  RleEncoder encoder(1);
  for (size_t i = 0; i < n; ++i) encoder.put(v[i] != 0);
  append_v1_levels(encoder, out);
}

// ---- DELTA_BINARY_PACKED

template <class T>
DeltaBinaryPackedDecoder<T>::DeltaBinaryPackedDecoder(std::string_view data, size_t max_values)
    : data_(reinterpret_cast<const uint8_t*>(data.data())), size_(data.size()) {
  constexpr const char* enc = "DELTA_BINARY_PACKED";
  constexpr uint64_t u32_max = std::numeric_limits<uint32_t>::max();
  const uint64_t block_size = must_read_uleb(data_, size_, pos_, enc, "block size");
  const uint64_t mini_count = must_read_uleb(data_, size_, pos_, enc, "miniblock count");
  const uint64_t total = must_read_uleb(data_, size_, pos_, enc, "value count");
  const uint64_t first = zigzag_decode(must_read_uleb(data_, size_, pos_, enc, "first value"));
  if (block_size == 0 || block_size % 128 != 0 || block_size > u32_max)
    throw ParquetError("DELTA_BINARY_PACKED: block size " + std::to_string(block_size) +
                       " is not a positive multiple of 128");
  if (mini_count == 0 || block_size % mini_count != 0 || (block_size / mini_count) % 32 != 0)
    throw ParquetError("DELTA_BINARY_PACKED: " + std::to_string(mini_count) + " miniblocks per block of " +
                       std::to_string(block_size) + " do not hold a multiple of 32 values each");
  if (total > max_values)
    throw ParquetError("DELTA_BINARY_PACKED: header counts " + std::to_string(total) + " values, more than the " +
                       std::to_string(max_values) + " expected");
  if (std::is_same_v<T, int32_t> && int64_t(first) != int64_t(int32_t(first)))
    throw ParquetError("DELTA_BINARY_PACKED: first value " + std::to_string(int64_t(first)) + " does not fit in INT32");
  mini_count_ = size_t(mini_count);
  per_mini_ = size_t(block_size / mini_count);
  total_ = size_t(total);
  last_ = U(first);
  mini_index_ = mini_count_;
}

template <class T>
void DeltaBinaryPackedDecoder<T>::next_miniblock() {
  if (mini_index_ == mini_count_) {
    // A min delta outside T's range still wraps to the right values, since decoding adds modulo 2^bits.
    min_delta_ = U(zigzag_decode(must_read_uleb(data_, size_, pos_, "DELTA_BINARY_PACKED", "block's min delta")));
    if (mini_count_ > size_ - pos_)
      throw ParquetError("DELTA_BINARY_PACKED: data ends inside a block's miniblock bit widths");
    widths_at_ = pos_;
    pos_ += mini_count_;
    mini_index_ = 0;
  }
  // Only the widths of miniblocks that hold values are checked: the spec lets the rest be arbitrary.
  width_ = data_[widths_at_ + mini_index_++];
  if (width_ > int(sizeof(T) * 8))
    throw ParquetError("DELTA_BINARY_PACKED: miniblock bit width " + std::to_string(width_) + " exceeds " +
                       std::to_string(sizeof(T) * 8));
  // Every miniblock holding a value is whole: the last is padded to full size.
  const size_t bytes = per_mini_ / 8 * size_t(width_);
  if (bytes > size_ - pos_) throw ParquetError("DELTA_BINARY_PACKED: data ends inside a miniblock");
  group_at_ = pos_;
  pos_ += bytes;
  mini_left_ = per_mini_;
}

template <class T>
size_t DeltaBinaryPackedDecoder<T>::get(T* out_signed, size_t n) {
  // Unsigned arithmetic wraps, as the spec requires of deltas that overflow.
  U* out = reinterpret_cast<U*>(out_signed);
  n = std::min(n, total_ - read_);
  size_t got = 0;
  if (n > 0 && read_ == 0) out[got++] = last_;
  U acc = last_;
  U min_delta = min_delta_;
  while (got < n) {
    if (buf_pos_ < 8) {
      const size_t take = std::min<size_t>(8 - buf_pos_, n - got);
      for (size_t i = 0; i < take; ++i) out[got + i] = acc += min_delta + buf_[buf_pos_ + i];
      buf_pos_ += unsigned(take);
      got += take;
      continue;
    }
    if (mini_left_ == 0) {
      next_miniblock();
      min_delta = min_delta_;
    }
    const size_t groups = std::min(n - got, mini_left_) / 8;
    if (groups == 0) {
      unpack(data_ + group_at_, size_ - group_at_, width_, buf_, 1);
      group_at_ += size_t(width_);
      mini_left_ -= 8;
      buf_pos_ = 0;
      continue;
    }
    U* o = out + got;
    unpack(data_ + group_at_, size_ - group_at_, width_, o, groups);
    for (size_t i = 0; i < groups * 8; ++i) o[i] = acc += min_delta + o[i];
    group_at_ += groups * size_t(width_);
    mini_left_ -= groups * 8;
    got += groups * 8;
  }
  last_ = acc;
  read_ += got;
  return got;
}

template <class T>
size_t DeltaBinaryPackedDecoder<T>::consumed_bytes() const {
  DeltaBinaryPackedDecoder walker = *this;
  size_t left = total_ - read_;
  if (read_ == 0 && left > 0) --left;  // the first value lives in the header
  left -= std::min<size_t>(left, 8 - buf_pos_);
  left -= std::min(left, mini_left_);
  while (left > 0) {
    walker.next_miniblock();
    left -= std::min(left, walker.per_mini_);
  }
  return walker.pos_;
}

template class DeltaBinaryPackedDecoder<int32_t>;
template class DeltaBinaryPackedDecoder<int64_t>;

template <class T>
void encode_delta_binary_packed(const T* v, size_t n, std::string& out) {
  using U = std::make_unsigned_t<T>;
  constexpr size_t block = 128, minis = 4, per_mini = block / minis;
  append_uleb(out, block);
  append_uleb(out, minis);
  append_uleb(out, n);
  append_uleb(out, zigzag_encode(n > 0 ? v[0] : 0));
  U deltas[block];
  for (size_t start = 1; start < n; start += block) {
    const size_t count = std::min(block, n - start);
    T min_delta = std::numeric_limits<T>::max();
    for (size_t i = 0; i < count; ++i) {
      deltas[i] = U(v[start + i]) - U(v[start + i - 1]);
      min_delta = std::min(min_delta, T(deltas[i]));
    }
    std::fill(deltas + count, deltas + block, U(min_delta));  // pads to zero below
    for (auto& d : deltas) d -= U(min_delta);
    append_uleb(out, zigzag_encode(min_delta));
    // Miniblocks past the values get width 0 and no body, as the spec asks.
    const size_t used = (count + per_mini - 1) / per_mini;
    int widths[minis] = {};
    for (size_t m = 0; m < used; ++m) {
      U all = 0;
      for (size_t i = m * per_mini; i < (m + 1) * per_mini; ++i) all |= deltas[i];
      widths[m] = std::bit_width(all);
      out.push_back(char(widths[m]));
    }
    for (size_t m = used; m < minis; ++m) out.push_back(0);
    for (size_t m = 0; m < used; ++m) pack(deltas + m * per_mini, per_mini, widths[m], out);
  }
}

template void encode_delta_binary_packed<int32_t>(const int32_t*, size_t, std::string&);
template void encode_delta_binary_packed<int64_t>(const int64_t*, size_t, std::string&);

}  // namespace sluice::formats::parquet

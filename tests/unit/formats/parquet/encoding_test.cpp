#include "formats/parquet/encoding.hpp"

#include <catch2/catch.hpp>
#include <climits>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <random>

#include "formats/parquet/error.hpp"

using namespace sluice::formats::parquet;

namespace {

std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list) s.push_back(char(b));
  return s;
}

// A copy in a buffer of exactly its size, so that AddressSanitizer catches any read past the end (a std::string
// may have spare capacity there).
struct Exact {
  explicit Exact(std::string_view s) : buf(new char[s.size()]), size(s.size()) {
    if (!s.empty()) std::memcpy(buf.get(), s.data(), s.size());
  }
  std::string_view view() const { return {buf.get(), size}; }
  std::unique_ptr<char[]> buf;
  size_t size;
};

std::string random_bytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = char(rng());
  return s;
}

uint32_t max_for(int width) { return width == 32 ? UINT32_MAX : (uint32_t(1) << width) - 1; }

// Values of the given width in the shapes levels and indices take: random, long repeats, and both mixed.
std::vector<uint32_t> rle_values(std::mt19937_64& rng, int width, size_t n, int shape) {
  std::vector<uint32_t> v;
  const uint32_t max = max_for(width);
  auto value = [&] { return uint32_t(rng()) & max; };
  while (v.size() < n) {
    const bool repeat = shape == 1 || (shape == 2 && rng() % 2 == 0);
    const size_t len = std::min<size_t>(n - v.size(), 1 + rng() % (repeat ? 300 : 20));
    const uint32_t r = value();
    for (size_t i = 0; i < len; ++i) v.push_back(repeat ? r : value());
  }
  return v;
}

std::string rle_encode(const std::vector<uint32_t>& v, int width, bool use_repeated = false) {
  RleEncoder encoder(width);
  for (size_t i = 0; i < v.size();) {
    size_t j = i + 1;
    while (use_repeated && j < v.size() && v[j] == v[i]) ++j;
    if (j - i > 1) {
      encoder.put_repeated(v[i], j - i);
    } else {
      encoder.put(v[i]);
    }
    i = j;
  }
  std::string out;
  const size_t estimate = encoder.estimated_size();
  encoder.finish(out);
  CHECK(estimate == out.size());
  return out;
}

std::vector<uint32_t> rle_decode(std::string_view data, int width, size_t n) {
  std::vector<uint32_t> out(n);
  RleDecoder(data, width).get_exact(out.data(), n);
  return out;
}

// Shapes: 0 full-range random, 1 min and max alternating (every delta overflows), 2 ascending, 3 constant,
// 4 large steps with noise that change sign every 150 values.
template <class T>
std::vector<T> delta_values(std::mt19937_64& rng, size_t n, int shape) {
  std::vector<T> v(n);
  for (size_t i = 0; i < n; ++i) {
    if (shape == 0) {
      v[i] = T(rng());
    } else if (shape == 1) {
      v[i] = i % 2 ? std::numeric_limits<T>::max() : std::numeric_limits<T>::min();
    } else if (shape == 2) {
      v[i] = T(1000 + i);
    } else if (shape == 3) {
      v[i] = T(-7);
    } else {
      v[i] = T(int64_t(i) * 1000 + int64_t(rng() % 50)) * (i % 300 < 150 ? 1 : -1);
    }
  }
  return v;
}

template <class T>
std::vector<T> delta_decode(std::string_view data, size_t n) {
  DeltaBinaryPackedDecoder<T> decoder(data, n);
  REQUIRE(decoder.total() == n);
  std::vector<T> out(n);
  REQUIRE(decoder.get(out.data(), n) == n);
  return out;
}

std::vector<std::string> random_strings(std::mt19937_64& rng, size_t n, bool sorted) {
  static const char* stems[] = {"", "a", "axis", "axle", "babble", "babyhood", "http://example.com/path/"};
  std::vector<std::string> v(n);
  for (auto& s : v) {
    s = stems[rng() % std::size(stems)];
    const size_t extra = rng() % 4 == 0 ? rng() % 300 : rng() % 6;
    for (size_t i = 0; i < extra; ++i) s.push_back(char('a' + rng() % 3));
  }
  if (sorted) std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::string_view> views(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

std::vector<std::string> strings(const std::vector<std::string_view>& v) { return {v.begin(), v.end()}; }

const size_t edge_counts[] = {0, 1, 2, 7, 8, 9, 31, 32, 33, 64, 127, 128, 129, 130, 257, 1000};

}  // namespace

// ---- RLE / bit-packing hybrid

TEST_CASE("parquet encoding: bit_width_for gives the bits needed for a max value", "[formats][parquet]") {
  CHECK(bit_width_for(0) == 0);
  CHECK(bit_width_for(1) == 1);
  CHECK(bit_width_for(2) == 2);
  CHECK(bit_width_for(3) == 2);
  CHECK(bit_width_for(4) == 3);
  CHECK(bit_width_for(255) == 8);
  CHECK(bit_width_for(256) == 9);
  CHECK(bit_width_for(UINT32_MAX) == 32);
}

TEST_CASE("parquet encoding: RLE hybrid decodes the spec's bit-packing example", "[formats][parquet]") {
  // Encodings.md: 0..7 at width 3 pack to 10001000 11000110 11111010; one group, so header (1 << 1) | 1.
  const Exact data(bytes({0x03, 0x88, 0xC6, 0xFA}));
  CHECK(rle_decode(data.view(), 3, 8) == std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(rle_encode({0, 1, 2, 3, 4, 5, 6, 7}, 3) == data.view());
}

TEST_CASE("parquet encoding: RLE hybrid decodes a hand-built repeated run with a two-byte value",
          "[formats][parquet]") {
  // rle-header varint(300 << 1) = D8 04, then 515 in round-up(10 / 8) = 2 little-endian bytes.
  const Exact data(bytes({0xD8, 0x04, 0x03, 0x02}));
  CHECK(rle_decode(data.view(), 10, 300) == std::vector<uint32_t>(300, 515));
  CHECK(rle_encode(std::vector<uint32_t>(300, 515), 10) == data.view());
}

TEST_CASE("parquet encoding: RLE hybrid round trips every bit width from 0 to 32", "[formats][parquet]") {
  std::mt19937_64 rng(1);
  for (int width = 0; width <= 32; ++width) {
    for (int shape = 0; shape < 3; ++shape) {
      for (size_t n : edge_counts) {
        const auto v = rle_values(rng, width, n, shape);
        const std::string enc = rle_encode(v, width, shape == 2);
        const Exact data(enc);
        INFO("width " << width << " shape " << shape << " n " << n);
        REQUIRE(rle_decode(data.view(), width, n) == v);
        // In odd batches, so that groups are split across calls.
        RleDecoder decoder(data.view(), width);
        std::vector<uint32_t> got(n);
        for (size_t done = 0; done < n;)
          done += decoder.get(got.data() + done, std::min<size_t>(n - done, 1 + rng() % 37));
        REQUIRE(got == v);
      }
    }
  }
}

TEST_CASE("parquet encoding: RLE encoder uses repeated runs for 8 or more repeats and bit-packs the rest",
          "[formats][parquet]") {
  std::vector<uint32_t> ones_then_zeros(100, 1);
  ones_then_zeros.resize(200, 0);
  CHECK(rle_encode(ones_then_zeros, 1) == bytes({0xC8, 0x01, 0x01, 0xC8, 0x01, 0x00}));

  std::vector<uint32_t> alternating(200);
  for (size_t i = 0; i < alternating.size(); ++i) alternating[i] = i % 2 == 0;
  CHECK(rle_encode(alternating, 1) == bytes({0x33}) + std::string(25, char(0x55)));

  // Seven repeats are cheaper bit-packed: one group, padded with a zero.
  CHECK(rle_encode(std::vector<uint32_t>(7, 3), 2) == bytes({0x03, 0xFF, 0x3F}));
}

TEST_CASE("parquet encoding: RLE encoder caps a bit-packed run at 63 groups", "[formats][parquet]") {
  std::vector<uint32_t> alternating(1000);
  for (size_t i = 0; i < alternating.size(); ++i) alternating[i] = i % 2;
  const std::string enc = rle_encode(alternating, 1);
  REQUIRE(enc.size() == 1 + 63 + 1 + 62);
  CHECK(uint8_t(enc[0]) == (63 << 1 | 1));
  CHECK(uint8_t(enc[64]) == (62 << 1 | 1));
  CHECK(rle_decode(enc, 1, 1000) == alternating);
}

TEST_CASE("parquet encoding: RLE encoder starts a repeated run at a group boundary", "[formats][parquet]") {
  std::vector<uint32_t> v{5};
  v.resize(21, 7);
  const std::string enc = rle_encode(v, 3);
  // One bit-packed group (5 and seven 7s), then a repeated run of the other thirteen 7s.
  REQUIRE(enc.size() == 6);
  CHECK(enc[0] == 0x03);
  CHECK(enc.substr(4) == bytes({13 << 1, 0x07}));
  CHECK(rle_decode(enc, 3, 21) == v);
}

TEST_CASE("parquet encoding: RLE encoder splits repeated runs longer than 2^31-1", "[formats][parquet]") {
  RleEncoder encoder(1);
  encoder.put_repeated(1, (size_t(1) << 31) + 5);
  std::string out;
  encoder.finish(out);
  CHECK(out == bytes({0xFE, 0xFF, 0xFF, 0xFF, 0x0F, 0x01, 0x0C, 0x01}));
}

TEST_CASE("parquet encoding: RLE encoder rejects values wider than its bit width", "[formats][parquet]") {
  RleEncoder encoder(3);
  CHECK_THROWS_AS(encoder.put(8), std::invalid_argument);
  CHECK_THROWS_AS(encoder.put_repeated(9, 10), std::invalid_argument);
  CHECK_THROWS_AS(RleEncoder(33), std::invalid_argument);
  RleEncoder zero(0);
  zero.put_repeated(0, 3);
  CHECK_THROWS_AS(zero.put(1), std::invalid_argument);
}

TEST_CASE("parquet encoding: RLE decoder yields the padded final group only up to the count asked",
          "[formats][parquet]") {
  const std::vector<uint32_t> v{1, 2, 3, 1, 2};
  const Exact data(rle_encode(v, 2));
  CHECK(rle_decode(data.view(), 2, 5) == v);
  std::vector<uint32_t> out(100);
  CHECK(RleDecoder(data.view(), 2).get(out.data(), 100) == 8);
  CHECK(std::vector<uint32_t>(out.begin(), out.begin() + 8) == std::vector<uint32_t>{1, 2, 3, 1, 2, 0, 0, 0});
}

TEST_CASE("parquet encoding: RLE decoder returns fewer values when data ends inside a run", "[formats][parquet]") {
  std::vector<uint32_t> out(64);
  // Four groups of 8-bit values announced, ten bytes present.
  const Exact packed(bytes({0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  CHECK(RleDecoder(packed.view(), 8).get(out.data(), 32) == 10);
  CHECK(out[9] == 10);
  // Width 12: three bytes hold two whole values.
  const Exact packed12(bytes({0x03, 0x01, 0x20, 0x00}));
  CHECK(RleDecoder(packed12.view(), 12).get(out.data(), 8) == 2);
  CHECK(out[0] == 1);
  CHECK(out[1] == 2);
  const Exact header_only(bytes({0x10}));
  CHECK(RleDecoder(header_only.view(), 8).get(out.data(), 8) == 0);
  const Exact varint_cut(bytes({0x80}));
  CHECK(RleDecoder(varint_cut.view(), 8).get(out.data(), 8) == 0);
  CHECK(RleDecoder(std::string_view(), 8).get(out.data(), 8) == 0);
  CHECK_THROWS_AS(RleDecoder(packed.view(), 8).get_exact(out.data(), 32), ParquetError);
}

TEST_CASE("parquet encoding: RLE decoder decodes truncated data as a prefix of the values", "[formats][parquet]") {
  std::mt19937_64 rng(2);
  for (int width : {1, 3, 8, 13, 32}) {
    const auto v = rle_values(rng, width, 300, 2);
    const std::string enc = rle_encode(v, width);
    for (size_t len = 0; len < enc.size(); ++len) {
      const Exact data(std::string_view(enc).substr(0, len));
      std::vector<uint32_t> out(300);
      const size_t got = RleDecoder(data.view(), width).get(out.data(), 300);
      REQUIRE(got < 300);
      REQUIRE(std::equal(out.begin(), out.begin() + got, v.begin()));
    }
  }
}

TEST_CASE("parquet encoding: RLE decoder rejects malformed runs", "[formats][parquet]") {
  std::vector<uint32_t> out(16);
  auto decode = [&](std::initializer_list<int> b, int width) {
    const Exact data(bytes(b));
    RleDecoder(data.view(), width).get(out.data(), out.size());
  };
  CHECK_THROWS_AS(decode({0x00, 0x01}, 1), ParquetError);                          // repeated run of 0
  CHECK_THROWS_AS(decode({0x01, 0x01}, 1), ParquetError);                          // bit-packed run of 0 groups
  CHECK_THROWS_AS(decode({0x80, 0x80, 0x80, 0x80, 0x10, 0x01}, 1), ParquetError);  // 2^31 repeats
  CHECK_THROWS_AS(decode({0x81, 0x80, 0x80, 0x80, 0x02}, 1), ParquetError);        // 2^28 groups
  CHECK_THROWS_AS(decode({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, 1), ParquetError);
  CHECK_THROWS_AS(decode({0x02, 0x02}, 1), ParquetError);        // value 2 at width 1
  CHECK_THROWS_AS(decode({0x02, 0x00, 0x02}, 9), ParquetError);  // value 512 at width 9
  CHECK_THROWS_AS(RleDecoder(std::string_view(), 33), ParquetError);
  CHECK_THROWS_AS(RleDecoder(std::string_view(), -1), ParquetError);
}

TEST_CASE("parquet encoding: RLE decoder survives random bytes", "[formats][parquet]") {
  std::mt19937_64 rng(3);
  std::vector<uint32_t> out(4096);
  for (int i = 0; i < 5000; ++i) {
    const Exact data(random_bytes(rng, rng() % 48));
    const int width = int(rng() % 33);
    try {
      const size_t got = RleDecoder(data.view(), width).get(out.data(), out.size());
      CHECK(got <= out.size());
      for (size_t k = 0; k < got; ++k) REQUIRE(out[k] <= max_for(width));
    } catch (const ParquetError&) {
    }
  }
}

TEST_CASE("parquet encoding: v1 levels carry a 4-byte length prefix", "[formats][parquet]") {
  RleEncoder levels(1);
  for (int i = 0; i < 20; ++i) levels.put(i % 3 == 0);
  std::string page = "x";
  append_v1_levels(levels, page);
  page += "values";
  std::string_view rest = std::string_view(page).substr(1);
  const std::string_view runs = take_v1_levels(rest);
  CHECK(rest == "values");
  CHECK(uint8_t(page[1]) == runs.size());
  const auto decoded = rle_decode(runs, 1, 20);
  for (int i = 0; i < 20; ++i) CHECK(decoded[i] == (i % 3 == 0));

  std::string_view short_page = "\x01\x00";
  CHECK_THROWS_AS(take_v1_levels(short_page), ParquetError);
  const std::string too_long = bytes({0x05, 0x00, 0x00, 0x00, 0x01, 0x02});
  std::string_view too_long_view = too_long;
  CHECK_THROWS_AS(take_v1_levels(too_long_view), ParquetError);
}

// ---- Booleans

TEST_CASE("parquet encoding: PLAIN booleans are packed least significant bit first", "[formats][parquet]") {
  const uint8_t v[] = {1, 0, 1, 1, 0, 0, 0, 0, 1};
  std::string enc;
  encode_plain_booleans(v, 9, enc);
  CHECK(enc == bytes({0x0D, 0x01}));
  uint8_t out[9];
  CHECK(decode_plain_booleans(Exact(enc).view(), 9, out) == 2);
  CHECK(std::equal(out, out + 9, v));

  std::mt19937_64 rng(4);
  for (size_t n : edge_counts) {
    std::vector<uint8_t> values(n), got(n);
    for (auto& b : values) b = rng() % 2;
    std::string e;
    encode_plain_booleans(values.data(), n, e);
    REQUIRE(e.size() == (n + 7) / 8);
    const Exact data(e);
    REQUIRE(decode_plain_booleans(data.view(), n, got.data()) == e.size());
    REQUIRE(got == values);
    if (n > 0) CHECK_THROWS_AS(decode_plain_booleans(data.view().substr(0, e.size() - 1), n, got.data()), ParquetError);
  }
}

TEST_CASE("parquet encoding: RLE booleans decode a hand-built page and round trip", "[formats][parquet]") {
  // Length 4, then three 1s repeated, then one bit-packed group 1, 0, 1, 0, 0, 0, 0, 0.
  const Exact page(bytes({0x04, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x05}));
  uint8_t out[11];
  CHECK(decode_rle_booleans(page.view(), 11, out) == 8);
  const uint8_t expected[] = {1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0};
  CHECK(std::equal(out, out + 11, expected));
  CHECK_THROWS_AS(decode_rle_booleans(page.view(), 12, out), ParquetError);
  CHECK_THROWS_AS(decode_rle_booleans(page.view().substr(0, 7), 3, out), ParquetError);
  CHECK_THROWS_AS(decode_rle_booleans(page.view().substr(0, 3), 0, out), ParquetError);

  std::mt19937_64 rng(5);
  for (size_t n : edge_counts) {
    std::vector<uint8_t> values(n), got(n);
    for (size_t i = 0; i < n; ++i) values[i] = (i / 17) % 2 == 0 ? 1 : rng() % 2;
    std::string enc;
    encode_rle_booleans(values.data(), n, enc);
    REQUIRE(decode_rle_booleans(Exact(enc).view(), n, got.data()) == enc.size());
    REQUIRE(got == values);
  }
}

// ---- DELTA_BINARY_PACKED

TEST_CASE("parquet encoding: DELTA_BINARY_PACKED decodes the spec's examples", "[formats][parquet]") {
  // Encodings.md's examples use blocks of 8, which it calls invalid in real use; the same values with the
  // smallest valid layout (block 128, 4 miniblocks of 32) differ only in the header and padding.
  // Example 1: 1..5, deltas all 1: min delta 1 (zigzag 2), bit width 0, no miniblock data.
  const Exact ex1(bytes({0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00}));
  CHECK(delta_decode<int32_t>(ex1.view(), 5) == std::vector<int32_t>{1, 2, 3, 4, 5});
  CHECK(delta_decode<int64_t>(ex1.view(), 5) == std::vector<int64_t>{1, 2, 3, 4, 5});
  // Example 2: 7, 5, 3, 1, 2, 3, 4, 5: first value 7 (zigzag 14), min delta -2 (zigzag 3), relative deltas
  // 0, 0, 0, 3, 3, 3, 3 at bit width 2 (C0 3F), padded to 32 values.
  const Exact ex2(bytes({0x80, 0x01, 0x04, 0x08, 0x0E, 0x03, 0x02, 0x00, 0x00, 0x00, 0xC0, 0x3F, 0, 0, 0, 0, 0, 0}));
  const std::vector<int32_t> ex2_values{7, 5, 3, 1, 2, 3, 4, 5};
  CHECK(delta_decode<int32_t>(ex2.view(), 8) == ex2_values);

  std::string enc;
  encode_delta_binary_packed<int32_t>(std::vector<int32_t>{1, 2, 3, 4, 5}.data(), 5, enc);
  CHECK(enc == ex1.view());
  enc.clear();
  encode_delta_binary_packed(ex2_values.data(), 8, enc);
  CHECK(enc == ex2.view());
}

TEST_CASE("parquet encoding: DELTA_BINARY_PACKED rejects the spec examples' block size of 8", "[formats][parquet]") {
  const Exact data(bytes({0x08, 0x01, 0x05, 0x02, 0x02, 0x00}));
  CHECK_THROWS_AS(DeltaBinaryPackedDecoder<int32_t>(data.view(), 5), ParquetError);
}

TEMPLATE_TEST_CASE("parquet encoding: DELTA_BINARY_PACKED round trips edge cases", "[formats][parquet]", int32_t,
                   int64_t) {
  std::mt19937_64 rng(6);
  for (int shape = 0; shape < 5; ++shape) {
    for (size_t n : edge_counts) {
      const auto v = delta_values<TestType>(rng, n, shape);
      std::string enc;
      encode_delta_binary_packed(v.data(), n, enc);
      const Exact data(enc);
      INFO("shape " << shape << " n " << n);
      REQUIRE(delta_decode<TestType>(data.view(), n) == v);

      DeltaBinaryPackedDecoder<TestType> decoder(data.view(), n);
      CHECK(decoder.consumed_bytes() == enc.size());
      std::vector<TestType> got(n);
      for (size_t done = 0; done < n;) {
        done += decoder.get(got.data() + done, std::min<size_t>(n - done, 1 + rng() % 45));
        REQUIRE(decoder.consumed_bytes() == enc.size());
      }
      REQUIRE(got == v);
      TestType extra;
      CHECK(decoder.get(&extra, 1) == 0);
    }
  }
}

TEST_CASE("parquet encoding: DELTA_BINARY_PACKED accepts missing trailing miniblocks and any unused bit width",
          "[formats][parquet]") {
  std::vector<int64_t> v(41);
  for (size_t i = 0; i < v.size(); ++i) v[i] = int64_t(i * i);
  std::string enc;
  encode_delta_binary_packed(v.data(), v.size(), enc);
  // 40 deltas need two of the block's four miniblocks; the other two have no body.
  const size_t header = 5, block_header = 1 + 4;
  // Deltas 1, 3, .., 79 less the min delta 1: up to 62 in the first miniblock, up to 78 in the second.
  REQUIRE(uint8_t(enc[header + 1]) == 6);
  REQUIRE(uint8_t(enc[header + 2]) == 7);
  CHECK(enc.size() == header + block_header + 32 * 6 / 8 + 32 * 7 / 8);
  enc[header + 3] = char(0xFF);
  enc[header + 4] = char(65);
  const std::string with_tail = enc + "tail";
  DeltaBinaryPackedDecoder<int64_t> decoder(with_tail, 41);
  CHECK(decoder.consumed_bytes() == enc.size());
  std::vector<int64_t> got(41);
  CHECK(decoder.get(got.data(), 41) == 41);
  CHECK(got == v);
}

TEST_CASE("parquet encoding: DELTA_BINARY_PACKED rejects malformed headers and miniblocks", "[formats][parquet]") {
  auto decode32 = [](const std::string& s, size_t max) {
    const Exact data(s);
    DeltaBinaryPackedDecoder<int32_t> d(data.view(), max);
    std::vector<int32_t> out(d.total());
    d.get(out.data(), out.size());
  };
  auto decode64 = [](const std::string& s, size_t max) {
    const Exact data(s);
    DeltaBinaryPackedDecoder<int64_t> d(data.view(), max);
    std::vector<int64_t> out(d.total());
    d.get(out.data(), out.size());
  };
  const std::string good = bytes({0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00});
  CHECK_NOTHROW(decode32(good, 5));
  CHECK_THROWS_AS(decode32(good, 4), ParquetError);                                   // total > max_values
  CHECK_THROWS_AS(decode32(bytes({0x00, 0x04, 0x05, 0x02}), 5), ParquetError);        // block size 0
  CHECK_THROWS_AS(decode32(bytes({0x64, 0x04, 0x05, 0x02}), 5), ParquetError);        // block size 100
  CHECK_THROWS_AS(decode32(bytes({0x80, 0x01, 0x00, 0x05, 0x02}), 5), ParquetError);  // no miniblocks
  CHECK_THROWS_AS(decode32(bytes({0x80, 0x01, 0x03, 0x05, 0x02}), 5), ParquetError);  // 3 do not divide 128
  CHECK_THROWS_AS(decode32(bytes({0x80, 0x01, 0x08, 0x05, 0x02}), 5), ParquetError);  // 16 values each
  CHECK_THROWS_AS(decode32(bytes({0x80, 0x01, 0x04, 0x01, 0x80, 0x80, 0x80, 0x80, 0x10}), 5),
                  ParquetError);  // first value 2^31 does not fit INT32
  CHECK_THROWS_AS(decode32(bytes({0x80, 0x01, 0x04, 0x02, 0x00, 0x00, 33, 0, 0, 0}) + std::string(200, '\0'), 5),
                  ParquetError);  // bit width 33 for INT32
  CHECK_THROWS_AS(decode64(bytes({0x80, 0x01, 0x04, 0x02, 0x00, 0x00, 65, 0, 0, 0}) + std::string(300, '\0'), 5),
                  ParquetError);  // bit width 65 for INT64
  CHECK_NOTHROW(decode64(bytes({0x80, 0x01, 0x04, 0x02, 0x00, 0x00, 64, 0, 0, 0}) + std::string(256, '\0'), 5));
  CHECK_THROWS_AS(
      decode64(bytes({0x80, 0x01, 0x04, 0x02, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02}), 5),
      ParquetError);  // varint past 64 bits
}

TEMPLATE_TEST_CASE("parquet encoding: DELTA_BINARY_PACKED throws on every truncation", "[formats][parquet]", int32_t,
                   int64_t) {
  std::mt19937_64 rng(7);
  for (int shape : {0, 1, 4}) {
    const auto v = delta_values<TestType>(rng, 300, shape);
    std::string enc;
    encode_delta_binary_packed(v.data(), v.size(), enc);
    for (size_t len = 0; len < enc.size(); ++len) {
      const Exact data(std::string_view(enc).substr(0, len));
      std::vector<TestType> out(300);
      CHECK_THROWS_AS(DeltaBinaryPackedDecoder<TestType>(data.view(), 300).get(out.data(), 300), ParquetError);
      if (len > 8) CHECK_THROWS_AS(DeltaBinaryPackedDecoder<TestType>(data.view(), 300).consumed_bytes(), ParquetError);
    }
  }
}

TEMPLATE_TEST_CASE("parquet encoding: DELTA_BINARY_PACKED survives random bytes", "[formats][parquet]", int32_t,
                   int64_t) {
  std::mt19937_64 rng(8);
  std::vector<TestType> out(1000);
  for (int i = 0; i < 5000; ++i) {
    // A valid header half the time, so that the blocks get exercised too.
    std::string s = rng() % 2 ? bytes({0x80, 0x01, int(1 << rng() % 3), int(rng() % 128)}) : "";
    s += random_bytes(rng, rng() % 80);
    const Exact data(s);
    try {
      DeltaBinaryPackedDecoder<TestType> decoder(data.view(), out.size());
      const size_t consumed = decoder.consumed_bytes();
      CHECK(consumed <= data.size);
      CHECK(decoder.get(out.data(), out.size()) == decoder.total());
    } catch (const ParquetError&) {
    }
  }
}

// ---- BYTE_ARRAY encodings

TEST_CASE("parquet encoding: PLAIN BYTE_ARRAY round trips and reports the bytes consumed", "[formats][parquet]") {
  std::mt19937_64 rng(9);
  for (size_t n : edge_counts) {
    const auto v = random_strings(rng, n, false);
    std::string enc;
    encode_plain_byte_arrays(views(v).data(), n, enc);
    const std::string with_tail = enc + "tail";
    std::vector<std::string_view> out{"stale"};
    REQUIRE(decode_plain_byte_arrays(with_tail, n, out) == enc.size());
    REQUIRE(strings(out) == v);
  }
  const std::string hello = bytes({0x05, 0x00, 0x00, 0x00}) + "hello" + bytes({0x00, 0x00, 0x00, 0x00});
  const Exact hello_data(hello);
  std::vector<std::string_view> out;
  CHECK(decode_plain_byte_arrays(hello_data.view(), 2, out) == 13);
  CHECK(out == std::vector<std::string_view>{"hello", ""});
}

TEST_CASE("parquet encoding: PLAIN BYTE_ARRAY rejects truncated data and negative lengths", "[formats][parquet]") {
  const std::string v[] = {"alpha", "", "gamma"};
  const std::vector<std::string_view> in(std::begin(v), std::end(v));
  std::string enc;
  encode_plain_byte_arrays(in.data(), 3, enc);
  std::vector<std::string_view> out;
  for (size_t len = 0; len < enc.size(); ++len)
    CHECK_THROWS_AS(decode_plain_byte_arrays(Exact(std::string_view(enc).substr(0, len)).view(), 3, out), ParquetError);
  CHECK_THROWS_AS(decode_plain_byte_arrays(Exact(bytes({0xFF, 0xFF, 0xFF, 0xFF})).view(), 1, out), ParquetError);
  CHECK_THROWS_AS(decode_plain_byte_arrays(Exact(enc).view(), size_t(1) << 40, out), ParquetError);
}

TEST_CASE("parquet encoding: DELTA_LENGTH_BYTE_ARRAY decodes the spec's example", "[formats][parquet]") {
  // Lengths 5, 5, 6, 6: first value 5 (zigzag 10), deltas 0, 1, 0 with min 0, so one miniblock at width 1 (02).
  const Exact data(bytes({0x80, 0x01, 0x04, 0x04, 0x0A, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00}) +
                   "HelloWorldFoobarABCDEF");
  std::vector<std::string_view> out;
  CHECK(decode_delta_length_byte_array(data.view(), 4, out) == data.size);
  const std::vector<std::string_view> expected{"Hello", "World", "Foobar", "ABCDEF"};
  CHECK(out == expected);
  std::string enc;
  encode_delta_length_byte_array(expected.data(), 4, enc);
  CHECK(enc == data.view());
}

TEST_CASE("parquet encoding: DELTA_LENGTH_BYTE_ARRAY round trips", "[formats][parquet]") {
  std::mt19937_64 rng(10);
  for (size_t n : edge_counts) {
    const auto v = random_strings(rng, n, false);
    std::string enc;
    encode_delta_length_byte_array(views(v).data(), n, enc);
    const Exact data(enc + "tail");
    std::vector<std::string_view> out{"stale"};
    REQUIRE(decode_delta_length_byte_array(data.view(), n, out) == enc.size());
    REQUIRE(strings(out) == v);
  }
}

TEST_CASE("parquet encoding: DELTA_LENGTH_BYTE_ARRAY rejects bad lengths and truncation", "[formats][parquet]") {
  std::vector<std::string_view> out;
  // One length of -1 (zigzag 1).
  CHECK_THROWS_AS(decode_delta_length_byte_array(Exact(bytes({0x80, 0x01, 0x04, 0x01, 0x01})).view(), 1, out),
                  ParquetError);
  // One length of 10 with 3 bytes after it.
  CHECK_THROWS_AS(decode_delta_length_byte_array(Exact(bytes({0x80, 0x01, 0x04, 0x01, 0x14}) + "abc").view(), 1, out),
                  ParquetError);
  const std::vector<std::string_view> v{"Hello", "World", "Foobar", "ABCDEF"};
  std::string enc;
  encode_delta_length_byte_array(v.data(), 4, enc);
  CHECK_THROWS_AS(decode_delta_length_byte_array(Exact(enc).view(), 3, out), ParquetError);  // count mismatch
  CHECK_THROWS_AS(decode_delta_length_byte_array(Exact(enc).view(), 5, out), ParquetError);
  for (size_t len = 0; len < enc.size(); ++len)
    CHECK_THROWS_AS(decode_delta_length_byte_array(Exact(std::string_view(enc).substr(0, len)).view(), 4, out),
                    ParquetError);
}

TEST_CASE("parquet encoding: DELTA_BYTE_ARRAY decodes the spec's example", "[formats][parquet]") {
  // Prefix lengths 0, 2, 0, 3: deltas 2, -2, 3, min -2 (zigzag 3), relative 4, 0, 5 at width 3 (44 01).
  // Suffix lengths 4, 2, 6, 5: first 4 (zigzag 8), deltas -2, 4, -1, min -2, relative 0, 6, 1 at width 3 (70).
  const std::string zeros10(10, '\0');
  const Exact data(bytes({0x80, 0x01, 0x04, 0x04, 0x00, 0x03, 0x03, 0x00, 0x00, 0x00, 0x44, 0x01}) + zeros10 +
                   bytes({0x80, 0x01, 0x04, 0x04, 0x08, 0x03, 0x03, 0x00, 0x00, 0x00, 0x70, 0x00}) + zeros10 +
                   "axislebabbleyhood");
  std::string arena;
  std::vector<std::string_view> out;
  decode_delta_byte_array(data.view(), 4, 1000, arena, out);
  const std::vector<std::string_view> expected{"axis", "axle", "babble", "babyhood"};
  CHECK(out == expected);
  std::string enc;
  encode_delta_byte_array(expected.data(), 4, enc);
  CHECK(enc == data.view());
}

TEST_CASE("parquet encoding: DELTA_BYTE_ARRAY round trips", "[formats][parquet]") {
  std::mt19937_64 rng(11);
  for (bool sorted : {true, false}) {
    for (size_t n : edge_counts) {
      const auto v = random_strings(rng, n, sorted);
      std::string enc;
      encode_delta_byte_array(views(v).data(), n, enc);
      std::string arena = "stale";
      std::vector<std::string_view> out{"stale"};
      decode_delta_byte_array(Exact(enc).view(), n, size_t(1) << 30, arena, out);
      REQUIRE(strings(out) == v);
    }
  }
  // Fixed-length values, as FIXED_LEN_BYTE_ARRAY stores them.
  std::vector<std::string> fixed;
  for (int i = 0; i < 300; ++i) fixed.push_back("id-" + std::to_string(100000 + i * 7));
  std::string enc;
  encode_delta_byte_array(views(fixed).data(), fixed.size(), enc);
  std::string arena;
  std::vector<std::string_view> out;
  decode_delta_byte_array(Exact(enc).view(), fixed.size(), size_t(1) << 20, arena, out);
  CHECK(strings(out) == fixed);
}

TEST_CASE("parquet encoding: DELTA_BYTE_ARRAY rejects a prefix longer than the previous value", "[formats][parquet]") {
  auto encode = [](std::vector<int32_t> prefixes, std::vector<std::string_view> suffixes) {
    std::string enc;
    encode_delta_binary_packed(prefixes.data(), prefixes.size(), enc);
    encode_delta_length_byte_array(suffixes.data(), suffixes.size(), enc);
    return enc;
  };
  std::string arena;
  std::vector<std::string_view> out;
  CHECK_NOTHROW(decode_delta_byte_array(Exact(encode({0, 2}, {"ab", "c"})).view(), 2, 100, arena, out));
  CHECK(out == std::vector<std::string_view>{"ab", "abc"});
  CHECK_THROWS_AS(decode_delta_byte_array(Exact(encode({0, 3}, {"ab", "c"})).view(), 2, 100, arena, out), ParquetError);
  CHECK_THROWS_AS(decode_delta_byte_array(Exact(encode({1, 0}, {"ab", "c"})).view(), 2, 100, arena, out),
                  ParquetError);  // the first value has nothing before it
  CHECK_THROWS_AS(decode_delta_byte_array(Exact(encode({0, -1}, {"ab", "c"})).view(), 2, 100, arena, out),
                  ParquetError);
  // Shared prefixes multiply the output: 2 + 3 + 4 bytes here, over a bound of 8.
  CHECK_THROWS_AS(decode_delta_byte_array(Exact(encode({0, 2, 3}, {"ab", "c", "d"})).view(), 3, 8, arena, out),
                  ParquetError);
  CHECK_NOTHROW(decode_delta_byte_array(Exact(encode({0, 2, 3}, {"ab", "c", "d"})).view(), 3, 9, arena, out));
  const std::string enc = encode({0, 2, 3}, {"ab", "c", "d"});
  for (size_t len = 0; len < enc.size(); ++len)
    CHECK_THROWS_AS(decode_delta_byte_array(Exact(std::string_view(enc).substr(0, len)).view(), 3, 100, arena, out),
                    ParquetError);
}

TEST_CASE("parquet encoding: byte array decoders survive random bytes", "[formats][parquet]") {
  std::mt19937_64 rng(12);
  std::string arena;
  std::vector<std::string_view> out;
  for (int i = 0; i < 5000; ++i) {
    std::string s = rng() % 2 ? bytes({0x80, 0x01, 0x04, int(rng() % 8)}) : "";
    s += random_bytes(rng, rng() % 80);
    const Exact data(s);
    const size_t n = rng() % 8;
    try {
      decode_delta_length_byte_array(data.view(), n, out);
      for (auto v : out)
        CHECK((v.empty() || (v.data() >= data.buf.get() && v.data() + v.size() <= data.buf.get() + data.size)));
    } catch (const ParquetError&) {
    }
    try {
      decode_delta_byte_array(data.view(), n, 1 << 16, arena, out);
    } catch (const ParquetError&) {
    }
    try {
      decode_plain_byte_arrays(data.view(), n, out);
    } catch (const ParquetError&) {
    }
  }
}

// ---- BYTE_STREAM_SPLIT

TEST_CASE("parquet encoding: BYTE_STREAM_SPLIT decodes the spec's example", "[formats][parquet]") {
  const std::string plain = bytes({0xAA, 0xBB, 0xCC, 0xDD, 0x00, 0x11, 0x22, 0x33, 0xA3, 0xB4, 0xC5, 0xD6});
  const Exact split(bytes({0xAA, 0x00, 0xA3, 0xBB, 0x11, 0xB4, 0xCC, 0x22, 0xC5, 0xDD, 0x33, 0xD6}));
  std::string out(12, '\0');
  decode_byte_stream_split(split.view(), 4, 3, out.data());
  CHECK(out == plain);
  std::string enc;
  encode_byte_stream_split(plain.data(), 4, 3, enc);
  CHECK(enc == split.view());
}

TEST_CASE("parquet encoding: BYTE_STREAM_SPLIT round trips widths 1 2 3 4 8 and 16", "[formats][parquet]") {
  std::mt19937_64 rng(13);
  for (size_t width : {1, 2, 3, 4, 8, 16}) {
    for (size_t n : edge_counts) {
      const std::string plain = random_bytes(rng, n * width);
      std::string enc;
      encode_byte_stream_split(plain.data(), width, n, enc);
      REQUIRE(enc.size() == plain.size());
      std::string out(plain.size(), '\0');
      decode_byte_stream_split(Exact(enc).view(), width, n, out.data());
      REQUIRE(out == plain);
    }
  }
}

TEST_CASE("parquet encoding: BYTE_STREAM_SPLIT requires exactly n times width bytes", "[formats][parquet]") {
  std::string out(64, '\0');
  const std::string data(13, 'x');
  CHECK_THROWS_AS(decode_byte_stream_split(data, 4, 3, out.data()), ParquetError);  // a byte too many
  CHECK_THROWS_AS(decode_byte_stream_split(std::string_view(data).substr(0, 11), 4, 3, out.data()), ParquetError);
  CHECK_THROWS_AS(decode_byte_stream_split(data, 0, 3, out.data()), ParquetError);
  CHECK_THROWS_AS(decode_byte_stream_split(data, 8, SIZE_MAX / 4, out.data()), ParquetError);
  CHECK_NOTHROW(decode_byte_stream_split(std::string_view(data).substr(0, 12), 4, 3, out.data()));
  CHECK_NOTHROW(decode_byte_stream_split(std::string_view(), 4, 0, out.data()));
}

#include "formats/gzip.hpp"

#include <catch2/catch.hpp>
#include <random>

using namespace sluice::formats;

namespace {

std::string compress(std::string_view text, int level = 6) {
  GzipEncoder encoder(level);
  std::string out;
  encoder.write(text, out);
  encoder.finish_member(out);
  return out;
}

std::string decompress(std::string_view gz) {
  GzipDecoder decoder;
  std::string out;
  decoder.feed(gz, out);
  REQUIRE(decoder.at_member_boundary());
  return out;
}

// Compressible but not trivially so: log-like lines with pseudo-random numbers and some noise bytes.
std::string sample_data(size_t size) {
  std::mt19937_64 rng(42);
  std::string data;
  data.reserve(size + 128);
  while (data.size() < size) {
    data += R"({"ts":)" + std::to_string(rng() % 1000000000) + R"(,"level":"info","msg":"request )" +
            std::to_string(rng() % 5000) + "\",\"noise\":\"";
    for (int i = 0; i < 8; ++i) data.push_back(static_cast<char>(rng()));
    data += "\"}\n";
  }
  data.resize(size);
  return data;
}

}  // namespace

TEST_CASE("gzip: data survives a compress and decompress round trip", "[formats][gzip]") {
  const std::string text = sample_data(100000);
  const std::string gz = compress(text);
  CHECK(looks_like_gzip(gz));
  CHECK(gz.size() < text.size());
  CHECK(decompress(gz) == text);
  CHECK(decompress(compress(text, 0)) == text);
  CHECK(decompress(compress(text, 9)) == text);
}

TEST_CASE("gzip: many small writes form one member", "[formats][gzip]") {
  const std::string text = sample_data(20000);
  GzipEncoder encoder;
  std::string gz;
  for (size_t i = 0; i < text.size(); i += 37) encoder.write(std::string_view(text).substr(i, 37), gz);
  encoder.finish_member(gz);
  CHECK(decompress(gz) == text);
}

TEST_CASE("gzip: finishing without writes emits nothing", "[formats][gzip]") {
  GzipEncoder encoder;
  std::string gz;
  encoder.finish_member(gz);
  encoder.write("", gz);
  encoder.finish_member(gz);
  CHECK(gz.empty());
  encoder.write("x", gz);
  encoder.finish_member(gz);
  const size_t one = gz.size();
  encoder.finish_member(gz);
  CHECK(gz.size() == one);
  CHECK(decompress(gz) == "x");
}

TEST_CASE("gzip: concatenated members fed byte by byte decode as one stream", "[formats][gzip]") {
  GzipEncoder encoder;
  std::string gz;
  std::vector<size_t> member_ends;
  std::string expected;
  const std::vector<std::string> parts{"first member\n", "second\n", std::string(5000, 'z') + "\n", "last\n"};
  for (const std::string& part : parts) {
    encoder.write(part, gz);
    encoder.finish_member(gz);
    member_ends.push_back(gz.size());
    expected += part;
  }
  GzipDecoder decoder;
  CHECK(decoder.at_member_boundary());
  std::string out;
  std::vector<size_t> boundaries;
  for (size_t i = 0; i < gz.size(); ++i) {
    decoder.feed(std::string_view(gz).substr(i, 1), out);
    if (decoder.at_member_boundary()) boundaries.push_back(i + 1);
  }
  CHECK(out == expected);
  CHECK(boundaries == member_ends);
}

TEST_CASE("gzip: a truncated stream is not at a member boundary", "[formats][gzip]") {
  const std::string gz = compress(sample_data(10000));
  for (const size_t cut : {size_t{1}, size_t{10}, gz.size() / 2, gz.size() - 1}) {
    INFO(cut);
    GzipDecoder decoder;
    std::string out;
    decoder.feed(std::string_view(gz).substr(0, cut), out);
    CHECK_FALSE(decoder.at_member_boundary());
    decoder.feed(std::string_view(gz).substr(cut), out);
    CHECK(decoder.at_member_boundary());
  }
}

TEST_CASE("gzip: reset starts over with a fresh stream", "[formats][gzip]") {
  const std::string gz = compress("hello");
  GzipDecoder decoder;
  std::string out;
  decoder.feed(std::string_view(gz).substr(0, 5), out);
  decoder.reset();
  CHECK(decoder.at_member_boundary());
  out.clear();
  decoder.feed(gz, out);
  CHECK(out == "hello");
}

TEST_CASE("gzip: corrupt data throws FormatError", "[formats][gzip]") {
  const std::string good = compress(sample_data(10000));
  std::string out;

  SECTION("not gzip at all") {
    GzipDecoder decoder;
    CHECK_THROWS_WITH(decoder.feed("this is plain text", out), Catch::StartsWith("corrupt gzip data: "));
  }
  SECTION("damaged deflate data") {
    std::string bad = good;
    for (size_t i = 20; i < 60; ++i) bad[i] = static_cast<char>(~bad[i]);
    GzipDecoder decoder;
    CHECK_THROWS_AS(decoder.feed(bad, out), FormatError);
  }
  SECTION("damaged CRC in the trailer") {
    std::string bad = good;
    bad[bad.size() - 6] ^= 1;
    GzipDecoder decoder;
    CHECK_THROWS_WITH(decoder.feed(bad, out), Catch::Contains("incorrect data check"));
  }
  SECTION("garbage after a complete member") {
    GzipDecoder decoder;
    CHECK_THROWS_AS(decoder.feed(good + "trailing junk", out), FormatError);
  }
  SECTION("zero padding after a complete member") {
    GzipDecoder decoder;
    CHECK_THROWS_AS(decoder.feed(good + std::string(16, '\0'), out), FormatError);
  }
  SECTION("the decoder works again after reset") {
    GzipDecoder decoder;
    CHECK_THROWS_AS(decoder.feed("junk", out), FormatError);
    decoder.reset();
    out.clear();
    decoder.feed(good, out);
    CHECK(out == sample_data(10000));
  }
}

TEST_CASE("gzip: looks_like_gzip checks the magic bytes", "[formats][gzip]") {
  CHECK(looks_like_gzip("\x1F\x8B\x08"));
  CHECK(looks_like_gzip("\x1F\x8B"));
  CHECK_FALSE(looks_like_gzip("\x1F"));
  CHECK_FALSE(looks_like_gzip(""));
  CHECK_FALSE(looks_like_gzip("{\"a\":1}"));
}

TEST_CASE("gzip: invalid levels are refused", "[formats][gzip]") {
  CHECK_THROWS_AS(GzipEncoder(10), std::invalid_argument);
  CHECK_THROWS_AS(GzipEncoder(-2), std::invalid_argument);
}

TEST_CASE("gzip: 10 MB round trip in read-sized pieces", "[formats][gzip]") {
  const std::string text = sample_data(10 << 20);
  GzipEncoder encoder(1);
  std::string gz;
  for (size_t i = 0; i < text.size(); i += 1 << 20) encoder.write(std::string_view(text).substr(i, 1 << 20), gz);
  encoder.finish_member(gz);
  CHECK(gz.size() < text.size());

  GzipDecoder decoder;
  std::string out;
  for (size_t i = 0; i < gz.size(); i += 65536) {
    decoder.feed(std::string_view(gz).substr(i, 65536), out);
  }
  CHECK(decoder.at_member_boundary());
  REQUIRE(out.size() == text.size());
  CHECK(out == text);
}

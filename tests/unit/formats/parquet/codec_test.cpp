#include "formats/parquet/codec.hpp"

#include <lz4.h>
#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <stdexcept>
#include <vector>

#include "formats/parquet/background_compressor.hpp"
#include "formats/parquet/error.hpp"

using namespace sluice::formats::parquet;

namespace {

const std::vector<Codec> writable = {Codec::uncompressed, Codec::snappy, Codec::gzip,
                                     Codec::brotli,       Codec::zstd,   Codec::lz4_raw};
const std::vector<Codec> readable = {Codec::uncompressed, Codec::snappy, Codec::gzip,   Codec::brotli,
                                     Codec::zstd,         Codec::lz4_raw, Codec::lz4_hadoop};

// Compressible but not trivially so: log-like lines with pseudo-random numbers and some noise bytes.
std::string text_data(size_t size, uint64_t seed = 42) {
  std::mt19937_64 rng(seed);
  std::string data;
  data.reserve(size + 128);
  while (data.size() < size) {
    data += R"({"ts":)" + std::to_string(rng() % 1000000000) + R"(,"level":"info","msg":"request )" +
            std::to_string(rng() % 5000) + "\",\"noise\":\"";
    for (int i = 0; i < 4; ++i) data.push_back(static_cast<char>('a' + rng() % 26));
    data += "\"}\n";
  }
  data.resize(size);
  return data;
}

std::string noise_bytes(size_t size, uint64_t seed = 7) {
  std::mt19937_64 rng(seed);
  std::string data(size, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  return data;
}

std::string compress(Codec codec, std::string_view data, int level = 0) {
  Compressor compressor(codec, level);
  std::string out;
  compressor.run(data, out);
  return out;
}

std::string decompress(Codec codec, std::string_view page, size_t expected) {
  Decompressor decompressor;
  std::string out;
  decompressor.run(codec, page, expected, out);
  return out;
}

std::string error_of(Codec codec, std::string_view page, size_t expected) {
  try {
    decompress(codec, page, expected);
  } catch (const ParquetError& e) {
    return e.what();
  }
  return "(no error)";
}

void put_be32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

std::string lz4_block(std::string_view data) {
  std::string out(static_cast<size_t>(LZ4_compressBound(static_cast<int>(data.size()))), '\0');
  const int n = LZ4_compress_default(data.data(), out.data(), static_cast<int>(data.size()), static_cast<int>(out.size()));
  REQUIRE(n > 0);
  out.resize(static_cast<size_t>(n));
  return out;
}

// Hadoop's BlockCompressorStream layout: each block is [uncompressed size] then one [compressed size][LZ4 block]
// chunk per slice of at most chunk_size bytes.
std::string hadoop_lz4(std::string_view data, const std::vector<size_t>& block_sizes, size_t chunk_size = SIZE_MAX) {
  std::string out;
  for (size_t block : block_sizes) {
    const std::string_view b = data.substr(0, block);
    data.remove_prefix(b.size());
    put_be32(out, static_cast<uint32_t>(b.size()));
    size_t at = 0;
    do {
      const std::string chunk = lz4_block(b.substr(at, chunk_size));
      put_be32(out, static_cast<uint32_t>(chunk.size()));
      out += chunk;
      at += std::min(chunk_size, b.size() - at);
    } while (at < b.size());
  }
  REQUIRE(data.empty());
  return out;
}

std::string lz4_frame(std::string_view data) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  std::string out(LZ4F_compressFrameBound(data.size(), &prefs), '\0');
  const size_t n = LZ4F_compressFrame(out.data(), out.size(), data.data(), data.size(), &prefs);
  REQUIRE_FALSE(LZ4F_isError(n));
  out.resize(n);
  return out;
}

// A zstd frame whose header does not state the content size, as a streaming writer produces.
std::string zstd_unsized(std::string_view data) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  REQUIRE(cctx != nullptr);
  REQUIRE_FALSE(ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0)));
  std::string out(ZSTD_compressBound(data.size()) + 64, '\0');
  ZSTD_outBuffer o{out.data(), out.size(), 0};
  ZSTD_inBuffer i{data.data(), data.size(), 0};
  size_t left;
  do {
    left = ZSTD_compressStream2(cctx, &o, &i, ZSTD_e_end);
    REQUIRE_FALSE(ZSTD_isError(left));
  } while (left != 0);
  ZSTD_freeCCtx(cctx);
  out.resize(o.pos);
  REQUIRE(ZSTD_getFrameContentSize(out.data(), out.size()) == ZSTD_CONTENTSIZE_UNKNOWN);
  return out;
}

// Runs one decode that may fail, but only with ParquetError; on success out must have the promised size.
void decode_must_not_misbehave(Decompressor& d, Codec codec, std::string_view page, size_t expected, std::string& out) {
  try {
    d.run(codec, page, expected, out);
    if (out.size() != expected) FAIL(codec_name(codec) << " returned " << out.size() << " bytes, not " << expected);
  } catch (const ParquetError&) {
  }
}

}  // namespace

TEST_CASE("codec names are the ones parquet.thrift uses", "[formats][parquet][codec]") {
  CHECK(std::string(codec_name(Codec::uncompressed)) == "UNCOMPRESSED");
  CHECK(std::string(codec_name(Codec::snappy)) == "SNAPPY");
  CHECK(std::string(codec_name(Codec::gzip)) == "GZIP");
  CHECK(std::string(codec_name(Codec::lzo)) == "LZO");
  CHECK(std::string(codec_name(Codec::brotli)) == "BROTLI");
  CHECK(std::string(codec_name(Codec::lz4_hadoop)) == "LZ4");
  CHECK(std::string(codec_name(Codec::zstd)) == "ZSTD");
  CHECK(std::string(codec_name(Codec::lz4_raw)) == "LZ4_RAW");
  CHECK(std::string(codec_name(static_cast<Codec>(42))) == "UNKNOWN");
  for (Codec c : writable) CHECK(codec_writable(c));
  CHECK_FALSE(codec_writable(Codec::lzo));
  CHECK_FALSE(codec_writable(Codec::lz4_hadoop));
  CHECK_FALSE(codec_writable(static_cast<Codec>(-1)));
}

TEST_CASE("every writable codec round-trips empty, 1-byte, 1 MiB text and 1 MiB random pages", "[formats][parquet][codec]") {
  const std::vector<std::string> inputs = {"", "x", text_data(1 << 20), noise_bytes(1 << 20)};
  for (Codec codec : writable) {
    Compressor compressor(codec);
    Decompressor decompressor;
    std::string page, back;
    for (const std::string& input : inputs) {
      INFO(codec_name(codec) << ", " << input.size() << " bytes");
      compressor.run(input, page);
      decompressor.run(codec, page, input.size(), back);
      CHECK(back == input);
      if (codec != Codec::uncompressed && input.size() == (1u << 20) && input[0] == '{')
        CHECK(page.size() < input.size() / 3);
    }
  }
}

TEST_CASE("compressor and decompressor replace the previous contents of out", "[formats][parquet][codec]") {
  for (Codec codec : writable) {
    INFO(codec_name(codec));
    std::string page = "stale bytes that must not survive", out = std::string(5000, 'z');
    Compressor(codec).run("abc", page);
    Decompressor().run(codec, page, 3, out);
    CHECK(out == "abc");
  }
}

TEST_CASE("one decompressor decodes pages of every codec in turn, also after a failed page", "[formats][parquet][codec]") {
  Decompressor decompressor;
  std::string out;
  for (int round = 0; round < 3; ++round) {
    for (Codec codec : writable) {
      INFO(codec_name(codec) << ", round " << round);
      const std::string data = text_data(30000 + static_cast<size_t>(round) * 1000, static_cast<uint64_t>(round));
      const std::string page = compress(codec, data);
      // Stop the codec halfway through a page, leaving its context mid-stream, then decode a whole one.
      CHECK_THROWS_AS(decompressor.run(codec, std::string_view(page).substr(0, page.size() / 2), data.size(), out),
                      ParquetError);
      decompressor.run(codec, page, data.size(), out);
      CHECK(out == data);
    }
  }
  // The LZ4-frame context of lz4_hadoop is reused and reset the same way.
  const std::string data = text_data(70000);
  const std::string frame = lz4_frame(data);
  CHECK_THROWS_AS(decompressor.run(Codec::lz4_hadoop, std::string_view(frame).substr(0, frame.size() - 9), data.size(), out),
                  ParquetError);
  decompressor.run(Codec::lz4_hadoop, frame, data.size(), out);
  CHECK(out == data);
}

TEST_CASE("compressors and decompressors can be moved", "[formats][parquet][codec]") {
  Compressor a(Codec::zstd, 5);
  Compressor b = std::move(a);
  CHECK(b.codec() == Codec::zstd);
  Compressor c(Codec::gzip);
  c = std::move(b);
  CHECK(c.codec() == Codec::zstd);
  std::string page, out;
  c.run("hello hello hello", page);
  Decompressor d1;
  Decompressor d2 = std::move(d1);
  Decompressor d3;
  d3 = std::move(d2);
  d3.run(Codec::zstd, page, 17, out);
  CHECK(out == "hello hello hello");
}

TEST_CASE("compression levels: each codec takes its own range and rejects the rest", "[formats][parquet][codec]") {
  const std::string data = text_data(100000);
  for (int level : {1, 6, 9}) CHECK(decompress(Codec::gzip, compress(Codec::gzip, data, level), data.size()) == data);
  for (int level : {-5, 1, 19}) CHECK(decompress(Codec::zstd, compress(Codec::zstd, data, level), data.size()) == data);
  for (int level : {1, 5, 11}) CHECK(decompress(Codec::brotli, compress(Codec::brotli, data, level), data.size()) == data);
  CHECK(compress(Codec::zstd, data, 19).size() < compress(Codec::zstd, data, 1).size());

  CHECK_THROWS_AS(Compressor(Codec::gzip, 10), std::invalid_argument);
  CHECK_THROWS_AS(Compressor(Codec::gzip, -1), std::invalid_argument);
  CHECK_THROWS_AS(Compressor(Codec::zstd, ZSTD_maxCLevel() + 1), std::invalid_argument);
  CHECK_THROWS_AS(Compressor(Codec::zstd, ZSTD_minCLevel() - 1), std::invalid_argument);
  CHECK_THROWS_AS(Compressor(Codec::brotli, 12), std::invalid_argument);
  CHECK_THROWS_AS(Compressor(Codec::brotli, -1), std::invalid_argument);
  CHECK_THROWS_AS(Compressor(Codec::snappy, 1), std::invalid_argument);
  CHECK_THROWS_AS(Compressor(Codec::lz4_raw, 3), std::invalid_argument);
  CHECK_THROWS_AS(Compressor(Codec::uncompressed, 1), std::invalid_argument);
}

TEST_CASE("lzo, lz4_hadoop and unknown codecs cannot be written", "[formats][parquet][codec]") {
  CHECK_THROWS_WITH(Compressor(Codec::lzo), Catch::Contains("LZO"));
  CHECK_THROWS_AS(Compressor(Codec::lzo), std::invalid_argument);
  CHECK_THROWS_WITH(Compressor(Codec::lz4_hadoop), Catch::Contains("lz4_hadoop") && Catch::Contains("lz4_raw"));
  CHECK_THROWS_AS(Compressor(Codec::lz4_hadoop), std::invalid_argument);
  CHECK_THROWS_AS(Compressor(static_cast<Codec>(8)), std::invalid_argument);
}

TEST_CASE("lzo pages and unknown codecs throw ParquetError", "[formats][parquet][codec]") {
  CHECK(error_of(Codec::lzo, "anything", 8) == "LZO-compressed pages are not supported");
  CHECK(error_of(static_cast<Codec>(9), "anything", 8) == "page compressed with unknown codec 9");
}

TEST_CASE("a page whose content differs from the header's size throws ParquetError naming both", "[formats][parquet][codec]") {
  const std::string data = text_data(5000);
  for (Codec codec : writable) {
    const std::string page = compress(codec, data);
    for (size_t wrong : {size_t{0}, data.size() - 1, data.size() + 1, data.size() * 2}) {
      INFO(codec_name(codec) << ", expected " << wrong);
      CHECK_THROWS_AS(decompress(codec, page, wrong), ParquetError);
    }
  }
  // The message says which codec and both sizes, whichever check caught it.
  CHECK(error_of(Codec::zstd, compress(Codec::zstd, std::string(100, 'a')), 120) ==
        "zstd page: content is 100 bytes, the page header says 120");
  CHECK(error_of(Codec::zstd, zstd_unsized(std::string(100, 'a')), 120) ==
        "zstd page: content is 100 bytes, the page header says 120");
  CHECK(error_of(Codec::zstd, zstd_unsized(std::string(100, 'a')), 80) ==
        "zstd page: content is longer than the 80 bytes the page header says");
  CHECK(error_of(Codec::snappy, compress(Codec::snappy, data), 4000) ==
        "snappy page: content is 5000 bytes, the page header says 4000");
  CHECK(error_of(Codec::gzip, compress(Codec::gzip, data), 6000) ==
        "gzip page: content is 5000 bytes, the page header says 6000");
  CHECK(error_of(Codec::gzip, compress(Codec::gzip, data), 4999) ==
        "gzip page: content is 5000 bytes, the page header says 4999");
  CHECK(error_of(Codec::gzip, compress(Codec::gzip, data), 1000) ==
        "gzip page: content is longer than the 1000 bytes the page header says");
  CHECK(error_of(Codec::brotli, compress(Codec::brotli, data), 4999) ==
        "brotli page: content is 5000 bytes, the page header says 4999");
  CHECK(error_of(Codec::brotli, compress(Codec::brotli, data), 1000) ==
        "brotli page: content is longer than the 1000 bytes the page header says");
  CHECK(error_of(Codec::brotli, compress(Codec::brotli, data), 5001) ==
        "brotli page: content is 5000 bytes, the page header says 5001");
  CHECK(error_of(Codec::uncompressed, data, 10) == "uncompressed page: content is 5000 bytes, the page header says 10");
  CHECK_THAT(error_of(Codec::lz4_raw, compress(Codec::lz4_raw, data), 5001), Catch::StartsWith("lz4_raw page: "));
}

TEST_CASE("a header claiming more than the codec could expand to is rejected before decoding", "[formats][parquet][codec]") {
  const std::string page = compress(Codec::gzip, std::string(1000, 'a'));
  CHECK_THAT(error_of(Codec::gzip, page, page.size() * 1032 + 1032), Catch::Contains("compressed bytes can hold"));
  const std::string block = compress(Codec::lz4_raw, std::string(1000, 'a'));
  CHECK_THAT(error_of(Codec::lz4_raw, block, block.size() * 255 + 255), Catch::Contains("compressed bytes can hold"));
  CHECK_THAT(error_of(Codec::lz4_hadoop, block, block.size() * 255 + 255), Catch::Contains("compressed bytes can hold"));
  CHECK_THAT(error_of(Codec::snappy, compress(Codec::snappy, "abc"), size_t{1} << 30),
             Catch::Contains("content is 3 bytes"));
  CHECK_THAT(error_of(Codec::zstd, "x", max_page_size + 1), Catch::Contains("more than a page header can state"));
}

TEST_CASE("truncated pages throw ParquetError", "[formats][parquet][codec]") {
  for (const std::string& data : {text_data(1 << 20), text_data(300), noise_bytes(5000)}) {
    for (Codec codec : writable) {
      const std::string page = compress(codec, data);
      for (size_t keep : {size_t{0}, size_t{1}, page.size() / 2, page.size() - 1}) {
        INFO(codec_name(codec) << ": " << keep << " of " << page.size() << " bytes of a " << data.size() << "-byte page");
        CHECK_THROWS_AS(decompress(codec, std::string_view(page).substr(0, keep), data.size()), ParquetError);
      }
    }
    const std::string hadoop = hadoop_lz4(data, {data.size() / 2, data.size() - data.size() / 2});
    for (size_t keep : {size_t{0}, size_t{7}, hadoop.size() / 2, hadoop.size() - 1})
      CHECK_THROWS_AS(decompress(Codec::lz4_hadoop, std::string_view(hadoop).substr(0, keep), data.size()), ParquetError);
  }
}

TEST_CASE("corrupted pages throw ParquetError", "[formats][parquet][codec]") {
  const std::string data = text_data(20000);
  SECTION("gzip: the CRC catches any changed byte of the deflate data or trailer") {
    const std::string page = compress(Codec::gzip, data);
    for (size_t at = 10; at < page.size(); at += 97) {
      std::string bad = page;
      bad[at] = static_cast<char>(bad[at] ^ 0x20);
      INFO("byte " << at);
      CHECK_THROWS_AS(decompress(Codec::gzip, bad, data.size()), ParquetError);
    }
  }
  SECTION("gzip: bytes after a member that do not start another one") {
    CHECK_THROWS_AS(decompress(Codec::gzip, compress(Codec::gzip, data) + "garbage!", data.size()), ParquetError);
  }
  SECTION("zstd: wrong magic number, a reserved block type, trailing bytes") {
    std::string page = compress(Codec::zstd, data);
    std::string bad = page;
    bad[0] = 'X';
    CHECK_THAT(error_of(Codec::zstd, bad, data.size()), Catch::Contains("no zstd frame at byte 0"));
    CHECK_THROWS_AS(decompress(Codec::zstd, page + "junk-junk", data.size()), ParquetError);
    // A frame of one block whose header names the reserved block type 3.
    const std::string reserved("\x28\xB5\x2F\xFD\x00\x00\x07\x00\x00", 9);
    CHECK_THROWS_AS(decompress(Codec::zstd, reserved, 0), ParquetError);
  }
  SECTION("zstd: a pre-1.0 legacy frame is refused") {
    const std::string legacy("\x25\xB5\x2F\xFD\x00\x00\x00\x00", 8);  // v0.5 magic number
    CHECK_THAT(error_of(Codec::zstd, legacy, 0), Catch::Contains("no zstd frame"));
  }
  SECTION("snappy: a length header that is not a varint") {
    CHECK_THAT(error_of(Codec::snappy, std::string(6, '\xFF'), 10), Catch::Contains("corrupt length header"));
  }
  SECTION("snappy: a copy reaching before the start of the output") {
    // Length 4, then a 1-byte-offset copy of 4 bytes from offset 1 with nothing written yet.
    CHECK_THROWS_AS(decompress(Codec::snappy, std::string("\x04\x01\x01", 3), 4), ParquetError);
  }
  SECTION("lz4_raw: a match reaching before the start of the output") {
    // Token: 1 literal, then a 4-byte match at offset 5, with only 1 byte written so far.
    const std::string block("\x10" "a" "\x05\x00" "\x50" "bcdef", 10);
    CHECK_THROWS_AS(decompress(Codec::lz4_raw, block, 10), ParquetError);
  }
  SECTION("brotli: bytes after the end of the stream") {
    CHECK_THAT(error_of(Codec::brotli, compress(Codec::brotli, data) + "x", data.size()),
               Catch::Contains("bytes after the end of the brotli stream"));
  }
}

TEST_CASE("gzip: a page of three concatenated members decodes as one", "[formats][parquet][codec]") {
  const std::string a = text_data(1000, 1), b = text_data(70000, 2), c = text_data(5, 3);
  const std::string page = compress(Codec::gzip, a) + compress(Codec::gzip, b) + compress(Codec::gzip, c);
  CHECK(decompress(Codec::gzip, page, a.size() + b.size() + c.size()) == a + b + c);
  CHECK_THROWS_AS(decompress(Codec::gzip, page, a.size() + b.size()), ParquetError);
  // An empty member among them adds nothing.
  CHECK(decompress(Codec::gzip, compress(Codec::gzip, a) + compress(Codec::gzip, ""), a.size()) == a);
}

TEST_CASE("gzip: zlib-format streams are accepted", "[formats][parquet][codec]") {
  const std::string data = text_data(100000);
  uLongf size = compressBound(static_cast<uLong>(data.size()));
  std::string page(size, '\0');
  REQUIRE(compress2(reinterpret_cast<Bytef*>(page.data()), &size, reinterpret_cast<const Bytef*>(data.data()),
                    static_cast<uLong>(data.size()), 6) == Z_OK);
  page.resize(size);
  CHECK(static_cast<unsigned char>(page[0]) == 0x78);  // zlib header, not gzip's 1F 8B
  CHECK(decompress(Codec::gzip, page, data.size()) == data);
  // A gzip member followed by a zlib stream decodes too, since each member's header is detected anew.
  CHECK(decompress(Codec::gzip, compress(Codec::gzip, data) + page, data.size() * 2) == data + data);
}

TEST_CASE("zstd: several frames, skippable frames and frames without a stated size decode", "[formats][parquet][codec]") {
  const std::string a = text_data(50000, 4), b = noise_bytes(1000);
  CHECK(decompress(Codec::zstd, compress(Codec::zstd, a) + compress(Codec::zstd, b), a.size() + b.size()) == a + b);
  CHECK(decompress(Codec::zstd, zstd_unsized(a) + compress(Codec::zstd, b), a.size() + b.size()) == a + b);
  std::string skippable(8, '\0');
  skippable[0] = '\x53', skippable[1] = '\x2A', skippable[2] = '\x4D', skippable[3] = '\x18';  // skippable, 0 bytes
  CHECK(decompress(Codec::zstd, skippable + compress(Codec::zstd, a) + skippable, a.size()) == a);
}

TEST_CASE("lz4_hadoop: Hadoop-framed pages of several blocks decode", "[formats][parquet][codec]") {
  const std::string data = text_data(1 << 20);
  // Arrow's layout: one chunk per block.
  CHECK(decompress(Codec::lz4_hadoop, hadoop_lz4(data, {100000, 1, 500000, data.size() - 600001}), data.size()) == data);
  // Hadoop's for writes larger than its buffer: a block split into chunks of ~256 KiB.
  CHECK(decompress(Codec::lz4_hadoop, hadoop_lz4(data, {data.size()}, 256 * 1024 - 1040), data.size()) == data);
  CHECK(decompress(Codec::lz4_hadoop, hadoop_lz4(data, {300000, data.size() - 300000}, 70000), data.size()) == data);
  // An empty page as Arrow writes it: an empty block holding LZ4's 1-byte empty block.
  const std::string empty = hadoop_lz4("", {0});
  CHECK(empty == std::string("\0\0\0\0\0\0\0\1\0", 9));
  CHECK(decompress(Codec::lz4_hadoop, empty, 0).empty());
  // Blocks adding up to another size than the header's.
  CHECK_THROWS_AS(decompress(Codec::lz4_hadoop, hadoop_lz4(data, {data.size()}), data.size() + 1), ParquetError);
}

TEST_CASE("lz4_hadoop: LZ4-frame pages decode", "[formats][parquet][codec]") {
  const std::string data = text_data(1 << 20);
  CHECK(decompress(Codec::lz4_hadoop, lz4_frame(data), data.size()) == data);
  const std::string small = text_data(1000);
  CHECK(decompress(Codec::lz4_hadoop, lz4_frame(small) + lz4_frame(small), 2000) == small + small);
  CHECK_THROWS_AS(decompress(Codec::lz4_hadoop, lz4_frame(small), 999), ParquetError);
  CHECK_THROWS_AS(decompress(Codec::lz4_hadoop, lz4_frame(small), 1001), ParquetError);
  std::string bad = lz4_frame(small);
  bad[bad.size() - 2] = static_cast<char>(bad[bad.size() - 2] ^ 1);  // the content checksum
  CHECK_THROWS_AS(decompress(Codec::lz4_hadoop, bad, 1000), ParquetError);
}

TEST_CASE("lz4_hadoop: raw LZ4 block pages decode", "[formats][parquet][codec]") {
  for (const std::string& data : {text_data(1 << 20), noise_bytes(10000), std::string("x")}) {
    INFO(data.size() << " bytes");
    CHECK(decompress(Codec::lz4_hadoop, compress(Codec::lz4_raw, data), data.size()) == data);
  }
}

TEST_CASE("lz4_hadoop: a page matching no layout says why for each", "[formats][parquet][codec]") {
  const std::string message = error_of(Codec::lz4_hadoop, noise_bytes(100), 50);
  CHECK_THAT(message, Catch::StartsWith("lz4_hadoop page: matches none of the layouts"));
  CHECK_THAT(message, Catch::Contains("as Hadoop framing, ") && Catch::Contains("as an LZ4 frame, no frame magic number") &&
                          Catch::Contains("as a raw LZ4 block, "));
}

TEST_CASE("random bytes and mutated pages make decoders return or throw ParquetError, nothing else", "[formats][parquet][codec]") {
  std::mt19937_64 rng(12345);
  Decompressor decompressor;
  std::string out;

  // Prefixes that get random bytes past each format's first check, into its deeper parsing.
  const std::vector<std::string> prefixes = {
      "",
      std::string("\x1F\x8B\x08\x00\x00\x00\x00\x00\x00\x03", 10),  // gzip header
      std::string("\x78\x9C", 2),                                   // zlib header
      std::string("\x28\xB5\x2F\xFD", 4),                           // zstd frame
      std::string("\x04\x22\x4D\x18\x64\x40", 6),                   // LZ4 frame: version 1, independent blocks, 64 KiB
      std::string("\x00\x00\x00\x40\x00\x00\x00\x20", 8),           // Hadoop block: 64 bytes in a 32-byte chunk
      std::string("\x40", 1),                                       // snappy: 64 bytes
  };
  for (int i = 0; i < 2000; ++i) {
    std::string page = prefixes[static_cast<size_t>(i) % prefixes.size()];
    const size_t length = rng() % 300;
    for (size_t k = 0; k < length; ++k) page.push_back(static_cast<char>(rng()));
    const size_t expected = rng() % 4 == 0 ? rng() % 8 : rng() % 4096;
    for (Codec codec : readable) decode_must_not_misbehave(decompressor, codec, page, expected, out);
  }

  // Valid pages with a few bytes changed, cut or added: past every format check, into the decoders proper.
  struct Page {
    Codec codec;
    std::string bytes;
    size_t size;
  };
  std::vector<Page> pages;
  for (const std::string& data : {text_data(3000, 9), noise_bytes(500, 9), std::string("abcabcabcabc")}) {
    for (Codec codec : writable) pages.push_back({codec, compress(codec, data), data.size()});
    pages.push_back({Codec::lz4_hadoop, hadoop_lz4(data, {data.size() / 3, data.size() - data.size() / 3}), data.size()});
    pages.push_back({Codec::lz4_hadoop, lz4_frame(data), data.size()});
  }
  for (int i = 0; i < 2000; ++i) {
    const auto& [codec, valid, true_size] = pages[static_cast<size_t>(i) % pages.size()];
    std::string page = valid;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !page.empty(); ++e) {
      const size_t at = rng() % page.size();
      switch (rng() % 4) {
        case 0: page[at] = static_cast<char>(rng()); break;
        case 1: page[at] = static_cast<char>(page[at] ^ (1 << (rng() % 8))); break;
        case 2: page.resize(at); break;
        default: page.insert(at, 1, static_cast<char>(rng())); break;
      }
    }
    const size_t expected = rng() % 2 == 0 ? true_size : rng() % 4096;
    decode_must_not_misbehave(decompressor, codec, page, expected, out);
    // The other decoders get it too: a page under the wrong codec is a corruption as well.
    decode_must_not_misbehave(decompressor, readable[rng() % readable.size()], page, expected, out);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// StreamDecompressor: the same pages, fed and drained in pieces of random sizes, must give what Decompressor
// gives, and fail where it fails.

namespace {

const std::vector<Codec> streamable = {Codec::uncompressed, Codec::gzip, Codec::brotli, Codec::zstd};

// Decodes page in input pieces of 1..max_piece bytes into output pieces of 1..max_piece bytes, until finished.
std::string stream_decompress(StreamDecompressor& s, Codec codec, std::string_view page, size_t expected,
                              std::mt19937_64& rng, size_t max_piece) {
  s.start(codec, expected);
  std::string out;
  std::string_view pending;
  size_t fed = 0;
  size_t idle = 0;
  while (!s.finished()) {
    if (pending.empty() && fed < page.size()) {
      const size_t piece = std::min<size_t>(1 + rng() % max_piece, page.size() - fed);
      pending = page.substr(fed, piece);
      fed += piece;
    }
    const size_t cap = 1 + rng() % max_piece;
    const size_t at = out.size();
    out.resize(at + cap);
    const size_t before = pending.size();
    const size_t wrote = s.run(pending, fed == page.size(), out.data() + at, cap);
    REQUIRE(wrote <= cap);
    out.resize(at + wrote);
    // Less than asked only when the input is used up or the content is complete.
    if (wrote < cap) REQUIRE((pending.empty() || s.finished()));
    idle = wrote == 0 && before == pending.size() ? idle + 1 : 0;
    REQUIRE(idle < 3);
  }
  CHECK(s.produced() == expected);
  return out;
}

std::string stream_error(Codec codec, std::string_view page, size_t expected, size_t max_piece = 64) {
  std::mt19937_64 rng(5);
  StreamDecompressor s;
  try {
    stream_decompress(s, codec, page, expected, rng, max_piece);
  } catch (const ParquetError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("streamed pages decode as whole ones, in pieces of any size", "[formats][parquet][codec]") {
  std::mt19937_64 rng(99);
  StreamDecompressor s;
  CHECK_FALSE(StreamDecompressor::supports(Codec::snappy));
  CHECK_FALSE(StreamDecompressor::supports(Codec::lz4_raw));
  CHECK_FALSE(StreamDecompressor::supports(Codec::lz4_hadoop));
  for (const std::string& data : {std::string(), std::string("x"), text_data(300000), noise_bytes(70000)}) {
    for (Codec codec : streamable) {
      const std::string page = compress(codec, data);
      for (size_t max_piece : {size_t{1}, size_t{17}, size_t{4096}, size_t{1} << 20}) {
        if (max_piece == 1 && data.size() > 100000) continue;  // a byte at a time: slow and adds nothing
        INFO(codec_name(codec) << ", " << data.size() << " bytes, pieces up to " << max_piece);
        CHECK(stream_decompress(s, codec, page, data.size(), rng, max_piece) == data);
      }
    }
  }
  const std::string a = text_data(1000, 1), b = text_data(70000, 2);
  // Concatenated gzip members, and a zlib stream after a gzip member.
  const std::string members = compress(Codec::gzip, a) + compress(Codec::gzip, "") + compress(Codec::gzip, b);
  CHECK(stream_decompress(s, Codec::gzip, members, a.size() + b.size(), rng, 100) == a + b);
  // zstd: several frames, unsized ones, skippable ones.
  std::string skippable(8, '\0');
  skippable[0] = '\x53', skippable[1] = '\x2A', skippable[2] = '\x4D', skippable[3] = '\x18';
  const std::string frames = skippable + compress(Codec::zstd, a) + zstd_unsized(b) + skippable;
  CHECK(stream_decompress(s, Codec::zstd, frames, a.size() + b.size(), rng, 100) == a + b);
  CHECK(stream_decompress(s, Codec::zstd, frames, a.size() + b.size(), rng, 3) == a + b);
}

TEST_CASE("streamed pages that are short, long, truncated or corrupt throw ParquetError as whole ones do", "[formats][parquet][codec]") {
  const std::string data = text_data(5000);
  for (Codec codec : streamable) {
    const std::string page = compress(codec, data);
    INFO(codec_name(codec));
    CHECK_THAT(stream_error(codec, page, data.size() - 1), Catch::Contains("longer than the 4999 bytes"));
    CHECK_THAT(stream_error(codec, page, data.size() + 1), Catch::Contains("5000 bytes, the page header says 5001"));
    for (size_t keep : {size_t{0}, size_t{1}, page.size() / 2, page.size() - 1}) {
      if (codec == Codec::uncompressed) continue;  // its sizes are the page's: covered by the two above
      INFO(keep << " of " << page.size() << " bytes");
      const std::string label = codec == Codec::gzip ? "gzip" : codec == Codec::zstd ? "zstd" : "brotli";
      CHECK_THAT(stream_error(codec, std::string_view(page).substr(0, keep), data.size()), Catch::StartsWith(label + " page: "));
    }
  }
  CHECK_THAT(stream_error(Codec::zstd, std::string("\x25\xB5\x2F\xFD\x00\x00\x00\x00", 8), 0), Catch::Contains("no zstd frame"));
  CHECK_THAT(stream_error(Codec::zstd, compress(Codec::zstd, data) + "junk-junk", data.size()), Catch::Contains("no zstd frame"));
  CHECK_THAT(stream_error(Codec::brotli, compress(Codec::brotli, data) + "x", data.size()),
             Catch::Contains("bytes after the end of the brotli stream"));
  CHECK_THAT(stream_error(Codec::gzip, compress(Codec::gzip, data) + "garbage!", data.size()), Catch::StartsWith("gzip page: "));
  CHECK_THROWS_AS(StreamDecompressor().start(Codec::snappy, 10), std::invalid_argument);
}

TEST_CASE("mutated pages streamed in pieces fail only where whole pages fail, and agree where both succeed", "[formats][parquet][codec]") {
  std::mt19937_64 rng(4242);
  Decompressor whole;
  StreamDecompressor stream;
  std::string out;
  std::vector<std::pair<Codec, std::string>> pages;
  std::vector<size_t> sizes;
  for (const std::string& data : {text_data(3000, 9), noise_bytes(500, 9), std::string("abcabcabcabc")})
    for (Codec codec : streamable) pages.emplace_back(codec, compress(codec, data)), sizes.push_back(data.size());
  int both_ok = 0;
  for (int i = 0; i < 3000; ++i) {
    const size_t k = size_t(i) % pages.size();
    const auto& [codec, valid] = pages[k];
    std::string page = valid;
    for (int e = 0, edits = 1 + int(rng() % 3); e < edits && !page.empty(); ++e) {
      const size_t at = rng() % page.size();
      switch (rng() % 4) {
        case 0: page[at] = char(rng()); break;
        case 1: page[at] = char(page[at] ^ (1 << (rng() % 8))); break;
        case 2: page.resize(at); break;
        default: page.insert(at, 1, char(rng())); break;
      }
    }
    const size_t expected = rng() % 2 == 0 ? sizes[k] : rng() % 4096;
    std::string whole_error, stream_error_text;
    try {
      whole.run(codec, page, expected, out);
    } catch (const ParquetError& e) {
      whole_error = e.what();
    }
    std::string streamed;
    try {
      streamed = stream_decompress(stream, codec, page, expected, rng, 1 + rng() % 300);
    } catch (const ParquetError& e) {
      stream_error_text = e.what();
    }
    INFO(codec_name(codec) << " page " << k << ", case " << i << ": whole: " << whole_error << "; streamed: " << stream_error_text);
    if (stream_error_text.empty()) {
      CHECK(whole_error.empty());
      if (whole_error.empty()) CHECK(streamed == out);
      both_ok += whole_error.empty();
    } else {
      CHECK_FALSE(whole_error.empty());
    }
  }
  CHECK(both_ok > 0);
}

TEST_CASE("the background compressor gives each page what the compressor gives inline, and stops with pages queued", "[formats][parquet][codec]") {
  std::vector<std::string> pages;
  for (uint64_t i = 0; i < 24; ++i) pages.push_back(i % 3 ? text_data(50000 + i * 1000, i) : noise_bytes(20000, i));
  for (Codec codec : {Codec::zstd, Codec::gzip, Codec::snappy}) {
    INFO(codec_name(codec));
    BackgroundCompressor background(codec, 0, 2);
    std::vector<BackgroundCompressor::Ticket> tickets;
    for (const auto& page : pages) tickets.push_back(background.submit(page));  // blocks past 2 queued: must not deadlock
    // Waited for out of order: each ticket is its own page's.
    for (size_t i = tickets.size(); i-- > 0;) CHECK(background.wait(tickets[i]) == compress(codec, pages[i]));
    for (const auto& t : tickets) CHECK(background.ready(t));
    // Destroyed with pages still queued: it joins without compressing them.
    BackgroundCompressor stopping(codec, 0, 8);
    for (size_t i = 0; i < 8; ++i) stopping.submit(pages[i]);
  }
  CHECK_THROWS_AS(BackgroundCompressor(Codec::lz4_hadoop, 0, 1), std::invalid_argument);
}

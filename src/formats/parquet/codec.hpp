#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sluice::formats::parquet {

// Values are the Thrift enum CompressionCodec of parquet.thrift, so a footer's i32 casts straight to it. A cast
// value outside the list is possible (a newer or broken writer); codec_name and Decompressor::run handle it.
enum class Codec : int32_t {
  uncompressed = 0,
  snappy = 1,
  gzip = 2,
  lzo = 3,
  brotli = 4,
  lz4_hadoop = 5,  // parquet.thrift's deprecated "LZ4": LZ4 blocks in Hadoop's undocumented framing
  zstd = 6,
  lz4_raw = 7,
};

// The name parquet.thrift gives it ("UNCOMPRESSED", "SNAPPY", ..., "LZ4" for lz4_hadoop, "LZ4_RAW"), or
// "UNKNOWN" for a value outside the enum.
const char* codec_name(Codec);

// True for the codecs Compressor can write.
bool codec_writable(Codec);

// Page sizes in a Parquet PageHeader are i32: neither side of a page can be larger than this.
inline constexpr size_t max_page_size = INT32_MAX;

// Decompresses page bodies. One per column reader, reused across its pages: it keeps each codec's context
// (z_stream, ZSTD_DCtx, LZ4F_dctx) once created, so a page pays only for decoding. Not thread-safe.
class Decompressor {
 public:
  Decompressor();
  ~Decompressor();
  Decompressor(Decompressor&&) noexcept;
  Decompressor& operator=(Decompressor&&) noexcept;

  // Decompresses one page body into out, replacing its contents. `expected` is the uncompressed size the page
  // header promises: out ends up exactly that long, or ParquetError says which codec failed and why (corrupt,
  // truncated, or content of another size), after which out holds unspecified bytes. Whatever the input
  // claims, out never grows past `expected` + 1 bytes; bounding `expected` itself (Limits::max_page_bytes)
  // is the caller's job. Codec-internal memory is bounded by the format, not the input: brotli's window
  // (at most 16 MiB) and, for LZ4-frame pages under lz4_hadoop, LZ4's largest block (4 MiB) twice.
  // in must not point into out. A moved-from Decompressor may only be assigned to or destroyed.
  void run(Codec codec, std::string_view in, size_t expected, std::string& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Decompresses one page body piece by piece, for pages too big to hold whole: memory is the caller's pieces
// plus the codec's own state (zlib's 32 KiB window, brotli's of at most 16 MiB, zstd's as its frame header
// states: 2 MiB for the levels Parquet writers use, at most 128 MiB). Snappy and the LZ4 codecs decode whole
// blocks only, so they do not stream. Not thread-safe.
class StreamDecompressor {
 public:
  static bool supports(Codec);  // uncompressed, gzip, zstd, brotli

  StreamDecompressor();
  ~StreamDecompressor();
  StreamDecompressor(const StreamDecompressor&) = delete;
  StreamDecompressor& operator=(const StreamDecompressor&) = delete;

  // Starts a page body of `codec` that decompresses to exactly `expected` bytes (at most max_page_size).
  void start(Codec codec, size_t expected);
  // Decompresses what it can of `in` (advancing it past what was consumed) into out[0, cap) and returns the
  // bytes written. `last` says `in` ends the body. Returns less than cap only when `in` is used up (more input
  // is needed) or the page's content is complete (finished()). Throws ParquetError for corrupt data, a body
  // that ends early, content longer than `expected`, or bytes after the end of the content.
  size_t run(std::string_view& in, bool last, char* out, size_t cap);
  bool finished() const;
  size_t produced() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Compresses page bodies with one codec. One per column writer, reused across its pages. Not thread-safe.
class Compressor {
 public:
  // level 0 means the codec's default: gzip 6 (1-9), zstd 3 (ZSTD_minCLevel()..ZSTD_maxCLevel()), brotli 8
  // (1-11). uncompressed, snappy and lz4_raw take no level: anything but 0 is invalid. An invalid level, or a
  // codec it cannot write (lzo, lz4_hadoop, an unknown value), throws std::invalid_argument.
  explicit Compressor(Codec codec, int level = 0);
  ~Compressor();
  Compressor(Compressor&&) noexcept;
  Compressor& operator=(Compressor&&) noexcept;

  Codec codec() const { return codec_; }

  // Replaces out with the compressed form of in (which must not point into out). Input, or output, over
  // max_page_size throws std::invalid_argument: no page header could describe it.
  void run(std::string_view in, std::string& out);

 private:
  struct Impl;
  Codec codec_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::formats::parquet

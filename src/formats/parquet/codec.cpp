#include "formats/parquet/codec.hpp"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <lz4.h>
#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>
#include <utility>

#include "formats/parquet/error.hpp"
#include "formats/parquet/little_endian.hpp"

namespace sluice::formats::parquet {
namespace {

// For error messages: the C++ enum's spelling, since "LZ4" alone would not say which of the two LZ4 codecs.
const char* label(Codec codec) {
  switch (codec) {
    case Codec::uncompressed: return "uncompressed";
    case Codec::snappy: return "snappy";
    case Codec::gzip: return "gzip";
    case Codec::lzo: return "lzo";
    case Codec::brotli: return "brotli";
    case Codec::lz4_hadoop: return "lz4_hadoop";
    case Codec::zstd: return "zstd";
    case Codec::lz4_raw: return "lz4_raw";
  }
  return "unknown-codec";
}

[[noreturn]] void fail(Codec codec, const std::string& what) {
  throw ParquetError(std::string(label(codec)) + " page: " + what);
}

std::string sizes_differ(size_t got, size_t expected) {
  return "content is " + std::to_string(got) + " bytes, the page header says " + std::to_string(expected);
}

std::string longer_than(size_t expected) {
  return "content is longer than the " + std::to_string(expected) + " bytes the page header says";
}

// Deflate cannot expand a byte past 1032 (a 258-byte match in two 1-bit codes), nor an LZ4 block past 255
// (each length byte adds at most 255). A header claiming more is corrupt, and rejecting it here spares
// allocating and zero-filling a buffer the size of its claim.
void check_ratio(Codec codec, std::string_view in, size_t expected, size_t max_ratio) {
  if (expected / max_ratio > in.size())
    fail(codec, "the page header says " + std::to_string(expected) + " bytes, more than " +
                    std::to_string(in.size()) + " compressed bytes can hold");
}

uint32_t load_be32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} << 24 | uint32_t{u[1]} << 16 | uint32_t{u[2]} << 8 | uint32_t{u[3]};
}

Bytef* zbytes(const char* p) { return reinterpret_cast<Bytef*>(const_cast<char*>(p)); }

// Makes out n bytes long for the caller to overwrite. A plain resize would copy the old, stale bytes into the
// grown buffer and round its size up by std::string's doubling; growing through a fresh string does neither.
void size_for_overwrite(std::string& out, size_t n) {
  if (out.capacity() < n) {
    std::string fresh;
    fresh.reserve(n);
    out.swap(fresh);
  }
  out.resize(n);
}

struct ZstdDCtxFree {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};
struct ZstdCCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct Lz4fDctxFree {
  void operator()(LZ4F_dctx* c) const { LZ4F_freeDecompressionContext(c); }
};
struct BrotliDecoderFree {
  void operator()(BrotliDecoderState* s) const { BrotliDecoderDestroyInstance(s); }
};

// One raw LZ4 block into exactly `size` bytes at out; empty string on success, else why not.
std::string lz4_block(std::string_view in, char* out, size_t size) {
  const int n = LZ4_decompress_safe(in.data(), out, static_cast<int>(in.size()), static_cast<int>(size));
  if (n < 0) return "corrupt block, or content longer than " + std::to_string(size) + " bytes";
  if (static_cast<size_t>(n) != size) return sizes_differ(static_cast<size_t>(n), size);
  return {};
}

// Hadoop's BlockCompressorStream layout: blocks of [u32 BE uncompressed size], then chunks of
// [u32 BE compressed size][raw LZ4 block] until the chunks add up to the block's size. Hadoop starts a new chunk
// every ~256 KiB of a large write; Arrow's writer puts one chunk in each block, the same layout's special case.
// Empty string on success, else why the input is not this layout.
std::string lz4_hadoop_framing(std::string_view in, char* out, size_t expected) {
  size_t produced = 0;
  while (!in.empty()) {
    if (in.size() < 8) return std::to_string(in.size()) + " stray bytes after the last block";
    const size_t block = load_be32(in.data());
    in.remove_prefix(4);
    if (block > expected - produced)
      return "a block of " + std::to_string(block) + " bytes runs past the " + std::to_string(expected) +
             " the page header says";
    const size_t block_end = produced + block;
    // At least one chunk even for an empty block: Arrow writes [0][1][00] for an empty page.
    do {
      if (in.size() < 4) return "data ends inside a chunk header";
      const size_t chunk = load_be32(in.data());
      in.remove_prefix(4);
      if (chunk > in.size())
        return "a chunk of " + std::to_string(chunk) + " bytes runs past the data's " + std::to_string(in.size());
      const int n = LZ4_decompress_safe(in.data(), out + produced, static_cast<int>(chunk),
                                        static_cast<int>(block_end - produced));
      if (n < 0) return "corrupt chunk, or one longer than its block";
      produced += static_cast<size_t>(n);
      in.remove_prefix(chunk);  // each chunk consumes at least its 4-byte header, so this loop ends
    } while (produced < block_end);
  }
  if (produced != expected) return "blocks hold " + std::to_string(produced) + " bytes, not " + std::to_string(expected);
  return {};
}

}  // namespace

const char* codec_name(Codec codec) {
  switch (codec) {
    case Codec::uncompressed: return "UNCOMPRESSED";
    case Codec::snappy: return "SNAPPY";
    case Codec::gzip: return "GZIP";
    case Codec::lzo: return "LZO";
    case Codec::brotli: return "BROTLI";
    case Codec::lz4_hadoop: return "LZ4";
    case Codec::zstd: return "ZSTD";
    case Codec::lz4_raw: return "LZ4_RAW";
  }
  return "UNKNOWN";
}

bool codec_writable(Codec codec) {
  switch (codec) {
    case Codec::uncompressed:
    case Codec::snappy:
    case Codec::gzip:
    case Codec::brotli:
    case Codec::zstd:
    case Codec::lz4_raw: return true;
    case Codec::lzo:
    case Codec::lz4_hadoop: return false;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// Decompressor

struct Decompressor::Impl {
  // Created on a codec's first page: a reader sees one codec per column chunk, and need not pay for the others.
  z_stream zs{};
  bool zs_ready = false;
  std::unique_ptr<ZSTD_DCtx, ZstdDCtxFree> zstd;
  std::unique_ptr<LZ4F_dctx, Lz4fDctxFree> lz4f;

  Impl() = default;
  ~Impl() {
    if (zs_ready) inflateEnd(&zs);
  }
  Impl(const Impl&) = delete;  // zlib's state points back at zs
  Impl& operator=(const Impl&) = delete;

  void uncompressed(std::string_view in, size_t expected, std::string& out);
  void snappy(std::string_view in, size_t expected, std::string& out);
  void gzip(std::string_view in, size_t expected, std::string& out);
  void brotli(std::string_view in, size_t expected, std::string& out);
  void zstd_(std::string_view in, size_t expected, std::string& out);
  void lz4_raw(std::string_view in, size_t expected, std::string& out);
  void lz4_hadoop(std::string_view in, size_t expected, std::string& out);
  std::string lz4_frame(std::string_view in, char* out, size_t expected);
};

Decompressor::Decompressor() : impl_(std::make_unique<Impl>()) {}
Decompressor::~Decompressor() = default;
Decompressor::Decompressor(Decompressor&&) noexcept = default;
Decompressor& Decompressor::operator=(Decompressor&&) noexcept = default;

void Decompressor::run(Codec codec, std::string_view in, size_t expected, std::string& out) {
  if (codec == Codec::lzo) {
    // Not deprecated by parquet.thrift (only LZ4 is), but it is defined only as "interoperable with the LZO
    // library", without saying which framing (parquet-mr wrote hadoop-lzo's), Arrow C++ does not read it
    // either, and liblzo2 is GPL. Files using it are too rare to justify all that.
    throw ParquetError("LZO-compressed pages are not supported");
  }
  if (static_cast<uint32_t>(codec) > static_cast<uint32_t>(Codec::lz4_raw))
    throw ParquetError("page compressed with unknown codec " + std::to_string(static_cast<int32_t>(codec)));
  // Beyond this the i32 sizes of a page header cannot have said so; it also keeps the int and uInt parameters
  // of lz4 and zlib from truncating.
  if (in.size() > max_page_size || expected > max_page_size)
    fail(codec, std::to_string(in.size()) + " compressed and " + std::to_string(expected) +
                    " uncompressed bytes: more than a page header can state");
  switch (codec) {
    case Codec::uncompressed: return impl_->uncompressed(in, expected, out);
    case Codec::snappy: return impl_->snappy(in, expected, out);
    case Codec::gzip: return impl_->gzip(in, expected, out);
    case Codec::brotli: return impl_->brotli(in, expected, out);
    case Codec::zstd: return impl_->zstd_(in, expected, out);
    case Codec::lz4_raw: return impl_->lz4_raw(in, expected, out);
    case Codec::lz4_hadoop: return impl_->lz4_hadoop(in, expected, out);
    case Codec::lzo: break;  // refused above
  }
}

void Decompressor::Impl::uncompressed(std::string_view in, size_t expected, std::string& out) {
  if (in.size() != expected) fail(Codec::uncompressed, sizes_differ(in.size(), expected));
  size_for_overwrite(out, expected);
  if (expected != 0) std::memcpy(out.data(), in.data(), expected);
}

void Decompressor::Impl::snappy(std::string_view in, size_t expected, std::string& out) {
  // Snappy states its length up front: check it before sizing anything by it.
  size_t length = 0;
  if (!snappy::GetUncompressedLength(in.data(), in.size(), &length)) fail(Codec::snappy, "corrupt length header");
  if (length != expected) fail(Codec::snappy, sizes_differ(length, expected));
  size_for_overwrite(out, expected);
  // RawUncompress bounds-checks every copy and that the output fills the stated length, so a separate
  // IsValidCompressedBuffer pass would only decode the page twice.
  if (!snappy::RawUncompress(in.data(), in.size(), out.data())) fail(Codec::snappy, "corrupt data");
}

void Decompressor::Impl::gzip(std::string_view in, size_t expected, std::string& out) {
  check_ratio(Codec::gzip, in, expected, 1032);
  if (!zs_ready) {
    // 15 + 32: detect gzip or zlib headers, since some writers put zlib streams in GZIP pages.
    if (inflateInit2(&zs, 15 + 32) != Z_OK) throw std::bad_alloc();
    zs_ready = true;
  } else {
    inflateReset(&zs);  // the previous page may have failed halfway through
  }
  // One spare byte: content filling it is longer than the header says, which a buffer of exactly `expected`
  // could not tell from content of the right size.
  const size_t capacity = expected + 1;
  size_for_overwrite(out, capacity);
  zs.next_in = zbytes(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = zbytes(out.data());
  zs.avail_out = static_cast<uInt>(capacity);
  for (;;) {
    const int rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Writers that compress a page in parts concatenate gzip members; whatever follows a member must be
      // another one, or the next inflate rejects its header.
      inflateReset(&zs);
      continue;
    }
    if (rc == Z_OK || rc == Z_BUF_ERROR) {
      if (zs.avail_out == 0) fail(Codec::gzip, longer_than(expected));
      if (zs.avail_in == 0) fail(Codec::gzip, "data ends inside a gzip member");
      continue;  // Z_OK means progress, so this cannot spin
    }
    if (rc == Z_MEM_ERROR) throw std::bad_alloc();
    if (rc == Z_NEED_DICT) fail(Codec::gzip, "the zlib stream needs a preset dictionary");
    fail(Codec::gzip, std::string("corrupt data: ") + (zs.msg ? zs.msg : "zlib error " + std::to_string(rc)));
  }
  const size_t produced = capacity - zs.avail_out;
  if (produced != expected) fail(Codec::gzip, sizes_differ(produced, expected));
  out.resize(expected);
}

void Decompressor::Impl::brotli(std::string_view in, size_t expected, std::string& out) {
  // libbrotli (1.0.9) cannot reset a decoder, and one decodes one stream only: each page needs its own.
  std::unique_ptr<BrotliDecoderState, BrotliDecoderFree> state(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr));
  if (!state) throw std::bad_alloc();
  const size_t capacity = expected + 1;  // the spare byte detects content longer than expected
  size_for_overwrite(out, capacity);
  size_t avail_in = in.size();
  const auto* next_in = reinterpret_cast<const uint8_t*>(in.data());
  size_t avail_out = capacity;
  auto* next_out = reinterpret_cast<uint8_t*>(out.data());
  // All input and all output space at once: a single call ends the stream or says what stopped it.
  const BrotliDecoderResult result =
      BrotliDecoderDecompressStream(state.get(), &avail_in, &next_in, &avail_out, &next_out, nullptr);
  switch (result) {
    case BROTLI_DECODER_RESULT_SUCCESS: break;
    case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT: fail(Codec::brotli, "data ends inside the brotli stream");
    case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT: fail(Codec::brotli, longer_than(expected));
    case BROTLI_DECODER_RESULT_ERROR:
      fail(Codec::brotli,
           std::string("corrupt data: ") + BrotliDecoderErrorString(BrotliDecoderGetErrorCode(state.get())));
  }
  if (avail_in != 0) fail(Codec::brotli, std::to_string(avail_in) + " bytes after the end of the brotli stream");
  const size_t produced = capacity - avail_out;
  if (produced != expected) fail(Codec::brotli, sizes_differ(produced, expected));
  out.resize(expected);
}

void Decompressor::Impl::zstd_(std::string_view in, size_t expected, std::string& out) {
  // Walk the frames first. It is cheap (block headers only) and lets a size mismatch fail before anything is
  // allocated. Only zstd1 and skippable frames are accepted: libzstd would also decode pre-1.0 "legacy"
  // frames, through older, less hardened code that mallocs per call, and no Parquet writer produced those.
  unsigned long long declared = 0;
  bool all_declared = true;
  for (std::string_view rest = in; !rest.empty();) {
    const size_t offset = in.size() - rest.size();
    if (rest.size() < 4) fail(Codec::zstd, "data ends inside a frame header at byte " + std::to_string(offset));
    const uint32_t magic = load_le32(rest.data());
    if (magic != ZSTD_MAGICNUMBER && (magic & ZSTD_MAGIC_SKIPPABLE_MASK) != ZSTD_MAGIC_SKIPPABLE_START)
      fail(Codec::zstd, "no zstd frame at byte " + std::to_string(offset));
    const size_t frame = ZSTD_findFrameCompressedSize(rest.data(), rest.size());
    if (ZSTD_isError(frame))
      fail(Codec::zstd, "corrupt or truncated frame at byte " + std::to_string(offset) + ": " + ZSTD_getErrorName(frame));
    const unsigned long long size = ZSTD_getFrameContentSize(rest.data(), frame);
    if (size == ZSTD_CONTENTSIZE_ERROR)
      fail(Codec::zstd, "corrupt frame header at byte " + std::to_string(offset));
    if (size == ZSTD_CONTENTSIZE_UNKNOWN) {
      all_declared = false;
    } else {
      if (size > expected - declared) fail(Codec::zstd, "frames declare more than the " + std::to_string(expected) + " bytes the page header says");
      declared += size;
    }
    rest.remove_prefix(frame);
  }
  if (all_declared && declared != expected) fail(Codec::zstd, sizes_differ(declared, expected));

  if (!zstd) {
    zstd.reset(ZSTD_createDCtx());
    if (!zstd) throw std::bad_alloc();
  }
  size_for_overwrite(out, expected);
  // One-shot decoding into the final buffer needs no window buffer, and decodes every frame in turn.
  const size_t n = ZSTD_decompressDCtx(zstd.get(), out.data(), expected, in.data(), in.size());
  if (ZSTD_isError(n)) {
    if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall) fail(Codec::zstd, longer_than(expected));
    fail(Codec::zstd, std::string("corrupt data: ") + ZSTD_getErrorName(n));
  }
  if (n != expected) fail(Codec::zstd, sizes_differ(n, expected));
}

void Decompressor::Impl::lz4_raw(std::string_view in, size_t expected, std::string& out) {
  check_ratio(Codec::lz4_raw, in, expected, 255);
  size_for_overwrite(out, expected);
  // LZ4_decompress_safe also fails on bytes after the block's last sequence.
  if (const std::string why = lz4_block(in, out.data(), expected); !why.empty()) fail(Codec::lz4_raw, why);
}

void Decompressor::Impl::lz4_hadoop(std::string_view in, size_t expected, std::string& out) {
  // The ratio bound holds for all three layouts: Hadoop chunks and LZ4-frame blocks are LZ4 blocks too (or
  // stored), and framing only adds input.
  check_ratio(Codec::lz4_hadoop, in, expected, 255);
  size_for_overwrite(out, expected + 1);  // the LZ4-frame attempt uses the spare byte to detect content that is too long
  // Writers of this codec disagree on what it means (see Compression.md): parquet-mr writes Hadoop's
  // framing, older Parquet C++ wrote a bare LZ4 block, and the Rust parquet crate wrote the LZ4 frame format
  // (apache/arrow-rs#2988). Like Arrow, try Hadoop's first, since a page that parses exactly as that framing
  // is almost surely one; Arrow then tries only the bare block, we also try the frame format before it.
  std::string hadoop = lz4_hadoop_framing(in, out.data(), expected);
  if (!hadoop.empty()) {
    std::string frame = lz4_frame(in, out.data(), expected);
    if (!frame.empty()) {
      if (std::string block = lz4_block(in, out.data(), expected); !block.empty())
        fail(Codec::lz4_hadoop, "matches none of the layouts writers use: as Hadoop framing, " + hadoop +
                                    "; as an LZ4 frame, " + frame + "; as a raw LZ4 block, " + block);
    }
  }
  out.resize(expected);
}

// LZ4 frame format (lz4frame.h), possibly several frames: empty string on success, else why not.
std::string Decompressor::Impl::lz4_frame(std::string_view in, char* out, size_t expected) {
  if (in.size() < 4) return "too short";
  const uint32_t magic = load_le32(in.data());
  if (magic != LZ4F_MAGICNUMBER && (magic & 0xFFFFFFF0u) != LZ4F_MAGIC_SKIPPABLE_START) return "no frame magic number";
  if (!lz4f) {
    LZ4F_dctx* ctx = nullptr;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) throw std::bad_alloc();
    lz4f.reset(ctx);
  } else {
    LZ4F_resetDecompressionContext(lz4f.get());  // a previous page may have stopped mid-frame
  }
  const size_t capacity = expected + 1;
  size_t out_used = 0;
  while (!in.empty()) {
    size_t out_n = capacity - out_used;
    size_t in_n = in.size();
    const size_t hint = LZ4F_decompress(lz4f.get(), out + out_used, &out_n, in.data(), &in_n, nullptr);
    if (LZ4F_isError(hint)) return std::string("corrupt frame: ") + LZ4F_getErrorName(hint);
    out_used += out_n;
    in.remove_prefix(in_n);
    if (hint == 0) continue;  // a frame ended; any further bytes must start another
    if (out_used == capacity) return "content is longer than " + std::to_string(expected) + " bytes";
    if (in.empty()) return "data ends inside a frame";
    if (out_n == 0 && in_n == 0) return "decoder made no progress";  // never expected; guards against a hang
  }
  if (out_used != expected) return sizes_differ(out_used, expected);
  return {};
}

// ---------------------------------------------------------------------------------------------------------------
// StreamDecompressor

struct StreamDecompressor::Impl {
  Codec codec = Codec::uncompressed;
  size_t expected = 0;
  size_t produced = 0;
  bool done = false;
  // Created on a codec's first page, and kept: gzip and zstd reset between pages.
  z_stream zs{};
  bool zs_ready = false;
  bool between_members = false;  // gzip: a member ended and the next has not begun
  std::unique_ptr<ZSTD_DCtx, ZstdDCtxFree> zstd;
  bool frame_start = true;  // zstd: the next bytes begin a frame, whose magic is checked before libzstd sees it
  char magic[4] = {};
  size_t magic_length = 0;
  std::unique_ptr<BrotliDecoderState, BrotliDecoderFree> brotli;
  bool brotli_ended = false;

  Impl() = default;
  ~Impl() {
    if (zs_ready) inflateEnd(&zs);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Each decodes from in into out[0, room), returns the bytes written, and says whether the input consumed so
  // far ends at a point where the codec's stream may end.
  size_t uncompressed(std::string_view& in, char* out, size_t room, bool& at_end);
  size_t gzip(std::string_view& in, char* out, size_t room, bool& at_end);
  size_t zstd_(std::string_view& in, char* out, size_t room, bool& at_end);
  size_t brotli_(std::string_view& in, char* out, size_t room, bool& at_end);
};

bool StreamDecompressor::supports(Codec codec) {
  return codec == Codec::uncompressed || codec == Codec::gzip || codec == Codec::zstd || codec == Codec::brotli;
}

StreamDecompressor::StreamDecompressor() : impl_(std::make_unique<Impl>()) {}
StreamDecompressor::~StreamDecompressor() = default;

void StreamDecompressor::start(Codec codec, size_t expected) {
  if (!supports(codec)) throw std::invalid_argument(std::string(codec_name(codec)) + " pages cannot be decompressed as a stream");
  if (expected > max_page_size) fail(codec, std::to_string(expected) + " uncompressed bytes: more than a page header can state");
  Impl& s = *impl_;
  s.codec = codec;
  s.expected = expected;
  s.produced = 0;
  s.done = false;
  switch (codec) {
    case Codec::gzip:
      if (!s.zs_ready) {
        if (inflateInit2(&s.zs, 15 + 32) != Z_OK) throw std::bad_alloc();  // gzip or zlib headers, as run()
        s.zs_ready = true;
      } else {
        inflateReset(&s.zs);
      }
      s.between_members = false;
      break;
    case Codec::zstd:
      if (!s.zstd) {
        s.zstd.reset(ZSTD_createDCtx());
        if (!s.zstd) throw std::bad_alloc();
      } else {
        ZSTD_DCtx_reset(s.zstd.get(), ZSTD_reset_session_only);
      }
      s.frame_start = true;
      s.magic_length = 0;
      break;
    case Codec::brotli:
      // libbrotli (1.0.9) cannot reset a decoder: each page needs its own.
      s.brotli.reset(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr));
      if (!s.brotli) throw std::bad_alloc();
      s.brotli_ended = false;
      break;
    default: break;
  }
}

bool StreamDecompressor::finished() const { return impl_->done; }
size_t StreamDecompressor::produced() const { return impl_->produced; }

size_t StreamDecompressor::run(std::string_view& in, bool last, char* out, size_t cap) {
  Impl& s = *impl_;
  if (s.done) {
    if (!in.empty()) fail(s.codec, longer_than(s.expected));
    return 0;
  }
  // One spare byte past the content: filling it means the content is longer than the page header says.
  const size_t room = std::min(cap, s.expected - s.produced + 1);
  bool at_end = false;
  size_t wrote = 0;
  switch (s.codec) {
    case Codec::uncompressed: wrote = s.uncompressed(in, out, room, at_end); break;
    case Codec::gzip: wrote = s.gzip(in, out, room, at_end); break;
    case Codec::zstd: wrote = s.zstd_(in, out, room, at_end); break;
    case Codec::brotli: wrote = s.brotli_(in, out, room, at_end); break;
    default: fail(s.codec, "not a streaming codec");
  }
  s.produced += wrote;
  if (s.produced > s.expected) fail(s.codec, longer_than(s.expected));
  if (last && in.empty()) {
    if (at_end) {
      if (s.produced != s.expected) fail(s.codec, sizes_differ(s.produced, s.expected));
      s.done = true;
    } else if (wrote < room) {
      fail(s.codec, "data ends inside the compressed stream");
    }
  }
  return wrote;
}

size_t StreamDecompressor::Impl::uncompressed(std::string_view& in, char* out, size_t room, bool& at_end) {
  const size_t n = std::min(in.size(), room);
  if (n != 0) std::memcpy(out, in.data(), n);
  in.remove_prefix(n);
  at_end = true;
  return n;
}

size_t StreamDecompressor::Impl::gzip(std::string_view& in, char* out, size_t room, bool& at_end) {
  size_t wrote = 0;
  while (wrote < room) {
    if (between_members) {
      if (in.empty()) break;
      inflateReset(&zs);  // concatenated members, as run() accepts
      between_members = false;
    }
    const uInt in_size = uInt(std::min<size_t>(in.size(), UINT32_MAX));
    const uInt out_size = uInt(std::min<size_t>(room - wrote, UINT32_MAX));
    zs.next_in = zbytes(in.data());
    zs.avail_in = in_size;
    zs.next_out = zbytes(out + wrote);
    zs.avail_out = out_size;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    in.remove_prefix(in_size - zs.avail_in);
    wrote += out_size - zs.avail_out;
    if (rc == Z_STREAM_END) {
      between_members = true;
      continue;
    }
    if (rc == Z_OK) {
      if (in.empty()) break;  // all it could make of the input is out: more input is needed
      continue;
    }
    if (rc == Z_BUF_ERROR) break;  // no progress possible without more input or room
    if (rc == Z_MEM_ERROR) throw std::bad_alloc();
    if (rc == Z_NEED_DICT) fail(Codec::gzip, "the zlib stream needs a preset dictionary");
    fail(Codec::gzip, std::string("corrupt data: ") + (zs.msg ? zs.msg : "zlib error " + std::to_string(rc)));
  }
  at_end = between_members;
  return wrote;
}

size_t StreamDecompressor::Impl::zstd_(std::string_view& in, char* out, size_t room, bool& at_end) {
  size_t wrote = 0;
  auto step = [&](std::string_view& from) {
    ZSTD_inBuffer ib{from.data(), from.size(), 0};
    ZSTD_outBuffer ob{out + wrote, room - wrote, 0};
    const size_t rc = ZSTD_decompressStream(zstd.get(), &ob, &ib);
    if (ZSTD_isError(rc)) fail(Codec::zstd, std::string("corrupt data: ") + ZSTD_getErrorName(rc));
    from.remove_prefix(ib.pos);
    wrote += ob.pos;
    return std::pair{rc, ib.pos != 0 || ob.pos != 0};
  };
  while (wrote < room) {
    if (frame_start) {
      // As run(): only zstd1 and skippable frames, never the legacy formats libzstd would also decode.
      while (magic_length < 4 && !in.empty()) {
        magic[magic_length++] = in.front();
        in.remove_prefix(1);
      }
      if (magic_length < 4) break;
      const uint32_t m = load_le32(magic);
      if (m != ZSTD_MAGICNUMBER && (m & ZSTD_MAGIC_SKIPPABLE_MASK) != ZSTD_MAGIC_SKIPPABLE_START)
        fail(Codec::zstd, "no zstd frame at byte " + std::to_string(produced + wrote) + " of the content");
      std::string_view header(magic, 4);
      step(header);
      if (!header.empty()) fail(Codec::zstd, "libzstd did not take a frame's magic number");
      frame_start = false;
      magic_length = 0;
      continue;
    }
    const auto [rc, progress] = step(in);
    if (rc == 0) {  // a frame is decoded and flushed
      frame_start = true;
      continue;
    }
    if (!progress) break;
  }
  at_end = frame_start && magic_length == 0;
  return wrote;
}

size_t StreamDecompressor::Impl::brotli_(std::string_view& in, char* out, size_t room, bool& at_end) {
  if (brotli_ended && !in.empty())
    fail(Codec::brotli, std::to_string(in.size()) + " bytes after the end of the brotli stream");
  size_t avail_in = in.size();
  const auto* next_in = reinterpret_cast<const uint8_t*>(in.data());
  size_t avail_out = room;
  auto* next_out = reinterpret_cast<uint8_t*>(out);
  const BrotliDecoderResult result =
      BrotliDecoderDecompressStream(brotli.get(), &avail_in, &next_in, &avail_out, &next_out, nullptr);
  in.remove_prefix(in.size() - avail_in);
  switch (result) {
    case BROTLI_DECODER_RESULT_SUCCESS:
      brotli_ended = true;
      if (!in.empty()) fail(Codec::brotli, std::to_string(in.size()) + " bytes after the end of the brotli stream");
      break;
    case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
    case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT: break;
    case BROTLI_DECODER_RESULT_ERROR:
      fail(Codec::brotli,
           std::string("corrupt data: ") + BrotliDecoderErrorString(BrotliDecoderGetErrorCode(brotli.get())));
  }
  at_end = brotli_ended;
  return room - avail_out;
}

// ---------------------------------------------------------------------------------------------------------------
// Compressor

namespace {

// Brotli's own default, 11, is its densest and by far slowest setting: on 1 MiB of JSON lines it compressed
// 46x slower than 8 (1.65 s against 36 ms) for a 7.8 rather than 6.2 ratio, too slow for a page-at-a-time
// writer. 8 is Arrow's default; 5 was twice as fast as 8 at 6.1.
constexpr int brotli_default_quality = 8;

[[noreturn]] void bad_level(Codec codec, int level, const char* allowed) {
  throw std::invalid_argument(std::string("invalid ") + label(codec) + " compression level " + std::to_string(level) +
                              " (" + allowed + ")");
}

}  // namespace

struct Compressor::Impl {
  int level = 0;  // resolved: never 0 for the codecs that have levels
  z_stream zs{};
  bool zs_ready = false;
  std::unique_ptr<ZSTD_CCtx, ZstdCCtxFree> zstd;

  Impl() = default;
  ~Impl() {
    if (zs_ready) deflateEnd(&zs);
  }
  Impl(const Impl&) = delete;  // zlib's state points back at zs
  Impl& operator=(const Impl&) = delete;
};

Compressor::Compressor(Codec codec, int level) : codec_(codec), impl_(std::make_unique<Impl>()) {
  switch (codec) {
    case Codec::uncompressed:
    case Codec::snappy:
    case Codec::lz4_raw:
      if (level != 0) bad_level(codec, level, "it takes none: pass 0");
      break;
    case Codec::gzip:
      if (level < 0 || level > 9) bad_level(codec, level, "1-9, or 0 for the default 6");
      impl_->level = level == 0 ? 6 : level;
      // 15 + 16: gzip header and trailer, which the spec asks for rather than zlib's.
      if (deflateInit2(&impl_->zs, impl_->level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::bad_alloc();
      impl_->zs_ready = true;
      break;
    case Codec::brotli:
      if (level < 0 || level > BROTLI_MAX_QUALITY) bad_level(codec, level, "1-11, or 0 for the default 8");
      impl_->level = level == 0 ? brotli_default_quality : level;
      break;
    case Codec::zstd: {
      if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
        bad_level(codec, level,
                  (std::to_string(ZSTD_minCLevel()) + " to " + std::to_string(ZSTD_maxCLevel()) + ", or 0 for the default 3")
                      .c_str());
      // libzstd's own default (ZSTD_CLEVEL_DEFAULT): on 1 MiB of JSON lines, ~2.5 ms a page for a 5.9 ratio.
      impl_->level = level == 0 ? ZSTD_CLEVEL_DEFAULT : level;
      impl_->zstd.reset(ZSTD_createCCtx());
      if (!impl_->zstd) throw std::bad_alloc();
      const size_t rc = ZSTD_CCtx_setParameter(impl_->zstd.get(), ZSTD_c_compressionLevel, impl_->level);
      if (ZSTD_isError(rc)) bad_level(codec, level, ZSTD_getErrorName(rc));
      break;
    }
    case Codec::lzo:
      throw std::invalid_argument("cannot write LZO pages: no LZO codec is built in");
    case Codec::lz4_hadoop:
      throw std::invalid_argument(
          "cannot write LZ4 (lz4_hadoop) pages: the Parquet spec deprecates the codec, since writers disagree on "
          "its framing; use lz4_raw");
    default:
      throw std::invalid_argument("cannot write pages with unknown codec " + std::to_string(static_cast<int32_t>(codec)));
  }
}

Compressor::~Compressor() = default;
Compressor::Compressor(Compressor&&) noexcept = default;
Compressor& Compressor::operator=(Compressor&&) noexcept = default;

void Compressor::run(std::string_view in, std::string& out) {
  if (in.size() > max_page_size)
    throw std::invalid_argument("a page of " + std::to_string(in.size()) + " bytes is more than a page header can state");
  switch (codec_) {
    case Codec::uncompressed:
      out.assign(in);
      return;
    case Codec::snappy: {
      size_for_overwrite(out, snappy::MaxCompressedLength(in.size()));
      size_t n = 0;
      snappy::RawCompress(in.data(), in.size(), out.data(), &n);
      out.resize(n);
      break;
    }
    case Codec::gzip: {
      z_stream& zs = impl_->zs;
      deflateReset(&zs);
      size_for_overwrite(out, deflateBound(&zs, static_cast<uLong>(in.size())));
      zs.next_in = zbytes(in.data());
      zs.avail_in = static_cast<uInt>(in.size());
      zs.next_out = zbytes(out.data());
      zs.avail_out = static_cast<uInt>(out.size());
      // deflateBound's room lets a single Z_FINISH complete the member.
      const int rc = deflate(&zs, Z_FINISH);
      if (rc != Z_STREAM_END) throw std::runtime_error("gzip compression failed: zlib error " + std::to_string(rc));
      out.resize(static_cast<size_t>(zs.total_out));  // deflateReset zeroed it: this member's bytes
      break;
    }
    case Codec::brotli: {
      size_t n = BrotliEncoderMaxCompressedSize(in.size());
      size_for_overwrite(out, n);
      // One-shot: libbrotli (1.0.9) cannot reset an encoder either, so there is no state worth keeping.
      if (!BrotliEncoderCompress(impl_->level, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, in.size(),
                                 reinterpret_cast<const uint8_t*>(in.data()), &n, reinterpret_cast<uint8_t*>(out.data())))
        throw std::bad_alloc();  // with a buffer of the maximum size, memory is all it can lack
      out.resize(n);
      break;
    }
    case Codec::zstd: {
      size_for_overwrite(out, ZSTD_compressBound(in.size()));
      // ZSTD_compress2 keeps the level set once, and records the content size in the frame header.
      const size_t n = ZSTD_compress2(impl_->zstd.get(), out.data(), out.size(), in.data(), in.size());
      if (ZSTD_isError(n)) throw std::runtime_error(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
      out.resize(n);
      break;
    }
    case Codec::lz4_raw: {
      if (in.size() > LZ4_MAX_INPUT_SIZE)
        throw std::invalid_argument("lz4_raw compresses at most " + std::to_string(LZ4_MAX_INPUT_SIZE) + " bytes, not " +
                                    std::to_string(in.size()));
      const int bound = LZ4_compressBound(static_cast<int>(in.size()));
      size_for_overwrite(out, static_cast<size_t>(bound));
      const int n = LZ4_compress_default(in.data(), out.data(), static_cast<int>(in.size()), bound);
      if (n <= 0) throw std::runtime_error("lz4_raw compression failed");
      out.resize(static_cast<size_t>(n));
      break;
    }
    default:
      break;  // the constructor admits no other codec
  }
  if (out.size() > max_page_size)
    throw std::invalid_argument("a page of " + std::to_string(in.size()) + " bytes compresses to " +
                                std::to_string(out.size()) + ", more than a page header can state");
}

}  // namespace sluice::formats::parquet

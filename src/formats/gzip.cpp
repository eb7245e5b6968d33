#include "formats/gzip.hpp"

#include <zlib.h>

#include <algorithm>
#include <new>

namespace sluice::formats {
namespace {

constexpr int gzip_window_bits = 15 + 16;  // +16: gzip header and trailer rather than zlib's

// Runs `step` with zlib's output pointed at fresh space at the end of out, then trims the unused rest.
// Growing out in place saves a copy through a separate staging buffer.
template <class Step>
int into(std::string& out, z_stream& zs, size_t chunk, Step step) {
  const size_t old = out.size();
  out.resize(old + chunk);
  zs.next_out = reinterpret_cast<Bytef*>(out.data() + old);
  zs.avail_out = static_cast<uInt>(chunk);
  const int rc = step();
  out.resize(old + chunk - zs.avail_out);
  return rc;
}

// Output space to offer zlib per round: about what we expect, within bounds. Small, since every round
// zero-fills it, and a byte-at-a-time feeder must not pay for 64 KiB each time.
size_t chunk_for(size_t expected) { return std::clamp<size_t>(expected, 4096, 1u << 30); }

// zlib counts in uInt; larger inputs go through in slices rather than being silently truncated.
template <class Fn>
void in_slices(std::string_view in, Fn fn) {
  constexpr size_t max_slice = 1u << 30;
  do {
    const std::string_view slice = in.substr(0, max_slice);
    fn(slice);
    in.remove_prefix(slice.size());
  } while (!in.empty());
}

}  // namespace

struct GzipDecoder::Impl {
  z_stream zs{};
  bool at_boundary = true;

  Impl() {
    if (inflateInit2(&zs, gzip_window_bits) != Z_OK) throw std::bad_alloc();
  }
  ~Impl() { inflateEnd(&zs); }
  Impl(const Impl&) = delete;  // zlib's state points back at zs
  Impl& operator=(const Impl&) = delete;

  void feed(std::string_view in, std::string& out);

  [[noreturn]] void corrupt(int rc) {
    if (rc == Z_MEM_ERROR) throw std::bad_alloc();
    throw FormatError(std::string("corrupt gzip data: ") + (zs.msg ? zs.msg : "zlib error " + std::to_string(rc)));
  }
};

GzipDecoder::GzipDecoder() : impl_(std::make_unique<Impl>()) {}
GzipDecoder::~GzipDecoder() = default;
GzipDecoder::GzipDecoder(GzipDecoder&&) noexcept = default;
GzipDecoder& GzipDecoder::operator=(GzipDecoder&&) noexcept = default;

void GzipDecoder::feed(std::string_view in, std::string& out) {
  in_slices(in, [&](std::string_view slice) { impl_->feed(slice, out); });
}

void GzipDecoder::Impl::feed(std::string_view in, std::string& out) {
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  // Compressed text typically expands 3-10x; a larger first chunk saves resize rounds.
  const size_t chunk = chunk_for(in.size() * 4);
  for (;;) {
    const uInt before = zs.avail_in;
    const int rc = into(out, zs, chunk, [&] { return inflate(&zs, Z_NO_FLUSH); });
    if (rc == Z_STREAM_END) {
      at_boundary = true;
      inflateReset(&zs);  // whatever follows must be another member's header, or inflate rejects it
      if (zs.avail_in == 0) return;
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_out != 0) return;  // no progress possible: input exhausted
    if (rc != Z_OK && rc != Z_BUF_ERROR) corrupt(rc);
    if (zs.avail_in != before) at_boundary = false;
    if (zs.avail_in == 0 && zs.avail_out != 0) return;  // everything consumed and flushed out
  }
}

bool GzipDecoder::at_member_boundary() const { return impl_->at_boundary; }

void GzipDecoder::reset() {
  inflateReset(&impl_->zs);
  impl_->at_boundary = true;
}

struct GzipEncoder::Impl {
  z_stream zs{};
  bool in_member = false;

  explicit Impl(int level) {
    if (level < 0 || level > 9)
      throw std::invalid_argument("gzip level must be 0-9, got " + std::to_string(level));
    if (deflateInit2(&zs, level, Z_DEFLATED, gzip_window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw std::bad_alloc();
  }
  ~Impl() { deflateEnd(&zs); }
  Impl(const Impl&) = delete;  // zlib's state points back at zs
  Impl& operator=(const Impl&) = delete;
};

GzipEncoder::GzipEncoder(int level) : impl_(std::make_unique<Impl>(level)) {}
GzipEncoder::~GzipEncoder() = default;
GzipEncoder::GzipEncoder(GzipEncoder&&) noexcept = default;
GzipEncoder& GzipEncoder::operator=(GzipEncoder&&) noexcept = default;

void GzipEncoder::write(std::string_view in, std::string& out) {
  if (in.empty()) return;  // an empty write must not open a member: finish_member would emit an empty one
  z_stream& zs = impl_->zs;
  impl_->in_member = true;
  in_slices(in, [&](std::string_view slice) {
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(slice.data()));
    zs.avail_in = static_cast<uInt>(slice.size());
    const size_t chunk = chunk_for(slice.size() / 2 + 64);
    do {
      into(out, zs, chunk, [&] { return deflate(&zs, Z_NO_FLUSH); });  // cannot fail with a valid stream
    } while (zs.avail_in != 0 || zs.avail_out == 0);
  });
}

void GzipEncoder::finish_member(std::string& out) {
  if (!impl_->in_member) return;
  z_stream& zs = impl_->zs;
  zs.next_in = nullptr;
  zs.avail_in = 0;
  int rc;
  do {
    rc = into(out, zs, chunk_for(0), [&] { return deflate(&zs, Z_FINISH); });
  } while (rc != Z_STREAM_END);
  deflateReset(&zs);
  impl_->in_member = false;
}

bool looks_like_gzip(std::string_view head) { return head.starts_with("\x1F\x8B"); }

}  // namespace sluice::formats

#include "formats/parquet/page_reader.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "formats/parquet/little_endian.hpp"

namespace sluice::formats::parquet {

namespace {

// A guess that holds most page headers whole (statistics of long strings can make them bigger: then it grows).
constexpr size_t kHeaderWindow = 4096;

// A streamed page is read and decompressed this much at a time: large enough that a piece's fixed costs
// vanish, small enough that a column costs little memory.
constexpr size_t kStreamPiece = 256u << 10;

}  // namespace

PageReader::Extent column_extent(const ColumnMetaData& c, uint64_t data_end, const std::string& where) {
  int64_t start = c.data_page_offset;
  if (c.dictionary_page_offset && *c.dictionary_page_offset > 0 && *c.dictionary_page_offset < start)
    start = *c.dictionary_page_offset;
  if (start < 4 || c.total_compressed_size <= 0 || uint64_t(start) >= data_end ||
      uint64_t(c.total_compressed_size) > data_end - uint64_t(start))
    throw ParquetError(where + ": the column chunk (bytes " + std::to_string(start) + " + " +
                       std::to_string(c.total_compressed_size) + ") is not inside the file's " +
                       std::to_string(data_end) + " bytes of data");
  return {uint64_t(start), uint64_t(start) + uint64_t(c.total_compressed_size)};
}

PageReader::PageReader(int fd, Extent extent, Codec codec, int16_t max_rep, int16_t max_def, const Limits& limits,
                       std::string where)
    : fd_(fd),
      extent_(extent),
      position_(extent.start),
      codec_(codec),
      max_rep_(max_rep),
      max_def_(max_def),
      limits_(limits),
      where_(std::move(where)) {}

void PageReader::fail(const std::string& what) const {
  throw ParquetError(where_ + ", page at byte " + std::to_string(page_.offset) + ": " + what);
}

void PageReader::read_at(uint64_t offset, size_t size, std::string& into) {
  into.resize(size);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd_, into.data() + done, size - done, off_t(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(where_ + ": cannot read at byte " + std::to_string(offset + done) + ": " + std::strerror(errno));
    }
    if (n == 0) fail("the file ends at byte " + std::to_string(offset + done) + ", inside the page");
    done += size_t(n);
  }
}

// Writers that put a column chunk in one page (DuckDB does, for big row groups) make pages of tens of MiB:
// once decompressed, the compressed copy is not kept alongside.
void PageReader::release_compressed() {
  if (compressed_.capacity() > (4u << 20)) std::string().swap(compressed_);
}

void PageReader::start_stream(Codec codec, uint64_t from, size_t compressed, size_t uncompressed) {
  try {
    stream_.start(codec, uncompressed);
  } catch (const ParquetError& e) {
    fail(e.what());
  }
  stream_size_ = uncompressed;
  stream_next_ = from;
  stream_end_ = from + compressed;
  stream_pending_ = {};
  // A value bigger than a piece grew the buffer: do not keep that for the rest of the chunk.
  if (stream_out_.capacity() > 4 * kStreamPiece) std::string().swap(stream_out_);
  window_ = window_end_ = nullptr;
  page_.streamed = true;
}

std::string_view PageReader::take_slow(size_t n) {
  const size_t have = size_t(window_end_ - window_);
  const size_t left = stream_size_ - (stream_.produced() - have);
  if (n > left) fail("the page's content ends before its levels and values do");
  // What is left of the window moves to the front; the rest of the buffer fills with the stream.
  const size_t capacity = std::max(n, kStreamPiece);
  if (have != 0 && window_ != stream_out_.data()) std::memmove(stream_out_.data(), window_, have);
  if (stream_out_.size() < capacity) stream_out_.resize(capacity);
  char* base = stream_out_.data();
  size_t filled = have;
  try {
    while (filled < capacity && !stream_.finished()) {
      if (stream_pending_.empty() && stream_next_ < stream_end_) {
        const size_t piece = size_t(std::min<uint64_t>(kStreamPiece, stream_end_ - stream_next_));
        read_at(stream_next_, piece, stream_in_);
        stream_next_ += piece;
        stream_pending_ = stream_in_;
      }
      const size_t pending = stream_pending_.size();
      const size_t wrote = stream_.run(stream_pending_, stream_next_ == stream_end_, base + filled, capacity - filled);
      filled += wrote;
      // A codec given input and room always consumes or produces something; never spin if one does not.
      if (wrote == 0 && pending != 0 && pending == stream_pending_.size() && !stream_.finished())
        fail("the compressed data makes no progress");
    }
  } catch (const ParquetError& e) {
    if (std::string_view(e.what()).starts_with(where_)) throw;
    fail(e.what());
  }
  if (filled < n) fail("the page's content ends before its levels and values do");
  window_ = base + n;
  window_end_ = base + filled;
  return {base, n};
}

void PageReader::copy_levels(std::string& into) {
  const uint32_t length = load_le32(take(4).data());
  into.assign(take(length));
}

const Page* PageReader::next() {
  for (;;) {
    if (position_ >= extent_.end) return nullptr;
    page_ = Page{};
    page_.offset = position_;
    const uint64_t left = extent_.end - position_;
    size_t window = size_t(std::min<uint64_t>(kHeaderWindow, left));
    size_t header_length;
    for (;;) {
      read_at(position_, window, header_bytes_);
      header_length = parse_page_header(header_bytes_, page_.header, limits_);
      if (header_length) break;
      if (window == left) fail("the page header runs past the end of the column chunk");
      window = size_t(std::min<uint64_t>({uint64_t(window) * 8, left, uint64_t(limits_.max_page_header_bytes) + 1}));
    }
    const PageHeader& h = page_.header;
    const size_t compressed = size_t(h.compressed_page_size), uncompressed = size_t(h.uncompressed_page_size);
    if (compressed > limits_.max_page_bytes || uncompressed > limits_.max_page_bytes)
      fail("a page of " + std::to_string(std::max(compressed, uncompressed)) + " bytes passes the limit of " +
           std::to_string(limits_.max_page_bytes));
    if (compressed > left - header_length) fail("the page runs past the end of the column chunk");
    const uint64_t body = position_ + header_length;
    position_ = body + compressed;

    switch (h.type) {
      case PageType::index_page: continue;
      case PageType::dictionary_page: {
        if (!h.dictionary_page) fail("a dictionary page without its dictionary_page_header");
        read_at(body, compressed, compressed_);
        decompressor_.run(codec_, compressed_, uncompressed, decompressed_);
        release_compressed();
        page_.values = decompressed_;
        page_.num_values = h.dictionary_page->num_values;
        page_.encoding = h.dictionary_page->encoding;
        if (page_.num_values < 0) fail("negative dictionary size");
        return &page_;
      }
      case PageType::data_page: {
        if (!h.data_page) fail("a data page without its data_page_header");
        const DataPageHeader& d = *h.data_page;
        if (d.num_values < 0) fail("negative num_values");
        if ((max_rep_ > 0 && d.repetition_level_encoding != Encoding::rle) ||
            (max_def_ > 0 && d.definition_level_encoding != Encoding::rle))
          fail("levels in " + encoding_name(max_def_ > 0 ? d.definition_level_encoding : d.repetition_level_encoding) +
               " encoding are not supported (only RLE)");
        if (codec_ == Codec::uncompressed && compressed != uncompressed) fail("an uncompressed page whose two sizes differ");
        page_.num_values = d.num_values;
        page_.encoding = d.encoding;
        if (d.encoding == Encoding::plain && uncompressed > limits_.stream_page_bytes &&
            StreamDecompressor::supports(codec_)) {
          start_stream(codec_, body, compressed, uncompressed);
          if (max_rep_ > 0) copy_levels(levels_[0]), page_.repetition = levels_[0];
          if (max_def_ > 0) copy_levels(levels_[1]), page_.definition = levels_[1];
          return &page_;
        }
        read_at(body, compressed, compressed_);
        std::string_view data;
        if (codec_ == Codec::uncompressed) {
          data = compressed_;
        } else {
          decompressor_.run(codec_, compressed_, uncompressed, decompressed_);
          release_compressed();
          data = decompressed_;
        }
        // DATA_PAGE keeps each level run behind a 4-byte length: repetition first, then definition.
        auto take_levels = [&](std::string_view& levels) {
          if (data.size() < 4) fail("the page ends before its levels' length");
          const uint32_t length = load_le32(data.data());
          if (length > data.size() - 4) fail("levels of " + std::to_string(length) + " bytes run past the page");
          levels = data.substr(4, length);
          data.remove_prefix(4 + length);
        };
        if (max_rep_ > 0) take_levels(page_.repetition);
        if (max_def_ > 0) take_levels(page_.definition);
        page_.values = data;
        return &page_;
      }
      case PageType::data_page_v2: {
        if (!h.data_page_v2) fail("a DATA_PAGE_V2 without its data_page_header_v2");
        const DataPageHeaderV2& d = *h.data_page_v2;
        if (d.num_values < 0 || d.num_nulls < 0 || d.num_nulls > d.num_values || d.num_rows < 0)
          fail("inconsistent counts (" + std::to_string(d.num_values) + " values, " + std::to_string(d.num_nulls) +
               " nulls, " + std::to_string(d.num_rows) + " rows)");
        if (d.repetition_levels_byte_length < 0 || d.definition_levels_byte_length < 0) fail("negative level lengths");
        const size_t levels = size_t(d.repetition_levels_byte_length) + size_t(d.definition_levels_byte_length);
        if (levels > compressed || levels > uncompressed) fail("levels longer than the page");
        page_.num_values = d.num_values;
        page_.encoding = d.encoding;
        page_.v2 = true;
        const Codec codec = d.is_compressed ? codec_ : Codec::uncompressed;
        if (codec == Codec::uncompressed && compressed != uncompressed) fail("an uncompressed page whose two sizes differ");
        if (d.encoding == Encoding::plain && uncompressed - levels > limits_.stream_page_bytes &&
            StreamDecompressor::supports(codec)) {
          // The levels are never compressed in a v2 page: read them whole, and stream the values after them.
          read_at(body, levels, compressed_);
          page_.repetition = std::string_view(compressed_).substr(0, size_t(d.repetition_levels_byte_length));
          page_.definition = std::string_view(compressed_).substr(size_t(d.repetition_levels_byte_length));
          start_stream(codec, body + levels, compressed - levels, uncompressed - levels);
          return &page_;
        }
        read_at(body, compressed, compressed_);
        const std::string_view raw = compressed_;
        page_.repetition = raw.substr(0, size_t(d.repetition_levels_byte_length));
        page_.definition = raw.substr(size_t(d.repetition_levels_byte_length), size_t(d.definition_levels_byte_length));
        const std::string_view values = raw.substr(levels);
        if (codec != Codec::uncompressed) {
          decompressor_.run(codec, values, uncompressed - levels, decompressed_);
          page_.values = decompressed_;
          // The levels still point into compressed_: v2 pages keep their buffer until the next page.
        } else {
          page_.values = values;
        }
        return &page_;
      }
    }
    fail("unknown page type " + std::to_string(int32_t(h.type)));
  }
}

}  // namespace sluice::formats::parquet

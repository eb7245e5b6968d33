#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "formats/parquet/codec.hpp"
#include "formats/parquet/metadata.hpp"

namespace sluice::formats::parquet {

// One page of a column chunk, decompressed. For data pages the levels and the values are split apart, since
// DATA_PAGE_V2 keeps its levels outside the compressed part and DATA_PAGE keeps them inside.
struct Page {
  PageHeader header;
  uint64_t offset = 0;              // of the page header in the file
  std::string_view repetition;      // encoded repetition levels (v1: the 4-byte length prefix is removed)
  std::string_view definition;      // encoded definition levels
  std::string_view values;          // encoded values (dictionary pages: the dictionary)
  int32_t num_values = 0;           // level entries (data pages), or dictionary entries
  Encoding encoding = Encoding::plain;
  bool v2 = false;
  // The values are not in `values` but come through PageReader::take, decompressed as they are read: PLAIN
  // values of a page bigger than Limits::stream_page_bytes, in a codec that streams.
  bool streamed = false;
};

// Streams a column chunk's pages from a file: one page in memory at a time, each read with pread straight
// after the previous one; a page too big to hold whole (Limits::stream_page_bytes) is read, decompressed and
// handed out in pieces. Every size the file states is checked against the chunk's extent, the file's size
// and Limits before it sizes a buffer.
class PageReader {
 public:
  struct Extent {
    uint64_t start = 0, end = 0;  // the chunk's bytes: its first page to the end of its last
  };
  // `where` names the column for errors ("column 'a.b', row group 3").
  PageReader(int fd, Extent extent, Codec codec, int16_t max_rep, int16_t max_def, const Limits& limits, std::string where);

  // The next page, or nullptr at the end of the chunk. The page (and the views in it) stays valid until the
  // next call. Index pages are skipped.
  const Page* next();

  const std::string& where() const { return where_; }
  uint64_t offset() const { return page_.offset; }  // of the page last read, or being read

  // The next n bytes of a streamed page's values. The view stays valid until the next call. ParquetError if
  // the page's content ends first.
  std::string_view take(size_t n) {
    if (size_t(window_end_ - window_) >= n) {
      const std::string_view bytes(window_, n);
      window_ += n;
      return bytes;
    }
    return take_slow(n);
  }

 private:
  void start_stream(Codec codec, uint64_t from, size_t compressed, size_t uncompressed);
  std::string_view take_slow(size_t n);
  void copy_levels(std::string& into);
  void read_at(uint64_t offset, size_t size, std::string& into);
  void release_compressed();
  [[noreturn]] void fail(const std::string& what) const;

  int fd_;
  Extent extent_;
  uint64_t position_;
  Codec codec_;
  int16_t max_rep_, max_def_;
  const Limits& limits_;
  std::string where_;
  Decompressor decompressor_;
  std::string header_bytes_, compressed_, decompressed_;
  Page page_;

  // A streamed page: its compressed body is read from the file a piece at a time into stream_in_, decompressed
  // into stream_out_, and handed out from the window [window_, window_end_) of stream_out_.
  StreamDecompressor stream_;
  size_t stream_size_ = 0;                     // the streamed content's size
  uint64_t stream_next_ = 0, stream_end_ = 0;  // the part of the body not read yet
  std::string stream_in_;
  std::string_view stream_pending_;  // read, not yet decompressed
  std::string stream_out_;
  const char* window_ = nullptr;
  const char* window_end_ = nullptr;
  std::string levels_[2];  // a streamed v1 page's repetition and definition levels
};

// Where a column chunk's pages lie, checked against the file: the dictionary page offset when there is one
// (some writers set it to 0 to mean none), else the first data page.
PageReader::Extent column_extent(const ColumnMetaData& column, uint64_t data_end, const std::string& where);

}  // namespace sluice::formats::parquet

#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/parquet/codec.hpp"
#include "formats/parquet/column_spec.hpp"
#include "formats/parquet/metadata.hpp"

namespace sluice::formats::parquet {

struct WriterOptions {
  Codec codec = Codec::zstd;
  int level = 0;                          // the codec's default
  size_t page_bytes = 1u << 20;           // a data page is closed once its values pass this
  size_t dictionary_bytes = 1u << 20;     // past this a column falls back from dictionary to PLAIN encoding
  bool dictionary = true;
  // Compress pages on a thread of the Writer's own (BackgroundCompressor) while the next ones are encoded.
  // The bytes written are the same either way.
  bool background_compression = false;
};

class BackgroundCompressor;

// One leaf column of a row group being written: its entries (levels and values) for the open page, the pages
// already encoded and compressed, and the dictionary. Entries of a record that turns out not to fit are taken
// back with rollback(), so statistics are computed from what pages hold, never from what was offered.
class ColumnWriter {
 public:
  // With `background`, closed pages are compressed there (it must outlive the writer); else inline.
  ColumnWriter(Type physical, int32_t type_length, int16_t max_def, int16_t max_rep, std::vector<std::string> path,
               const WriterOptions& options, BackgroundCompressor* background = nullptr);
  ~ColumnWriter();
  ColumnWriter(ColumnWriter&&) noexcept;
  ColumnWriter& operator=(ColumnWriter&&) noexcept;

  void add_null(int16_t def, int16_t rep);
  // A present value (at the column's maximum definition level). Fixed-width physical types take their PLAIN
  // bytes (little-endian; FIXED_LEN_BYTE_ARRAY exactly type_length bytes), booleans one byte 0 or 1.
  void add(int16_t rep, std::string_view plain_bytes);
  void add_int32(int16_t rep, int32_t v) { add(rep, std::string_view(reinterpret_cast<const char*>(&v), 4)); }
  void add_int64(int16_t rep, int64_t v) { add(rep, std::string_view(reinterpret_cast<const char*>(&v), 8)); }

  struct Mark {
    size_t entries, values_bytes, values;
  };
  Mark mark() const;
  void rollback(const Mark& m);

  // Closes the open page if it has grown past the page size; called between records.
  void maybe_close_page();
  // Closes the open page whatever its size (finish() does too): a Writer closes every column's last page
  // first, so that they compress together in the background.
  void close_page();
  // Bytes this column adds to the row group so far (encoded pages, the open page uncompressed, the dictionary).
  size_t estimated_bytes() const;
  size_t entries() const;  // level entries in the row group

  // Encodes what is left, hands the column chunk (dictionary page, data pages) to `write` in pieces, its first
  // byte to sit at file offset `offset`, and returns its metadata; the writer is then empty for the next row
  // group. Pieces go out as they are held, so a row group never exists twice in memory.
  ColumnChunk finish(uint64_t offset, const std::function<void(std::string_view)>& write);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::formats::parquet

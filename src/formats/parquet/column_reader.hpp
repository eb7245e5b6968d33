#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/parquet/encoding.hpp"
#include "formats/parquet/page_reader.hpp"
#include "formats/parquet/schema.hpp"

namespace sluice::formats::parquet {

// How a leaf's values become JSON text, worked out once per column from its physical and logical types.
struct ValueFormat {
  enum class Kind : uint8_t {
    null_only,  // the spec's UNKNOWN logical type: every value is null
    boolean,
    int32,
    uint32,
    int64,
    uint64,
    float32,
    float64,
    float16,
    decimal32,
    decimal64,
    decimal_bytes,
    date,
    time32,  // TIME(MILLIS) on INT32
    time64,
    timestamp,
    int96,
    string,
    base64,
    uuid,
    interval,
  };
  Kind kind = Kind::base64;
  int32_t scale = 0;
  TimeUnit unit = TimeUnit::millis;
  bool utc = false;
  size_t width = 0;  // bytes per value for fixed-width physical types; 0 for BYTE_ARRAY and BOOLEAN
  bool is_string() const { return kind == Kind::string; }
};

// Throws ParquetError naming the column for a combination the spec does not allow or this reader cannot show
// exactly (a 9-byte DECIMAL on INT32, UUID on 15 bytes, ...).
ValueFormat value_format(const SchemaNode& leaf, const std::string& where);

// Reads one column chunk as a stream of (repetition level, definition level, value) entries, a batch of levels
// and values decoded at a time: memory holds one page and one batch, however many values a page packs (an
// all-null page can hold millions in a few bytes).
class ColumnReader {
 public:
  ColumnReader(int fd, PageReader::Extent extent, const ColumnMetaData& meta, const SchemaNode& leaf,
               const Limits& limits, std::string where);
  ~ColumnReader();

  bool at_end() { return pos_ == count_ && !fill(); }
  // The current entry's levels; at_end() must be false.
  int16_t rep() const { return rep_levels_ ? int16_t(rep_[pos_]) : 0; }
  int16_t def() const { return def_levels_ ? int16_t(def_[pos_]) : max_def_; }
  bool has_value() const { return def() == max_def_; }
  // Appends the current entry's value as JSON (has_value() must be true), once per entry.
  void append_value(std::string& out);
  void advance() {
    if (streamed_) [[unlikely]] advance_streamed();
    value_ += has_value();
    ++pos_;
  }
  // For a column without repetition (an entry is a row): renders up to `max_entries` entries, each value or
  // `null`, appending to `text` and each entry's end offset to `ends`, and stops early at the end of the column
  // or once `text` holds `budget` bytes. Returns how many it rendered. On a throw, the entries already in `ends`
  // were rendered and advanced past; `text` may hold part of the next one after ends.back().
  size_t render_run(size_t max_entries, std::string& text, std::vector<size_t>& ends, size_t budget);
  const std::string& where() const { return where_; }
  const ValueFormat& format() const { return format_; }

 private:
  struct Values;
  bool fill();
  bool fill_batch();
  bool next_data_page();
  void load_dictionary(const Page& page);
  void start_values(const Page& page);
  void decode_values(size_t n);
  void render(std::string& out, const char* p, size_t size) const;
  std::string_view take_streamed_value();
  void advance_streamed();
  [[noreturn]] void fail(const std::string& what) const;

  std::string where_;
  const Limits& limits_;
  ValueFormat format_;
  Type physical_;
  int16_t max_def_, max_rep_;
  bool def_levels_, rep_levels_;
  PageReader pages_;

  // The dictionary, each entry rendered once as JSON text.
  std::string dict_text_;
  std::vector<uint32_t> dict_offsets_;  // entry i is dict_text_[dict_offsets_[i], dict_offsets_[i + 1])
  bool has_dictionary_ = false;

  // The current data page.
  const Page* page_ = nullptr;
  size_t page_left_ = 0;  // level entries of the page not yet in a batch
  RleDecoder def_decoder_{{}, 0}, rep_decoder_{{}, 0};
  std::unique_ptr<Values> values_;
  // The page's values come from pages_.take() one at a time, as entries are read (Page::streamed).
  bool streamed_ = false;
  bool taken_ = false;          // the current entry's value has been taken
  uint8_t bool_bits_ = 0;       // PLAIN booleans: the byte being read, and how many of its bits are used
  unsigned bool_used_ = 8;
  char bool_value_ = 0;

  // The current batch.
  std::vector<uint32_t> def_, rep_;
  size_t count_ = 0;  // entries in the batch
  size_t pos_ = 0;    // the current entry
  size_t value_ = 0;  // the current entry's value, when it has one
};

}  // namespace sluice::formats::parquet

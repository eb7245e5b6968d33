#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/parquet/column_spec.hpp"
#include "formats/parquet/column_writer.hpp"
#include "formats/parquet/metadata.hpp"

namespace sluice::formats::parquet {

inline constexpr std::string_view kParquetMagic = "PAR1";

// Turns JSON records into Parquet row groups for a declared set of columns. The caller owns the file: it writes
// the magic, then each row group's bytes where flush() says they go, then the footer.
class Writer {
 public:
  Writer(std::vector<ColumnSpec> columns, const WriterOptions& options);
  ~Writer();
  Writer(Writer&&) noexcept;
  Writer& operator=(Writer&&) noexcept;

  // Shreds one record (a JSON object) into the open row group. nullopt when it fits; otherwise the reason
  // ("field 'price': 12.345 has more decimal places than the column's scale of 2") and nothing of it is kept.
  // Fields the columns do not name are ignored, unless `ignore_new_fields` is false: then a non-null value of
  // such a field refuses the record too, and new_field() says that was why.
  std::optional<std::string> add(std::string_view json, bool ignore_new_fields = true);
  bool new_field() const;

  uint64_t rows() const;              // in the open row group
  size_t estimated_bytes() const;     // the open row group's size in the file, as it stands
  // Encodes the open row group and appends it to out, as bytes that will start at file offset `offset`;
  // returns its metadata. The writer then starts an empty row group.
  RowGroup flush(uint64_t offset, std::string& out);
  // The same, handing the bytes to `write` piece by piece (a column chunk's pages at a time) instead.
  RowGroup flush(uint64_t offset, const std::function<void(std::string_view)>& write);

  // The footer (FileMetaData, its length, the magic) of a file holding these row groups.
  std::string footer(const std::vector<RowGroup>& groups, std::vector<KeyValue> key_values, const std::string& created_by) const;

  const std::vector<ColumnSpec>& columns() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::formats::parquet

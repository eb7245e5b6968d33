#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "formats/parquet/metadata.hpp"
#include "formats/parquet/schema.hpp"

namespace sluice::formats::parquet {

class ColumnReader;

// Where a reader stands: the next row to come is `row` of row group `row_group`.
struct RowPosition {
  uint32_t row_group = 0;
  uint64_t row = 0;
  bool operator==(const RowPosition&) const = default;
};

// Reads a Parquet file row by row, each row a JSON object (forms in docs/formats/parquet.md). Column chunks are
// streamed page by page, so memory holds a page per column, whatever the row groups' size.
class FileReader {
 public:
  // Opens the file and reads its footer. Throws ParquetError for a file that is not valid Parquet (or asks
  // past `limits`), std::runtime_error when it cannot be read.
  explicit FileReader(const std::string& path, const Limits& limits = {});
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  const FileMetaData& metadata() const { return metadata_; }
  const Schema& schema() const { return schema_; }
  const std::string& path() const { return path_; }

  // Appends the next row to out as a JSON object; false at the end of the file. Throws ParquetError naming
  // the column, row group and page for data that breaks the format; the reader cannot go on after that.
  bool next(std::string& out);
  RowPosition position() const { return position_; }
  // Goes to `to` (from any position): whole row groups are skipped unread, rows inside one are decoded and
  // dropped. A position past the end is the end.
  void seek(RowPosition to);

 private:
  void open_row_group();
  void emit(int32_t node, std::string& out);
  void emit_leaf(int32_t leaf, std::string& out);
  void skip(const SchemaNode& node);
  ColumnReader& column(int32_t leaf);
  [[noreturn]] void fail(const std::string& what) const;

  std::string path_;
  Limits limits_;
  int fd_ = -1;
  uint64_t data_end_ = 0;
  FileMetaData metadata_;
  Schema schema_;
  std::vector<std::string> keys_;          // per node: its name as a JSON object key, with the colon
  std::vector<bool> object_maps_;          // per node: a map whose string keys make it a JSON object
  std::vector<std::unique_ptr<ColumnReader>> columns_;  // of the open row group, by leaf
  bool row_group_open_ = false;
  RowPosition position_;
};

}  // namespace sluice::formats::parquet

#pragma once
#include <cstdint>
#include <exception>
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
  // The rendered values of one top-level field, a run of rows ahead of the row being assembled: rendering a
  // column many values at a time, rather than a value of each column in turn, keeps each column's decoding in
  // cache and its type's choice out of the per-value path.
  struct FieldRun {
    std::string prefix;          // what comes before the value in a row: a comma but for the first field, the key
    std::string text;
    std::vector<size_t> ends;    // value i is text[ends[i], ends[i + 1]); ends[0] is 0
    size_t next = 0;             // the next value to hand out
    uint64_t rendered = 0;       // rows of the row group rendered so far
    std::exception_ptr error;    // what stopped the run: thrown once the values before it are handed out
    // Every value handed out: an empty run, ready to render the next ones.
    void drop_values() {
      text.clear();
      ends.assign(1, 0);
      next = 0;
    }
  };
  void open_row_group();
  void refill(size_t field);
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
  std::vector<FieldRun> runs_;                          // by child of the root
  size_t row_frame_bytes_ = 0;                          // a row's braces, and its fields' prefixes
  bool row_group_open_ = false;
  RowPosition position_;
};

}  // namespace sluice::formats::parquet

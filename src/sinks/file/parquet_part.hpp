#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "formats/parquet/writer.hpp"

namespace sluice::sinks::file {

// The open part of a Parquet file sink. Row groups are sized by bytes, not by commits, so a commit's records
// cannot wait in memory for their row group: they are appended to a staged log beside the part (JSON lines,
// fsynced) whose length is committed with the source position. Once the rows in memory reach row_group_bytes,
// the row group is appended to the part, fsynced, and the commit records the part's new length and the row
// group's metadata, and starts the next stage file. After a crash the part is cut to its committed length
// (the sink does that), the stage to its committed length, and the stage replayed into a fresh writer; the
// footer is written only when the part is finished, from the committed row groups.
class ParquetPart {
 public:
  struct State {
    std::vector<formats::parquet::ColumnSpec> columns;
    std::vector<formats::parquet::RowGroup> row_groups;  // in the part file
    uint64_t stage_generation = 0;                        // the stage file in use: <stage_prefix><generation>
    uint64_t stage_length = 0;                            // its committed bytes
  };

  ParquetPart(std::string part_path, std::string stage_prefix, State state, const formats::parquet::WriterOptions& options,
              uint64_t row_group_bytes, bool fsync);
  ~ParquetPart();

  // A new part: writes the magic to fd; returns the part's length.
  uint64_t start(int fd);
  // After a restart: cuts the stage file to its committed length and replays it into the writer.
  void recover();

  // Takes a record into memory (it becomes durable at persist()); nullopt if it fits, else why not.
  std::optional<std::string> add(std::string_view json, bool ignore_new_fields) {
    auto refused = writer_.add(json, ignore_new_fields);
    if (!refused) {
      pending_.append(json);
      pending_.push_back('\n');
      if (pending_.size() >= kStagePiece) stage_ahead();
    }
    return refused;
  }
  bool new_field() const { return writer_.new_field(); }

  // Makes the records taken since the last call durable before the commit names them: as a row group in the
  // part (when the rows in memory have reached row_group_bytes) or at the end of the stage. Returns the part's
  // length, which the commit records with state().
  uint64_t persist(int fd, uint64_t part_length);
  // Writes the rows left in memory as a last row group, then the footer. Returns the final length, or 0 when
  // the part holds no rows at all (the sink then drops it).
  uint64_t finish(int fd, uint64_t part_length, std::vector<formats::parquet::KeyValue> key_values, const std::string& created_by);
  // Deletes stage files the committed state no longer names.
  void remove_stale_stages();

  const State& state() const { return state_; }
  const std::vector<formats::parquet::ColumnSpec>& columns() const { return state_.columns; }
  uint64_t rows_in_memory() const { return writer_.rows(); }

 private:
  class StageWriter;
  // Stage lines go to the stage file in pieces of this size while the batch is still being shredded.
  static constexpr size_t kStagePiece = 1u << 20;

  std::string stage_path(uint64_t generation) const;
  void open_stage();
  void stage_ahead();
  void append_stage();
  void drop_staged_ahead();

  std::string part_path_, stage_prefix_;
  State state_;
  formats::parquet::Writer writer_;
  uint64_t row_group_bytes_;
  bool fsync_;
  std::string pending_;  // records taken since the last persist, as stage lines not yet handed to stage_writer_
  uint64_t staged_ahead_ = 0;  // bytes of those records handed to stage_writer_, past the committed length
  int stage_fd_ = -1;
  std::unique_ptr<StageWriter> stage_writer_;
  uint64_t first_stale_;  // stage generations below it are gone
};

// The state's form in the sink's commit record (row groups as base64 Thrift, columns as type text).
boost::json::object parquet_state_to_json(const ParquetPart::State& state);
ParquetPart::State parquet_state_from_json(const boost::json::object& o);

}  // namespace sluice::sinks::file

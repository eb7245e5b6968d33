#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/registry.hpp"
#include "sinks/file/options.hpp"
#include "sinks/file/parquet_part.hpp"

namespace prometheus {
class Counter;
}
namespace sluice::metrics {
class OwnedSeries;
}

namespace sluice::formats {
class GzipEncoder;
}

namespace sluice::sinks::file {

// A directory of part files. Data is appended to a hidden in-progress part and fsynced; the part's committed
// length goes into the same state write as the checkpoint; recovery truncates to it. A finished part gets
// its final name (*.jsonl, *.csv, + .gz, *.parquet) by an atomic rename, so readers never see a partial part.
// Parquet parts keep the rows of their unfinished row group in a staged log (parquet_part.hpp).
class FileSink final : public core::Sink {
 public:
  explicit FileSink(FileOptions options);
  ~FileSink() override;

  boost::asio::awaitable<std::optional<core::Checkpoint>> open(core::SinkContext& ctx) override;
  boost::asio::awaitable<void> write(core::Batch& batch, state::WriteBatch& txn) override;
  boost::asio::awaitable<void> committed() override;
  boost::asio::awaitable<void> close(state::WriteBatch& txn) override;
  void abort() override;

  struct Part {
    std::string name;  // final file name, without directory
    uint64_t length = 0;
    int64_t created_ms = 0;
    bool sealed = false;               // complete: renamed to its final name after the commit
    std::vector<std::string> columns;  // csv header written at its start
    std::optional<ParquetPart::State> parquet;  // parquet: the committed row groups and stage
  };

 private:
  const std::string& part_prefix() const;
  std::string final_name(uint64_t number) const;
  std::string temp_path(const Part& p) const;
  bool is_own_temp_name(std::string_view name) const;
  std::string final_path(const Part& p) const;
  void save(state::WriteBatch& txn) const;
  void load();
  void recover_files();
  bool has_open_part() const;
  void open_new_part(const std::vector<std::string>& columns);
  void append_pending();
  void encode_csv(const core::Record& r);
  void write_parquet(core::Batch& batch);
  void open_parquet_part(std::vector<formats::parquet::ColumnSpec> columns);
  void finish_parquet_part();
  void reject(core::Record& r, const std::string& reason, core::Records& rejected) const;
  std::string stage_prefix(const Part& p) const;
  bool is_own_stage_name(std::string_view name) const;
  void seal_open_part();
  bool finish_sealed();

  FileOptions options_;
  core::SinkContext* ctx_ = nullptr;
  std::string ext_;
  std::vector<Part> parts_;  // sealed ones first, the open one (if any) last
  uint64_t next_number_ = 0;
  int fd_ = -1;  // of the open part
  std::unique_ptr<formats::GzipEncoder> gzip_;
  std::string buffer_, compressed_;
  formats::parquet::WriterOptions parquet_options_;
  std::vector<formats::parquet::ColumnSpec> declared_columns_;
  std::unique_ptr<ParquetPart> parquet_;  // the open part's, when the format is parquet
  std::vector<std::string> csv_columns_;
  std::unique_ptr<metrics::OwnedSeries> series_;
  prometheus::Counter* schema_drift_ = nullptr;
};

core::SinkFactory factory();

}  // namespace sluice::sinks::file

#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/registry.hpp"
#include "sinks/file/options.hpp"

namespace sluice::formats {
class GzipEncoder;
}

namespace sluice::sinks::file {

// A directory of part files. Data is appended to a hidden in-progress part and fsynced; the part's committed
// length goes into the same state write as the checkpoint; recovery truncates to it. A finished part gets
// its final name (*.jsonl, *.csv, + .gz) by an atomic rename, so readers never see a partial part.
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
};

core::SinkFactory factory();

}  // namespace sluice::sinks::file

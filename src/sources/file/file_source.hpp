#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/registry.hpp"
#include "sources/file/options.hpp"

struct stat;
namespace spdlog {
class logger;
}

namespace sluice::sources::file {

struct TailedFile;

// Reads JSONL and CSV files (optionally gzipped) and Parquet files from a directory or glob. Each file is a
// partition named by its identity (device, inode), so a renamed (rotated) file keeps its position and a new
// file at the old path starts from zero; the position is the byte offset after the last delivered record, in
// the decompressed stream for gzip, or the row group and row of the next row for Parquet. Malformed records
// and unreadable files go to the dead-letter file and never stop the pipeline.
class FileSource final : public core::Source {
 public:
  // `clock` decides when a Parquet file that stays invalid is given up on (tests pass their own).
  explicit FileSource(const FileSourceOptions& options, const core::Clock& clock = core::SteadyClock::instance());
  ~FileSource() override;
  boost::asio::awaitable<void> run(core::SourceContext& ctx) override;

 private:
  std::vector<std::string> discover() const;
  void track(core::SourceContext& ctx, const std::string& path, bool initial_scan);
  void track_parquet(core::SourceContext& ctx, TailedFile& file, const struct stat& st, bool initial_scan);
  // Reads and parses up to one chunk of `file` into records; false when it had nothing new.
  bool read_chunk(TailedFile& file, core::Records& out, bool at_end_is_final);

  FileSourceOptions options_;
  const core::Clock& clock_;
  spdlog::logger* log_ = nullptr;
  std::map<std::string, std::unique_ptr<TailedFile>> files_;  // by partition name
  // The Parquet file whose reader is open, by partition name; empty if none. Parquet files are read one at a
  // time, each to its end, so only one reader (a page per column) is in memory.
  std::string parquet_reader_;
};

core::SourceFactory factory();

}  // namespace sluice::sources::file

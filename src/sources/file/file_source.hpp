#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/registry.hpp"
#include "sources/file/options.hpp"

namespace spdlog {
class logger;
}

namespace sluice::sources::file {

struct TailedFile;

// Reads JSONL and CSV files (optionally gzipped) from a directory or glob. Each file is a partition named by
// its identity (device, inode), so a renamed (rotated) file keeps its position and a new file at the old
// path starts from zero; the position is the byte offset after the last delivered record, in the
// decompressed stream for gzip. Malformed records go to the dead-letter file and never stop the pipeline.
class FileSource final : public core::Source {
 public:
  explicit FileSource(const FileSourceOptions& options);
  ~FileSource() override;
  boost::asio::awaitable<void> run(core::SourceContext& ctx) override;

 private:
  std::vector<std::string> discover() const;
  void track(core::SourceContext& ctx, const std::string& path, bool initial_scan);
  // Reads and parses up to one chunk of `file` into records; false when it had nothing new.
  bool read_chunk(TailedFile& file, core::Records& out, bool at_end_is_final);

  FileSourceOptions options_;
  spdlog::logger* log_ = nullptr;
  std::map<std::string, std::unique_ptr<TailedFile>> files_;  // by partition name
};

core::SourceFactory factory();

}  // namespace sluice::sources::file

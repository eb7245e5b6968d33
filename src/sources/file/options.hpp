#pragma once
#include <string>

#include "config/schema.hpp"

namespace sluice::sources::file {

enum class InputFormat { auto_detect, jsonl, csv, parquet };
enum class StartAt { beginning, end };

struct FileSourceOptions {
  std::string path;
  bool watch = true;
  InputFormat format = InputFormat::auto_detect;
  StartAt start_at = StartAt::beginning;
  config::Duration poll_interval{std::chrono::milliseconds(250)};
  config::Size max_line_bytes{16ull << 20};
  static const config::Schema<FileSourceOptions>& schema();
};

}  // namespace sluice::sources::file

namespace sluice::config {
template <>
struct EnumNames<sources::file::InputFormat> {
  static constexpr std::pair<sources::file::InputFormat, const char*> values[] = {
      {sources::file::InputFormat::auto_detect, "auto"},
      {sources::file::InputFormat::jsonl, "jsonl"},
      {sources::file::InputFormat::csv, "csv"},
      {sources::file::InputFormat::parquet, "parquet"}};
};
template <>
struct EnumNames<sources::file::StartAt> {
  static constexpr std::pair<sources::file::StartAt, const char*> values[] = {{sources::file::StartAt::beginning, "beginning"},
                                                                              {sources::file::StartAt::end, "end"}};
};
}  // namespace sluice::config

#pragma once
#include <string>
#include <vector>

#include "config/schema.hpp"

namespace sluice::sinks::file {

enum class Format { jsonl, csv };
enum class Compression { none, gzip };

struct RollOptions {
  config::Size max_bytes{128ull << 20};
  config::Duration max_age{std::chrono::minutes(5)};
  static const config::Schema<RollOptions>& schema();
};

struct FileOptions {
  std::string path;
  Format format = Format::jsonl;
  Compression compression = Compression::none;
  std::string prefix;                // empty: the pipeline's name
  std::vector<std::string> columns;  // csv: header; empty = the first record's fields
  RollOptions roll;
  bool fsync = true;
  static const config::Schema<FileOptions>& schema();
};

}  // namespace sluice::sinks::file

namespace sluice::config {
template <>
struct EnumNames<sinks::file::Format> {
  static constexpr std::pair<sinks::file::Format, const char*> values[] = {{sinks::file::Format::jsonl, "jsonl"},
                                                                           {sinks::file::Format::csv, "csv"}};
};
template <>
struct EnumNames<sinks::file::Compression> {
  static constexpr std::pair<sinks::file::Compression, const char*> values[] = {
      {sinks::file::Compression::none, "none"}, {sinks::file::Compression::gzip, "gzip"}};
};
}  // namespace sluice::config

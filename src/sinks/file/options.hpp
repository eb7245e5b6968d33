#pragma once
#include <string>
#include <vector>

#include "config/schema.hpp"

namespace sluice::sinks::file {

enum class Format { jsonl, csv, parquet };
enum class Compression { none, gzip, zstd, snappy };
enum class SchemaMode { columns, infer };

struct RollOptions {
  config::Size max_bytes{128ull << 20};
  config::Duration max_age{std::chrono::minutes(5)};
  static const config::Schema<RollOptions>& schema();
};

// One entry of `columns:`: a bare name (csv's header), or a mapping {name, type, nullable} (parquet's schema;
// the type is parquet's column type text, checked when the file is parsed).
struct ColumnDecl {
  std::string name;
  std::string type;
  bool nullable = true;
  config::Mark mark;
};

struct FileOptions {
  std::string path;
  Format format = Format::jsonl;
  std::optional<Compression> compression;  // none for jsonl and csv, zstd for parquet
  std::optional<int> compression_level;
  std::string prefix;               // empty: the pipeline's name
  std::vector<ColumnDecl> columns;  // csv: header; parquet: schema; empty = the first record's fields
  SchemaMode schema_mode = SchemaMode::columns;
  config::Size row_group_bytes{64ull << 20};
  RollOptions roll;
  bool fsync = true;
  static const config::Schema<FileOptions>& schema();

  Compression effective_compression() const {
    return compression ? *compression : format == Format::parquet ? Compression::zstd : Compression::none;
  }
};

}  // namespace sluice::sinks::file

namespace sluice::config {
template <>
struct EnumNames<sinks::file::Format> {
  static constexpr std::pair<sinks::file::Format, const char*> values[] = {
      {sinks::file::Format::jsonl, "jsonl"}, {sinks::file::Format::csv, "csv"}, {sinks::file::Format::parquet, "parquet"}};
};
template <>
struct EnumNames<sinks::file::Compression> {
  static constexpr std::pair<sinks::file::Compression, const char*> values[] = {{sinks::file::Compression::none, "none"},
                                                                                {sinks::file::Compression::gzip, "gzip"},
                                                                                {sinks::file::Compression::zstd, "zstd"},
                                                                                {sinks::file::Compression::snappy, "snappy"}};
};
template <>
struct EnumNames<sinks::file::SchemaMode> {
  static constexpr std::pair<sinks::file::SchemaMode, const char*> values[] = {{sinks::file::SchemaMode::columns, "columns"},
                                                                               {sinks::file::SchemaMode::infer, "infer"}};
};
template <>
struct Codec<sinks::file::ColumnDecl> {
  static bool parse(const Value& v, sinks::file::ColumnDecl& out, Context& ctx);
  static std::string type_name() { return "column name, or {name, type, nullable}"; }
  static std::string show(const sinks::file::ColumnDecl& c) { return c.type.empty() ? c.name : c.name + " " + c.type; }
};
}  // namespace sluice::config

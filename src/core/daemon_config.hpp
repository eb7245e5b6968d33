#pragma once
#include <string>
#include <vector>

#include "config/schema.hpp"
#include "core/pipeline_config.hpp"

namespace sluice::core {

enum class LogLevel { trace, debug, info, warn, error };
enum class LogFormat { text, json };

struct HttpOptions {
  std::string listen = "127.0.0.1:9477";
  static const config::Schema<HttpOptions>& schema();
};

struct LogOptions {
  LogLevel level = LogLevel::info;
  LogFormat format = LogFormat::text;
  static const config::Schema<LogOptions>& schema();
};

struct DaemonConfig {
  std::string state_dir = "/var/lib/sluice";
  std::string pipelines_dir = "pipelines";
  HttpOptions http;
  LogOptions log;
  config::Duration shutdown_timeout{std::chrono::seconds(30)};
  uint32_t blocking_threads = 2;

  std::string file;
  static const config::Schema<DaemonConfig>& schema();
};

// Reads the daemon file; state_dir and pipelines_dir come back absolute (relative ones are taken from the
// daemon file's directory). Throws config::ConfigError.
DaemonConfig load_daemon_file(const std::string& path);

// The result of reading every *.yaml in pipelines_dir: valid pipelines, and one error per invalid file.
struct PipelineSet {
  std::vector<PipelineConfig> pipelines;
  std::vector<config::Diagnostic> errors;
  std::vector<std::string> invalid_files;
};
PipelineSet load_pipeline_dir(const std::string& dir);

}  // namespace sluice::core

namespace sluice::config {
template <>
struct EnumNames<core::LogLevel> {
  static constexpr std::pair<core::LogLevel, const char*> values[] = {{core::LogLevel::trace, "trace"},
                                                                      {core::LogLevel::debug, "debug"},
                                                                      {core::LogLevel::info, "info"},
                                                                      {core::LogLevel::warn, "warn"},
                                                                      {core::LogLevel::error, "error"}};
};
template <>
struct EnumNames<core::LogFormat> {
  static constexpr std::pair<core::LogFormat, const char*> values[] = {{core::LogFormat::text, "text"},
                                                                       {core::LogFormat::json, "json"}};
};
}  // namespace sluice::config

#pragma once
#include <optional>
#include <string>
#include <vector>

#include "config/schema.hpp"
#include "core/registry.hpp"

namespace sluice::core {

enum class Policy { throttle, drop_newest, drop_oldest, buffer };

struct BufferOptions {
  config::Size max_bytes{1ull << 30};
  static const config::Schema<BufferOptions>& schema();
};

struct QueueOptions {
  uint64_t max_records = 10000;
  config::Size max_bytes{64ull << 20};
  Policy policy = Policy::throttle;
  BufferOptions buffer;
  static const config::Schema<QueueOptions>& schema();
};

struct BatchOptions {
  uint64_t max_records = 5000;
  config::Size max_bytes{4ull << 20};
  config::Duration max_wait{std::chrono::milliseconds(200)};
  static const config::Schema<BatchOptions>& schema();
};

struct RateLimitOptions {
  double rate = 0;
  double burst = 0;  // 0: one second's worth of tokens
  static const config::Schema<RateLimitOptions>& schema();
};

struct DeadLetterOptions {
  std::string path;  // empty: <state_dir>/dead_letter/<pipeline>
  static const config::Schema<DeadLetterOptions>& schema();
};

// Keys every source block accepts besides its connector's own.
struct SourceCommon {
  std::string type;
  std::optional<RateLimitOptions> rate_limit;
  static const config::Schema<SourceCommon>& schema();
};

// Keys every sink block accepts besides its connector's own.
struct SinkCommon {
  std::string type;
  BatchOptions batch;
  static const config::Schema<SinkCommon>& schema();
};

struct SourceSpec {
  SourceCommon common;
  const SourceFactory* factory = nullptr;
  OptionsPtr options;
};

struct SinkSpec {
  SinkCommon common;
  const SinkFactory* factory = nullptr;
  OptionsPtr options;
};

struct PipelineConfig {
  std::string name;
  SourceSpec source;
  std::vector<config::Value> transforms;
  QueueOptions queue;
  SinkSpec sink;
  DeadLetterOptions dead_letter;

  std::string file;         // where it was read from
  std::string config_hash;  // of the parsed file, after substitution: what a reload compares
  static const config::Schema<PipelineConfig>& schema();
};

// Throws config::ConfigError with every problem as path:line:col.
PipelineConfig load_pipeline_file(const std::string& path);
PipelineConfig parse_pipeline(const config::Document& doc, const std::string& default_name);

}  // namespace sluice::core

namespace sluice::config {
template <>
struct EnumNames<core::Policy> {
  static constexpr std::pair<core::Policy, const char*> values[] = {{core::Policy::throttle, "throttle"},
                                                                    {core::Policy::drop_newest, "drop_newest"},
                                                                    {core::Policy::drop_oldest, "drop_oldest"},
                                                                    {core::Policy::buffer, "buffer"}};
};
}  // namespace sluice::config

#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "core/daemon_config.hpp"

namespace spdlog {
class logger;
}

namespace sluice::core {

// Configures the process's log output (stderr, text or JSON lines) and level.
void configure_logging(const LogOptions& options);
// A logger whose lines carry `name` (a pipeline's name, or kDaemonLogger for the daemon's own lines).
std::shared_ptr<spdlog::logger> make_logger(const std::string& name);
inline constexpr const char* kDaemonLogger = "sluiced";

// A machine-readable detail of a log event. Text logs show the message only (written to be read); JSON logs
// add the fields as an object, so log pipelines can filter and aggregate without parsing prose.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v), quoted(true) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v), quoted(true) {}
  LogField(std::string_view k, const char* v) : key(k), value(v), quoted(true) {}
  LogField(std::string_view k, uint64_t v) : key(k), value(std::to_string(v)), quoted(false) {}
  LogField(std::string_view k, int64_t v) : key(k), value(std::to_string(v)), quoted(false) {}
  LogField(std::string_view k, int v) : key(k), value(std::to_string(v)), quoted(false) {}
  LogField(std::string_view k, double v);
  std::string_view key;
  std::string value;
  bool quoted;
};
enum class LogLevelOf { debug, info, warn, error };
void log_event(spdlog::logger& log, LogLevelOf level, std::string_view message, std::initializer_list<LogField> fields);

}  // namespace sluice::core

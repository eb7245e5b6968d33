#include "core/logging.hpp"

#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>

#include "formats/json_check.hpp"
#include "formats/timestamp.hpp"

namespace sluice::core {
namespace {

// The fields of the event being logged on this thread; set only for the duration of log_event's call.
thread_local std::initializer_list<LogField>* t_fields = nullptr;

// One JSON object per line: {"ts","level","pipeline","message"}, every string escaped, so log shippers can
// parse any message, including ones that quote user input.
class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = "{\"ts\":\"";
    formats::append_iso8601_ms(line, std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count());
    line += "\",\"level\":\"";
    auto level = spdlog::level::to_string_view(msg.level);
    line.append(level.data(), level.size());
    line += "\",\"pipeline\":";
    std::string_view logger(msg.logger_name.data(), msg.logger_name.size());
    if (logger == kDaemonLogger) line += "null";
    else formats::append_json_string(line, logger);
    line += ",\"message\":";
    formats::append_json_string(line, std::string_view(msg.payload.data(), msg.payload.size()));
    line += ",\"fields\":{";
    if (t_fields) {
      const char* sep = "";
      for (const auto& f : *t_fields) {
        line += sep;
        formats::append_json_string(line, f.key);
        line += ':';
        if (f.quoted) formats::append_json_string(line, f.value);
        else line += f.value;
        sep = ",";
      }
    }
    line += "}}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonLineFormatter>(); }
};

std::mutex g_mutex;
spdlog::sink_ptr g_sink;
spdlog::level::level_enum g_level = spdlog::level::info;
const std::string kTextPattern = "%Y-%m-%dT%H:%M:%S.%e%z %l [%n] %v";

spdlog::sink_ptr shared_sink() {
  if (!g_sink) {
    g_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    g_sink->set_pattern(kTextPattern);
  }
  return g_sink;
}

spdlog::level::level_enum to_spdlog(LogLevel l) {
  switch (l) {
    case LogLevel::trace: return spdlog::level::trace;
    case LogLevel::debug: return spdlog::level::debug;
    case LogLevel::info: return spdlog::level::info;
    case LogLevel::warn: return spdlog::level::warn;
    case LogLevel::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

LogField::LogField(std::string_view k, double v) : key(k), quoted(false) {
  char buf[32];
  // JSON has no NaN or infinity: those become null.
  if (std::isfinite(v)) std::snprintf(buf, sizeof buf, "%.6g", v);
  else std::snprintf(buf, sizeof buf, "null");
  value = buf;
}

void log_event(spdlog::logger& log, LogLevelOf level, std::string_view message, std::initializer_list<LogField> fields) {
  auto lvl = level == LogLevelOf::debug  ? spdlog::level::debug
             : level == LogLevelOf::info ? spdlog::level::info
             : level == LogLevelOf::warn ? spdlog::level::warn
                                         : spdlog::level::err;
  if (!log.should_log(lvl)) return;
  t_fields = &fields;
  log.log(lvl, message);
  t_fields = nullptr;
}

void configure_logging(const LogOptions& options) {
  {
  std::lock_guard lock(g_mutex);
  g_level = to_spdlog(options.level);
  if (options.format == LogFormat::json)
    shared_sink()->set_formatter(std::make_unique<JsonLineFormatter>());
  else
    shared_sink()->set_pattern(kTextPattern);
  spdlog::set_level(g_level);
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->set_level(g_level); });
  }
  auto daemon = make_logger(kDaemonLogger);
  spdlog::set_default_logger(daemon);
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& name) {
  {
    std::lock_guard lock(g_mutex);
    if (auto existing = spdlog::get(name)) return existing;
  }
  auto logger = std::make_shared<spdlog::logger>(name, shared_sink());
  logger->set_level(g_level);
  logger->flush_on(spdlog::level::warn);
  std::lock_guard lock(g_mutex);
  if (auto existing = spdlog::get(name)) return existing;
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace sluice::core

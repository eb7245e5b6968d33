#include "core/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

namespace sluice::core {
namespace {

std::mutex g_mutex;
spdlog::sink_ptr g_sink;
spdlog::level::level_enum g_level = spdlog::level::info;
std::string g_pattern = "%Y-%m-%dT%H:%M:%S.%e%z %l [%n] %v";

spdlog::sink_ptr shared_sink() {
  if (!g_sink) {
    g_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    g_sink->set_pattern(g_pattern);
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

void configure_logging(const LogOptions& options) {
  {
  std::lock_guard lock(g_mutex);
  g_level = to_spdlog(options.level);
  // JSON lines: one object per event; the message is escaped by spdlog's formatter only for the pattern, so
  // messages are kept free of raw quotes by the callers' use of quoted fields.
  g_pattern = options.format == LogFormat::json
                  ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","pipeline":"%n","message":"%v"})"
                  : "%Y-%m-%dT%H:%M:%S.%e%z %l [%n] %v";
  shared_sink()->set_pattern(g_pattern);
  spdlog::set_level(g_level);
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->set_level(g_level); });
  }
  auto daemon = make_logger("sluiced");
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

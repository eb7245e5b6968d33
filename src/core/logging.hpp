#pragma once
#include <memory>
#include <string>

#include "core/daemon_config.hpp"

namespace spdlog {
class logger;
}

namespace sluice::core {

// Configures the process's log output (stderr, text or JSON lines) and level.
void configure_logging(const LogOptions& options);
// A logger whose lines carry `name` (a pipeline's name, or "sluiced").
std::shared_ptr<spdlog::logger> make_logger(const std::string& name);

}  // namespace sluice::core

#pragma once
#include <memory>

#include "core/daemon_config.hpp"

namespace sluice::core {

struct RunOptions {
  bool once = false;
};

// The daemon's life: one io_context for every pipeline, a small pool for blocking work, the state store,
// and the signals that stop it. Returns the process exit code.
int run_daemon(const DaemonConfig& config, const RunOptions& options);

}  // namespace sluice::core

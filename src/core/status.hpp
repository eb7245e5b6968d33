#pragma once
// The /status document, and the table `sluiced status` prints from it.
#include <cstdint>
#include <string>
#include <vector>

#include "core/pipeline.hpp"

namespace sluice::core {

struct ReloadReport {
  uint64_t sequence = 0;  // 0: no reload yet
  int64_t at_unix_ms = 0;
  bool succeeded = true;
  std::vector<std::string> errors;  // path:line:col: message
  std::vector<std::string> started, restarted, stopped;
  size_t unchanged = 0;
};

struct StatusInput {
  struct PipelineEntry {
    const PipelineConfig* config;
    const PipelineStats* stats;
    PipelineState state;
    size_t tap_readers;
    uint64_t instance;  // 1 for the instance started first; a reload that changed the pipeline adds one
  };
  std::string version;
  int64_t started_unix_ms = 0;
  bool ready = false;
  bool reloading = false;
  uint64_t reload_signals = 0;
  const ReloadReport* last_reload = nullptr;
  const ReloadReport* last_failed_reload = nullptr;  // kept after later successes, for whoever looks next
  uint64_t reloads_succeeded = 0, reloads_failed = 0;
  std::vector<std::string> startup_errors;
  std::vector<PipelineEntry> pipelines;
};

std::string render_status(const StatusInput& in);

// A table for people, one pipeline a line, from /status's JSON; throws std::runtime_error on a document it
// cannot read.
std::string format_status_table(const std::string& status_json);

}  // namespace sluice::core

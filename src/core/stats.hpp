#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "core/latency_histogram.hpp"

namespace sluice::core {

// Counters of one pipeline, kept across restarts of the pipeline (they describe the pipeline, not one run).
// Everything runs on the event loop thread, so plain integers suffice.
struct PipelineStats {
  uint64_t records_in = 0;  // accepted from the source
  uint64_t bytes_in = 0;
  uint64_t records_out = 0;  // committed to the sink
  uint64_t bytes_out = 0;
  uint64_t rejected = 0;  // dead-lettered
  std::map<std::string, uint64_t> dropped;  // by reason
  uint64_t commits = 0;
  int64_t last_commit_unix_ms = 0;
  int64_t last_event_time_ms = 0;
  LatencyHistogram commit_latency;
  uint64_t restarts = 0;
  std::string last_error;
  // Gauges refreshed by the queue.
  double arrival_rate = 0;  // λ, records/s
  double service_rate = 0;  // μ, records/s
  double time_to_overflow_s = 0;
  uint64_t queue_records = 0;
  uint64_t queue_bytes = 0;

  uint64_t dropped_total() const {
    uint64_t n = 0;
    for (const auto& [r, c] : dropped) n += c;
    return n;
  }
};

}  // namespace sluice::core

#pragma once
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>

#include "core/latency_histogram.hpp"
#include "core/record.hpp"

namespace sluice::core {

// Commit durations in the buckets Prometheus users expect (1 ms to 10 s), beside LatencyHistogram's finer
// ones that the logs' p50/p99 come from.
struct CommitBuckets {
  static constexpr std::array<double, 13> kUpperBounds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  std::array<uint64_t, kUpperBounds.size() + 1> counts{};  // the last one is +Inf
  uint64_t count = 0;
  double sum = 0;
  void record(double seconds) {
    size_t i = 0;
    while (i < kUpperBounds.size() && seconds > kUpperBounds[i]) ++i;
    ++counts[i];
    ++count;
    sum += seconds;
  }
};

// Counters of one pipeline, kept across restarts of the pipeline and across reloads that change its
// configuration (they describe the pipeline by name, not one run).
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
  CommitBuckets commit_buckets;
  uint64_t restarts = 0;
  std::string last_error;
  int64_t last_error_unix_ms = 0;
  Checkpoint committed_position;     // every partition's last committed position
  int64_t last_read_event_time_ms = 0;  // newest event time the source has handed over: its lag behind now
  uint64_t tap_skipped = 0;         // records a live tap could not take (sampled out or reader too slow)
  // Why the source reports the pipeline as degraded (running, but something needs an operator: a
  // replication slot lagging past its limit); empty while healthy. Cleared when a run starts.
  std::string degraded;
  int64_t degraded_since_unix_ms = 0;
  // Gauges refreshed by the queue.
  double arrival_rate = 0;  // λ, records/s
  double service_rate = 0;  // μ, records/s
  double time_to_overflow_s = INFINITY;  // until measured: nothing is filling
  uint64_t queue_records = 0;
  uint64_t queue_bytes = 0;

  uint64_t dropped_total() const {
    uint64_t n = 0;
    for (const auto& [r, c] : dropped) n += c;
    return n;
  }
};

}  // namespace sluice::core

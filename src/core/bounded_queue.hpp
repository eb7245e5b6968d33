#pragma once
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/channel.hpp"
#include "core/clock.hpp"
#include "core/notifier.hpp"
#include "core/pipeline_config.hpp"
#include "core/rate_meter.hpp"
#include "core/stats.hpp"

namespace sluice::core {

// The in-memory queue, capped in records and bytes. One event loop thread uses it; no locks.
class BoundedQueue final : public Channel {
 public:
  BoundedQueue(boost::asio::any_io_executor ex, uint64_t max_records, uint64_t max_bytes, Policy policy,
               const std::vector<std::string>& partition_names, PipelineStats& stats,
               const Clock& clock = SteadyClock::instance());

  boost::asio::awaitable<void> push(Records& records) override;
  boost::asio::awaitable<bool> pop(Batch& batch, const BatchLimits& limits) override;
  void commit_state(const Batch& batch, state::WriteBatch& txn) override;
  void withdraw(const std::vector<uint32_t>& partitions) override;
  void close() override;
  void flush() override;
  uint64_t size() const override { return records_.size(); }
  uint64_t bytes() const override { return bytes_; }

  // Sets the checkpoint scope (the pipeline name) under which commit_state writes positions.
  void set_scope(std::string pipeline) { pipeline_ = std::move(pipeline); }
  // Refreshes λ, μ, fill and time to overflow in the stats.
  void update_gauges();

 private:
  bool fits(const Record& r) const;
  void admit(Record&& r);
  void drop(Record& r, const char* reason, uint64_t after);
  void apply_dropped_positions(Batch& batch, ResumeTracker& tracker);
  void mark_resume_point(const Batch& batch);
  void discard_unresumable_tail(Batch& batch);
  bool take(Batch& batch, const BatchLimits& limits, ResumeTracker& tracker);
  bool may_end(const Batch& batch, const BatchLimits& limits, const ResumeTracker& tracker) const;

  uint64_t max_records_, max_bytes_;
  Policy policy_;
  const std::vector<std::string>& partition_names_;
  PipelineStats& stats_;
  std::string pipeline_;
  std::deque<Record> records_;
  // Positions of dropped records, applied to the batch that takes the last record admitted before the drop,
  // so that what was dropped is not read again while what was kept is not read twice.
  struct DroppedPosition {
    uint64_t after;  // admitted-record count at the drop
    uint32_t partition;
    std::string position;
    bool mid_group;
  };
  std::deque<DroppedPosition> dropped_positions_;
  uint64_t admitted_ = 0, taken_ = 0;
  // The batch being filled, as it stood at its last resume point.
  struct {
    size_t records = 0, rejected = 0;
    uint64_t bytes = 0;
    Checkpoint checkpoint;
  } resume_point_;
  // The batch's size when it last stood at the end of every group: what the open group has added since
  // decides whether it has outgrown the limits.
  struct {
    size_t records = 0;
    uint64_t bytes = 0;
  } group_start_;
  uint64_t bytes_ = 0;
  bool closed_ = false;
  bool flush_requested_ = false;
  Notifier has_data_, has_room_;
  RateMeter arrivals_, departures_, arrival_bytes_, departure_bytes_;
};

}  // namespace sluice::core

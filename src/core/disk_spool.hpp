#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/channel.hpp"
#include "core/clock.hpp"
#include "core/notifier.hpp"
#include "core/rate_meter.hpp"
#include "core/stats.hpp"

namespace sluice::state {
class StateStore;
}

namespace sluice::core {

// Policy `buffer`: a durable write-ahead spool in RocksDB. Records enter it in the same synchronous write
// as the source positions they complete, so the source is acknowledged as soon as they are on disk; the sink
// worker reads them back in order and commits with the spool sequence as its position. When the spool holds
// max_bytes, push waits (throttle).
class DiskSpool final : public Channel {
 public:
  using SourceDurable = std::function<void(const Checkpoint&)>;

  DiskSpool(boost::asio::any_io_executor ex, boost::asio::any_io_executor blocking, state::StateStore& store,
            std::string pipeline, uint64_t max_bytes, const std::vector<std::string>& partition_names,
            PipelineStats& stats, SourceDurable on_source_durable, const Clock& clock = SteadyClock::instance());

  // Reads the spool's extent after a restart. Blocking: call before the pipeline's coroutines start.
  void recover();

  boost::asio::awaitable<void> push(Records& records) override;
  boost::asio::awaitable<bool> pop(Batch& batch, const BatchLimits& limits) override;
  void commit_state(const Batch& batch, state::WriteBatch& txn) override;
  // Spooled records are durable and their positions acknowledged already: they stay and are delivered.
  void withdraw(const std::vector<uint32_t>&) override {}
  void close() override;
  void flush() override;
  uint64_t size() const override { return next_seq_ - committed_next_ + held_back_.size(); }
  uint64_t bytes() const override { return bytes_; }
  void update_gauges();

  static std::string encode(const Record& r);
  static bool decode(std::string_view bytes, Record& r);

 private:
  boost::asio::awaitable<size_t> read_more(Batch& batch, const BatchLimits& limits);
  std::string record_key(uint64_t seq) const;

  boost::asio::any_io_executor blocking_;
  state::StateStore& store_;
  std::string pipeline_;
  uint64_t max_bytes_;
  const std::vector<std::string>& partition_names_;
  PipelineStats& stats_;
  SourceDurable on_source_durable_;
  uint64_t next_seq_ = 0;        // sequence of the next record pushed
  uint64_t read_seq_ = 0;        // next sequence the sink worker reads
  uint64_t committed_next_ = 0;  // first sequence not yet committed by the sink
  uint64_t bytes_ = 0;           // encoded bytes of uncommitted records
  uint64_t batch_first_ = 0, batch_end_ = 0, batch_encoded_bytes_ = 0;
  Records held_back_;  // pushed, but after the last point the source can resume from: not yet spooled
  bool closed_ = false;
  bool flush_requested_ = false;
  Notifier has_data_, has_room_;
  RateMeter arrivals_, departures_, arrival_bytes_, departure_bytes_;
};

}  // namespace sluice::core

#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "core/record.hpp"

namespace spdlog {
class logger;
}
namespace prometheus {
class Registry;
}

namespace sluice::core {

class BlockingPool;

// What a running source may use. Owned by the pipeline; valid for the whole run() call.
class SourceContext {
 public:
  virtual ~SourceContext() = default;
  virtual const std::string& pipeline() const = 0;
  // Positions committed with the data, partition name → position; empty on a first start.
  virtual const Checkpoint& checkpoint() const = 0;
  // A stable small id for a partition name, for Record::partition.
  virtual uint32_t partition(std::string_view name) = 0;
  // Hands records to the pipeline (rate limit, then the queue's backpressure policy). Under `throttle` this
  // suspends until there is room; the records are moved from and the vector is left empty for reuse. When
  // cancelled, the records not yet handed over remain in the vector, in order.
  virtual boost::asio::awaitable<void> push(Records& records) = 0;
  // Gives up these partitions (a Kafka partition revoked by a rebalance): records of theirs that no commit has
  // taken yet are dropped unacknowledged, and this returns once a commit already under way with some of them
  // has finished (on_committed has been called for it). Nothing of theirs is committed after it returns.
  virtual boost::asio::awaitable<void> withdraw(const std::vector<uint32_t>& partitions) = 0;
  virtual spdlog::logger& log() = 0;
  virtual boost::asio::any_io_executor executor() = 0;
  // For blocking calls (file reads of unknown latency, decompression of big chunks), see core/async.hpp.
  virtual boost::asio::any_io_executor blocking_executor() = 0;
  // The daemon's Prometheus registry, for the connector's own series (partition lag, requests by status):
  // label them with pipeline(), keep label sets bounded, and remove them when the source goes away.
  virtual prometheus::Registry& metrics() = 0;
  // Marks the pipeline degraded with a reason an operator can act on (shown in /status, `sluiced status` and
  // sluice_pipeline_degraded), or healthy again with an empty reason. The source logs the change itself.
  virtual void set_degraded(std::string_view reason) = 0;
  // Names this sluiced's state among instances that share a source's partitions (a consumer group): one per
  // state_dir, stable across restarts.
  virtual const std::string& instance() const = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  // Reads from the checkpoint on and pushes records until a bounded input is exhausted (then returns) or the
  // pipeline stops (cancellation). Throws on failure; the pipeline restarts it with backoff.
  virtual boost::asio::awaitable<void> run(SourceContext& ctx) = 0;
  // Called after a commit that covers these positions is durable: the place to acknowledge upstream.
  virtual void on_committed(const Checkpoint&) {}

  // A source whose partitions can move to another sluiced (a Kafka consumer group) must publish each commit's
  // positions where every instance sees them, since the next owner cannot read this one's state (DESIGN.md,
  // "When work moves between instances"). When this holds, the engine commits in two phases: the data durable
  // and the commit recorded as pending under commit_id, then publish_positions(), then the commit marked done.
  virtual bool shares_positions() const { return false; }
  // Durably publishes the positions under commit_id; throws when it cannot (the commit fails and is retried).
  virtual boost::asio::awaitable<void> publish_positions(SourceContext&, const Checkpoint&, const std::string& /*commit_id*/) {
    co_return;
  }
  // For a commit a crash left pending: whether its positions were published. Published, the commit stands
  // (another instance may already resume after it); not published, its data is discarded. Called before run().
  virtual boost::asio::awaitable<bool> positions_published(SourceContext&, const Checkpoint&, const std::string& /*commit_id*/) {
    co_return false;
  }
};

}  // namespace sluice::core

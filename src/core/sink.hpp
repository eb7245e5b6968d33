#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "core/record.hpp"

namespace spdlog {
class logger;
}
namespace prometheus {
class Registry;
}
namespace sluice::state {
class StateStore;
class WriteBatch;
}  // namespace sluice::state

namespace sluice::core {

class SinkContext {
 public:
  virtual ~SinkContext() = default;
  virtual const std::string& pipeline() const = 0;
  // The sink's own keys live under this scope in state::Family::sink.
  virtual const std::string& scope() const = 0;
  virtual state::StateStore& state() = 0;
  virtual spdlog::logger& log() = 0;
  virtual boost::asio::any_io_executor executor() = 0;
  virtual boost::asio::any_io_executor blocking_executor() = 0;
  // The daemon's Prometheus registry, for the sink's own series (label them with pipeline()).
  virtual prometheus::Registry& metrics() = 0;
  // The name of a record's partition (Record::partition), for sinks that write the source position beside the data.
  virtual const std::string& partition_name(uint32_t id) const = 0;
};

// The commit protocol: write() makes the batch's data durable and adds the sink's own bookkeeping to `txn`;
// the engine then adds the checkpoint and writes `txn` synchronously. Until that write the data is invisible
// to recovery: open() after a crash discards whatever write() left beyond the last committed `txn`.
class Sink {
 public:
  virtual ~Sink() = default;
  // Repairs the sink after a crash (truncate, delete temp files) and returns the checkpoint when the sink
  // itself is authoritative for it (a database sink); nullopt means the engine's state store is.
  virtual boost::asio::awaitable<std::optional<Checkpoint>> open(SinkContext& ctx) = 0;
  // A record the sink cannot write (its value does not fit the sink's declared types, say) is moved from
  // batch.records to batch.rejected, marked rejected, its value a JSON object saying why ("reason") and what
  // ("original"): the engine dead-letters it in the same commit, and the pipeline goes on.
  virtual boost::asio::awaitable<void> write(Batch& batch, state::WriteBatch& txn) = 0;
  // Overlapping batches, for a sink whose write() mostly waits for a remote acknowledgement (a producer's):
  // above 0, the engine calls send(b) to hand a batch over without waiting, then write(b) to wait for it and
  // fill txn; while write(b) and the rest of b's commit run, it may call send() for up to this many later
  // batches (of up to `batch_records` records each), the coroutines interleaving on the event loop. write()
  // comes in the order of send(), and waits for its own batch alone; write() of a batch that was not sent does
  // both. A batch stays alive and unchanged from send() until its write() returns, or until abort().
  virtual size_t batches_ahead(uint64_t /*batch_records*/) const { return 0; }
  virtual boost::asio::awaitable<void> send(Batch&) { co_return; }
  // The txn written after the last write() is durable.
  virtual boost::asio::awaitable<void> committed() { co_return; }
  // Clean stop: publish what is open (finish parts). Everything it needs to persist goes into txn.
  virtual boost::asio::awaitable<void> close(state::WriteBatch&) { co_return; }
  // Called when the pipeline is torn down after a failure: release resources, persist nothing.
  virtual void abort() {}
};

}  // namespace sluice::core

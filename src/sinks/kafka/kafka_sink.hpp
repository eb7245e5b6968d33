#pragma once
#include <memory>

#include "core/registry.hpp"
#include "sinks/kafka/options.hpp"

namespace sluice::sinks::kafka {

struct Producer;

// Exactly-once into Kafka without relying on transactions: an idempotent producer, a partition that is a pure
// function of the key, every message carrying its source position in headers, and on start a read-back of
// each output partition's unconfirmed tail so that replayed records that had already landed are skipped.
// `transactional` adds Kafka transactions on top, for fencing and read_committed readers on real brokers.
class KafkaSink final : public core::Sink {
 public:
  explicit KafkaSink(const KafkaSinkOptions& options);
  ~KafkaSink() override;
  boost::asio::awaitable<std::optional<core::Checkpoint>> open(core::SinkContext& ctx) override;
  boost::asio::awaitable<void> write(core::Batch& batch, state::WriteBatch& txn) override;
  size_t batches_ahead(uint64_t batch_records) const override;
  boost::asio::awaitable<void> send(core::Batch& batch) override;
  void abort() override;

 private:
  KafkaSinkOptions options_;
  std::unique_ptr<Producer> producer_;
};

core::SinkFactory factory();

}  // namespace sluice::sinks::kafka

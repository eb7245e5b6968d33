#pragma once
#include "core/registry.hpp"

namespace sluice::sinks::blackhole {

struct BlackholeOptions {
  static const config::Schema<BlackholeOptions>& schema();
};

// Discards records but commits checkpoints like any sink, so benchmarks measure the engine's real path.
class BlackholeSink final : public core::Sink {
 public:
  explicit BlackholeSink(const BlackholeOptions&) {}
  boost::asio::awaitable<std::optional<core::Checkpoint>> open(core::SinkContext&) override;
  boost::asio::awaitable<void> write(core::Batch&, state::WriteBatch&) override;
};

core::SinkFactory factory();

}  // namespace sluice::sinks::blackhole

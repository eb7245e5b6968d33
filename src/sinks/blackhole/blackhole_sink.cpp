#include "sinks/blackhole/blackhole_sink.hpp"

#include "core/async.hpp"

namespace sluice::sinks::blackhole {

const config::Schema<BlackholeOptions>& BlackholeOptions::schema() {
  static const config::Schema<BlackholeOptions> s{"sink (blackhole)", {}};
  return s;
}

core::awaitable<std::optional<core::Checkpoint>> BlackholeSink::open(core::SinkContext&) { co_return std::nullopt; }
core::awaitable<void> BlackholeSink::write(core::Batch&, state::WriteBatch&) { co_return; }

core::SinkFactory factory() {
  return core::make_sink_factory<BlackholeOptions, BlackholeSink>("blackhole", "Discards records but commits checkpoints (for benchmarks)");
}

}  // namespace sluice::sinks::blackhole

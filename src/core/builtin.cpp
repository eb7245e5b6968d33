// Every built-in connector, one line each, in alphabetical order.
#include "core/registry.hpp"
#include "sinks/blackhole/blackhole_sink.hpp"
#include "sinks/file/file_sink.hpp"
#include "sinks/kafka/kafka_sink.hpp"
#include "sources/file/file_source.hpp"
#include "sources/generate/generate_source.hpp"
#include "sources/kafka/kafka_source.hpp"
#include "sources/postgres_cdc/cdc_source.hpp"

namespace sluice::core {

void register_builtin(Registry& r) {
  r.add(sinks::blackhole::factory());
  r.add(sinks::file::factory());
  r.add(sinks::kafka::factory());
  r.add(sources::file::factory());
  r.add(sources::generate::factory());
  r.add(sources::kafka::factory());
  r.add(sources::postgres_cdc::factory());
}

}  // namespace sluice::core

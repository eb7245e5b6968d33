#pragma once
// Where a keyless record goes. The sink's placement is a pure function of the record, so that a crash and its
// replay leave every output partition holding the records a run without the crash would have put there; neither
// a random nor a timed sticky partition would. Consecutive keyless records of one source partition share an
// output partition, `sticky` records at a time, and the runs take the partitions in turn. librdkafka then gets
// batches as large as Kafka's sticky partitioner gives it: spreading each record on its own made every broker
// request carry many small batches and took the producer twice the CPU (docs/benchmarks.md). The choice depends
// on the record's number in its source partition, which a replay reproduces. Each source partition starts its
// rotation at a place of its own, so that many source partitions do not write to the same output partition at once.
#include <cstdint>
#include <string_view>

namespace sluice::sinks::kafka {

// The first output partition (modulo the count) of a source partition's rotation.
uint64_t keyless_rotation_start(std::string_view source_partition);

inline int32_t keyless_partition(uint64_t rotation_start, uint64_t sequence, uint64_t sticky, int32_t partitions) {
  return int32_t((rotation_start + sequence / sticky) % uint64_t(partitions));
}

}  // namespace sluice::sinks::kafka

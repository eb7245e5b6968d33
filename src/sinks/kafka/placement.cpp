#include "sinks/kafka/placement.hpp"

#include <xxhash.h>

namespace sluice::sinks::kafka {

// XXH3 is specified to give the same value on every platform and version, so a restart on another machine
// keeps the rotation where it was.
uint64_t keyless_rotation_start(std::string_view source_partition) { return XXH3_64bits(source_partition.data(), source_partition.size()); }

}  // namespace sluice::sinks::kafka

#pragma once
// The one header every message of the kafka sink carries, `sluice`: which pipeline and state directory wrote
// it, from which source partition, its sequence number there, and the source position it resumes from:
//
//   <pipeline>|<instance>|<source partition>|<sequence>|<position>
//
// One header, not one per field: librdkafka allocates every header and the list that holds them, and five
// separate headers cost more CPU per message than producing the message itself (docs/benchmarks.md).
// The first three fields escape '%', '|' and control characters as %XX; the position is the rest of the
// value, as it is. The first three are the same for every record of a source partition, so the sink renders
// them once per partition.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::sinks::kafka {

inline constexpr const char* kOriginHeader = "sluice";

// "<pipeline>|<instance>|<partition>|", escaped.
std::string origin_prefix(std::string_view pipeline, std::string_view instance, std::string_view partition);

// out = prefix + sequence + '|' + position, reusing out's buffer.
void render_origin(std::string& out, std::string_view prefix, uint64_t sequence, std::string_view position);

struct Origin {
  std::string pipeline;
  std::string instance;
  std::string partition;
  uint64_t sequence = 0;
  std::string position;
};

// nullopt for a value that is not an origin header (another writer's header of the same name, or damage).
std::optional<Origin> parse_origin(std::string_view value);

}  // namespace sluice::sinks::kafka

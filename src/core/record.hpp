#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sluice::core {

enum class Op : uint8_t { insert, update, remove, snapshot_read, truncate };

// One unit of data on its way from a source to a sink. Values are raw bytes (a JSON object for every
// built-in source); nothing on the path parses them unless a transform or sink needs fields.
struct Record {
  std::string value;
  std::string key;
  std::string before;    // CDC before-image; empty if none
  std::string position;  // the source's position of `partition` once this record is delivered; empty = not a
                         // point the source can resume from (the batch may not end here)
  int64_t event_time_ms = 0;
  uint32_t partition = 0;  // index into the pipeline's partition table (SourceContext::partition)
  Op op = Op::insert;
  bool rejected = false;  // a dead-letter entry: `value` describes the bad input, the sink never sees it
  // The position resumes inside a group the source would rather not split (a change in the middle of a
  // database transaction): a batch ends here only once the group alone has outgrown the batch limits.
  bool mid_group = false;
  // Carries a position and no data (a heartbeat, the end of a transaction with nothing for this pipeline):
  // it advances the checkpoint in order with the records around it and never reaches a sink.
  bool position_only = false;

  size_t bytes() const { return value.size() + key.size() + before.size(); }
};

using Records = std::vector<Record>;

// Where every partition of a source stands: partition name → opaque position text.
using Checkpoint = std::map<std::string, std::string>;

// What a sink worker hands to the sink in one commit.
struct Batch {
  Records records;        // for the sink
  Records rejected;       // for the dead-letter sink
  Checkpoint checkpoint;  // the partitions this batch advances, at their positions after it
  uint64_t bytes = 0;
  int64_t max_event_time_ms = 0;
  void clear() {
    records.clear();
    rejected.clear();
    checkpoint.clear();
    bytes = 0;
    max_event_time_ms = 0;
  }
  size_t size() const { return records.size() + rejected.size(); }
};

}  // namespace sluice::core

#pragma once
// How the kafka sink writes exactly once without transactions: every record it writes gets a sequence number
// within its source partition, carried in a header and committed with the data. A replay from the last commit
// yields the same records of each source partition in the same order (what exactly-once rests on anyway), so
// they get the same numbers again, however differently they are batched: the numbers of this pipeline's
// messages that landed after the last commit are the ones to skip.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace sluice::sinks::kafka {

class ReplayGuard {
 public:
  // Committed state: records written per source partition, and landed numbers not yet replayed (encoded).
  void restore(std::map<std::string, uint64_t> written, const std::string& pending_landed);
  // A message of this pipeline found after the last commit. Numbers below what is committed are ignored.
  void landed(const std::string& partition, uint64_t sequence);
  size_t landed_count() const;

  // Numbers the next record of `partition` in the batch being written; nullopt when it landed before (skip it).
  std::optional<uint64_t> next(const std::string& partition);
  // The batch is acknowledged: its numbers become committed. Returns the partitions whose counts changed.
  std::map<std::string, uint64_t> commit_batch();
  // The batch failed: forget its numbers (the pipeline restarts from the last commit).
  void abandon_batch();
  // Landed numbers still waiting for their replay (a source replays its partitions in its own order, so they
  // may outlive many commits): part of every commit until they are matched. Empty when there are none.
  std::string encode_landed() const;

 private:
  std::map<std::string, uint64_t> written_;        // committed
  std::map<std::string, uint64_t> batch_next_;     // within the batch being written
  std::map<std::string, std::set<uint64_t>> landed_;
};

}  // namespace sluice::sinks::kafka

#pragma once
// How the kafka sink writes exactly once without transactions: every record it writes gets a sequence number
// within its source partition, carried in a header and committed with the data. A replay from the last commit
// yields the same records of each source partition in the same order (what exactly-once rests on anyway), so
// they get the same numbers again, however differently they are batched: the numbers of this pipeline's
// messages that landed after the last commit are the ones to skip.
#include <cstdint>
#include <deque>
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

  // Numbers the next record of `partition` in the batch being sent; nullopt when it landed before (skip it).
  // Numbering goes on from the batches sent before, committed or not.
  std::optional<uint64_t> next(const std::string& partition);
  // The batch being sent is complete; the next record starts the next batch. Batches are committed in the
  // order they are sealed (the sink sends batches ahead while the oldest waits for its acknowledgements).
  void seal_batch();
  // The oldest sealed batch (the open one, when none is sealed) is acknowledged: its numbers become committed.
  // Returns its partitions' new counts.
  std::map<std::string, uint64_t> commit_batch();
  // Every batch not committed failed: forget their numbers (the pipeline restarts from the last commit).
  void abandon_batch();
  // Landed numbers still waiting for their replay (a source replays its partitions in its own order, so they
  // may outlive many commits): part of every commit until they are matched. Empty when there are none.
  std::string encode_landed() const;

 private:
  std::map<std::string, uint64_t> written_;  // committed
  std::map<std::string, uint64_t> sent_;     // the next number after every batch sent, committed or not
  std::map<std::string, uint64_t> open_;     // the batch being sent: the next number of each partition in it
  std::deque<std::map<std::string, uint64_t>> sealed_;  // sent and not committed, oldest first
  std::map<std::string, std::set<uint64_t>> landed_;
};

}  // namespace sluice::sinks::kafka

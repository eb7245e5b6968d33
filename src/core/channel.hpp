#pragma once
// The link between a pipeline's source side and its sink worker. Two kinds: the in-memory BoundedQueue
// (policies throttle, drop_newest, drop_oldest) and the durable DiskSpool (policy buffer).
#include <boost/asio/awaitable.hpp>
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "core/record.hpp"

namespace sluice::state {
class WriteBatch;
}

namespace sluice::core {

struct BatchLimits {
  uint64_t max_records = 5000;
  uint64_t max_bytes = 4 << 20;
  std::chrono::nanoseconds max_wait{std::chrono::milliseconds(200)};
};

// Whether a run of records ends where the source can resume: every partition seen in it ends with a record
// that carries its position. Records without a position (mid-chunk, mid-transaction) keep their partition open.
// A position marked mid_group resumes, but inside a group (a transaction) that is better not split.
class ResumeTracker {
 public:
  void add(const Record& r) {
    if (r.position.empty()) {
      insert(open_, r.partition);
      return;
    }
    resolved(r.partition, r.mid_group);
  }
  // A position applied without its record (the record was dropped).
  void resolved(uint32_t partition, bool mid_group) {
    erase(open_, partition);
    if (mid_group) insert(in_group_, partition);
    else erase(in_group_, partition);
  }
  bool at_resume_point() const { return open_.empty(); }
  // At a resume point that also ends every group: where batches end by preference.
  bool at_group_end() const { return open_.empty() && in_group_.empty(); }

 private:
  // Few partitions are open at once: a vector beats a set.
  static void insert(std::vector<uint32_t>& v, uint32_t p) {
    if (std::find(v.begin(), v.end(), p) == v.end()) v.push_back(p);
  }
  static void erase(std::vector<uint32_t>& v, uint32_t p) {
    auto it = std::find(v.begin(), v.end(), p);
    if (it != v.end()) v.erase(it);
  }
  std::vector<uint32_t> open_, in_group_;
};

class Channel {
 public:
  virtual ~Channel() = default;
  // Source side: admits the records (moving from them) under the channel's policy. When cancelled while it
  // waits for room, the records it has not taken remain in `records`, in order, for the caller to push again.
  virtual boost::asio::awaitable<void> push(Records& records) = 0;
  // Sink side: fills `batch` (cleared first) with records up to the limits, ending at a record the source can
  // resume after. Waits for the first record, then up to max_wait for more. Returns false once the channel
  // is closed and drained.
  virtual boost::asio::awaitable<bool> pop(Batch& batch, const BatchLimits& limits) = 0;
  // Adds what makes `batch` committed from the channel's point of view to the commit's state write.
  virtual void commit_state(const Batch& batch, state::WriteBatch& txn) = 0;
  // Drops the records of these partitions that no batch has taken yet (a Kafka partition revoked by a
  // rebalance: they are read again by whoever owns it next). Their positions are not acknowledged.
  virtual void withdraw(const std::vector<uint32_t>& partitions) = 0;
  // No more pushes: pop drains what is left, then returns false.
  virtual void close() = 0;
  // Wakes a pop that waits for its batch to fill, so a stop commits without waiting for max_wait.
  virtual void flush() = 0;
  virtual uint64_t size() const = 0;
  virtual uint64_t bytes() const = 0;
};

}  // namespace sluice::core

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
class ResumeTracker {
 public:
  void add(const Record& r) {
    if (r.position.empty()) {
      if (std::find(open_.begin(), open_.end(), r.partition) == open_.end()) open_.push_back(r.partition);
    } else {
      resolved(r.partition);
    }
  }
  void resolved(uint32_t partition) {
    auto it = std::find(open_.begin(), open_.end(), partition);
    if (it != open_.end()) open_.erase(it);
  }
  bool at_resume_point() const { return open_.empty(); }

 private:
  std::vector<uint32_t> open_;  // few partitions are open at once: a vector beats a set
};

class Channel {
 public:
  virtual ~Channel() = default;
  // Source side: admits the records (moving from them) under the channel's policy.
  virtual boost::asio::awaitable<void> push(Records& records) = 0;
  // Sink side: fills `batch` (cleared first) with records up to the limits, ending at a record the source can
  // resume after. Waits for the first record, then up to max_wait for more. Returns false once the channel
  // is closed and drained.
  virtual boost::asio::awaitable<bool> pop(Batch& batch, const BatchLimits& limits) = 0;
  // Adds what makes `batch` committed from the channel's point of view to the commit's state write.
  virtual void commit_state(const Batch& batch, state::WriteBatch& txn) = 0;
  // No more pushes: pop drains what is left, then returns false.
  virtual void close() = 0;
  // Wakes a pop that waits for its batch to fill, so a stop commits without waiting for max_wait.
  virtual void flush() = 0;
  virtual uint64_t size() const = 0;
  virtual uint64_t bytes() const = 0;
};

}  // namespace sluice::core

#include "core/bounded_queue.hpp"

#include "core/async.hpp"
#include "state/state_store.hpp"

namespace sluice::core {

BoundedQueue::BoundedQueue(asio::any_io_executor ex, uint64_t max_records, uint64_t max_bytes, Policy policy,
                           const std::vector<std::string>& partition_names, PipelineStats& stats, const Clock& clock)
    : max_records_(max_records),
      max_bytes_(max_bytes),
      policy_(policy),
      partition_names_(partition_names),
      stats_(stats),
      has_data_(ex),
      has_room_(ex),
      arrivals_(clock),
      departures_(clock),
      arrival_bytes_(clock),
      departure_bytes_(clock) {}

bool BoundedQueue::fits(const Record& r) const {
  // A record bigger than the whole byte cap is admitted into an empty queue, or it could never pass. A
  // position without data takes no room worth refusing.
  if (records_.empty() || r.position_only) return true;
  return records_.size() < max_records_ && bytes_ + r.bytes() <= max_bytes_;
}

void BoundedQueue::admit(Record&& r) {
  bytes_ += r.bytes();
  records_.push_back(std::move(r));
  ++admitted_;
}

void BoundedQueue::drop(Record& r, const char* reason, uint64_t after) {
  if (!r.position_only) stats_.dropped[reason]++;
  if (!r.position.empty()) dropped_positions_.push_back({after, r.partition, std::move(r.position), r.mid_group});
}

awaitable<void> BoundedQueue::push(Records& records) {
  if (closed_) throw std::logic_error("push to a closed queue");
  uint64_t offered = 0, offered_bytes = 0;
  for (const auto& r : records) {
    offered += !r.position_only;
    offered_bytes += r.bytes();
  }
  arrivals_.add(offered);
  arrival_bytes_.add(offered_bytes);
  stats_.records_in += offered;
  stats_.bytes_in += offered_bytes;
  for (auto& r : records) {
    if (!fits(r)) {
      switch (policy_) {
        case Policy::drop_newest:
          drop(r, "queue_full_drop_newest", admitted_);
          continue;
        case Policy::drop_oldest:
          while (!fits(r)) {
            Record& oldest = records_.front();
            bytes_ -= oldest.bytes();
            ++taken_;
            drop(oldest, "queue_full_drop_oldest", taken_);
            records_.pop_front();
          }
          break;
        case Policy::throttle:
        case Policy::buffer:  // the spool's own memory stage never overflows; treat as throttle
          while (!fits(r)) {
            has_data_.notify_all();
            try {
              co_await has_room_.wait();
            } catch (...) {
              // Cancelled: hand back what was not admitted, as Channel::push promises.
              records.erase(records.begin(), records.begin() + (&r - records.data()));
              has_data_.notify_all();
              throw;
            }
          }
          break;
      }
    }
    admit(std::move(r));
  }
  records.clear();
  has_data_.notify_all();
}

void BoundedQueue::withdraw(const std::vector<uint32_t>& partitions) {
  auto withdrawn = [&](uint32_t p) { return std::find(partitions.begin(), partitions.end(), p) != partitions.end(); };
  // Dropped positions count the records admitted before them: those withdrawn no longer come before.
  std::vector<uint64_t> removed;  // admission numbers of the withdrawn records, ascending
  uint64_t number = taken_;
  for (auto it = records_.begin(); it != records_.end(); ++number) {
    if (!withdrawn(it->partition)) {
      ++it;
      continue;
    }
    removed.push_back(number);
    bytes_ -= it->bytes();
    it = records_.erase(it);
  }
  if (removed.empty() && dropped_positions_.empty()) return;
  std::erase_if(dropped_positions_, [&](const DroppedPosition& d) { return withdrawn(d.partition); });
  for (auto& d : dropped_positions_)
    d.after -= uint64_t(std::lower_bound(removed.begin(), removed.end(), d.after) - removed.begin());
  admitted_ -= removed.size();
  has_room_.notify_all();
}

// In admission order: a dropped record's position applies once every record admitted before it is taken,
// and before any record admitted after it.
void BoundedQueue::apply_dropped_positions(Batch& batch, ResumeTracker& tracker) {
  while (!dropped_positions_.empty() && dropped_positions_.front().after <= taken_) {
    auto& d = dropped_positions_.front();
    tracker.resolved(d.partition, d.mid_group);
    batch.checkpoint[partition_names_.at(d.partition)] = std::move(d.position);
    dropped_positions_.pop_front();
  }
}

// A batch ends where the source can resume, and inside a group (a transaction) only once the group's part
// of the batch has itself outgrown the limits: smaller groups are never split across commits.
bool BoundedQueue::may_end(const Batch& batch, const BatchLimits& limits, const ResumeTracker& tracker) const {
  if (!tracker.at_resume_point()) return false;
  if (tracker.at_group_end()) return true;
  return batch.size() - group_start_.records >= limits.max_records || batch.bytes - group_start_.bytes >= limits.max_bytes;
}

bool BoundedQueue::take(Batch& batch, const BatchLimits& limits, ResumeTracker& tracker) {
  bool took = false;
  while (!records_.empty()) {
    bool full = batch.size() >= limits.max_records || batch.bytes >= limits.max_bytes;
    // Never end a batch where the source cannot resume; go past the limits until a record that carries a position.
    if (full && may_end(batch, limits, tracker)) break;
    apply_dropped_positions(batch, tracker);
    Record& r = records_.front();
    uint64_t n = r.bytes();
    bytes_ -= n;
    batch.bytes += n;
    if (!r.position.empty()) batch.checkpoint[partition_names_.at(r.partition)] = r.position;
    tracker.add(r);
    if (r.event_time_ms > batch.max_event_time_ms) batch.max_event_time_ms = r.event_time_ms;
    if (!r.position_only) (r.rejected ? batch.rejected : batch.records).push_back(std::move(r));
    records_.pop_front();
    ++taken_;
    took = true;
    if (tracker.at_group_end()) group_start_ = {batch.size(), batch.bytes};
    if (may_end(batch, limits, tracker)) mark_resume_point(batch);
  }
  apply_dropped_positions(batch, tracker);
  if (tracker.at_group_end()) group_start_ = {batch.size(), batch.bytes};
  if (may_end(batch, limits, tracker)) mark_resume_point(batch);
  // Service is counted at commit (commit_state), where it really happens.
  if (took) has_room_.notify_all();
  return took;
}

void BoundedQueue::mark_resume_point(const Batch& batch) {
  resume_point_.records = batch.records.size();
  resume_point_.rejected = batch.rejected.size();
  resume_point_.bytes = batch.bytes;
  resume_point_.checkpoint = batch.checkpoint;
}

void BoundedQueue::discard_unresumable_tail(Batch& batch) {
  if (batch.records.size() == resume_point_.records && batch.rejected.size() == resume_point_.rejected) return;
  batch.records.resize(resume_point_.records);
  batch.rejected.resize(resume_point_.rejected);
  batch.bytes = resume_point_.bytes;
  batch.checkpoint = resume_point_.checkpoint;
}

awaitable<bool> BoundedQueue::pop(Batch& batch, const BatchLimits& limits) {
  batch.clear();
  resume_point_ = {};
  group_start_ = {};
  ResumeTracker tracker;
  while (records_.empty()) {
    if (closed_) co_return false;
    co_await has_data_.wait();
  }
  flush_requested_ = false;
  take(batch, limits, tracker);
  auto deadline = std::chrono::steady_clock::now() + limits.max_wait;
  for (;;) {
    bool full = batch.size() >= limits.max_records || batch.bytes >= limits.max_bytes;
    if (may_end(batch, limits, tracker) && (full || closed_ || flush_requested_)) break;
    if (closed_ && records_.empty()) {
      // The source stopped in the middle of a group (a throttled push or a rate-limited chunk cancelled part
      // way): what follows the last resume point is not committed, and the next start reads it again.
      discard_unresumable_tail(batch);
      break;
    }
    if (records_.empty()) {
      bool notified = co_await has_data_.wait_until(deadline);
      if (!notified && may_end(batch, limits, tracker)) break;
      if (!notified) deadline = std::chrono::steady_clock::now() + limits.max_wait;
    }
    take(batch, limits, tracker);
  }
  co_return true;
}

void BoundedQueue::commit_state(const Batch& batch, state::WriteBatch& txn) {
  for (const auto& [partition, position] : batch.checkpoint)
    txn.put(state::Family::checkpoints, state::scoped_key(pipeline_, partition), position);
  departures_.add(batch.size());
  departure_bytes_.add(batch.bytes);
}

void BoundedQueue::close() {
  closed_ = true;
  has_data_.notify_all();
}

void BoundedQueue::flush() {
  flush_requested_ = true;
  has_data_.notify_all();
}

void BoundedQueue::update_gauges() {
  stats_.arrival_rate = arrivals_.rate();
  stats_.service_rate = departures_.rate();
  stats_.queue_records = records_.size();
  stats_.queue_bytes = bytes_;
  double by_records = time_to_overflow(double(max_records_), double(records_.size()), stats_.arrival_rate, stats_.service_rate);
  double by_bytes = time_to_overflow(double(max_bytes_), double(bytes_), arrival_bytes_.rate(), departure_bytes_.rate());
  stats_.time_to_overflow_s = std::min(by_records, by_bytes);
}

}  // namespace sluice::core

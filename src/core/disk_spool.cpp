#include "core/disk_spool.hpp"

#include <boost/endian/conversion.hpp>
#include <cstring>

#include "core/async.hpp"
#include "state/state_store.hpp"

namespace sluice::core {
namespace {

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(char(v | 0x80));
    v >>= 7;
  }
  out.push_back(char(v));
}

bool get_varint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    auto b = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    v |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

void put_bytes(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

bool get_bytes(std::string_view& in, std::string& s) {
  uint64_t n;
  if (!get_varint(in, n) || n > in.size()) return false;
  s.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

constexpr uint8_t kFormatVersion = 1;

}  // namespace

std::string DiskSpool::encode(const Record& r) {
  std::string out;
  out.reserve(r.bytes() + 24);
  out.push_back(char(kFormatVersion));
  out.push_back(char(r.op));
  out.push_back(char(r.rejected));
  put_varint(out, uint64_t(r.event_time_ms));
  put_bytes(out, r.key);
  put_bytes(out, r.before);
  put_bytes(out, r.value);
  return out;
}

bool DiskSpool::decode(std::string_view in, Record& r) {
  if (in.size() < 3 || uint8_t(in[0]) != kFormatVersion) return false;
  r.op = Op(uint8_t(in[1]));
  r.rejected = in[2] != 0;
  in.remove_prefix(3);
  uint64_t t;
  if (!get_varint(in, t)) return false;
  r.event_time_ms = int64_t(t);
  return get_bytes(in, r.key) && get_bytes(in, r.before) && get_bytes(in, r.value) && in.empty();
}

DiskSpool::DiskSpool(asio::any_io_executor ex, asio::any_io_executor blocking, state::StateStore& store, std::string pipeline,
                     uint64_t max_bytes, const std::vector<std::string>& partition_names, PipelineStats& stats,
                     SourceDurable on_source_durable, const Clock& clock)
    : blocking_(std::move(blocking)),
      store_(store),
      pipeline_(std::move(pipeline)),
      max_bytes_(max_bytes),
      partition_names_(partition_names),
      stats_(stats),
      on_source_durable_(std::move(on_source_durable)),
      has_data_(ex),
      has_room_(ex),
      arrivals_(clock),
      departures_(clock),
      arrival_bytes_(clock),
      departure_bytes_(clock) {}

std::string DiskSpool::record_key(uint64_t seq) const {
  uint64_t be = boost::endian::native_to_big(seq);  // big-endian keys sort in sequence order
  return state::scoped_key(pipeline_, std::string("r") + std::string(reinterpret_cast<const char*>(&be), 8));
}

void DiskSpool::recover() {
  committed_next_ = 0;
  if (auto c = store_.get(state::Family::spool, state::scoped_key(pipeline_, "committed_next"))) committed_next_ = std::stoull(*c);
  next_seq_ = committed_next_;
  bytes_ = 0;
  std::string prefix = state::scoped_key(pipeline_, "r");
  store_.scan(state::Family::spool, prefix, [&](std::string_view key, std::string_view value) {
    uint64_t be;
    std::memcpy(&be, key.data() + prefix.size(), 8);
    uint64_t seq = boost::endian::big_to_native(be);
    if (seq >= committed_next_) {
      bytes_ += value.size();
      next_seq_ = seq + 1;
    }
    return true;
  });
  read_seq_ = committed_next_;
}

awaitable<void> DiskSpool::push(Records& records) {
  if (records.empty()) co_return;
  // Records after the last point where the source can resume stay in memory until a later push completes
  // them: spooling them without their position would make the source read them again after a crash.
  for (auto& r : records) held_back_.push_back(std::move(r));
  records.clear();
  ResumeTracker tracker;
  size_t durable = 0;
  for (size_t i = 0; i < held_back_.size(); ++i) {
    tracker.add(held_back_[i]);
    if (tracker.at_resume_point()) durable = i + 1;
  }
  if (durable == 0) co_return;

  state::WriteBatch txn;
  Checkpoint positions;
  uint64_t added = 0, record_bytes = 0;
  uint64_t seq = next_seq_;
  uint64_t spooled = 0;
  for (size_t i = 0; i < durable; ++i) {
    const Record& r = held_back_[i];
    if (!r.position.empty()) positions[partition_names_.at(r.partition)] = r.position;
    // The spool's own write makes a data-less position durable: nothing of it is left for the sink.
    if (r.position_only) continue;
    std::string encoded = encode(r);
    added += encoded.size();
    record_bytes += r.bytes();
    txn.put(state::Family::spool, record_key(seq++), encoded);
    ++spooled;
  }
  for (const auto& [partition, position] : positions)
    txn.put(state::Family::checkpoints, state::scoped_key(pipeline_, partition), position);
  arrivals_.add(spooled);
  arrival_bytes_.add(added);
  stats_.records_in += spooled;
  stats_.bytes_in += record_bytes;
  // A push bigger than the whole spool is admitted into an empty one, or it could never pass.
  while (bytes_ > 0 && bytes_ + added > max_bytes_) co_await has_room_.wait();
  co_await run_blocking(blocking_, [&] {
    store_.write(txn, true);
    return 0;
  });
  next_seq_ = seq;
  bytes_ += added;
  held_back_.erase(held_back_.begin(), held_back_.begin() + ptrdiff_t(durable));
  has_data_.notify_all();
  // With a spool the source's position is durable here, not at the sink's commit: that is what /status shows.
  for (const auto& [partition, position] : positions) stats_.committed_position[partition] = position;
  if (!positions.empty() && on_source_durable_) on_source_durable_(positions);
}

awaitable<size_t> DiskSpool::read_more(Batch& batch, const BatchLimits& limits) {
  if (read_seq_ >= next_seq_) co_return 0;
  uint64_t from = read_seq_, until = next_seq_;
  std::vector<std::pair<uint64_t, std::string>> rows;
  uint64_t room_records = limits.max_records > batch.size() ? limits.max_records - batch.size() : 0;
  uint64_t room_bytes = limits.max_bytes > batch.bytes ? limits.max_bytes - batch.bytes : 0;
  if (room_records == 0 || room_bytes == 0) co_return 0;
  co_await run_blocking(blocking_, [&] {
    uint64_t got_bytes = 0;
    std::string prefix = state::scoped_key(pipeline_, "r");
    store_.scan(state::Family::spool, prefix, [&](std::string_view key, std::string_view value) {
      uint64_t be;
      std::memcpy(&be, key.data() + prefix.size(), 8);
      uint64_t s = boost::endian::big_to_native(be);
      if (s < from) return true;
      if (s >= until || rows.size() >= room_records || got_bytes >= room_bytes) return false;
      rows.emplace_back(s, std::string(value));
      got_bytes += value.size();
      return true;
    }, record_key(from));
    return 0;
  });
  for (auto& [s, value] : rows) {
    if (s != read_seq_) throw std::runtime_error("spool of pipeline " + pipeline_ + " has a gap at sequence " + std::to_string(read_seq_));
    Record r;
    if (!decode(value, r)) throw std::runtime_error("spool of pipeline " + pipeline_ + " has an unreadable record at sequence " + std::to_string(s));
    if (batch.size() == 0) {
      batch_first_ = s;
      batch_encoded_bytes_ = 0;
    }
    batch_encoded_bytes_ += value.size();
    batch_end_ = s + 1;
    batch.bytes += r.bytes();
    if (r.event_time_ms > batch.max_event_time_ms) batch.max_event_time_ms = r.event_time_ms;
    (r.rejected ? batch.rejected : batch.records).push_back(std::move(r));
    ++read_seq_;
  }
  co_return rows.size();
}

awaitable<bool> DiskSpool::pop(Batch& batch, const BatchLimits& limits) {
  batch.clear();
  while (read_seq_ >= next_seq_) {
    if (closed_) {
      // The source stopped in the middle of a group: held-back records were never acknowledged and the next
      // start reads them again, so they are dropped rather than committed.
      held_back_.clear();
      co_return false;
    }
    co_await has_data_.wait();
  }
  flush_requested_ = false;
  co_await read_more(batch, limits);
  auto deadline = std::chrono::steady_clock::now() + limits.max_wait;
  while (batch.size() < limits.max_records && batch.bytes < limits.max_bytes && !closed_ && !flush_requested_) {
    if (read_seq_ >= next_seq_ && !co_await has_data_.wait_until(deadline)) break;
    co_await read_more(batch, limits);
  }
  co_return true;
}

void DiskSpool::commit_state(const Batch& batch, state::WriteBatch& txn) {
  if (batch.size() == 0) return;
  txn.put(state::Family::spool, state::scoped_key(pipeline_, "committed_next"), std::to_string(batch_end_));
  txn.remove_range(state::Family::spool, record_key(batch_first_), record_key(batch_end_));
  // Room is released now: a push that reserves it waits for its own synchronous write anyway.
  bytes_ -= std::min(bytes_, batch_encoded_bytes_);
  committed_next_ = batch_end_;
  departures_.add(batch.size());
  departure_bytes_.add(batch_encoded_bytes_);
  has_room_.notify_all();
}

void DiskSpool::close() {
  closed_ = true;
  has_data_.notify_all();
}

void DiskSpool::flush() {
  flush_requested_ = true;
  has_data_.notify_all();
}

void DiskSpool::update_gauges() {
  stats_.arrival_rate = arrivals_.rate();
  stats_.service_rate = departures_.rate();
  stats_.queue_records = size();
  stats_.queue_bytes = bytes_;
  // The spool is capped in bytes only.
  stats_.time_to_overflow_s = time_to_overflow(double(max_bytes_), double(bytes_), arrival_bytes_.rate(), departure_bytes_.rate());
}

}  // namespace sluice::core

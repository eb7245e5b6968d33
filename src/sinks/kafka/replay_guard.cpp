#include "sinks/kafka/replay_guard.hpp"

#include <boost/json.hpp>
#include <stdexcept>

namespace sluice::sinks::kafka {
namespace json = boost::json;

void ReplayGuard::restore(std::map<std::string, uint64_t> written, const std::string& pending_landed) {
  written_ = std::move(written);
  abandon_batch();
  landed_.clear();
  if (pending_landed.empty()) return;
  boost::system::error_code ec;
  json::value v = json::parse(pending_landed, ec);
  if (ec || !v.is_object()) throw std::runtime_error("kafka sink: unreadable landed-record list in the state store");
  for (const auto& [partition, numbers] : v.as_object()) {
    if (!numbers.is_array()) throw std::runtime_error("kafka sink: unreadable landed-record list in the state store");
    for (const auto& n : numbers.as_array()) landed(std::string(partition), n.to_number<uint64_t>());
  }
}

void ReplayGuard::landed(const std::string& partition, uint64_t sequence) {
  auto it = written_.find(partition);
  if (sequence < (it == written_.end() ? 0 : it->second)) return;
  landed_[partition].insert(sequence);
}

size_t ReplayGuard::landed_count() const {
  size_t n = 0;
  for (const auto& [partition, numbers] : landed_) n += numbers.size();
  return n;
}

std::optional<uint64_t> ReplayGuard::next(const std::string& partition) {
  auto [it, fresh] = sent_.try_emplace(partition, 0);
  if (fresh)
    if (auto w = written_.find(partition); w != written_.end()) it->second = w->second;
  uint64_t sequence = it->second++;
  open_[partition] = it->second;
  if (auto l = landed_.find(partition); l != landed_.end() && l->second.count(sequence)) return std::nullopt;
  return sequence;
}

void ReplayGuard::seal_batch() {
  sealed_.push_back(std::move(open_));
  open_.clear();
}

std::map<std::string, uint64_t> ReplayGuard::commit_batch() {
  if (sealed_.empty()) seal_batch();
  std::map<std::string, uint64_t> batch = std::move(sealed_.front());
  sealed_.pop_front();
  for (const auto& [partition, next] : batch) written_[partition] = next;
  for (auto it = landed_.begin(); it != landed_.end();) {
    // Everything below the committed count was replayed in this batch or an earlier one: matched or written.
    auto& numbers = it->second;
    numbers.erase(numbers.begin(), numbers.lower_bound(written_[it->first]));
    it = numbers.empty() ? landed_.erase(it) : std::next(it);
  }
  return batch;
}

void ReplayGuard::abandon_batch() {
  sent_.clear();
  open_.clear();
  sealed_.clear();
}

std::string ReplayGuard::encode_landed() const {
  if (landed_.empty()) return {};
  json::object o;
  for (const auto& [partition, numbers] : landed_) {
    json::array a;
    for (uint64_t n : numbers) a.emplace_back(n);
    o[partition] = std::move(a);
  }
  return json::serialize(o);
}

}  // namespace sluice::sinks::kafka

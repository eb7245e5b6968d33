#include "sources/postgres_cdc/watermark_chunk.hpp"

#include <charconv>
#include <stdexcept>

namespace sluice::sources::postgres_cdc {

std::unordered_set<uint32_t> snapshot_in_progress(std::string_view snapshot) {
  auto fail = [&]() -> std::invalid_argument {
    return std::invalid_argument("not a snapshot (xmin:xmax:xip,...): '" + std::string(snapshot) + "'");
  };
  auto first = snapshot.find(':');
  auto second = first == std::string_view::npos ? first : snapshot.find(':', first + 1);
  if (second == std::string_view::npos) throw fail();
  std::unordered_set<uint32_t> xids;
  std::string_view list = snapshot.substr(second + 1);
  if (list.empty()) return xids;
  for (;;) {
    auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    uint64_t xid = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), xid);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size()) throw fail();
    // pg_current_snapshot() counts xids with their epoch (xid8); the protocol sends the xid itself.
    xids.insert(uint32_t(xid & 0xffffffffu));
    if (comma == std::string_view::npos) return xids;
    list = list.substr(comma + 1);
  }
}

WatermarkChunk::WatermarkChunk(std::vector<Row> rows, std::vector<size_t> key, uint64_t limit)
    : rows_(std::move(rows)), key_(std::move(key)), limit_(limit), removed_(rows_.size(), false), end_(rows_.size()) {
  for (size_t i = 0; i < rows_.size(); ++i) {
    std::vector<std::string_view> values;
    for (size_t k : key_) values.emplace_back(rows_[i].at(k) ? std::string_view(*rows_[i][k]) : std::string_view());
    index_.emplace(join_key(values), i);
  }
}

std::string WatermarkChunk::join_key(const std::vector<std::string_view>& values) {
  std::string key;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) key += '\0';
    key += values[i];
  }
  return key;
}

void WatermarkChunk::changed(const std::string& key, bool unchanged_toast) {
  auto it = index_.find(key);
  if (it == index_.end()) return;
  if (unchanged_toast) end_ = std::min(end_, it->second);
  else removed_[it->second] = true;
}

void WatermarkChunk::truncated() { std::fill(removed_.begin(), removed_.end(), true); }

std::vector<const Row*> WatermarkChunk::surviving() const {
  std::vector<const Row*> out;
  for (size_t i = 0; i < end_; ++i)
    if (!removed_[i]) out.push_back(&rows_[i]);
  return out;
}

std::optional<std::vector<std::string>> WatermarkChunk::last_key() const {
  if (end_ == 0) return std::nullopt;
  std::vector<std::string> key;
  for (size_t k : key_) key.push_back(rows_[end_ - 1][k].value_or(""));
  return key;
}

bool WatermarkChunk::table_done() const { return end_ == rows_.size() && rows_.size() < limit_; }

}  // namespace sluice::sources::postgres_cdc

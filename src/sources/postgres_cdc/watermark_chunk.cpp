#include "sources/postgres_cdc/watermark_chunk.hpp"

namespace sluice::sources::postgres_cdc {

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

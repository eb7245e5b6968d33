#include "core/pending_commit.hpp"

#include <cstdint>
#include <cstring>

namespace sluice::core {

namespace {

void put(std::string& out, std::string_view s) {
  uint32_t n = uint32_t(s.size());
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
  out.append(s);
}

bool take(std::string_view& in, std::string& out) {
  uint32_t n;
  if (in.size() < sizeof n) return false;
  std::memcpy(&n, in.data(), sizeof n);
  in.remove_prefix(sizeof n);
  if (in.size() < n) return false;
  out.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

}  // namespace

std::string PendingCommit::encode() const {
  std::string out;
  put(out, id);
  put(out, std::to_string(positions.size()));
  for (const auto& [partition, position] : positions) {
    put(out, partition);
    put(out, position);
  }
  put(out, txn_image);
  return out;
}

std::optional<PendingCommit> PendingCommit::decode(std::string_view in) {
  PendingCommit c;
  std::string count_text, partition, position;
  if (!take(in, c.id) || !take(in, count_text)) return std::nullopt;
  size_t count = 0;
  for (char ch : count_text) {
    if (ch < '0' || ch > '9' || count > in.size()) return std::nullopt;
    count = count * 10 + size_t(ch - '0');
  }
  for (size_t i = 0; i < count; ++i) {
    if (!take(in, partition) || !take(in, position)) return std::nullopt;
    c.positions[partition] = position;
  }
  if (!take(in, c.txn_image) || !in.empty()) return std::nullopt;
  return c;
}

}  // namespace sluice::core

#pragma once
// A commit recorded as pending while its positions are published to other instances (Source::shares_positions):
// what recovery needs to finish it (the state write it would have made) or drop it.
#include <optional>
#include <string>
#include <string_view>

#include "core/record.hpp"

namespace sluice::core {

struct PendingCommit {
  std::string id;
  Checkpoint positions;
  std::string txn_image;  // state::WriteBatch::serialize() of the commit's own state write

  std::string encode() const;
  // nullopt when the bytes are not a pending commit (the caller names the key in its error).
  static std::optional<PendingCommit> decode(std::string_view bytes);
};

}  // namespace sluice::core

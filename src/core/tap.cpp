#include "core/tap.hpp"

#include <algorithm>
#include <cmath>

namespace sluice::core {

uint64_t Tap::offer(const Records& records) {
  if (readers_.empty() || records.empty()) return 0;
  auto now = std::chrono::steady_clock::now();
  uint64_t skipped_most = 0;
  for (auto& reader : readers_) {
    auto& r = *reader;
    // A second's worth of tokens at most: a reader that was idle gets a burst, not an unbounded backlog.
    double elapsed = std::chrono::duration<double>(now - r.refilled).count();
    r.tokens = std::min(std::max(1.0, r.options.max_rate), r.tokens + elapsed * r.options.max_rate);
    r.refilled = now;
    size_t room = r.options.max_buffered > r.values.size() ? r.options.max_buffered - r.values.size() : 0;
    size_t budget = std::min(room, size_t(std::floor(r.tokens)));
    size_t taken = 0, offered = 0;
    for (const auto& record : records) {
      if (record.rejected || record.position_only) continue;
      ++offered;
      if (taken < budget) {
        r.values.push_back(record.value);
        ++taken;
      }
    }
    r.tokens -= double(taken);
    uint64_t skipped = offered - taken;
    r.skipped += skipped;
    skipped_most = std::max(skipped_most, skipped);
    if (!r.woken && r.values.size() >= r.options.max_buffered / 2) {
      r.woken = true;
      r.notifier.notify_all();
    }
  }
  return skipped_most;
}

std::shared_ptr<Tap::Reader> Tap::subscribe(Options options) {
  auto reader = std::make_shared<Reader>(executor_, options);
  reader->tokens = std::max(1.0, options.max_rate);
  readers_.push_back(reader);
  return reader;
}

void Tap::unsubscribe(const std::shared_ptr<Reader>& reader) { readers_.remove(reader); }

}  // namespace sluice::core

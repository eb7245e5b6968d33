#pragma once
#include "core/registry.hpp"
#include "sources/generate/options.hpp"

namespace sluice::sources::generate {

// Synthetic records with a gap-free `seq`, on a deterministic timeline: record n depends only on the seed
// and n, so a resumed generator continues the very stream it would have produced.
class GenerateSource final : public core::Source {
 public:
  explicit GenerateSource(const GenerateOptions& options);
  boost::asio::awaitable<void> run(core::SourceContext& ctx) override;

 private:
  GenerateOptions options_;
};

// Writes records as JSON objects. The text of each second is formatted once, and a record is put together in
// a scratch buffer and handed out at its exact size: one allocation per record, no capacity check per byte.
class RecordRenderer {
 public:
  explicit RecordRenderer(const GenerateOptions& options);
  // Replaces `out` with record `seq`, whose event time is `event_ms`.
  void render(uint64_t seq, int64_t event_ms, std::string& out);

 private:
  const GenerateOptions& options_;
  std::string scratch_;
  int64_t second_ = 0;
  std::string second_text_;  // "YYYY-MM-DDTHH:MM:SS." of second_; empty until the first record
};

core::SourceFactory factory();

}  // namespace sluice::sources::generate

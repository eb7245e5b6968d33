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

  // Appends record `seq` at virtual time `t_ns` (after the timeline's start) as a JSON object.
  void render(uint64_t seq, int64_t event_ms, std::string& out) const;

 private:
  GenerateOptions options_;
};

core::SourceFactory factory();

// "2026-11-25T07:30:00.123Z"
void append_iso8601_ms(std::string& out, int64_t unix_ms);
// Parses RFC 3339 ("2026-01-02T03:04:05Z", "...+01:00", fractional seconds) to unix ms; nullopt if invalid.
std::optional<int64_t> parse_rfc3339_ms(std::string_view text);

}  // namespace sluice::sources::generate

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

}  // namespace sluice::sources::generate

#pragma once
#include <memory>

#include "core/registry.hpp"
#include "sources/postgres_cdc/options.hpp"

namespace sluice::sources::postgres_cdc {

struct SourceState;

// Change data capture from PostgreSQL's logical replication (pgoutput): an initial snapshot handed off to
// the stream without a gap or a double, then every committed change, with the slot's flush position
// confirmed only once the sink's commit is durable. See README.md beside this file.
class CdcSource final : public core::Source {
 public:
  explicit CdcSource(const CdcOptions& options);
  ~CdcSource() override;
  boost::asio::awaitable<void> run(core::SourceContext& ctx) override;
  void on_committed(const core::Checkpoint& checkpoint) override;

 private:
  CdcOptions options_;
  std::unique_ptr<SourceState> state_;
};

core::SourceFactory factory();

}  // namespace sluice::sources::postgres_cdc

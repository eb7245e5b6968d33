#pragma once
#include <memory>

#include "core/registry.hpp"
#include "sources/kafka/options.hpp"

namespace sluice::sources::kafka {

struct Consumer;
class PositionsLog;

// A consumer-group member whose authoritative offsets are the ones committed with the data: each assigned
// partition is sought to its committed position, the group's offsets are committed only after the data is
// durable (for lag tools), and a revoked partition is let go only once what was read from it is committed.
class KafkaSource final : public core::Source {
 public:
  explicit KafkaSource(const KafkaSourceOptions& options);
  ~KafkaSource() override;
  boost::asio::awaitable<void> run(core::SourceContext& ctx) override;
  void on_committed(const core::Checkpoint& checkpoint) override;
  bool shares_positions() const override { return !options_.positions_topic.empty(); }
  boost::asio::awaitable<void> publish_positions(core::SourceContext& ctx, const core::Checkpoint& positions,
                                                 const std::string& commit_id) override;
  boost::asio::awaitable<bool> positions_published(core::SourceContext& ctx, const core::Checkpoint& positions,
                                                   const std::string& commit_id) override;

 private:
  PositionsLog& positions(core::SourceContext& ctx);

  KafkaSourceOptions options_;
  std::unique_ptr<PositionsLog> positions_;
  std::unique_ptr<Consumer> consumer_;
};

core::SourceFactory factory();

}  // namespace sluice::sources::kafka

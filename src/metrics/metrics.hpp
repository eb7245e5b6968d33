#pragma once
// The daemon's Prometheus metrics. Pipeline series are read from each pipeline's PipelineStats at scrape
// time, so the data path never touches an atomic or a label lookup; connectors and the daemon itself add
// their own series to the shared prometheus-cpp registry.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/pipeline_config.hpp"
#include "core/stats.hpp"

namespace prometheus {
class Registry;
}

namespace sluice::metrics {

struct PipelineView {
  const std::string& name;
  std::string_view state;
  const core::PipelineConfig& config;
  const core::PipelineStats& stats;
};
using PipelineVisitor = std::function<void(const PipelineView&)>;
using EachPipeline = std::function<void(const PipelineVisitor&)>;

// The states a pipeline reports, in sluice_pipeline_state's label order.
inline constexpr std::string_view kPipelineStates[] = {"starting", "running", "backoff", "draining", "finished", "stopped", "failed"};

class Metrics {
 public:
  explicit Metrics(EachPipeline each_pipeline);
  ~Metrics();

  prometheus::Registry& registry();
  // The configuration read at start-up (not a reload: the counter stays as it is).
  void initial_load(size_t errors);
  void reload_attempt(bool succeeded, size_t errors);
  // The text exposition format (version 0.0.4).
  std::string render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::metrics

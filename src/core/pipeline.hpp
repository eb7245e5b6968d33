#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>

#include "core/pipeline_config.hpp"
#include "core/stats.hpp"

namespace spdlog {
class logger;
}
namespace prometheus {
class Registry;
}
namespace sluice::state {
class StateStore;
}

namespace sluice::core {

enum class PipelineState { starting, running, backoff, draining, finished, stopped, failed };
std::string_view state_name(PipelineState s);

struct PipelineEnv {
  boost::asio::any_io_executor executor;
  boost::asio::any_io_executor blocking;
  state::StateStore* store = nullptr;
  std::string state_dir;
  bool once = false;  // a failure is final instead of restarted, as a batch job's caller expects
  prometheus::Registry* metrics = nullptr;
};

// One pipeline: source → queue → sink worker → commit, supervised: a failed run is torn down (nothing
// uncommitted survives it) and restarted from the last commit with exponential backoff, 1 s doubling to 60 s.
class Tap;

class Pipeline {
 public:
  // stats and tap belong to the pipeline's name, not to this instance: a reload that replaces the instance
  // hands them on, so counters do not reset and a tap reader keeps reading.
  Pipeline(PipelineConfig config, PipelineEnv env, std::shared_ptr<PipelineStats> stats, std::shared_ptr<Tap> tap);
  ~Pipeline();

  // Runs until the source is exhausted and everything is committed, until stop() has drained it, or (with
  // env.once) until it fails.
  boost::asio::awaitable<void> run();
  // Stops the source, commits what is queued, finishes open parts. Idempotent.
  void stop();
  // Abandons in-flight work at once; the next start resumes from the last commit.
  void abort();

  const std::string& name() const { return config_.name; }
  const PipelineConfig& config() const { return config_; }
  PipelineState state() const { return state_; }
  const PipelineStats& stats() const { return *stats_; }

 private:
  struct Run;
  boost::asio::awaitable<void> run_attempt();

  PipelineConfig config_;
  PipelineEnv env_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<PipelineStats> stats_;
  std::shared_ptr<Tap> tap_;
  PipelineState state_ = PipelineState::starting;
  bool stop_requested_ = false;
  bool abort_requested_ = false;
  Run* current_ = nullptr;
  struct Wakeup;
  std::unique_ptr<Wakeup> wakeup_;
};

}  // namespace sluice::core

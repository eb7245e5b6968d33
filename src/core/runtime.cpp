#include "core/runtime.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <csignal>
#include <list>

#include "core/async.hpp"
#include "core/logging.hpp"
#include "core/pipeline.hpp"
#include "state/state_store.hpp"

namespace sluice::core {

int run_daemon(const DaemonConfig& config, const RunOptions& options) {
  auto log = make_logger("sluiced");
  std::unique_ptr<state::StateStore> store;
  try {
    store = state::StateStore::open(config.state_dir);
  } catch (const state::StateError& e) {
    log->error("{}", e.what());
    return 1;
  }

  PipelineSet set = load_pipeline_dir(config.pipelines_dir);
  for (const auto& d : set.errors) log->error("invalid pipeline file, skipped: {}", d.to_string());

  asio::io_context io(1);
  asio::thread_pool blocking(config.blocking_threads);
  PipelineEnv env{io.get_executor(), blocking.get_executor(), store.get(), config.state_dir, options.once};

  std::list<Pipeline> pipelines;
  for (auto& cfg : set.pipelines) pipelines.emplace_back(std::move(cfg), env);
  log->info("sluiced {} started: {} pipeline(s), {} invalid file(s), state in {}", SLUICE_VERSION, pipelines.size(),
            set.invalid_files.size(), config.state_dir);

  size_t running = pipelines.size();
  bool stopping = false;
  asio::steady_timer drain_deadline(io);

  asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  auto signals_cancel = [&] {
    signals.cancel();
    drain_deadline.cancel();
  };
  auto stop_all = [&] {
    if (stopping) return;
    stopping = true;
    if (running == 0) signals_cancel();
    for (auto& p : pipelines) p.stop();
    // Pipelines that cannot drain in time are abandoned; their uncommitted records are read again next start.
    drain_deadline.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(config.shutdown_timeout.value));
    drain_deadline.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      log->warn("shutdown_timeout of {} passed; abandoning uncommitted records (they are read again on the next start)",
                config::show_duration(config.shutdown_timeout));
      for (auto& p : pipelines) p.abort();
    });
  };

  std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      log->warn("SIGHUP received: configuration reload is not available in this version; ignored");
    } else if (stopping) {
      // Still safe: the next start resumes from the last commit.
      log->warn("second stop signal: exiting now");
      spdlog::shutdown();
      std::_Exit(1);
    } else {
      log->info("{} received: stopping sources, draining and committing", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      stop_all();
    }
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);

  // With --once the daemon ends when every pipeline has; otherwise it stays up until told to stop.
  auto finish_one = [&] {
    if (--running == 0 && (options.once || stopping)) signals_cancel();
  };
  for (auto& p : pipelines)
    asio::co_spawn(io, p.run(), [&, pp = &p](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          pp->stop();
          log->error("pipeline {} ended abnormally: {}", pp->name(), ex.what());
        }
      }
      if (options.once && !stopping) log->info("pipeline {} {}", pp->name(), state_name(pp->state()));
      finish_one();
    });
  if (pipelines.empty() && options.once) signals_cancel();
  if (pipelines.empty()) log->warn("no valid pipelines to run");
  io.run();
  blocking.join();

  bool failed = !set.errors.empty();
  for (const auto& p : pipelines)
    if (p.state() == PipelineState::failed) failed = true;
  log->info("sluiced stopped{}", failed ? " with failures" : "");
  spdlog::default_logger()->flush();
  return failed ? 1 : 0;
}

}  // namespace sluice::core

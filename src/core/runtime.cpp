#include "core/runtime.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "core/async.hpp"
#include "formats/timestamp.hpp"
#include "core/logging.hpp"
#include "core/pipeline.hpp"
#include "core/service_notify.hpp"
#include "core/status.hpp"
#include "core/tap.hpp"
#include "formats/json_check.hpp"
#include "metrics/http_server.hpp"
#include "metrics/metrics.hpp"
#include "state/state_store.hpp"

namespace sluice::core {
namespace {

using Clock = std::chrono::steady_clock;

// One pipeline name and what outlives its instances: stats, tap readers, and the instance a reload is
// waiting to start once the current one has drained.
struct Slot {
  std::string name;
  std::unique_ptr<Pipeline> pipeline;
  std::shared_ptr<PipelineStats> stats = std::make_shared<PipelineStats>();
  std::shared_ptr<Tap> tap;
  std::optional<PipelineConfig> replacement;
  bool remove = false;
  bool ended = true;
  bool in_transition = false;
  uint64_t instance = 0;
  std::unique_ptr<asio::steady_timer> drain_deadline;
};

class Runtime {
 public:
  Runtime(DaemonConfig config, RunOptions options)
      : config_(std::move(config)),
        options_(options),
        log_(make_logger(kDaemonLogger)),
        signals_(io_, SIGTERM, SIGINT, SIGHUP),
        metrics_([this](const metrics::PipelineVisitor& visit) {
          for (const auto& [name, slot] : slots_)
            if (slot->pipeline)
              visit({name, state_name(slot->pipeline->state()), slot->pipeline->config(), *slot->stats});
        }),
        http_(io_.get_executor(), log_),
        watchdog_timer_(io_),
        status_timer_(io_),
        started_unix_ms_(formats::unix_ms_now()) {}

  int run();

 private:
  // Pipelines
  void start(Slot& slot, PipelineConfig config);
  void on_ended(Slot& slot, std::exception_ptr error);
  void begin_stop(Slot& slot);
  void check_exit();

  // Reload and stop
  void on_signal(boost::system::error_code ec, int sig);
  void request_reload();
  void reload();
  void transition_done();
  void finish_reload();
  void stop_all();

  // Observability
  void serve_http();
  bool ready(std::string* why) const;
  std::string summary() const;
  void watchdog_tick();
  void status_tick();
  asio::awaitable<void> tap(const metrics::HttpRequest& request, metrics::HttpStream& stream);

  DaemonConfig config_;
  RunOptions options_;
  std::shared_ptr<spdlog::logger> log_;
  asio::io_context io_{1};
  std::unique_ptr<asio::thread_pool> blocking_;
  std::unique_ptr<state::StateStore> store_;
  asio::signal_set signals_;
  metrics::Metrics metrics_;
  metrics::HttpServer http_;
  ServiceNotifier notify_;
  asio::steady_timer watchdog_timer_, status_timer_;

  std::map<std::string, std::unique_ptr<Slot>> slots_;
  std::vector<config::Diagnostic> startup_errors_;
  bool started_ = false;
  bool stopping_ = false;
  bool exited_ = false;
  bool reloading_ = false;
  bool reload_again_ = false;
  size_t transitions_ = 0;
  uint64_t reload_signals_ = 0;
  ReloadReport last_reload_, last_failed_reload_;
  uint64_t reloads_succeeded_ = 0, reloads_failed_ = 0;
  int64_t started_unix_ms_;
  std::unique_ptr<asio::steady_timer> stop_deadline_;
};

void Runtime::start(Slot& slot, PipelineConfig config) {
  if (!slot.tap) slot.tap = std::make_shared<Tap>(io_.get_executor());
  PipelineEnv env{io_.get_executor(), blocking_->get_executor(), store_.get(), config_.state_dir, options_.once, &metrics_.registry()};
  slot.pipeline = std::make_unique<Pipeline>(std::move(config), env, slot.stats, slot.tap);
  slot.ended = false;
  ++slot.instance;
  asio::co_spawn(io_, slot.pipeline->run(), [this, s = &slot](std::exception_ptr e) {
    // Posted: the instance may be destroyed next, and not from inside its own coroutine's completion.
    asio::post(io_, [this, s, e] { on_ended(*s, e); });
  });
}

void Runtime::on_ended(Slot& slot, std::exception_ptr error) {
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& ex) {
      slot.stats->last_error = ex.what();
      log_->error("pipeline {} ended abnormally: {}", slot.name, ex.what());
    }
  }
  slot.ended = true;
  if (options_.once && !stopping_) log_->info("pipeline {} {}", slot.name, state_name(slot.pipeline->state()));
  if (slot.drain_deadline) slot.drain_deadline->cancel();
  bool was_in_transition = slot.in_transition;
  slot.in_transition = false;
  if (!stopping_ && slot.replacement) {
    PipelineConfig next = std::move(*slot.replacement);
    slot.replacement.reset();
    log_->info("pipeline {} drained; starting it with its new configuration", slot.name);
    start(slot, std::move(next));
  } else if (slot.remove) {
    std::string name = slot.name;
    log_->info("pipeline {} drained and removed", name);
    slots_.erase(name);  // `slot` is gone from here on
  }
  if (was_in_transition) transition_done();
  check_exit();
}

void Runtime::begin_stop(Slot& slot) {
  if (slot.ended) return;
  slot.in_transition = true;
  ++transitions_;
  slot.pipeline->stop();
  // As at shutdown: a drain that cannot finish in time is abandoned; the replacement re-reads from the commit.
  slot.drain_deadline = std::make_unique<asio::steady_timer>(io_, std::chrono::duration_cast<Clock::duration>(config_.shutdown_timeout.value));
  slot.drain_deadline->async_wait([this, s = &slot](boost::system::error_code ec) {
    if (ec || s->ended) return;
    log_->warn("pipeline {} did not drain within shutdown_timeout; abandoning its uncommitted records (they are read again)", s->name);
    s->pipeline->abort();
  });
}

void Runtime::check_exit() {
  if (exited_ || !started_) return;
  for (const auto& [name, slot] : slots_)
    if (!slot->ended) return;
  if (transitions_ || reloading_) return;
  if (!(stopping_ || options_.once)) return;
  exited_ = true;
  // Nothing left to run: release everything that keeps the event loop alive.
  signals_.cancel();
  http_.stop();
  watchdog_timer_.cancel();
  status_timer_.cancel();
  if (stop_deadline_) stop_deadline_->cancel();
}

void Runtime::on_signal(boost::system::error_code ec, int sig) {
  if (ec || exited_) return;
  if (sig == SIGHUP) {
    ++reload_signals_;
    request_reload();
  } else if (stopping_) {
    // Still safe: the next start resumes from the last commit.
    log_->warn("second stop signal: exiting now");
    spdlog::shutdown();
    std::_Exit(1);
  } else {
    log_->info("{} received: stopping sources, draining and committing", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    stop_all();
  }
  if (!exited_) signals_.async_wait([this](boost::system::error_code e, int s) { on_signal(e, s); });
}

void Runtime::request_reload() {
  if (stopping_) {
    log_->info("SIGHUP during shutdown: ignored");
    return;
  }
  // Signals that arrive while a reload is applied coalesce into one more reload once it is done.
  if (reloading_) {
    reload_again_ = true;
    return;
  }
  reload();
}

void Runtime::reload() {
  reloading_ = true;
  notify_.reloading();
  ReloadReport report;
  report.at_unix_ms = formats::unix_ms_now();
  report.sequence = last_reload_.sequence + 1;

  // Validate everything before touching anything: a reload is all or nothing.
  std::optional<DaemonConfig> daemon;
  try {
    daemon = load_daemon_file(config_.file);
  } catch (const config::ConfigError& e) {
    for (const auto& d : e.diagnostics()) report.errors.push_back(d.to_string());
  }
  PipelineSet set;
  if (daemon) {
    set = load_pipeline_dir(daemon->pipelines_dir);
    for (const auto& d : set.errors) report.errors.push_back(d.to_string());
  }
  if (!report.errors.empty()) {
    report.succeeded = false;
    for (const auto& e : report.errors)
      log_event(*log_, LogLevelOf::error, "reload rejected, running set unchanged: " + e,
                {{"event", "reload_rejected"}, {"sequence", report.sequence}, {"error", e}});
    metrics_.reload_attempt(false, report.errors.size());
    ++reloads_failed_;
    last_failed_reload_ = report;
    last_reload_ = std::move(report);
    finish_reload();
    return;
  }

  // Settings that belong to the process itself cannot change under it.
  auto needs_restart = [&](bool changed, const char* key) {
    if (changed) log_->warn("reload: '{}' changed; it takes effect on the next restart of sluiced", key);
  };
  needs_restart(daemon->state_dir != config_.state_dir, "state_dir");
  needs_restart(daemon->http.listen != config_.http.listen, "http.listen");
  needs_restart(daemon->blocking_threads != config_.blocking_threads, "blocking_threads");
  configure_logging(daemon->log);
  config_.log = daemon->log;
  config_.shutdown_timeout = daemon->shutdown_timeout;
  config_.pipelines_dir = daemon->pipelines_dir;

  std::map<std::string, PipelineConfig> wanted;
  for (auto& p : set.pipelines) wanted.emplace(p.name, std::move(p));
  for (auto& [name, slot] : slots_) {
    if (wanted.count(name)) continue;
    slot->remove = true;
    slot->replacement.reset();
    report.stopped.push_back(name);
    log_->info("reload: pipeline {} removed; draining it", name);
    begin_stop(*slot);
  }
  std::vector<std::string> drop_now;
  for (auto& [name, slot] : slots_)
    if (slot->remove && slot->ended) drop_now.push_back(name);
  for (const auto& name : drop_now) slots_.erase(name);

  for (auto& [name, cfg] : wanted) {
    auto it = slots_.find(name);
    if (it == slots_.end()) {
      auto slot = std::make_unique<Slot>();
      slot->name = name;
      log_->info("reload: new pipeline {} from {}", name, cfg.file);
      report.started.push_back(name);
      Slot& added = *slots_.emplace(name, std::move(slot)).first->second;
      start(added, std::move(cfg));
      continue;
    }
    Slot& slot = *it->second;
    if (slot.pipeline && slot.pipeline->config().config_hash == cfg.config_hash) {
      ++report.unchanged;
      continue;
    }
    log_->info("reload: pipeline {} changed ({} → {}); draining it, then restarting", name,
               slot.pipeline ? slot.pipeline->config().config_hash : "-", cfg.config_hash);
    report.restarted.push_back(name);
    if (slot.ended) {
      start(slot, std::move(cfg));
    } else {
      slot.replacement = std::move(cfg);
      begin_stop(slot);
    }
  }
  report.succeeded = true;
  log_event(*log_, LogLevelOf::info,
            fmt::format("reload #{}: {} started, {} restarted, {} removed, {} unchanged", report.sequence, report.started.size(),
                        report.restarted.size(), report.stopped.size(), report.unchanged),
            {{"event", "reload_applied"},
             {"sequence", report.sequence},
             {"started", uint64_t(report.started.size())},
             {"restarted", uint64_t(report.restarted.size())},
             {"removed", uint64_t(report.stopped.size())},
             {"unchanged", uint64_t(report.unchanged)}});
  metrics_.reload_attempt(true, 0);
  ++reloads_succeeded_;
  last_reload_ = std::move(report);
  if (transitions_ == 0) finish_reload();
}

void Runtime::transition_done() {
  if (transitions_ > 0 && --transitions_ == 0 && reloading_) finish_reload();
}

void Runtime::finish_reload() {
  reloading_ = false;
  if (stopping_) return;
  notify_.ready(summary());
  if (reload_again_) {
    reload_again_ = false;
    asio::post(io_, [this] { request_reload(); });
  }
}

void Runtime::stop_all() {
  if (stopping_) return;
  stopping_ = true;
  notify_.stopping();
  for (auto& [name, slot] : slots_) {
    slot->replacement.reset();
    if (!slot->ended) slot->pipeline->stop();
  }
  // Pipelines that cannot drain in time are abandoned; their uncommitted records are read again next start.
  stop_deadline_ = std::make_unique<asio::steady_timer>(io_, std::chrono::duration_cast<Clock::duration>(config_.shutdown_timeout.value));
  stop_deadline_->async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    log_->warn("shutdown_timeout of {} passed; abandoning uncommitted records (they are read again on the next start)",
               config::show_duration(config_.shutdown_timeout));
    for (auto& [name, slot] : slots_)
      if (!slot->ended) slot->pipeline->abort();
  });
  check_exit();
}

bool Runtime::ready(std::string* why) const {
  if (!started_ || stopping_) {
    if (why) *why = stopping_ ? "stopping\n" : "starting\n";
    return false;
  }
  bool ok = true;
  for (const auto& [name, slot] : slots_) {
    auto state = slot->pipeline ? slot->pipeline->state() : PipelineState::starting;
    if (state == PipelineState::running || state == PipelineState::finished) continue;
    ok = false;
    if (why) *why += "pipeline " + name + ": " + std::string(state_name(state)) + "\n";
  }
  return ok;
}

std::string Runtime::summary() const {
  std::map<std::string_view, size_t> by_state;
  uint64_t committed = 0;
  for (const auto& [name, slot] : slots_) {
    by_state[state_name(slot->pipeline ? slot->pipeline->state() : PipelineState::starting)]++;
    committed += slot->stats->records_out;
  }
  std::string s = std::to_string(slots_.size()) + " pipeline(s)";
  const char* sep = ": ";
  for (const auto& [state, n] : by_state) {
    s += sep + std::to_string(n) + " " + std::string(state);
    sep = ", ";
  }
  return s + "; " + std::to_string(committed) + " records committed";
}

void Runtime::watchdog_tick() {
  // From the event loop itself: if the loop hangs, the pings stop and systemd restarts us.
  notify_.watchdog();
  watchdog_timer_.expires_after(*notify_.watchdog_interval());
  // exited_ as well as ec: a timer that had already expired when check_exit() cancelled it still runs its
  // handler with success, and re-arming then would keep the event loop alive forever.
  watchdog_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec && !exited_) watchdog_tick();
  });
}

void Runtime::status_tick() {
  status_timer_.expires_after(std::chrono::seconds(10));
  status_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || exited_) return;
    if (!reloading_ && !stopping_) notify_.status(summary());
    status_tick();
  });
}

asio::awaitable<void> Runtime::tap(const metrics::HttpRequest& request, metrics::HttpStream& stream) {
  std::string name = request.path.substr(std::string_view("/tap/").size());
  auto it = slots_.find(name);
  if (it == slots_.end()) {
    co_await stream.write("{\"error\":\"no pipeline named " + name + "\"}\n");
    co_return;
  }
  Tap::Options options;
  uint64_t limit = 0;
  bool numbers = true;
  try {
    if (auto q = request.query.find("rate"); q != request.query.end()) options.max_rate = std::clamp(std::stod(q->second), 1.0, 1e6);
    if (auto q = request.query.find("limit"); q != request.query.end()) limit = std::stoull(q->second);
  } catch (const std::exception&) {
    numbers = false;
  }
  if (!numbers) {
    co_await stream.write("{\"error\":\"rate and limit must be numbers\"}\n");
    co_return;
  }
  // Held by shared_ptr: the slot (and a replaced instance) may go away while we wait.
  std::shared_ptr<Tap> tap = it->second->tap;
  auto reader = tap->subscribe(options);
  struct Leave {
    std::shared_ptr<Tap> tap;
    std::shared_ptr<Tap::Reader> reader;
    ~Leave() { tap->unsubscribe(reader); }
  } leave{tap, reader};
  log_->info("tap on pipeline {} opened (rate {}/s{})", name, options.max_rate, limit ? ", limit " + std::to_string(limit) : "");
  formats::JsonChecker checker;
  uint64_t sent = 0;
  auto last_skip_report = Clock::now();
  std::string chunk;
  while (stream.open() && !exited_ && (limit == 0 || sent < limit)) {
    if (reader->values.size() < reader->options.max_buffered / 2) co_await reader->notifier.wait_until(Clock::now() + Tap::kFlushInterval);
    reader->woken = false;
    chunk.clear();
    while (!reader->values.empty() && (limit == 0 || sent < limit)) {
      const std::string& value = reader->values.front();
      // Records are JSON for every built-in source; anything else is shown as a string, never as broken JSON.
      if (!checker.check_object(value)) {
        chunk += "{\"record\":";
        chunk += formats::trim_line(value);
      } else {
        chunk += "{\"record_text\":";
        formats::append_json_string(chunk, value);
      }
      chunk += "}\n";
      reader->values.pop_front();
      ++sent;
    }
    if (reader->skipped && (Clock::now() - last_skip_report > std::chrono::seconds(1) || (limit && sent >= limit))) {
      chunk += "{\"skipped\":" + std::to_string(reader->skipped) + "}\n";
      reader->skipped = 0;
      last_skip_report = Clock::now();
    }
    if (!chunk.empty() && !co_await stream.write(chunk)) break;
  }
  log_->info("tap on pipeline {} closed after {} record(s)", name, sent);
}

void Runtime::serve_http() {
  http_.route("/healthz", [](const metrics::HttpRequest&) { return metrics::HttpResponse{200, "text/plain; charset=utf-8", "ok\n"}; });
  http_.route("/readyz", [this](const metrics::HttpRequest&) {
    std::string why;
    if (ready(&why)) return metrics::HttpResponse{200, "text/plain; charset=utf-8", "ready\n"};
    return metrics::HttpResponse{503, "text/plain; charset=utf-8", why};
  });
  http_.route("/metrics", [this](const metrics::HttpRequest&) {
    return metrics::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics_.render()};
  });
  http_.route("/status", [this](const metrics::HttpRequest&) {
    StatusInput in;
    in.version = SLUICE_VERSION;
    in.started_unix_ms = started_unix_ms_;
    in.ready = ready(nullptr);
    in.reloading = reloading_;
    in.reload_signals = reload_signals_;
    in.last_reload = &last_reload_;
    in.last_failed_reload = &last_failed_reload_;
    in.reloads_succeeded = reloads_succeeded_;
    in.reloads_failed = reloads_failed_;
    for (const auto& d : startup_errors_) in.startup_errors.push_back(d.to_string());
    for (const auto& [name, slot] : slots_)
      if (slot->pipeline) in.pipelines.push_back({&slot->pipeline->config(), slot->stats.get(), slot->pipeline->state(), slot->tap->readers(), slot->instance});
    return metrics::HttpResponse{200, "application/json", render_status(in)};
  });
  http_.stream("/tap/", [this](const metrics::HttpRequest& request, metrics::HttpStream& stream) { return tap(request, stream); });
}

int Runtime::run() {
  try {
    store_ = state::StateStore::open(config_.state_dir);
  } catch (const state::StateError& e) {
    log_->error("{}", e.what());
    return 1;
  }
  blocking_ = std::make_unique<asio::thread_pool>(config_.blocking_threads);

  if (!config_.http.listen.empty()) {
    serve_http();
    try {
      std::string bound = http_.listen(config_.http.listen);
      log_event(*log_, LogLevelOf::info, "http: listening on " + bound + " (/metrics /healthz /readyz /status /tap)",
                {{"event", "http_listening"}, {"address", bound}});
      // Where `sluiced status` finds a daemon whose port the kernel picked.
      std::ofstream(std::filesystem::path(config_.state_dir) / "http.address") << bound << "\n";
    } catch (const std::exception& e) {
      log_->error("{}", e.what());
      return 1;
    }
  }

  PipelineSet set = load_pipeline_dir(config_.pipelines_dir);
  for (const auto& d : set.errors) log_->error("invalid pipeline file, skipped: {}", d.to_string());
  startup_errors_ = set.errors;
  metrics_.initial_load(set.errors.size());
  for (auto& cfg : set.pipelines) {
    auto slot = std::make_unique<Slot>();
    slot->name = cfg.name;
    // Two statements: in one, the move of cfg may come before cfg.name is read for the key.
    Slot& added = *slots_.emplace(cfg.name, std::move(slot)).first->second;
    start(added, std::move(cfg));
  }
  started_ = true;
  log_event(*log_, LogLevelOf::info,
            fmt::format("sluiced {} started: {} pipeline(s), {} invalid file(s), state in {}", SLUICE_VERSION, slots_.size(),
                        set.invalid_files.size(), config_.state_dir),
            {{"event", "started"},
             {"version", SLUICE_VERSION},
             {"pipelines", uint64_t(slots_.size())},
             {"invalid_files", uint64_t(set.invalid_files.size())},
             {"state_dir", config_.state_dir}});
  if (slots_.empty()) log_->warn("no valid pipelines to run");

  signals_.async_wait([this](boost::system::error_code e, int s) { on_signal(e, s); });
  // READY once every pipeline has been started (each then resumes and retries on its own, visible in /readyz).
  notify_.ready(summary());
  if (notify_.watchdog_interval()) watchdog_tick();
  status_tick();
  check_exit();
  io_.run();
  blocking_->join();

  // A batch run (--once) reports whether everything it was given ran; a service that was told to stop and
  // did so cleanly exits 0, whatever happened along the way (that is in the logs and metrics).
  bool failed = false;
  if (options_.once) {
    failed = !set.errors.empty();
    for (const auto& [name, slot] : slots_)
      if (slot->pipeline && slot->pipeline->state() == PipelineState::failed) failed = true;
  }
  log_->info("sluiced stopped{}", failed ? " with failures" : "");
  spdlog::default_logger()->flush();
  return failed ? 1 : 0;
}

}  // namespace

int run_daemon(const DaemonConfig& config, const RunOptions& options) {
  Runtime runtime(config, options);
  return runtime.run();
}

}  // namespace sluice::core

#include "core/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <filesystem>
#include <optional>
#include <unordered_map>

#include "core/async.hpp"
#include "formats/timestamp.hpp"
#include "core/bounded_queue.hpp"
#include "core/crash_point.hpp"
#include "core/disk_spool.hpp"
#include "core/logging.hpp"
#include "core/notifier.hpp"
#include "core/pending_commit.hpp"
#include "core/tap.hpp"
#include "core/task.hpp"
#include "core/token_bucket.hpp"
#include "sinks/file/file_sink.hpp"
#include "state/state_store.hpp"

namespace sluice::core {

std::string_view state_name(PipelineState s) {
  switch (s) {
    case PipelineState::starting: return "starting";
    case PipelineState::running: return "running";
    case PipelineState::backoff: return "backoff";
    case PipelineState::draining: return "draining";
    case PipelineState::finished: return "finished";
    case PipelineState::stopped: return "stopped";
    case PipelineState::failed: return "failed";
  }
  return "?";
}

namespace {

bool is_cancellation(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& se) {
    return se.code() == asio::error::operation_aborted;
  } catch (...) {
    return false;
  }
}

class PartitionTable {
 public:
  uint32_t id(std::string_view name) {
    auto it = ids_.find(std::string(name));
    if (it != ids_.end()) return it->second;
    names_.emplace_back(name);
    return ids_[std::string(name)] = uint32_t(names_.size() - 1);
  }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t> ids_;
};

}  // namespace

struct Pipeline::Wakeup {
  explicit Wakeup(asio::any_io_executor ex) : notifier(ex) {}
  Notifier notifier;
};

// Everything one attempt owns; destroyed when the attempt ends, so a restart starts from clean state.
struct Pipeline::Run final : SourceContext, SinkContext {
  Pipeline& p;
  std::string sink_scope, dead_letter_scope;
  PartitionTable partitions;
  Checkpoint checkpoint_;
  std::unique_ptr<Source> source;
  std::unique_ptr<Sink> sink;
  std::unique_ptr<sinks::file::FileSink> dead_letter;
  std::unique_ptr<Channel> channel;
  BoundedQueue* queue = nullptr;
  DiskSpool* spool = nullptr;
  std::optional<TokenBucket> bucket;
  Notifier changed;
  Task source_task, worker_task, gauges_task;
  bool source_finished = false;
  // The sink worker's batches, oldest first: the first `sent` have been handed to the sink and wait for their
  // commits, in order; the one after them, if any, is being taken from the channel or sent. withdraw() looks
  // into all of them. A sink that does not overlap batches has one at a time.
  std::deque<Batch> batches;
  size_t sent = 0;
  bool taking_done = false;      // the channel is closed and drained: no batch comes after these
  std::vector<Batch> spare;      // committed batches, cleared, kept for their vectors' capacity
  uint64_t batches_committed = 0;
  // Two-phase commits (Source::shares_positions): the key of the pending record, and what makes ids unique.
  std::string pending_key;
  std::string commit_id_prefix;
  uint64_t commit_sequence = 0;

  explicit Run(Pipeline& pipeline)
      : p(pipeline),
        sink_scope(state::scoped_key(p.name(), "sink")),
        dead_letter_scope(state::scoped_key(p.name(), "dead_letter")),
        changed(p.env_.executor),
        pending_key(state::scoped_key(p.name(), "pending_commit")) {}

  // SourceContext
  const std::string& pipeline() const override { return p.name(); }
  const Checkpoint& checkpoint() const override { return checkpoint_; }
  uint32_t partition(std::string_view name) override { return partitions.id(name); }
  spdlog::logger& log() override { return *p.log_; }
  asio::any_io_executor executor() override { return p.env_.executor; }
  asio::any_io_executor blocking_executor() override { return p.env_.blocking; }
  prometheus::Registry& metrics() override { return *p.env_.metrics; }
  const std::string& instance() const override { return p.env_.store->instance_id(); }
  void set_degraded(std::string_view reason) override {
    auto& stats = *p.stats_;
    if (stats.degraded == reason) return;
    if (stats.degraded.empty()) stats.degraded_since_unix_ms = formats::unix_ms_now();
    stats.degraded = reason;
    if (reason.empty()) stats.degraded_since_unix_ms = 0;
  }
  awaitable<void> push(Records& records) override {
    auto& stats = *p.stats_;
    for (const auto& r : records)
      if (r.event_time_ms > stats.last_read_event_time_ms) stats.last_read_event_time_ms = r.event_time_ms;
    if (p.tap_->active()) stats.tap_skipped += p.tap_->offer(records);
    if (!bucket) co_return co_await channel->push(records);
    // Admit at most `burst` records at a time so that the bucket's burst bounds what passes at once.
    size_t step = std::max<size_t>(1, size_t(bucket->burst()));
    Records chunk;
    size_t done = 0;
    try {
      while (done < records.size()) {
        size_t n = std::min(step, records.size() - done);
        while (!bucket->try_acquire(double(n))) {
          asio::steady_timer t(p.env_.executor, std::chrono::duration_cast<asio::steady_timer::duration>(bucket->time_until(double(n))));
          co_await t.async_wait(asio::use_awaitable);
        }
        chunk.assign(std::make_move_iterator(records.begin() + done), std::make_move_iterator(records.begin() + done + n));
        done += n;
        co_await channel->push(chunk);
      }
    } catch (...) {
      // Cancelled: what the channel did not take goes back to the caller, in order (SourceContext::push).
      records.erase(records.begin(), records.begin() + done);
      records.insert(records.begin(), std::make_move_iterator(chunk.begin()), std::make_move_iterator(chunk.end()));
      throw;
    }
    records.clear();
  }
  awaitable<void> withdraw(const std::vector<uint32_t>& ids) override {
    channel->withdraw(ids);
    auto holds = [&](const Batch& b) {
      for (const auto* part : {&b.records, &b.rejected})
        for (const auto& r : *part)
          if (std::find(ids.begin(), ids.end(), r.partition) != ids.end()) return true;
      return false;
    };
    // Batches commit in order: waiting for the last one that holds a withdrawn partition means waiting for
    // every one before it too.
    uint64_t commits = 0;
    for (size_t i = 0; i < batches.size(); ++i)
      if (holds(batches[i])) commits = i + 1;
    if (commits == 0) co_return;
    // A batch that is still filling up is ended now rather than at max_wait.
    channel->flush();
    for (uint64_t target = batches_committed + commits; batches_committed < target && !worker_task.done;) co_await changed.wait();
  }

  // SinkContext (the main sink's view; the dead-letter sink gets its own below)
  const std::string& scope() const override { return sink_scope; }
  state::StateStore& state() override { return *p.env_.store; }
  const std::string& partition_name(uint32_t id) const override { return partitions.names().at(id); }

  struct DeadLetterContext final : SinkContext {
    Run& r;
    explicit DeadLetterContext(Run& run) : r(run) {}
    const std::string& pipeline() const override { return r.p.name(); }
    const std::string& scope() const override { return r.dead_letter_scope; }
    state::StateStore& state() override { return *r.p.env_.store; }
    spdlog::logger& log() override { return *r.p.log_; }
    asio::any_io_executor executor() override { return r.p.env_.executor; }
    asio::any_io_executor blocking_executor() override { return r.p.env_.blocking; }
    prometheus::Registry& metrics() override { return *r.p.env_.metrics; }
    const std::string& partition_name(uint32_t id) const override { return r.partition_name(id); }
  } dead_letter_ctx{*this};

  // A crash between recording a commit as pending and marking it done leaves the pending record: the commit
  // stands if its positions were published (another instance may already resume after it), else it never
  // happened. Runs before the sink opens, so that the sink's recovery sees the outcome.
  awaitable<void> finish_pending_commit() {
    auto saved = co_await run_blocking(p.env_.blocking, [&] { return p.env_.store->get(state::Family::meta, pending_key); });
    if (!saved) co_return;
    auto pending = PendingCommit::decode(*saved);
    if (!pending) throw std::runtime_error("the pending commit record in the state store is corrupt (meta key " + p.name() + "/pending_commit)");
    bool published = co_await source->positions_published(*this, pending->positions, pending->id);
    state::WriteBatch txn = published ? state::WriteBatch::deserialize(pending->txn_image) : state::WriteBatch{};
    txn.remove(state::Family::meta, pending_key);
    co_await run_blocking(p.env_.blocking, [&] {
      p.env_.store->write(txn, true);
      return 0;
    });
    p.log_->info("commit {} was left pending by a crash; its positions were {}published, so it is {}", pending->id, published ? "" : "not ",
                 published ? "kept" : "discarded");
  }

  awaitable<void> open() {
    const auto& cfg = p.config_;
    source = cfg.source.factory->create(cfg.source.options);
    if (source->shares_positions()) {
      if (cfg.queue.policy == Policy::buffer)
        throw std::runtime_error(
            "queue policy buffer cannot be used with this source: it acknowledges positions when records reach the local spool, which "
            "the other instances sharing the source's partitions cannot see; use policy throttle (the source itself is a durable buffer)");
      commit_id_prefix = fmt::format("{}.{}.", p.env_.store->instance_id(), formats::unix_ms_now());
      co_await finish_pending_commit();
    }
    sink = cfg.sink.factory->create(cfg.sink.options);
    std::optional<Checkpoint> held = co_await sink->open(*this);
    sinks::file::FileOptions dl;
    dl.path = cfg.dead_letter.path.empty() ? (std::filesystem::path(p.env_.state_dir) / "dead_letter" / p.name()).string()
                                           : cfg.dead_letter.path;
    dl.format = sinks::file::Format::jsonl;
    // A prefix of its own: dead_letter.path may be the sink's own directory.
    dl.prefix = p.name() + ".dead_letter";
    dead_letter = std::make_unique<sinks::file::FileSink>(dl);
    co_await dead_letter->open(dead_letter_ctx);

    if (held) {
      checkpoint_ = *held;
    } else {
      std::string prefix = state::scope_prefix(p.name());
      co_await run_blocking(p.env_.blocking, [&] {
        p.env_.store->scan(state::Family::checkpoints, prefix, [&](std::string_view k, std::string_view v) {
          checkpoint_.emplace(std::string(k.substr(prefix.size())), std::string(v));
          return true;
        });
        return 0;
      });
    }
    for (const auto& [partition, position] : checkpoint_) partitions.id(partition);
    if (p.stats_->committed_position.empty()) p.stats_->committed_position = checkpoint_;

    const auto& q = cfg.queue;
    if (q.policy == Policy::buffer) {
      auto s = std::make_unique<DiskSpool>(p.env_.executor, p.env_.blocking, *p.env_.store, p.name(), q.buffer.max_bytes.bytes,
                                           partitions.names(), *p.stats_,
                                           [this](const Checkpoint& c) { source->on_committed(c); });
      co_await run_blocking(p.env_.blocking, [&] {
        s->recover();
        return 0;
      });
      spool = s.get();
      channel = std::move(s);
    } else {
      auto b = std::make_unique<BoundedQueue>(p.env_.executor, q.max_records, q.max_bytes.bytes, q.policy, partitions.names(), *p.stats_);
      b->set_scope(p.name());
      queue = b.get();
      channel = std::move(b);
    }
    if (const auto& rl = cfg.source.common.rate_limit)
      bucket.emplace(rl->rate, rl->burst > 0 ? rl->burst : std::max(1.0, rl->rate), SteadyClock::instance());
  }

  awaitable<void> commit(Batch& batch) {
    auto started = std::chrono::steady_clock::now();
    state::WriteBatch txn;
    // The sink first: records it cannot write join the source's rejects in the same commit.
    if (!batch.records.empty()) co_await sink->write(batch, txn);
    if (!batch.rejected.empty()) {
      Batch dl;
      dl.records = std::move(batch.rejected);
      co_await dead_letter->write(dl, txn);
      p.stats_->rejected += dl.records.size();
      batch.rejected = std::move(dl.records);
    }
    channel->commit_state(batch, txn);
    if (source->shares_positions() && !batch.checkpoint.empty()) co_await publish_positions(batch, txn);
    co_await run_blocking(p.env_.blocking, [&] {
      crash_point("commit.before_state_write", p.name());
      p.env_.store->write(txn, true);
      crash_point("commit.after_state_write", p.name());
      return 0;
    });
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    p.stats_->commit_latency.record(took);
    p.stats_->commit_buckets.record(took);
    for (const auto& [partition, position] : batch.checkpoint) p.stats_->committed_position[partition] = position;
    p.stats_->commits++;
    p.stats_->records_out += batch.records.size();
    p.stats_->bytes_out += batch.bytes;
    p.stats_->last_commit_unix_ms = formats::unix_ms_now();
    if (batch.max_event_time_ms > p.stats_->last_event_time_ms) p.stats_->last_event_time_ms = batch.max_event_time_ms;
    co_await sink->committed();
    // Every commit, not only those with rejects, so that dead-letter parts roll by age and become visible.
    co_await dead_letter->committed();
    if (queue && !batch.checkpoint.empty()) source->on_committed(batch.checkpoint);
  }

  // The data is durable; before the commit's state write, record it as pending and publish its positions, so
  // that another instance taking these partitions over resumes exactly where this commit ends.
  awaitable<void> publish_positions(const Batch& batch, state::WriteBatch& txn) {
    PendingCommit pending{commit_id_prefix + std::to_string(commit_sequence++), batch.checkpoint, txn.serialize()};
    co_await run_blocking(p.env_.blocking, [&] {
      state::WriteBatch record;
      record.put(state::Family::meta, pending_key, pending.encode());
      p.env_.store->write(record, true);
      crash_point("commit.after_pending", p.name());
      return 0;
    });
    // A crash from here on leaves a published pending commit (crash point commit.before_state_write).
    co_await source->publish_positions(*this, batch.checkpoint, pending.id);
    txn.remove(state::Family::meta, pending_key);
  }

  // Takes the next batch from the channel, and hands it to the sink when batches overlap. False once the
  // channel is closed and drained.
  awaitable<bool> take_batch(const BatchLimits& limits, bool overlap) {
    Batch& batch = batches.emplace_back();
    if (!spare.empty()) {
      batch = std::move(spare.back());
      spare.pop_back();
    }
    const bool got = co_await channel->pop(batch, limits);
    if (got && overlap && !batch.records.empty()) co_await sink->send(batch);
    if (got) ++sent;
    else batches.pop_back();
    changed.notify_all();
    co_return got;
  }

  awaitable<void> commit_oldest() {
    co_await commit(batches.front());
    batches.front().clear();
    spare.push_back(std::move(batches.front()));
    batches.pop_front();
    --sent;
    ++batches_committed;
    changed.notify_all();
  }

  // Keeps up to `depth` batches taken and sent while the oldest commit.
  awaitable<void> take_batches(BatchLimits limits, size_t depth) {
    bool more = true;
    while (more) {
      while (batches.size() >= depth) co_await changed.wait();
      more = co_await take_batch(limits, true);
    }
    taking_done = true;
    changed.notify_all();
  }

  // Commits the batches in the order they were taken, each once it has been handed to the sink, until the
  // channel is drained or the taking failed.
  awaitable<void> commit_batches(const Task& taker) {
    for (;;) {
      while (sent == 0 && !taking_done && !taker.done) co_await changed.wait();
      if (sent == 0) break;
      co_await commit_oldest();
    }
  }

  awaitable<void> work() {
    const auto& b = p.config_.sink.common.batch;
    BatchLimits limits{b.max_records, b.max_bytes.bytes, b.max_wait.value};
    // A sink that overlaps batches is handed the next ones, as soon as there are some, while the oldest waits
    // for its acknowledgements and commits; commits stay in order.
    // Not with the disk spool, whose commit and read sides are not meant to run at once.
    const size_t ahead = queue ? sink->batches_ahead(b.max_records) : 0;
    if (ahead == 0) {
      while (co_await take_batch(limits, false)) co_await commit_oldest();
    } else {
      // The taking runs beside the commits as a task of its own, not under awaitable &&, so that the first
      // real failure is the one reported (&& reports its first operand's, which may be the other side's
      // cancellation).
      Task taker;
      taker.start(p.env_.executor, take_batches(limits, 1 + ahead), changed);
      std::exception_ptr failure;
      try {
        co_await commit_batches(taker);
      } catch (...) {
        failure = std::current_exception();
      }
      // The taking holds references into this run (a batch being filled or sent): it ends before they go,
      // also when the worker is being cancelled.
      co_await asio::this_coro::throw_if_cancelled(false);
      co_await taker.stop_and_join();
      co_await asio::this_coro::throw_if_cancelled(true);
      if (failure) std::rethrow_exception(failure);
      if (taker.error) std::rethrow_exception(taker.error);
    }
    // Closed and drained: a clean stop publishes the open parts.
    state::WriteBatch txn;
    co_await sink->close(txn);
    co_await dead_letter->close(txn);
    co_await run_blocking(p.env_.blocking, [&] {
      p.env_.store->write(txn, true);
      return 0;
    });
  }

  awaitable<void> read() {
    co_await source->run(*this);
    source_finished = true;
  }

  awaitable<void> refresh_gauges() {
    asio::steady_timer t(p.env_.executor);
    for (;;) {
      if (queue) queue->update_gauges();
      if (spool) spool->update_gauges();
      t.expires_after(std::chrono::seconds(1));
      co_await t.async_wait(asio::use_awaitable);
    }
  }
};

Pipeline::Pipeline(PipelineConfig config, PipelineEnv env, std::shared_ptr<PipelineStats> stats, std::shared_ptr<Tap> tap)
    : config_(std::move(config)),
      env_(std::move(env)),
      log_(make_logger(config_.name)),
      stats_(std::move(stats)),
      tap_(std::move(tap)),
      wakeup_(std::make_unique<Wakeup>(env_.executor)) {}

Pipeline::~Pipeline() = default;

void Pipeline::stop() {
  if (stop_requested_) return;
  stop_requested_ = true;
  wakeup_->notifier.notify_all();
  if (current_) {
    current_->source_task.stop();
    current_->changed.notify_all();
  }
}

void Pipeline::abort() {
  abort_requested_ = true;
  stop();
  if (current_) {
    current_->worker_task.stop();
    current_->changed.notify_all();
  }
}

awaitable<void> Pipeline::run_attempt() {
  Run run(*this);
  current_ = &run;
  struct Clear {
    Pipeline* p;
    ~Clear() { p->current_ = nullptr; }
  } clear{this};
  state_ = PipelineState::starting;
  run.set_degraded("");  // whatever degraded the last run is the new run's to find again
  co_await run.open();
  if (!run.checkpoint_.empty()) log_->info("resuming from {} committed position(s)", run.checkpoint_.size());
  state_ = PipelineState::running;
  auto ex = env_.executor;
  run.worker_task.start(ex, run.work(), run.changed);
  run.gauges_task.start(ex, run.refresh_gauges(), run.changed);
  if (!stop_requested_) run.source_task.start(ex, run.read(), run.changed);
  else run.source_task.done = true;

  bool closed = false;
  std::exception_ptr failure;
  for (;;) {
    if (run.source_task.done && !closed) {
      if (run.source_task.error && !is_cancellation(run.source_task.error)) {
        failure = run.source_task.error;
        break;
      }
      // Exhausted or stopped: let the worker commit what is queued, then finish.
      state_ = run.source_finished ? PipelineState::running : PipelineState::draining;
      run.channel->close();
      closed = true;
    }
    if (run.worker_task.done) {
      if (run.worker_task.error) failure = run.worker_task.error;
      break;
    }
    if (stop_requested_) run.source_task.stop();
    co_await run.changed.wait();
  }
  run.source_task.stop();
  run.worker_task.stop();
  run.gauges_task.stop();
  // Tasks hold references into `run`: wait until every one has ended before it goes away.
  while (!(run.source_task.done && run.worker_task.done && run.gauges_task.done)) co_await run.changed.wait();
  if (failure) {
    if (run.sink) run.sink->abort();
    if (abort_requested_ && is_cancellation(failure)) co_return;
    std::rethrow_exception(failure);
  }
  if (run.source_finished) log_->info("source exhausted; everything committed");
}

awaitable<void> Pipeline::run() {
  int consecutive_failures = 0;
  for (;;) {
    auto started = std::chrono::steady_clock::now();
    try {
      co_await run_attempt();
      state_ = stop_requested_ ? PipelineState::stopped : PipelineState::finished;
      const auto& st = *stats_;
      log_event(*log_, LogLevelOf::info,
                fmt::format("{}: {} records in, {} committed in {} commits (p50 {:.2f} ms, p99 {:.2f} ms), {} dead-lettered, {} dropped",
                            state_name(state_), st.records_in, st.records_out, st.commits, st.commit_latency.quantile(0.5) * 1e3,
                            st.commit_latency.quantile(0.99) * 1e3, st.rejected, st.dropped_total()),
                {{"event", "pipeline_ended"},
                 {"state", state_name(state_)},
                 {"records_in", st.records_in},
                 {"records_out", st.records_out},
                 {"commits", st.commits},
                 {"commit_p50_ms", st.commit_latency.quantile(0.5) * 1e3},
                 {"commit_p99_ms", st.commit_latency.quantile(0.99) * 1e3},
                 {"rejected", st.rejected},
                 {"dropped", st.dropped_total()}});
      co_return;
    } catch (const std::exception& e) {
      stats_->last_error = e.what();
      stats_->last_error_unix_ms = formats::unix_ms_now();
      log_event(*log_, LogLevelOf::error, fmt::format("pipeline failed: {}", e.what()),
                {{"event", "pipeline_failed"}, {"error", e.what()}, {"restarts", stats_->restarts}});
    }
    if (env_.once || stop_requested_) {
      state_ = stop_requested_ && !env_.once ? PipelineState::stopped : PipelineState::failed;
      co_return;
    }
    // A run that stayed up for a minute was healthy: start the backoff over.
    if (std::chrono::steady_clock::now() - started > std::chrono::seconds(60)) consecutive_failures = 0;
    auto delay = std::chrono::seconds(std::min<int64_t>(60, int64_t(1) << std::min(consecutive_failures, 6)));
    ++consecutive_failures;
    state_ = PipelineState::backoff;
    log_->warn("restarting in {}s (attempt {})", delay.count(), consecutive_failures + 1);
    auto deadline = std::chrono::steady_clock::now() + delay;
    while (!stop_requested_ && std::chrono::steady_clock::now() < deadline) co_await wakeup_->notifier.wait_until(deadline);
    if (stop_requested_) {
      state_ = PipelineState::stopped;
      co_return;
    }
    stats_->restarts++;
  }
}

}  // namespace sluice::core

#include "sources/kafka/kafka_source.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <deque>
#include <set>

#include "core/async.hpp"
#include "core/task.hpp"
#include "formats/json_check.hpp"
#include "kafka/client.hpp"
#include "kafka/statistics.hpp"
#include "metrics/owned_series.hpp"
#include "sources/kafka/positions_log.hpp"

namespace sluice::sources::kafka {
namespace asio = boost::asio;
using config::opt;
using core::awaitable;
using sluice::kafka::KafkaError;

namespace {

// Settings the guarantees rest on: offsets are ours to commit, after the data is durable.
const std::vector<sluice::kafka::ReservedKey>& reserved_keys() {
  static const std::vector<sluice::kafka::ReservedKey> keys = {
      {"enable.auto.commit", "offsets are committed by the source after each durable commit, never on a timer"},
      {"enable.auto.offset.store", "the source stores offsets itself, only for data that is committed"},
      {"bootstrap.servers", "use the source's brokers key"},
      {"metadata.broker.list", "use the source's brokers key"},
      {"group.id", "use the source's group_id key"},
      {"auto.offset.reset", "use the source's start key"},
      {"enable.partition.eof", "the source reads a never-ending stream"},
  };
  return keys;
}

}  // namespace

const config::Schema<KafkaSourceOptions>& KafkaSourceOptions::schema() {
  static const config::Schema<KafkaSourceOptions> s{
      "source (kafka)",
      {opt(&KafkaSourceOptions::brokers, "brokers", "bootstrap brokers, host:port[,host:port...]").required(),
       opt(&KafkaSourceOptions::topics, "topics", "topics to consume: names, or patterns starting with ^ (a regular expression)")
           .required(),
       opt(&KafkaSourceOptions::group_id, "group_id", "consumer group; instances with the same group_id share the partitions")
           .required(),
       opt(&KafkaSourceOptions::start, "start", "where a partition with no committed position starts"),
       opt(&KafkaSourceOptions::format, "format",
           "raw: the message value passes through untouched; json: each value must be one JSON object, others go to the dead-letter "
           "file with topic, partition, offset and reason"),
       opt(&KafkaSourceOptions::metadata, "metadata",
           "wrap each record as {topic, partition, offset, key, headers, timestamp, value} (value embedded as JSON with format json, as "
           "a string with raw)"),
       opt(&KafkaSourceOptions::max_poll_records, "max_poll_records", "messages taken from the client per wake-up before they are pushed")
           .min(1),
       opt(&KafkaSourceOptions::pause_after, "pause_after",
           "how long a push may wait for room in the queue before the source pauses its partitions (it keeps polling, so the "
           "group never sees it as stuck)"),
       opt(&KafkaSourceOptions::positions_topic, "positions_topic",
           "topic where the instances of the group publish the positions of their commits, so that a partition moving to another "
           "instance resumes exactly where the committed data ends (created compacted if missing); empty: positions stay local, "
           "for a group of one instance"),
       opt(&KafkaSourceOptions::librdkafka, "librdkafka",
           "extra librdkafka settings (see librdkafka's CONFIGURATION.md), such as session.timeout.ms or "
           "partition.assignment.strategy; auto commit, offset store, bootstrap.servers, group.id and auto.offset.reset are refused")},
      [](const KafkaSourceOptions& o, const config::Value& node, config::Context& ctx) {
        auto mark_of = [&](const char* key) {
          const config::Value* v = node.find(key);
          return v ? v->mark : node.mark;
        };
        if (o.topics.empty()) ctx.error(mark_of("topics"), "topics must name at least one topic or ^pattern");
        sluice::kafka::refuse_reserved(o.librdkafka, reserved_keys(), node, ctx);
      }};
  return s;
}

namespace {

struct PartitionState {
  std::string topic;
  int32_t partition = 0;
  std::string name;
  uint32_t id = 0;
  prometheus::Gauge* lag = nullptr;
};

struct Rebalance {
  rd_kafka_resp_err_t kind;
  sluice::kafka::PartitionList partitions;
  bool lost = false;
  bool cooperative = false;
};

// librdkafka answers NULL once the consumer is no longer a member of a group, as in the last rebalance of a close
// that races a group change: no protocol, and assignments are then the eager kind.
bool cooperative_protocol(rd_kafka_t* rk) {
  const char* protocol = rd_kafka_rebalance_protocol(rk);
  return protocol && std::string_view(protocol) == "COOPERATIVE";
}

int64_t parse_offset(const std::string& text) {
  int64_t v = -1;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < 0) return -1;
  return v;
}

}  // namespace

struct Consumer {
  const KafkaSourceOptions& options;
  core::SourceContext& ctx;
  PositionsLog* positions;  // null when positions stay local
  // Kept apart from the context: the consumer outlives the source's run (it leaves the group when the source goes).
  spdlog::logger* logger;
  sluice::kafka::Handle rk;
  sluice::kafka::Queue queue;
  core::Notifier wake;
  std::unique_ptr<sluice::kafka::QueueWaker> waker;
  bool cooperative = false;
  bool closing = false;
  std::deque<Rebalance> rebalances;
  std::map<std::string, PartitionState> assigned;  // by partition name
  std::map<std::string, int64_t> committed;        // partition name → next offset, durable
  core::Records pending;  // taken from the client, not pushed yet
  formats::JsonChecker json;
  std::vector<rd_kafka_message_t*> batch;

  prometheus::Family<prometheus::Gauge>* lag_family = nullptr;
  prometheus::Counter* fetched = nullptr;
  prometheus::Counter* fetched_bytes = nullptr;
  prometheus::Counter* rejected_messages = nullptr;
  prometheus::Counter* assigns = nullptr;
  prometheus::Counter* revokes = nullptr;
  prometheus::Counter* group_commit_errors = nullptr;
  prometheus::Gauge* paused_gauge = nullptr;
  prometheus::Counter* pauses = nullptr;
  prometheus::Gauge* assigned_gauge = nullptr;
  metrics::OwnedSeries series;
  std::unique_ptr<sluice::kafka::ClientStatistics> statistics;

  Consumer(const KafkaSourceOptions& o, core::SourceContext& c, PositionsLog* p)
      : options(o), ctx(c), positions(p), logger(&c.log()), wake(c.executor()), series(c.metrics(), {{"pipeline", c.pipeline()}}) {
    for (const auto& [name, position] : ctx.checkpoint())
      if (int64_t off = parse_offset(position); off >= 0) committed[name] = off;
    register_series();
  }
  ~Consumer() {
    close();
    for (auto& [name, p] : assigned) lag_family->Remove(p.lag);
  }

  spdlog::logger& log() { return *logger; }

  void register_series() {
    auto& m = series;
    fetched = &m.counter("sluice_kafka_consumer_messages_total", "messages taken from Kafka");
    fetched_bytes = &m.counter("sluice_kafka_consumer_bytes_total", "bytes of message values and keys taken from Kafka");
    rejected_messages = &m.counter("sluice_kafka_consumer_rejected_total", "messages sent to the dead-letter file (format json, not a JSON object)");
    assigns = &m.counter("sluice_kafka_rebalances_total", "rebalance events handled, by kind", {{"kind", "assign"}});
    revokes = &m.counter("sluice_kafka_rebalances_total", "rebalance events handled, by kind", {{"kind", "revoke"}});
    group_commit_errors = &m.counter("sluice_kafka_group_commit_errors_total",
                                     "failed asynchronous offset commits to the group (informational: positions live with the data)");
    paused_gauge = &m.gauge("sluice_kafka_paused_partitions", "partitions paused because the pipeline's queue is full");
    pauses = &m.counter("sluice_kafka_pauses_total", "times the source paused its partitions because the pipeline's queue stayed full");
    assigned_gauge = &m.gauge("sluice_kafka_assigned_partitions", "partitions assigned to this instance");
    lag_family = &prometheus::BuildGauge()
                      .Name("sluice_kafka_consumer_lag_messages")
                      .Help("per partition: the high watermark minus the committed position")
                      .Register(ctx.metrics());
  }

  // ---- librdkafka callbacks (run inside our own poll calls, on the loop thread) -----------------------------

  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* self = static_cast<Consumer*>(opaque);
    if (self->closing) {
      // Leaving: what was pushed is the pipeline's to commit or lose; another instance resumes from the durable
      // positions either way.
      if (cooperative_protocol(rk)) {
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) sluice::kafka::take_error(rd_kafka_incremental_assign(rk, parts));
        else sluice::kafka::take_error(rd_kafka_incremental_unassign(rk, parts));
      } else {
        rd_kafka_assign(rk, err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? parts : nullptr);
      }
      return;
    }
    // The protocol is read here, in the callback, where it is that of this rebalance.
    Rebalance r{err, sluice::kafka::PartitionList(rd_kafka_topic_partition_list_copy(parts)), rd_kafka_assignment_lost(rk) != 0,
                cooperative_protocol(rk)};
    self->rebalances.push_back(std::move(r));
  }
  static void on_offset_commit(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t*, void* opaque) {
    auto* self = static_cast<Consumer*>(opaque);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
      self->group_commit_errors->Increment();
      self->log().debug("group offset commit failed: {}", rd_kafka_err2str(err));
    }
  }
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Consumer*>(opaque);
    if (auto why = sluice::kafka::fatal_error(rk, err)) {
      self->fatal = "fatal Kafka consumer error: " + *why;
      return;
    }
    // Transport errors and brokers going down are retried by librdkafka itself.
    self->log().warn("kafka: {}: {}", rd_kafka_err2name(rd_kafka_resp_err_t(err)), reason);
  }
  static void on_log(const rd_kafka_t* rk, int level, const char* facility, const char* line) {
    sluice::kafka::log_line(static_cast<Consumer*>(rd_kafka_opaque(rk))->log(), level, facility, line);
  }
  std::string fatal;

  void start() {
    sluice::kafka::Settings ours{{"bootstrap.servers", options.brokers},
                                 {"group.id", options.group_id},
                                 {"enable.auto.commit", "false"},
                                 {"enable.auto.offset.store", "false"},
                                 {"auto.offset.reset", options.start == StartAt::earliest ? "earliest" : "latest"},
                                 {"client.id", "sluice-" + ctx.pipeline()},
                                 {"statistics.interval.ms", "5000"},
                                 // With every partition forwarded to one consumer queue, librdkafka 2.0.2 compares
                                 // that whole queue's length with this per-partition threshold and stops fetching
                                 // for a second when it is passed: at its default (100000) a catch-up read ran in
                                 // one-second bursts at half kcat's rate. The byte cap (queued.max.messages.kbytes,
                                 // 64 MiB) stays the bound on prefetched memory.
                                 {"queued.min.messages", "1000000"},
                                 {"log.queue", "false"}};
    auto conf = sluice::kafka::make_conf(ours, options.librdkafka);
    rd_kafka_conf_set_opaque(conf.get(), this);
    statistics = std::make_unique<sluice::kafka::ClientStatistics>(ctx.metrics(), ctx.pipeline(), "consumer");
    rd_kafka_conf_set_stats_cb(conf.get(), [](rd_kafka_t*, char* json, size_t len, void* opaque) {
      static_cast<Consumer*>(opaque)->statistics->update(std::string_view(json, len));
      return 0;  // librdkafka frees the document
    });
    rd_kafka_conf_set_rebalance_cb(conf.get(), &Consumer::on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf.get(), &Consumer::on_offset_commit);
    rd_kafka_conf_set_error_cb(conf.get(), &Consumer::on_error);
    rd_kafka_conf_set_log_cb(conf.get(), &Consumer::on_log);
    rk = sluice::kafka::make_client(RD_KAFKA_CONSUMER, std::move(conf));
    cooperative = false;
    rd_kafka_poll_set_consumer(rk.get());
    queue.reset(rd_kafka_queue_get_consumer(rk.get()));
    waker = std::make_unique<sluice::kafka::QueueWaker>(ctx.executor(), queue.get(), wake);

    sluice::kafka::PartitionList topics(rd_kafka_topic_partition_list_new(int(options.topics.size())));
    for (const auto& t : options.topics) rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    if (auto err = rd_kafka_subscribe(rk.get(), topics.get())) throw KafkaError("cannot subscribe to the topics", err);
    log().info("kafka: joining group '{}' for {} topic(s) at {}", options.group_id, options.topics.size(), options.brokers);
  }

  void close() {
    if (!rk) return;
    closing = true;
    commit_to_group(false);
    // Blocks the loop briefly (LeaveGroup): the pipeline is stopping, and leaving promptly spares the group a
    // session timeout before the partitions move.
    rd_kafka_consumer_close(rk.get());
    waker.reset();
    queue.reset();
    rk.reset();
  }

  void commit_to_group(bool async) {
    if (!rk || assigned.empty()) return;
    sluice::kafka::PartitionList list(rd_kafka_topic_partition_list_new(int(assigned.size())));
    for (const auto& [name, p] : assigned)
      if (auto it = committed.find(name); it != committed.end())
        rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset = it->second;
    if (list->cnt == 0) return;
    if (auto err = rd_kafka_commit(rk.get(), list.get(), async ? 1 : 0); err && !async)
      log().debug("final group offset commit failed: {}", rd_kafka_err2str(err));
  }

  // ---- taking messages -----------------------------------------------------------------------------------

  void append_record(const rd_kafka_message_t* m) {
    auto it = assigned_by_ptr(m);
    if (!it) return;  // a partition revoked since the fetch: its new owner reads it
    PartitionState& p = *it;
    std::string_view value(static_cast<const char*>(m->payload), m->payload ? m->len : 0);
    std::string_view key(static_cast<const char*>(m->key), m->key ? m->key_len : 0);
    ++fetched_count_;
    fetched_bytes_count_ += value.size() + key.size();
    core::Record& r = pending.emplace_back();
    r.partition = p.id;
    r.position = std::to_string(m->offset + 1);
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);
    r.event_time_ms = ts >= 0 ? ts : 0;
    if (options.format == MessageFormat::json) {
      if (auto reason = json.check_object(value)) {
        rejected_messages->Increment();
        r.rejected = true;
        r.value = "{\"topic\":";
        formats::append_json_string(r.value, p.topic);
        r.value += ",\"partition\":" + std::to_string(p.partition) + ",\"offset\":" + std::to_string(m->offset) + ",\"reason\":";
        formats::append_json_string(r.value, *reason);
        r.value += ",\"original\":";
        formats::append_json_string(r.value, value.substr(0, 4096));
        r.value += "}";
        return;
      }
    }
    if (m->key) r.key.assign(key);
    if (!options.metadata) {
      r.value.assign(value);
      return;
    }
    std::string& out = r.value;
    out.reserve(value.size() + 128);
    out = "{\"topic\":";
    formats::append_json_string(out, p.topic);
    out += ",\"partition\":" + std::to_string(p.partition) + ",\"offset\":" + std::to_string(m->offset) + ",\"key\":";
    if (m->key) formats::append_json_string(out, key);
    else out += "null";
    out += ",\"headers\":{";
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name;
      const void* hv;
      size_t hlen;
      for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &hv, &hlen) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
        if (i) out += ',';
        formats::append_json_string(out, name);
        out += ':';
        if (hv) formats::append_json_string(out, std::string_view(static_cast<const char*>(hv), hlen));
        else out += "null";
      }
    }
    out += "},\"timestamp\":" + (ts >= 0 ? std::to_string(ts) : std::string("null")) + ",\"value\":";
    if (!m->payload) out += "null";
    else if (options.format == MessageFormat::json) out.append(value);
    else formats::append_json_string(out, value);
    out += "}";
  }

  PartitionState* assigned_by_ptr(const rd_kafka_message_t* m) {
    // Most messages come in runs from one partition: remember the last lookup.
    const char* topic = rd_kafka_topic_name(m->rkt);
    if (last_ && last_->partition == m->partition && last_->topic == topic) return last_;
    auto it = assigned.find(sluice::kafka::partition_name(topic, m->partition));
    last_ = it == assigned.end() ? nullptr : &it->second;
    return last_;
  }
  PartitionState* last_ = nullptr;

  // Takes what the client has (messages, and callbacks that queue rebalances) without blocking.
  void serve() {
    if (!fatal.empty()) throw KafkaError(fatal);
    batch.resize(options.max_poll_records);
    size_t taken = 0;
    while (taken < options.max_poll_records && rebalances.empty()) {
      ssize_t n = rd_kafka_consume_batch_queue(queue.get(), 0, batch.data(), batch.size() - taken);
      if (n <= 0) break;
      for (ssize_t i = 0; i < n; ++i) {
        sluice::kafka::Message m(batch[size_t(i)]);
        if (m->err) {
          if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
          log().warn("kafka: {} [{}] at offset {}: {}", m->rkt ? rd_kafka_topic_name(m->rkt) : "-", m->partition, m->offset,
                         rd_kafka_message_errstr(m.get()));
          continue;
        }
        append_record(m.get());
      }
      taken += size_t(n);
    }
    // The queue's io event fires only when it turns non-empty: what is left behind must be taken without one.
    backlog_ = taken >= options.max_poll_records;
    fetched->Increment(double(fetched_count_));
    fetched_bytes->Increment(double(fetched_bytes_count_));
    fetched_count_ = fetched_bytes_count_ = 0;
    if (!fatal.empty()) throw KafkaError(fatal);
  }
  bool backlog_ = false;
  uint64_t fetched_count_ = 0, fetched_bytes_count_ = 0;  // counted per message, published per serve()

  // ---- pushing with the protocol kept alive ---------------------------------------------------------------

  // Hands `pending` to the pipeline while the protocol goes on: a full queue pauses the partitions (and polling
  // goes on, so the group never sees us stuck), and a rebalance interrupts the push, so that it is answered
  // within moments even when the sink is slow. Interrupted, what the pipeline did not take goes back to the
  // front of `pending`.
  awaitable<void> push_pending() {
    core::Records pushing = std::move(pending);
    pending.clear();
    core::Task task;
    task.start(ctx.executor(), ctx.push(pushing), wake);
    auto started = std::chrono::steady_clock::now();
    std::exception_ptr failure;
    try {
      while (!task.done && rebalances.empty()) {
        co_await wake.wait_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
        if (task.done) break;
        if (!paused_all_ && std::chrono::steady_clock::now() - started >= options.pause_after.value) pause_all();
        // Polling while paused is what keeps the group from declaring us stuck (max.poll.interval.ms).
        if (waker->take() || paused_all_) serve();
        refresh_lag();
      }
    } catch (...) {
      failure = std::current_exception();
    }
    bool interrupted = !task.done;
    // The push holds `pushing` and `wake`: it must end before they go, also when we are being stopped.
    co_await asio::this_coro::throw_if_cancelled(false);
    co_await task.stop_and_join();
    co_await asio::this_coro::throw_if_cancelled(true);
    if (failure) std::rethrow_exception(failure);
    if (interrupted) pending.insert(pending.begin(), std::make_move_iterator(pushing.begin()), std::make_move_iterator(pushing.end()));
    else if (task.error) std::rethrow_exception(task.error);
    if (paused_all_) resume_all();
  }
  bool paused_all_ = false;

  sluice::kafka::PartitionList assigned_list() const {
    sluice::kafka::PartitionList list(rd_kafka_topic_partition_list_new(int(assigned.size())));
    for (const auto& [name, p] : assigned) rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition);
    return list;
  }
  void pause_all() {
    auto list = assigned_list();
    rd_kafka_pause_partitions(rk.get(), list.get());
    paused_all_ = true;
    pauses->Increment();
    paused_gauge->Set(double(list->cnt));
    log().debug("kafka: queue full; paused {} partition(s)", list->cnt);
  }
  void resume_all() {
    auto list = assigned_list();
    rd_kafka_resume_partitions(rk.get(), list.get());
    paused_all_ = false;
    paused_gauge->Set(0);
  }

  // ---- rebalances -----------------------------------------------------------------------------------------

  awaitable<void> handle(Rebalance r) {
    cooperative = r.cooperative;
    if (r.kind == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) co_await assign(*r.partitions);
    else co_await revoke(*r.partitions, r.lost);
  }

  awaitable<void> assign(rd_kafka_topic_partition_list_t& parts) {
    assigns->Increment();
    // Where committed data ends: the positions every instance published with its commits, this instance's own
    // checkpoint, and the group's offsets (committed after durable commits, for lag tools, and the only shared
    // record when positions stay local). Each is a position some commit reached, so the highest is where the
    // last owner's committed data ends.
    if (positions) co_await positions->catch_up();
    sluice::kafka::PartitionList query(rd_kafka_topic_partition_list_copy(&parts));
    rd_kafka_t* client = rk.get();
    auto err = co_await core::run_blocking(ctx.blocking_executor(), [client, list = query.get()] {
      return rd_kafka_committed(client, list, 15000);
    });
    if (err) log().warn("kafka: cannot read the group's committed offsets ({}); using this instance's own", rd_kafka_err2str(err));
    std::string summary;
    for (int i = 0; i < parts.cnt; ++i) {
      auto& tp = parts.elems[i];
      std::string name = sluice::kafka::partition_name(tp.topic, tp.partition);
      int64_t start = -1;
      if (auto it = committed.find(name); it != committed.end()) start = it->second;
      if (!err && query->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR && query->elems[i].offset >= 0)
        start = std::max(start, query->elems[i].offset);
      if (positions) start = std::max(start, positions->resume_offset(name));
      tp.offset = start >= 0 ? start : RD_KAFKA_OFFSET_INVALID;  // invalid: auto.offset.reset (start)
      if (start >= 0) committed[name] = start;
      PartitionState& p = assigned[name];
      p.topic = tp.topic;
      p.partition = tp.partition;
      p.name = name;
      p.id = ctx.partition(name);
      p.lag = &lag_family->Add({{"pipeline", ctx.pipeline()}, {"topic", p.topic}, {"partition", std::to_string(p.partition)}});
      if (summary.size() < 400) summary += (summary.empty() ? "" : ", ") + name + "@" + (start >= 0 ? std::to_string(start) : "start");
    }
    last_ = nullptr;
    if (cooperative) {
      if (std::string what = sluice::kafka::take_error(rd_kafka_incremental_assign(rk.get(), &parts)); !what.empty())
        throw KafkaError("incremental assign failed: " + what);
    } else if (auto e = rd_kafka_assign(rk.get(), &parts)) {
      throw KafkaError("assign failed", e);
    }
    assigned_gauge->Set(double(assigned.size()));
    log().info("kafka: assigned {} partition(s): {}", parts.cnt, summary);
  }

  awaitable<void> revoke(rd_kafka_topic_partition_list_t& parts, bool lost) {
    revokes->Increment();
    std::set<uint32_t> ids;
    std::vector<std::string> names;
    for (int i = 0; i < parts.cnt; ++i) {
      std::string name = sluice::kafka::partition_name(parts.elems[i].topic, parts.elems[i].partition);
      if (auto it = assigned.find(name); it != assigned.end()) {
        ids.insert(it->second.id);
        names.push_back(name);
      }
    }
    if (lost)
      log().warn("kafka: {} partition(s) lost (the group moved on without us); data already queued for them may be written again by "
                 "their new owner",
                 names.size());
    // Not committed yet: dropped unacknowledged, the next owner reads them again from the committed position.
    // A commit already under way with some of them finishes first, so the next owner starts where our
    // committed data ends, and nothing of theirs is written after we let them go.
    std::erase_if(pending, [&](const core::Record& r) { return ids.count(r.partition) != 0; });
    auto started = std::chrono::steady_clock::now();
    co_await ctx.withdraw(std::vector<uint32_t>(ids.begin(), ids.end()));
    double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    commit_to_group(false);
    for (const auto& name : names) {
      auto it = assigned.find(name);
      lag_family->Remove(it->second.lag);
      assigned.erase(it);
    }
    last_ = nullptr;
    if (cooperative) {
      if (std::string what = sluice::kafka::take_error(rd_kafka_incremental_unassign(rk.get(), &parts)); !what.empty())
        throw KafkaError("incremental unassign failed: " + what);
    } else {
      rd_kafka_assign(rk.get(), nullptr);
    }
    assigned_gauge->Set(double(assigned.size()));
    log().info("kafka: revoked {} partition(s) after {:.3f} s finishing the commit under way", names.size(), waited);
  }

  // At most once a second, also while a push waits: the lag matters most when the pipeline is behind.
  void refresh_lag() {
    auto now = std::chrono::steady_clock::now();
    if (now < next_lag_) return;
    next_lag_ = now + std::chrono::seconds(1);
    update_lag();
  }
  std::chrono::steady_clock::time_point next_lag_{};

  void update_lag() {
    for (auto& [name, p] : assigned) {
      int64_t low = 0, high = 0;
      if (rd_kafka_get_watermark_offsets(rk.get(), p.topic.c_str(), p.partition, &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR || high < 0)
        continue;
      auto it = committed.find(name);
      int64_t at = it == committed.end() ? low : it->second;
      p.lag->Set(double(std::max<int64_t>(0, high - at)));
    }
  }

  awaitable<void> run() {
    start();
    for (;;) {
      if (waker->take() || backlog_) serve();
      if (!rebalances.empty()) {
        Rebalance r = std::move(rebalances.front());
        rebalances.pop_front();
        co_await handle(std::move(r));
        continue;
      }
      if (!pending.empty()) {
        co_await push_pending();
        continue;
      }
      refresh_lag();
      // The timeout keeps serving callbacks (stats, errors) and the lag gauges when nothing arrives.
      if (!co_await wake.wait_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(500))) serve();
    }
  }

  void committed_positions(const core::Checkpoint& checkpoint) {
    bool any = false;
    for (const auto& [name, position] : checkpoint) {
      int64_t off = parse_offset(position);
      if (off < 0) continue;
      auto& c = committed[name];
      if (off > c) {
        c = off;
        any = true;
      }
    }
    if (!any) return;
    // For lag tools; losing one of these costs nothing, the positions live with the data.
    commit_to_group(true);
    wake.notify_all();
  }
};

KafkaSource::KafkaSource(const KafkaSourceOptions& options) : options_(options) {}
KafkaSource::~KafkaSource() = default;

PositionsLog& KafkaSource::positions(core::SourceContext& ctx) {
  if (!positions_) {
    // Two pipelines of one daemon may read in the same group: each publishes as its own member.
    PositionsLogSettings s{options_.brokers, options_.positions_topic, options_.group_id, ctx.instance() + "/" + ctx.pipeline(),
                           ctx.pipeline(), sluice::kafka::connection_settings(options_.librdkafka)};
    positions_ = std::make_unique<PositionsLog>(std::move(s), ctx.executor(), ctx.blocking_executor(), ctx.log());
  }
  return *positions_;
}

awaitable<void> KafkaSource::run(core::SourceContext& ctx) {
  consumer_.reset();
  consumer_ = std::make_unique<Consumer>(options_, ctx, shares_positions() ? &positions(ctx) : nullptr);
  co_await consumer_->run();
}

awaitable<void> KafkaSource::publish_positions(core::SourceContext& ctx, const core::Checkpoint& checkpoint, const std::string& commit_id) {
  co_await positions(ctx).publish(checkpoint, commit_id);
}

awaitable<bool> KafkaSource::positions_published(core::SourceContext& ctx, const core::Checkpoint&, const std::string& commit_id) {
  auto& log = positions(ctx);
  co_await log.catch_up();
  co_return log.published(commit_id);
}

void KafkaSource::on_committed(const core::Checkpoint& checkpoint) {
  if (consumer_) consumer_->committed_positions(checkpoint);
}

core::SourceFactory factory() {
  return core::make_source_factory<KafkaSourceOptions, KafkaSource>(
      "kafka", "Kafka consumer group member; offsets committed with the data, partitions sought to them on assignment");
}

}  // namespace sluice::sources::kafka

#include "sinks/kafka/kafka_sink.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <deque>
#include <set>

#include "core/async.hpp"
#include "core/task.hpp"
#include "kafka/client.hpp"
#include "kafka/statistics.hpp"
#include "metrics/owned_series.hpp"
#include "sinks/kafka/origin_header.hpp"
#include "sinks/kafka/placement.hpp"
#include "sinks/kafka/replay_guard.hpp"
#include "state/state_store.hpp"

namespace sluice::sinks::kafka {
namespace asio = boost::asio;
namespace json = boost::json;
using config::opt;
using core::awaitable;
using sluice::kafka::KafkaError;

namespace {

const std::vector<sluice::kafka::ReservedKey>& reserved_keys() {
  static const std::vector<sluice::kafka::ReservedKey> keys = {
      {"enable.idempotence", "the sink's guarantee rests on the idempotent producer (no duplicates or reordering on retries)"},
      {"acks", "a batch counts as written only once every replica has it (acks=all)"},
      {"bootstrap.servers", "use the sink's brokers key"},
      {"metadata.broker.list", "use the sink's brokers key"},
      {"transactional.id", "use the sink's transactional_id key"},
      {"partitioner", "the sink chooses each message's partition itself, as a pure function of its key"},
  };
  return keys;
}

std::string offset_key(const std::string& topic, int32_t partition) { return "out/" + topic + "/" + std::to_string(partition); }

std::optional<std::string> field_text(const json::value& doc, const std::string& field) {
  const auto* obj = doc.if_object();
  if (!obj) return std::nullopt;
  auto it = obj->find(field);
  if (it == obj->end() || it->value().is_null()) return std::nullopt;
  if (const auto* s = it->value().if_string()) return std::string(*s);
  return json::serialize(it->value());
}

struct OutPartition {
  std::string topic;
  int32_t partition;
  auto operator<=>(const OutPartition&) const = default;
};

// Reads every output partition from `starts` to its end and hands the guard the sequence numbers of this
// pipeline's messages: what landed after the last commit. Blocking; runs on the blocking pool with its own client.
void read_landed(const std::string& brokers, const sluice::kafka::Settings& user, bool read_committed, const std::string& pipeline,
                 const std::string& instance,
                 const std::map<OutPartition, int64_t>& starts, ReplayGuard& guard, spdlog::logger& log) {
  if (starts.empty()) return;
  sluice::kafka::Settings settings{{"bootstrap.servers", brokers},
                                   {"group.id", "sluice-readback-" + pipeline},
                               {"enable.auto.commit", "false"},
                               {"enable.partition.eof", "true"},
                               {"isolation.level", read_committed ? "read_committed" : "read_uncommitted"}};
  auto conf = sluice::kafka::make_conf(settings, sluice::kafka::connection_settings(user));
  rd_kafka_conf_set_opaque(conf.get(), &log);
  rd_kafka_conf_set_log_cb(conf.get(), [](const rd_kafka_t* rk, int level, const char* facility, const char* line) {
    sluice::kafka::log_line(*static_cast<spdlog::logger*>(rd_kafka_opaque(rk)), level, facility, line);
  });
  auto rk = sluice::kafka::make_client(RD_KAFKA_CONSUMER, std::move(conf));
  sluice::kafka::PartitionList list(rd_kafka_topic_partition_list_new(int(starts.size())));
  std::map<OutPartition, int64_t> ends;
  std::vector<std::pair<std::string, int32_t>> partitions;
  for (const auto& [tp, start] : starts) partitions.emplace_back(tp.topic, tp.partition);
  // What landed after the last commit lies between there and each partition's end.
  auto marks = sluice::kafka::watermarks(rk.get(), partitions, 15000, "kafka sink read-back: ");
  size_t i = 0;
  for (const auto& [tp, start] : starts) {
    const auto [low, high] = marks[i++];
    int64_t from = std::max(start, low);
    if (start > 0 && low > start)
      log.warn("kafka sink: {} was truncated past the committed offset {} (low watermark {}): records that landed in between cannot be "
               "recognized",
               sluice::kafka::partition_name(tp.topic, tp.partition), start, low);
    if (from >= high) continue;
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = from;
    ends[tp] = high;
  }
  if (ends.empty()) return;
  if (auto err = rd_kafka_assign(rk.get(), list.get())) throw KafkaError("cannot assign the output partitions for the read-back", err);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  size_t messages = 0, ours = 0;
  while (!ends.empty()) {
    if (std::chrono::steady_clock::now() > deadline)
      throw KafkaError("reading back the output partitions did not finish within 2 minutes");
    sluice::kafka::Message m(rd_kafka_consumer_poll(rk.get(), 500));
    if (!m) continue;
    OutPartition tp{m->rkt ? rd_kafka_topic_name(m->rkt) : "", m->partition};
    auto end = ends.find(tp);
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (end != ends.end()) ends.erase(end);
        continue;
      }
      throw KafkaError("reading back " + sluice::kafka::partition_name(tp.topic, tp.partition) + ": " + rd_kafka_message_errstr(m.get()));
    }
    ++messages;
    rd_kafka_headers_t* headers = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    if (rd_kafka_message_headers(m.get(), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(headers, kOriginHeader, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR && value) {
      auto origin = parse_origin(std::string_view(static_cast<const char*>(value), size));
      if (origin && origin->pipeline == pipeline && origin->instance == instance) {
        guard.landed(origin->partition, origin->sequence);
        ++ours;
      }
    }
    if (end != ends.end() && m->offset + 1 >= end->second) ends.erase(end);
  }
  log.info("kafka sink: read back {} message(s) after the last commit; {} of them this pipeline's, {} still to be replayed", messages, ours,
           guard.landed_count());
}

}  // namespace

const config::Schema<KafkaSinkOptions>& KafkaSinkOptions::schema() {
  static const config::Schema<KafkaSinkOptions> s{
      "sink (kafka)",
      {opt(&KafkaSinkOptions::brokers, "brokers", "bootstrap brokers, host:port[,host:port...]").required(),
       opt(&KafkaSinkOptions::topic, "topic", "topic written to (and the fallback when topic_field is set but missing in a record)")
           .required(),
       opt(&KafkaSinkOptions::topic_field, "topic_field", "take each record's topic from this top-level field of its JSON value"),
       opt(&KafkaSinkOptions::key_field, "key_field",
           "take each message's key from this top-level field (strings as they are, other values as JSON); empty: the record's own key"),
       opt(&KafkaSinkOptions::compression, "compression", "compression.codec: none, gzip, snappy, lz4 or zstd"),
       opt(&KafkaSinkOptions::linger, "linger", "linger.ms: how long the producer waits to fill a batch"),
       opt(&KafkaSinkOptions::sticky_records, "sticky_records",
           "keyless records: how many consecutive records of a source partition go to one output partition before the next (1: each to the "
           "next)")
           .min(1),
       opt(&KafkaSinkOptions::transactional, "transactional",
           "also wrap each batch in a Kafka transaction (fencing of older instances and read_committed visibility on real brokers)"),
       opt(&KafkaSinkOptions::transactional_id, "transactional_id", "transactional.id; default: sluice-<pipeline>")
           .default_text("sluice-<pipeline>"),
       opt(&KafkaSinkOptions::delivery_timeout, "delivery_timeout",
           "how long a message may wait for its acknowledgement before the batch fails (message.timeout.ms)")
           .min(1),
       opt(&KafkaSinkOptions::librdkafka, "librdkafka",
           "extra librdkafka producer settings (batch.size, queue.buffering.max.kbytes, security); idempotence, acks, partitioner and "
           "transactional.id are refused")},
      [](const KafkaSinkOptions& o, const config::Value& node, config::Context& ctx) {
        auto mark_of = [&](const char* key) {
          const config::Value* v = node.find(key);
          return v ? v->mark : node.mark;
        };
        sluice::kafka::refuse_reserved(o.librdkafka, reserved_keys(), node, ctx);
        static const std::set<std::string> codecs{"none", "gzip", "snappy", "lz4", "zstd"};
        if (!codecs.count(o.compression))
          ctx.error(mark_of("compression"), "invalid compression '" + o.compression + "': expected one of none, gzip, snappy, lz4, zstd");
      }};
  return s;
}

struct Producer {
  const KafkaSinkOptions& options;
  core::SinkContext& ctx;
  spdlog::logger& log;
  sluice::kafka::Handle rk;
  sluice::kafka::Queue main_queue;
  core::Notifier wake;
  std::unique_ptr<sluice::kafka::QueueWaker> waker;
  std::map<std::string, rd_kafka_topic_t*> topics;
  std::map<std::string, int32_t> partition_counts;
  std::map<OutPartition, int64_t> next_offsets;  // per output partition: after the last acknowledged message
  std::set<std::string> tracked;                 // topics whose partitions' offsets are in the state store
  std::string current_topic;                     // the last record's topic, tracked, with its handle and partitions
  rd_kafka_topic_t* current_rkt = nullptr;
  int32_t current_count = 0;
  std::vector<const std::string*> group_end;     // per record of the batch being written
  // By source partition id, made at its first record: the first fields of its origin header, and where its
  // keyless records start their rotation over the output partitions.
  struct SourcePartition {
    std::string origin_prefix;
    uint64_t rotation_start = 0;
  };
  std::vector<SourcePartition> source_partitions;
  std::string origin;                            // the header of the message being produced
  ReplayGuard guard;
  // A batch handed to librdkafka and not yet committed; every message carries its batch as its opaque, so that
  // the delivery reports of the batch sent ahead do not count for the one waiting before it. Oldest first; a
  // deque, so that an entry stays where it is while others come and go.
  struct InFlight {
    uint64_t outstanding = 0;
    uint64_t acknowledged = 0, acknowledged_bytes = 0;
    // By topic handle, not name: one delivery report per message, and no string made for each.
    std::map<std::pair<const rd_kafka_topic_t*, int32_t>, int64_t> next_offsets;
    rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
    std::string first_error_text;
  };
  std::deque<InFlight> in_flight;
  uint64_t outstanding = 0;  // messages of every batch in flight

  prometheus::Counter* produced = nullptr;
  prometheus::Counter* produced_bytes = nullptr;
  prometheus::Counter* skipped = nullptr;
  prometheus::Counter* delivery_errors = nullptr;
  prometheus::Gauge* queue_depth = nullptr;
  metrics::OwnedSeries series;
  std::unique_ptr<sluice::kafka::ClientStatistics> statistics;

  Producer(const KafkaSinkOptions& o, core::SinkContext& c)
      : options(o), ctx(c), log(c.log()), wake(c.executor()), series(c.metrics(), {{"pipeline", c.pipeline()}}) {
    produced = &series.counter("sluice_kafka_producer_messages_total", "messages acknowledged by the brokers");
    produced_bytes = &series.counter("sluice_kafka_producer_bytes_total", "bytes of values and keys acknowledged by the brokers");
    skipped = &series.counter("sluice_kafka_producer_skipped_total", "replayed records skipped because they had landed before a crash");
    delivery_errors = &series.counter("sluice_kafka_producer_delivery_errors_total", "messages the producer could not deliver (the batch fails)");
    queue_depth = &series.gauge("sluice_kafka_producer_queue_messages", "messages waiting for acknowledgement");
  }
  ~Producer() {
    waker.reset();
    main_queue.reset();
    for (auto& [name, t] : topics) rd_kafka_topic_destroy(t);
    topics.clear();
    // Whatever is still queued belongs to an uncommitted batch: the next start recognizes what landed.
    if (rk) rd_kafka_purge(rk.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rk.reset();
  }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<Producer*>(opaque);
    auto* batch = static_cast<InFlight*>(m->_private);
    self->outstanding--;
    batch->outstanding--;
    if (m->err) {
      self->delivery_errors->Increment();
      if (!batch->first_error) {
        batch->first_error = m->err;
        batch->first_error_text = rd_kafka_err2str(m->err);
      }
      return;
    }
    ++batch->acknowledged;
    batch->acknowledged_bytes += m->len + m->key_len;
    auto& next = batch->next_offsets[{m->rkt, m->partition}];
    next = std::max(next, m->offset + 1);
  }
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Producer*>(opaque);
    if (auto why = sluice::kafka::fatal_error(rk, err)) {
      self->fatal = "fatal Kafka producer error: " + *why;
      self->wake.notify_all();
      return;
    }
    self->log.warn("kafka sink: {}: {}", rd_kafka_err2name(rd_kafka_resp_err_t(err)), reason);
  }
  std::string fatal;

  std::string transactional_id() const {
    return options.transactional_id.empty() ? "sluice-" + ctx.pipeline() : options.transactional_id;
  }

  awaitable<void> open() {
    sluice::kafka::Settings ours{{"bootstrap.servers", options.brokers},
                                 {"enable.idempotence", "true"},
                                 {"acks", "all"},
                                 {"compression.codec", options.compression},
                                 {"linger.ms", std::to_string(options.linger.as<std::chrono::milliseconds>().count())},
                                 {"message.timeout.ms", std::to_string(options.delivery_timeout.as<std::chrono::milliseconds>().count())},
                                 {"client.id", "sluice-" + ctx.pipeline()},
                                 {"statistics.interval.ms", "5000"},
                                 {"log.queue", "false"}};
    if (options.transactional) {
      ours["transactional.id"] = transactional_id();
      // librdkafka wants every message's timeout inside the transaction's.
      ours["transaction.timeout.ms"] = ours["message.timeout.ms"];
    }
    auto conf = sluice::kafka::make_conf(ours, options.librdkafka);
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &Producer::on_delivery);
    statistics = std::make_unique<sluice::kafka::ClientStatistics>(ctx.metrics(), ctx.pipeline(), "producer");
    rd_kafka_conf_set_stats_cb(conf.get(), [](rd_kafka_t*, char* json, size_t len, void* opaque) {
      static_cast<Producer*>(opaque)->statistics->update(std::string_view(json, len));
      return 0;  // librdkafka frees the document
    });
    rd_kafka_conf_set_error_cb(conf.get(), &Producer::on_error);
    rd_kafka_conf_set_log_cb(conf.get(), [](const rd_kafka_t* rk, int level, const char* facility, const char* line) {
      sluice::kafka::log_line(static_cast<Producer*>(rd_kafka_opaque(rk))->log, level, facility, line);
    });
    rk = sluice::kafka::make_client(RD_KAFKA_PRODUCER, std::move(conf));
    main_queue.reset(rd_kafka_queue_get_main(rk.get()));
    waker = std::make_unique<sluice::kafka::QueueWaker>(ctx.executor(), main_queue.get(), wake);

    rd_kafka_t* client = rk.get();
    if (options.transactional) {
      // Fences any older producer with this transactional.id and aborts its open transaction, before the
      // read-back below looks at what landed.
      std::string err = co_await core::run_blocking(ctx.blocking_executor(), [client] {
        return sluice::kafka::take_error(rd_kafka_init_transactions(client, 60000));
      });
      if (!err.empty()) throw KafkaError("kafka sink: init_transactions failed: " + err);
    }

    // Where the last commit left each output partition, how many records of each source partition it wrote,
    // and which landed numbers still wait for their replay.
    const std::string out_prefix = state::scoped_key(ctx.scope(), "out/");
    const std::string seq_prefix = state::scoped_key(ctx.scope(), "seq/");
    std::map<OutPartition, int64_t> starts;
    std::map<std::string, uint64_t> written;
    std::string pending_landed;
    co_await core::run_blocking(ctx.blocking_executor(), [&] {
      ctx.state().scan(state::Family::sink, out_prefix, [&](std::string_view k, std::string_view v) {
        std::string_view rest = k.substr(out_prefix.size());
        auto slash = rest.rfind('/');
        int32_t part = 0;
        int64_t off = 0;
        std::from_chars(rest.data() + slash + 1, rest.data() + rest.size(), part);
        std::from_chars(v.data(), v.data() + v.size(), off);
        starts[OutPartition{std::string(rest.substr(0, slash)), part}] = off;
        return true;
      });
      ctx.state().scan(state::Family::sink, seq_prefix, [&](std::string_view k, std::string_view v) {
        uint64_t n = 0;
        std::from_chars(v.data(), v.data() + v.size(), n);
        written[std::string(k.substr(seq_prefix.size()))] = n;
        return true;
      });
      pending_landed = ctx.state().get(state::Family::sink, state::scoped_key(ctx.scope(), "landed")).value_or("");
      return 0;
    });
    guard.restore(std::move(written), pending_landed);
    next_offsets = starts;
    for (const auto& [tp, offset] : starts) tracked.insert(tp.topic);
    co_await core::run_blocking(ctx.blocking_executor(), [&] {
      read_landed(options.brokers, options.librdkafka, options.transactional, ctx.pipeline(), ctx.state().instance_id(), starts, guard, log);
      return 0;
    });
    co_await track(options.topic);
  }

  // Before the first message to a topic, its partitions' ends go into the state store: the read-back after a
  // crash then covers exactly what this pipeline may have written there, never the topic's older history.
  awaitable<void> track(const std::string& topic) {
    if (tracked.count(topic)) co_return;
    int32_t count = co_await partitions_of(topic);
    rd_kafka_t* client = rk.get();
    state::WriteBatch txn;
    // The ends come back to the loop thread: the write of the batch before this one may be using next_offsets
    // while this runs (a batch sent ahead).
    std::vector<int64_t> ends = co_await core::run_blocking(ctx.blocking_executor(), [&] {
      std::vector<std::pair<std::string, int32_t>> partitions;
      for (int32_t p = 0; p < count; ++p) partitions.emplace_back(topic, p);
      auto found = sluice::kafka::list_offsets(client, partitions, RD_KAFKA_OFFSET_END, 15000, "kafka sink: ");
      for (int32_t p = 0; p < count; ++p)
        txn.put(state::Family::sink, state::scoped_key(ctx.scope(), offset_key(topic, p)), std::to_string(found[size_t(p)]));
      ctx.state().write(txn, true);
      return found;
    });
    for (int32_t p = 0; p < count; ++p) next_offsets[OutPartition{topic, p}] = ends[size_t(p)];
    tracked.insert(topic);
  }

  awaitable<int32_t> partitions_of(const std::string& topic) {
    if (auto it = partition_counts.find(topic); it != partition_counts.end()) co_return it->second;
    rd_kafka_t* client = rk.get();
    rd_kafka_topic_t* t = handle_of(topic);
    auto [err, count] = co_await core::run_blocking(ctx.blocking_executor(), [client, t] {
      const rd_kafka_metadata_t* md = nullptr;
      auto e = rd_kafka_metadata(client, 0, t, &md, 15000);
      int32_t n = 0;
      if (!e && md->topic_cnt == 1) {
        if (md->topics[0].err) e = md->topics[0].err;
        else n = md->topics[0].partition_cnt;
      }
      if (md) rd_kafka_metadata_destroy(md);
      return std::pair<rd_kafka_resp_err_t, int32_t>(e, n);
    });
    if (err || count <= 0) throw KafkaError("kafka sink: cannot learn the partitions of topic '" + topic + "'", err);
    partition_counts[topic] = count;
    co_return count;
  }

  rd_kafka_topic_t* handle_of(const std::string& topic) {
    auto& t = topics[topic];
    if (!t) t = rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr);
    return t;
  }

  void serve() {
    if (waker->take()) rd_kafka_poll(rk.get(), 0);
    queue_depth->Set(double(outstanding));
  }

  // Serves the delivery reports that are there, and when the queue has not signalled any since the last look
  // and `pending` (messages the caller waits for) is not yet 0, waits up to `patience` for it to. The waker is
  // re-armed before the poll and asked before waiting: a notification that came while nobody waited (the
  // watcher ran during a produce loop's suspension) is not lost, and no batch sits out the whole patience with
  // its acknowledgements already queued.
  awaitable<void> serve_or_wait(std::chrono::milliseconds patience, const uint64_t& pending) {
    bool signalled = waker->take();
    rd_kafka_poll(rk.get(), 0);
    queue_depth->Set(double(outstanding));
    if (!signalled && pending > 0) co_await wake.wait_until(std::chrono::steady_clock::now() + patience);
  }

  // Produces every message of the batch without waiting for them; write() waits. Without transactions, the
  // engine sends the next batch while this one waits (core::Sink::send).
  awaitable<void> send(core::Batch& batch) {
    if (!fatal.empty()) throw KafkaError(fatal);
    InFlight& flight = in_flight.emplace_back();
    if (options.transactional) {
      if (std::string what = sluice::kafka::take_error(rd_kafka_begin_transaction(rk.get())); !what.empty())
        throw KafkaError("kafka sink: begin_transaction failed: " + what);
    }
    // Each record's header names the position its group ends at (where the source resumes after it): found
    // from the back of the batch.
    const auto& records = batch.records;
    // A member, reused: freeing a vector this big each batch made glibc consolidate its free lists every time.
    group_end.assign(records.size(), nullptr);
    std::map<uint32_t, const std::string*> open_group;
    static const std::string none;
    for (size_t i = records.size(); i-- > 0;) {
      auto& end = open_group[records[i].partition];
      if (!records[i].position.empty() || !end) end = &records[i].position;
      group_end[i] = end;
    }
    const bool needs_fields = !options.key_field.empty() || !options.topic_field.empty();
    std::string topic_name, key;
    const std::string& instance = ctx.state().instance_id();
    for (size_t i = 0; i < records.size(); ++i) {
      const core::Record& r = records[i];
      const std::string& part_name = ctx.partition_name(r.partition);
      const std::string& pos = group_end[i] ? *group_end[i] : none;
      topic_name = options.topic;
      key = r.key;
      bool has_key = !r.key.empty();
      if (needs_fields) {
        boost::system::error_code ec;
        json::value doc = json::parse(r.value, ec);
        if (!ec) {
          if (!options.topic_field.empty())
            if (auto t = field_text(doc, options.topic_field)) topic_name = *t;
          if (!options.key_field.empty()) {
            auto k = field_text(doc, options.key_field);
            has_key = bool(k);
            key = k ? *k : std::string();
          }
        }
      }
      auto sequence = guard.next(part_name);
      if (!sequence) {
        skipped->Increment();
        continue;
      }
      if (r.partition >= source_partitions.size()) source_partitions.resize(r.partition + 1);
      SourcePartition& source = source_partitions[r.partition];
      if (source.origin_prefix.empty()) {
        source.origin_prefix = origin_prefix(ctx.pipeline(), instance, part_name);
        source.rotation_start = keyless_rotation_start(part_name);
      }
      render_origin(origin, source.origin_prefix, *sequence, pos);
      if (topic_name != current_topic) {  // most records go where the one before went: no coroutine per record
        co_await track(topic_name);
        current_count = co_await partitions_of(topic_name);
        current_rkt = handle_of(topic_name);
        current_topic = topic_name;
      }
      const int32_t count = current_count;
      rd_kafka_topic_t* rkt = current_rkt;
      int32_t partition = has_key ? rd_kafka_msg_partitioner_murmur2(rkt, key.data(), key.size(), count, nullptr, nullptr)
                                  : keyless_partition(source.rotation_start, *sequence, options.sticky_records, count);
      for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk.get(), RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
            // No copy of the value: the batch outlives every message of it (write() waits for all of them,
            // and a failed batch is purged with the producer before the engine lets the batch go).
            RD_KAFKA_V_MSGFLAGS(0),
            RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
            RD_KAFKA_V_KEY(has_key ? key.data() : nullptr, has_key ? key.size() : 0),
            RD_KAFKA_V_HEADER(kOriginHeader, origin.data(), ssize_t(origin.size())),
            RD_KAFKA_V_TIMESTAMP(r.event_time_ms > 0 ? r.event_time_ms : 0), RD_KAFKA_V_OPAQUE(&flight), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          outstanding++;
          flight.outstanding++;
          break;
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) throw KafkaError("kafka sink: cannot produce to " + topic_name, err);
        // The producer's queue is full: let acknowledgements drain it.
        co_await serve_or_wait(std::chrono::milliseconds(20), outstanding);
      }
      if ((i & 1023) == 0) serve();
    }
    guard.seal_batch();
  }

  // The oldest batch sent (this one, sent now if it was not) is acknowledged whole: its offsets, counts and
  // numbers go into the commit.
  awaitable<void> write(core::Batch& batch, state::WriteBatch& txn) {
    if (in_flight.empty()) co_await send(batch);
    const InFlight& flight = in_flight.front();
    for (;;) {
      co_await serve_or_wait(std::chrono::milliseconds(100), flight.outstanding);
      if (flight.outstanding == 0) break;
      if (!fatal.empty()) throw KafkaError(fatal);
    }
    if (flight.first_error) {
      if (options.transactional) co_await abort_transaction();
      throw KafkaError("kafka sink: delivery failed (the batch is retried from the last commit): " + flight.first_error_text);
    }
    if (options.transactional) {
      rd_kafka_t* client = rk.get();
      std::string err = co_await core::run_blocking(ctx.blocking_executor(), [client] {
        // Every message is acknowledged already, so the flush inside has nothing to serve off the loop thread.
        return sluice::kafka::take_error(rd_kafka_commit_transaction(client, 60000));
      });
      if (!err.empty()) {
        co_await abort_transaction();
        throw KafkaError("kafka sink: commit_transaction failed: " + err);
      }
    }
    produced->Increment(double(flight.acknowledged));
    produced_bytes->Increment(double(flight.acknowledged_bytes));
    for (const auto& [where, next] : flight.next_offsets) {
      auto& offset = next_offsets[OutPartition{rd_kafka_topic_name(where.first), where.second}];
      offset = std::max(offset, next);
    }
    in_flight.pop_front();
    for (const auto& [tp, next] : next_offsets)
      txn.put(state::Family::sink, state::scoped_key(ctx.scope(), offset_key(tp.topic, tp.partition)), std::to_string(next));
    for (const auto& [partition, count] : guard.commit_batch())
      txn.put(state::Family::sink, state::scoped_key(ctx.scope(), "seq/" + partition), std::to_string(count));
    if (std::string landed = guard.encode_landed(); !landed.empty()) txn.put(state::Family::sink, state::scoped_key(ctx.scope(), "landed"), landed);
    else txn.remove(state::Family::sink, state::scoped_key(ctx.scope(), "landed"));
  }

  // Blocks until the brokers answer: off the loop thread, which other pipelines share.
  awaitable<void> abort_transaction() {
    rd_kafka_t* client = rk.get();
    std::string err = co_await core::run_blocking(ctx.blocking_executor(), [client] {
      return sluice::kafka::take_error(rd_kafka_abort_transaction(client, 30000));
    });
    if (!err.empty()) log.warn("kafka sink: abort_transaction failed: {}", err);
  }
};

KafkaSink::KafkaSink(const KafkaSinkOptions& options) : options_(options) {}
KafkaSink::~KafkaSink() = default;

awaitable<std::optional<core::Checkpoint>> KafkaSink::open(core::SinkContext& ctx) {
  producer_ = std::make_unique<Producer>(options_, ctx);
  co_await producer_->open();
  co_return std::nullopt;
}

awaitable<void> KafkaSink::write(core::Batch& batch, state::WriteBatch& txn) { co_await producer_->write(batch, txn); }

// A batch's commit waits for its last acknowledgement: the linger, the round trip and the state write, about
// 10 ms. Batches sent meanwhile keep the producer busy; some 20,000 records in flight cover that wait at a
// million records a second, and more were no faster (docs/benchmarks.md): one batch ahead of big batches, up to
// three of small ones. A transaction spans one batch, and a producer has one open at a time: transactional
// batches go one by one.
size_t KafkaSink::batches_ahead(uint64_t batch_records) const {
  if (options_.transactional) return 0;
  constexpr uint64_t kRecordsInFlight = 20000;
  return size_t(std::clamp<uint64_t>(kRecordsInFlight / std::max<uint64_t>(batch_records, 1), 1, 3));
}

awaitable<void> KafkaSink::send(core::Batch& batch) { co_await producer_->send(batch); }

void KafkaSink::abort() { producer_.reset(); }

core::SinkFactory factory() {
  return core::make_sink_factory<KafkaSinkOptions, KafkaSink>(
      "kafka", "Kafka producer; exactly-once through position headers and a read-back of what landed (transactions optional)");
}

}  // namespace sluice::sinks::kafka

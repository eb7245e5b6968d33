#include "sources/kafka/positions_log.hpp"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <charconv>
#include <mutex>

#include "core/async.hpp"
#include "core/task.hpp"
#include "formats/timestamp.hpp"
#include "kafka/client.hpp"

namespace sluice::sources::kafka {
namespace asio = boost::asio;
namespace json = boost::json;
using core::awaitable;
using sluice::kafka::KafkaError;

namespace {

int64_t offset_of(std::string_view text) {
  int64_t v = -1;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return ec == std::errc() && p == text.data() + text.size() && v >= 0 ? v : -1;
}

// Topics an operator made (or that were auto-created) are used as they are; only a missing one is created,
// compacted, so that each instance's latest message is kept and older ones go.
constexpr int kCreatedPartitions = 4;
constexpr int kTimeoutMs = 15000;

}  // namespace

struct PositionsLog::Impl {
  PositionsLogSettings s;
  asio::any_io_executor loop, blocking;
  spdlog::logger& log;

  struct Published {
    std::string commit;
    std::map<std::string, int64_t> positions;
  };

  // Reading happens on the blocking pool; `latest` is also read from the loop, hence the lock.
  mutable std::mutex mutex;
  sluice::kafka::Handle reader;
  std::map<int32_t, int64_t> next_offset;  // per partition of the positions topic
  std::map<std::string, Published> latest;  // per instance of our group: its latest message
  bool caught_up = false;

  // Publishing happens on the loop thread, in commit order.
  sluice::kafka::Handle producer;
  sluice::kafka::Queue producer_queue;
  core::Notifier wake;
  std::unique_ptr<sluice::kafka::QueueWaker> waker;
  std::map<std::string, int64_t> mine;  // every position this instance published
  uint64_t next_sequence = 0;
  std::map<uint64_t, rd_kafka_resp_err_t> delivered;

  Impl(PositionsLogSettings settings, asio::any_io_executor l, asio::any_io_executor b, spdlog::logger& lg)
      : s(std::move(settings)), loop(std::move(l)), blocking(std::move(b)), log(lg), wake(loop) {}
  ~Impl() {
    waker.reset();
    producer_queue.reset();
    producer.reset();
  }

  static void on_log(const rd_kafka_t* rk, int level, const char* facility, const char* line) {
    sluice::kafka::log_line(static_cast<Impl*>(rd_kafka_opaque(rk))->log, level, facility, line);
  }

  sluice::kafka::Conf conf(sluice::kafka::Settings ours) {
    ours["bootstrap.servers"] = s.brokers;
    ours["client.id"] = "sluice-" + s.pipeline + "-positions";
    auto c = sluice::kafka::make_conf(ours, s.client);
    rd_kafka_conf_set_opaque(c.get(), this);
    rd_kafka_conf_set_log_cb(c.get(), &Impl::on_log);
    return c;
  }

  // ---- reading (blocking pool) ---------------------------------------------------------------------------

  // The partition count of the topic, creating it when missing; 0 when it could not be created (the first
  // publish then auto-creates it where the brokers allow that).
  int32_t ensure_topic() {
    const rd_kafka_metadata_t* md = nullptr;
    // All topics: asking for this one by name would auto-create it, uncompacted, on brokers that allow that.
    if (auto err = rd_kafka_metadata(reader.get(), 1, nullptr, &md, kTimeoutMs))
      throw KafkaError("cannot read the cluster's metadata to find positions topic '" + s.topic + "'", err);
    int32_t partitions = 0;
    for (int i = 0; i < md->topic_cnt; ++i)
      if (s.topic == md->topics[i].topic && !md->topics[i].err) partitions = md->topics[i].partition_cnt;
    rd_kafka_metadata_destroy(md);
    if (partitions > 0) return partitions;

    char err[512];
    rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(s.topic.c_str(), kCreatedPartitions, -1, err, sizeof err);
    if (!topic) throw KafkaError("invalid positions topic '" + s.topic + "': " + err);
    rd_kafka_NewTopic_set_config(topic, "cleanup.policy", "compact");
    sluice::kafka::Queue results(rd_kafka_queue_new(reader.get()));
    rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(reader.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(options, 5000, err, sizeof err);
    rd_kafka_CreateTopics(reader.get(), &topic, 1, options, results.get());
    rd_kafka_event_t* ev = rd_kafka_queue_poll(results.get(), 6000);
    std::string problem = "no answer";
    if (ev) {
      size_t n = 0;
      const rd_kafka_topic_result_t** r = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
      if (rd_kafka_event_error(ev)) problem = rd_kafka_event_error_string(ev);
      else if (n == 1 && (!rd_kafka_topic_result_error(r[0]) || rd_kafka_topic_result_error(r[0]) == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS))
        problem.clear();
      else if (n == 1) problem = rd_kafka_err2str(rd_kafka_topic_result_error(r[0]));
      rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_NewTopic_destroy(topic);
    if (problem.empty()) {
      log.info("kafka: created the compacted positions topic '{}'", s.topic);
      return kCreatedPartitions;
    }
    log.warn("kafka: cannot create positions topic '{}' ({}); it will be auto-created by the first publish, without compaction: "
             "create it with cleanup.policy=compact",
             s.topic, problem);
    return 0;
  }

  void ingest(const rd_kafka_message_t* m) {
    boost::system::error_code ec;
    json::value v = json::parse(std::string_view(static_cast<const char*>(m->payload), m->payload ? m->len : 0), ec);
    const json::object* o = ec ? nullptr : v.if_object();
    auto field = [&](const char* name) { return o ? o->if_contains(name) : nullptr; };
    const json::string* group = field("group") ? field("group")->if_string() : nullptr;
    if (group && *group != s.group) return;  // another group's
    const json::string* instance = field("instance") ? field("instance")->if_string() : nullptr;
    const json::object* positions = field("positions") ? field("positions")->if_object() : nullptr;
    if (!group || !instance || !positions) {
      log.warn("kafka: ignoring a malformed message in positions topic '{}' [{}] at offset {}", s.topic, m->partition, m->offset);
      return;
    }
    Published p;
    if (const auto* c = field("commit"); c && c->is_string()) p.commit = std::string(c->get_string());
    for (const auto& [name, position] : *positions)
      if (const auto* text = position.if_string(); text && offset_of(*text) >= 0) p.positions[std::string(name)] = offset_of(*text);
    latest[std::string(*instance)] = std::move(p);
  }

  void read_tail() {
    std::lock_guard lock(mutex);
    if (!reader) {
      reader = sluice::kafka::make_client(RD_KAFKA_CONSUMER, conf({{"group.id", "sluice-positions-reader"},
                                                                   {"enable.auto.commit", "false"},
                                                                   {"auto.offset.reset", "earliest"},
                                                                   {"log.queue", "false"}}));
      int32_t partitions = ensure_topic();
      if (partitions == 0) {
        reader.reset();  // nothing to read yet; look again next time
        caught_up = true;
        return;
      }
      sluice::kafka::PartitionList list(rd_kafka_topic_partition_list_new(partitions));
      for (int32_t p = 0; p < partitions; ++p) {
        rd_kafka_topic_partition_list_add(list.get(), s.topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        next_offset[p] = 0;
      }
      if (auto err = rd_kafka_assign(reader.get(), list.get())) throw KafkaError("cannot read positions topic '" + s.topic + "'", err);
    }
    std::map<int32_t, int64_t> end;
    std::vector<std::pair<std::string, int32_t>> partitions;
    for (const auto& [p, next] : next_offset) partitions.emplace_back(s.topic, p);
    auto marks = sluice::kafka::watermarks(reader.get(), partitions, kTimeoutMs, "positions topic: ");
    size_t i = 0;
    for (auto& [p, next] : next_offset) {
      const auto [low, high] = marks[i++];
      next = std::max(next, low);  // older messages were deleted (retention, compaction): nothing to wait for there
      if (next < high) end[p] = high;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs * 4);
    size_t read = 0;
    while (!end.empty()) {
      if (std::chrono::steady_clock::now() > deadline)
        throw KafkaError("reading positions topic '" + s.topic + "' to its end did not finish within " + std::to_string(kTimeoutMs * 4 / 1000) +
                         " s");
      sluice::kafka::Message m(rd_kafka_consumer_poll(reader.get(), 200));
      if (!m) continue;
      if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
        throw KafkaError("reading positions topic '" + s.topic + "': " + rd_kafka_message_errstr(m.get()));
      }
      ++read;
      ingest(m.get());
      next_offset[m->partition] = m->offset + 1;
      if (auto it = end.find(m->partition); it != end.end() && m->offset + 1 >= it->second) end.erase(it);
    }
    if (!caught_up) {
      if (auto it = latest.find(s.instance); it != latest.end())
        for (const auto& [name, offset] : it->second.positions) mine.emplace(name, offset);
      log.info("kafka: read {} message(s) of positions topic '{}': {} instance(s) of group '{}' published positions", read, s.topic,
               latest.size(), s.group);
    }
    caught_up = true;
  }

  // ---- publishing (loop thread) --------------------------------------------------------------------------

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    self->delivered[uint64_t(reinterpret_cast<uintptr_t>(m->_private))] = m->err;
    self->wake.notify_all();
  }

  void start_producer() {
    auto c = conf({{"enable.idempotence", "true"},
                   {"acks", "all"},
                   {"linger.ms", "0"},
                   {"compression.codec", "lz4"},
                   {"message.timeout.ms", std::to_string(s.delivery_timeout.count())},
                   {"log.queue", "false"}});
    rd_kafka_conf_set_dr_msg_cb(c.get(), &Impl::on_delivery);
    producer = sluice::kafka::make_client(RD_KAFKA_PRODUCER, std::move(c));
    producer_queue.reset(rd_kafka_queue_get_main(producer.get()));
    waker = std::make_unique<sluice::kafka::QueueWaker>(loop, producer_queue.get(), wake);
  }

  std::string render(const std::string& commit_id) const {
    json::object positions;
    for (const auto& [name, offset] : mine) positions[name] = std::to_string(offset);
    return json::serialize(json::object{{"group", s.group},
                                        {"instance", s.instance},
                                        {"pipeline", s.pipeline},
                                        {"commit", commit_id},
                                        {"at_ms", formats::unix_ms_now()},
                                        {"positions", std::move(positions)}});
  }
};

PositionsLog::PositionsLog(PositionsLogSettings settings, asio::any_io_executor loop, asio::any_io_executor blocking, spdlog::logger& log)
    : impl_(std::make_unique<Impl>(std::move(settings), std::move(loop), std::move(blocking), log)) {}
PositionsLog::~PositionsLog() = default;

awaitable<void> PositionsLog::catch_up() {
  Impl* impl = impl_.get();
  co_await core::run_blocking(impl->blocking, [impl] {
    impl->read_tail();
    return 0;
  });
}

int64_t PositionsLog::resume_offset(const std::string& partition) const {
  std::lock_guard lock(impl_->mutex);
  int64_t best = -1;
  for (const auto& [instance, published] : impl_->latest)
    if (auto it = published.positions.find(partition); it != published.positions.end()) best = std::max(best, it->second);
  return best;
}

bool PositionsLog::published(const std::string& commit_id) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->latest.find(impl_->s.instance);
  return it != impl_->latest.end() && it->second.commit == commit_id;
}

awaitable<void> PositionsLog::publish(const core::Checkpoint& positions, const std::string& commit_id) {
  Impl& d = *impl_;
  // This instance's earlier positions come from its latest message: read before the first publish.
  if (!d.caught_up) co_await catch_up();
  if (!d.producer) d.start_producer();
  for (const auto& [name, position] : positions)
    if (int64_t offset = offset_of(position); offset >= 0) d.mine[name] = std::max(d.mine[name], offset);
  // Built and handed to the producer on the loop thread, so that messages land in the order of the commits.
  std::string value = d.render(commit_id);
  std::string key = d.s.group + '\0' + d.s.instance;
  uint64_t sequence = d.next_sequence++;
  auto err = rd_kafka_producev(d.producer.get(), RD_KAFKA_V_TOPIC(d.s.topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(value.data(), value.size()),
                               RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(uintptr_t(sequence))), RD_KAFKA_V_END);
  if (err) throw KafkaError("cannot publish positions to topic '" + d.s.topic + "'", err);
  for (;;) {
    rd_kafka_poll(d.producer.get(), 0);
    if (auto it = d.delivered.find(sequence); it != d.delivered.end()) {
      rd_kafka_resp_err_t result = it->second;
      d.delivered.erase(it);
      if (result) throw KafkaError("positions topic '" + d.s.topic + "' did not take commit " + commit_id, result);
      break;
    }
    co_await d.wake.wait_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
    d.waker->take();
  }
}

}  // namespace sluice::sources::kafka

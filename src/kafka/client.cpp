#include "kafka/client.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <atomic>
#include <system_error>

namespace sluice::kafka {
namespace asio = boost::asio;

const ReservedKey* find_reserved(const Settings& user, const std::vector<ReservedKey>& reserved) {
  for (const auto& r : reserved)
    if (user.count(r.key)) return &r;
  return nullptr;
}

Settings connection_settings(const Settings& user) {
  Settings out;
  for (const auto& [key, value] : user)
    for (const char* prefix : {"security.", "sasl.", "ssl.", "socket.", "broker.address.", "client.dns."})
      if (key.rfind(prefix, 0) == 0) out[key] = value;
  return out;
}

void refuse_reserved(const Settings& user, const std::vector<ReservedKey>& reserved, const config::Value& node, config::Context& ctx) {
  const ReservedKey* r = find_reserved(user, reserved);
  if (!r) return;
  // Point at the key itself: the map may be long.
  config::Mark where = node.mark;
  if (const config::Value* map = node.find("librdkafka")) {
    where = map->mark;
    for (const auto& entry : map->entries)
      if (entry.key == r->key) where = entry.key_mark;
  }
  ctx.error(where, std::string("librdkafka setting '") + r->key + "' is not allowed: " + r->reason);
}

Conf make_conf(const Settings& ours, const Settings& user) {
  Conf conf(rd_kafka_conf_new());
  char err[512];
  auto set = [&](const std::string& k, const std::string& v, const char* whose) {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
      throw KafkaError(std::string("librdkafka refused ") + whose + " setting " + k + ": " + err);
  };
  for (const auto& [k, v] : ours) set(k, v, "the connector's");
  for (const auto& [k, v] : user) set(k, v, "the librdkafka:");
  return conf;
}

Handle make_client(rd_kafka_type_t type, Conf conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err, sizeof err);
  if (!rk) throw KafkaError(std::string("cannot create the Kafka client: ") + err);
  conf.release();  // rd_kafka_new took it
  return Handle(rk);
}

std::string take_error(rd_kafka_error_t* error) {
  if (!error) return {};
  std::string what = rd_kafka_error_string(error);
  rd_kafka_error_destroy(error);
  return what;
}

std::optional<std::string> fatal_error(rd_kafka_t* rk, int err) {
  if (err != RD_KAFKA_RESP_ERR__FATAL) return std::nullopt;
  char why[512];
  rd_kafka_resp_err_t code = rd_kafka_fatal_error(rk, why, sizeof why);
  return std::string(rd_kafka_err2name(code)) + ": " + why;
}

void log_line(spdlog::logger& log, int level, const char* facility, const char* line) {
  // syslog levels: 0-3 errors, 4 warnings, the rest is detail.
  if (level <= 3) log.error("librdkafka {}: {}", facility, line);
  else if (level <= 4) log.warn("librdkafka {}: {}", facility, line);
  else log.debug("librdkafka {}: {}", facility, line);
}

std::vector<int64_t> list_offsets(rd_kafka_t* rk, const std::vector<std::pair<std::string, int32_t>>& partitions, int64_t which,
                                  int timeout_ms, std::string_view who) {
  std::vector<int64_t> out(partitions.size());
  if (partitions.empty()) return out;
  // ListOffsets by timestamp, with Kafka's two special timestamps: -2 asks for the first offset, -1 for the end.
  PartitionList list(rd_kafka_topic_partition_list_new(int(partitions.size())));
  for (const auto& [topic, partition] : partitions) rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = which;
  const std::string failure = std::string(who) + (which == RD_KAFKA_OFFSET_END ? "cannot read the end of " : "cannot read the start of ");
  if (auto err = rd_kafka_offsets_for_times(rk, list.get(), timeout_ms))
    throw KafkaError(failure + partition_name(partitions[0].first, partitions[0].second) +
                         (partitions.size() > 1 ? " and " + std::to_string(partitions.size() - 1) + " more partition(s)" : ""),
                     err);
  // Duplicates are not allowed in the request, so each answer is found by its (topic, partition).
  for (size_t i = 0; i < partitions.size(); ++i) {
    const auto& [topic, partition] = partitions[i];
    const rd_kafka_topic_partition_t* tp = rd_kafka_topic_partition_list_find(list.get(), topic.c_str(), partition);
    if (!tp) throw KafkaError(failure + partition_name(topic, partition) + ": the brokers' answer left it out");
    if (tp->err) throw KafkaError(failure + partition_name(topic, partition), tp->err);
    out[i] = tp->offset;
  }
  return out;
}

std::vector<Watermarks> watermarks(rd_kafka_t* rk, const std::vector<std::pair<std::string, int32_t>>& partitions, int timeout_ms,
                                   std::string_view who) {
  auto lows = list_offsets(rk, partitions, RD_KAFKA_OFFSET_BEGINNING, timeout_ms, who);
  auto highs = list_offsets(rk, partitions, RD_KAFKA_OFFSET_END, timeout_ms, who);
  std::vector<Watermarks> out(partitions.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = {lows[i], highs[i]};
  return out;
}

std::string partition_name(std::string_view topic, int32_t partition) {
  return std::string(topic) + "-" + std::to_string(partition);
}

struct QueueWaker::State {
  rd_kafka_queue_t* queue;
  int write_fd = -1;
  asio::posix::stream_descriptor reader;
  core::Notifier* notifier;
  bool ready = true;  // serve once at start: events may predate the pipe
  // Set by librdkafka's thread when it wrote to the pipe, cleared by take(): one byte per round of serving.
  std::atomic<bool> signalled{false};
  State(asio::any_io_executor ex, rd_kafka_queue_t* q, core::Notifier& n) : queue(q), reader(ex), notifier(&n) {}
};

namespace {
asio::awaitable<void> watch(std::shared_ptr<QueueWaker::State> s) {
  char buf[256];
  for (;;) {
    boost::system::error_code ec;
    co_await s->reader.async_wait(asio::posix::stream_descriptor::wait_read, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !s->notifier) co_return;  // the waker is gone
    while (::read(s->reader.native_handle(), buf, sizeof buf) > 0) {
    }
    s->ready = true;
    s->notifier->notify_all();
  }
}

// Called on librdkafka's threads whenever an element lands in the empty queue. librdkafka 2.0.2's own fd event
// (rd_kafka_queue_io_event_enable) is written once per poll of rd_kafka_poll and friends, which
// rd_kafka_consume_batch_queue does not count: after the first batch, wake-ups stopped, and the source fell
// back on its timeouts. This one is re-armed by take().
void on_queue_event(rd_kafka_t*, void* opaque) {
  auto* s = static_cast<QueueWaker::State*>(opaque);
  if (!s->signalled.exchange(true)) (void)!::write(s->write_fd, "1", 1);
}
}  // namespace

QueueWaker::QueueWaker(asio::any_io_executor ex, rd_kafka_queue_t* queue, core::Notifier& notifier)
    : state_(std::make_shared<State>(ex, queue, notifier)) {
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe for the Kafka queue");
  state_->reader.assign(fds[0]);
  state_->write_fd = fds[1];
  rd_kafka_queue_cb_event_enable(queue, &on_queue_event, state_.get());
  asio::co_spawn(ex, watch(state_), asio::detached);
}

QueueWaker::~QueueWaker() {
  // librdkafka calls the event under the queue's lock: once this returns, nothing writes to the pipe.
  rd_kafka_queue_cb_event_enable(state_->queue, nullptr, nullptr);
  ::close(state_->write_fd);
  state_->notifier = nullptr;
  boost::system::error_code ignored;
  state_->reader.cancel(ignored);
}

bool QueueWaker::take() {
  bool r = state_->ready;
  state_->ready = false;
  // Re-armed before the caller drains the queue: an element that lands after the drain wakes us again.
  if (r) state_->signalled.store(false);
  return r;
}

}  // namespace sluice::kafka

#pragma once
// librdkafka plumbing shared by the Kafka source and sink: owned handles, configuration with our guarantees
// enforced, and the bridge that wakes the Asio loop when a librdkafka queue has something. Include from the
// Kafka connectors only.
#include <librdkafka/rdkafka.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/error.hpp"
#include "config/value.hpp"
#include "core/notifier.hpp"

namespace spdlog {
class logger;
}

namespace sluice::kafka {

struct KafkaError : std::runtime_error {
  KafkaError(const std::string& what, rd_kafka_resp_err_t code = RD_KAFKA_RESP_ERR_UNKNOWN)
      : std::runtime_error(what + (code == RD_KAFKA_RESP_ERR_UNKNOWN ? "" : std::string(": ") + rd_kafka_err2str(code))), code(code) {}
  rd_kafka_resp_err_t code;
};

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
struct ListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using Conf = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;
using Queue = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using Message = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

using Settings = std::map<std::string, std::string>;

// A user's `librdkafka:` key that the connector sets itself because the guarantees rest on it, with why.
struct ReservedKey {
  const char* key;
  const char* reason;
};
// The first reserved key the user's map sets, if any (for the config validator's error).
const ReservedKey* find_reserved(const Settings& user, const std::vector<ReservedKey>& reserved);
// The config validator's check of a connector's `librdkafka:` map (`node` is the connector's block).
void refuse_reserved(const Settings& user, const std::vector<ReservedKey>& reserved, const config::Value& node, config::Context& ctx);

// The user's settings about reaching and authenticating to the brokers (security.protocol, sasl.*, ssl.*, ...):
// what a connector's helper clients (positions, read-back) copy from the user's map.
Settings connection_settings(const Settings& user);

// Our settings first, then the user's (which may tune anything not reserved). Throws KafkaError naming the key
// librdkafka refused.
Conf make_conf(const Settings& ours, const Settings& user);
Handle make_client(rd_kafka_type_t type, Conf conf);

// The text of an rd_kafka_error_t, which it destroys; empty for none (the newer API's way of saying success).
std::string take_error(rd_kafka_error_t* error);

// For an error callback: when `err` says the client hit a fatal error (it is unusable from then on), that
// error described; nullopt for the errors librdkafka recovers from by itself.
std::optional<std::string> fatal_error(rd_kafka_t* rk, int err);

// A librdkafka log line (from its log callback) on the connector's logger, at the matching level.
void log_line(spdlog::logger& log, int level, const char* facility, const char* line);

// "orders-3": the partition's name in checkpoints (Kafka's own TopicPartition spelling).
std::string partition_name(std::string_view topic, int32_t partition);

// Each partition's first offset still stored (which = RD_KAFKA_OFFSET_BEGINNING) or the offset its next message
// will get (RD_KAFKA_OFFSET_END), in the order given: one ListOffsets request per leader, where
// rd_kafka_query_watermark_offsets takes two round trips per partition (48 partitions: some 100 ms before a
// sink's first message). Blocking. Throws KafkaError naming the first partition that failed, after `who`
// ("kafka sink: ").
std::vector<int64_t> list_offsets(rd_kafka_t* rk, const std::vector<std::pair<std::string, int32_t>>& partitions, int64_t which,
                                  int timeout_ms, std::string_view who);

struct Watermarks {
  int64_t low = 0;   // the oldest offset still stored
  int64_t high = 0;  // the offset the next message will get
};
// Both ends of each partition: list_offsets twice.
std::vector<Watermarks> watermarks(rd_kafka_t* rk, const std::vector<std::pair<std::string, int32_t>>& partitions, int timeout_ms,
                                   std::string_view who);

// Wakes coroutines on `notifier` whenever librdkafka puts something on `queue` (rd_kafka_queue_io_event_enable
// on a pipe), so no thread ever blocks in a poll call. Readiness is level-like: `take()` reports and clears it.
// Watching starts with the object and ends with it: the watcher owns what it touches, so it may finish after
// the waker (and the notifier) are gone.
class QueueWaker {
 public:
  QueueWaker(boost::asio::any_io_executor ex, rd_kafka_queue_t* queue, core::Notifier& notifier);
  ~QueueWaker();
  QueueWaker(const QueueWaker&) = delete;
  QueueWaker& operator=(const QueueWaker&) = delete;
  bool take();

  struct State;  // shared with the watcher

 private:
  std::shared_ptr<State> state_;
};

}  // namespace sluice::kafka

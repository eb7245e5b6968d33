#include "support/kafka_cluster.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <atomic>
#include <chrono>
#include <stdexcept>

namespace sluice::testing {

namespace {

struct Handle {
  rd_kafka_t* rk = nullptr;
  ~Handle() {
    if (rk) rd_kafka_destroy(rk);
  }
};

[[noreturn]] void fail(const std::string& what, rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR) {
  throw std::runtime_error("kafka test cluster: " + what + (err ? std::string(": ") + rd_kafka_err2str(err) : std::string()));
}

rd_kafka_t* client(rd_kafka_type_t type, const std::map<std::string, std::string>& settings,
                   void (*configure)(rd_kafka_conf_t*, void*) = nullptr, void* opaque = nullptr) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : settings)
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) fail("setting " + k + ": " + err);
  if (configure) configure(conf, opaque);
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!rk) fail(std::string("cannot create a client: ") + err);
  return rk;
}

}  // namespace

struct KafkaCluster::Impl {
  Handle owner;  // the mock cluster lives inside this client
  rd_kafka_mock_cluster_t* cluster = nullptr;
  Handle admin;  // metadata and watermark queries
  ~Impl() {
    // The admin client first: it would log every broker as refused once the cluster is gone.
    if (admin.rk) rd_kafka_destroy(admin.rk);
    admin.rk = nullptr;
    if (cluster) rd_kafka_mock_cluster_destroy(cluster);
  }
};

KafkaCluster::KafkaCluster(int brokers, bool positions_topic) : impl_(std::make_unique<Impl>()) {
  // The owner never connects anywhere; it only hosts the cluster's thread.
  impl_->owner.rk = client(RD_KAFKA_PRODUCER, {{"log_level", "0"}});
  impl_->cluster = rd_kafka_mock_cluster_new(impl_->owner.rk, brokers);
  if (!impl_->cluster) fail("rd_kafka_mock_cluster_new failed");
  bootstrap_ = rd_kafka_mock_cluster_bootstraps(impl_->cluster);
  impl_->admin.rk = client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap_}, {"log_level", "3"}});
  // The mock never answers CreateTopics: sluiced would wait for it, then fall back to auto-creation.
  if (positions_topic) create_topic("sluice_positions", 4);
}

KafkaCluster::~KafkaCluster() = default;

void KafkaCluster::create_topic(const std::string& topic, int partitions, int replication) {
  if (auto err = rd_kafka_mock_topic_create(impl_->cluster, topic.c_str(), partitions, replication)) fail("cannot create " + topic, err);
}

int32_t KafkaCluster::partition_count(const std::string& topic) {
  rd_kafka_topic_t* t = rd_kafka_topic_new(impl_->admin.rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  auto err = rd_kafka_metadata(impl_->admin.rk, 0, t, &md, 10000);
  int32_t n = !err && md->topic_cnt == 1 && !md->topics[0].err ? md->topics[0].partition_cnt : -1;
  if (md) rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(t);
  if (n < 0) fail("cannot learn the partitions of " + topic, err);
  return n;
}

void KafkaCluster::produce(const std::string& topic, uint64_t first, uint64_t count, const std::function<std::string(uint64_t)>& value,
                           const std::function<std::optional<std::string>(uint64_t)>& key) {
  std::atomic<uint64_t> failed{0};
  Handle p;
  p.rk = client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap_},
                                    {"enable.idempotence", "true"},
                                    {"compression.codec", "lz4"},
                                    {"linger.ms", "20"},
                                    {"batch.num.messages", "10000"},
                                    {"queue.buffering.max.messages", "500000"},
                                    {"log_level", "3"}},
                [](rd_kafka_conf_t* conf, void* opaque) {
                  rd_kafka_conf_set_opaque(conf, opaque);
                  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* o) {
                    if (m->err) ++*static_cast<std::atomic<uint64_t>*>(o);
                  });
                },
                &failed);
  int32_t partitions = partition_count(topic);
  rd_kafka_topic_t* t = rd_kafka_topic_new(p.rk, topic.c_str(), nullptr);
  for (uint64_t i = first; i < first + count; ++i) {
    std::string v = value(i);
    std::optional<std::string> k = key ? key(i) : std::nullopt;
    for (;;) {
      int rc = rd_kafka_produce(t, int32_t(i % uint64_t(partitions)), RD_KAFKA_MSG_F_COPY, v.data(), v.size(), k ? k->data() : nullptr,
                                k ? k->size() : 0, nullptr);
      if (rc == 0) break;
      if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) fail("produce to " + topic, rd_kafka_last_error());
      rd_kafka_poll(p.rk, 10);
    }
  }
  if (auto err = rd_kafka_flush(p.rk, 120000)) fail("flush to " + topic, err);
  rd_kafka_topic_destroy(t);
  if (failed) fail(std::to_string(failed.load()) + " message(s) to " + topic + " were not delivered");
}

std::pair<int64_t, int64_t> KafkaCluster::watermarks(const std::string& topic, int32_t partition) {
  int64_t low = 0, high = 0;
  if (auto err = rd_kafka_query_watermark_offsets(impl_->admin.rk, topic.c_str(), partition, &low, &high, 10000))
    fail("watermarks of " + topic + "-" + std::to_string(partition), err);
  return {low, high};
}

void KafkaCluster::require_nothing_evicted(const std::string& topic) {
  for (int32_t p = 0, n = partition_count(topic); p < n; ++p)
    if (auto [low, high] = watermarks(topic, p); low != 0)
      fail(topic + "-" + std::to_string(p) + " lost its oldest messages to the mock broker's size cap (low watermark " + std::to_string(low) +
           " of " + std::to_string(high) + "): the test's data is too big for the mock; use fewer bytes per partition");
}

std::vector<KafkaMessage> KafkaCluster::read_all(const std::string& topic) {
  Handle c;
  c.rk = client(RD_KAFKA_CONSUMER,
                {{"bootstrap.servers", bootstrap_}, {"group.id", "sluice-test-reader"}, {"enable.auto.commit", "false"}, {"log_level", "3"}});
  int32_t partitions = partition_count(topic);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  std::map<int32_t, int64_t> ends;
  for (int32_t p = 0; p < partitions; ++p) {
    auto [low, high] = watermarks(topic, p);
    if (low < high) {
      rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = low;
      ends[p] = high;
    }
  }
  std::vector<KafkaMessage> out;
  if (!ends.empty()) {
    if (auto err = rd_kafka_assign(c.rk, list)) fail("assign " + topic, err);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    while (!ends.empty()) {
      if (std::chrono::steady_clock::now() > deadline) fail("reading " + topic + " did not finish within 3 minutes");
      rd_kafka_message_t* m = rd_kafka_consumer_poll(c.rk, 200);
      if (!m) continue;
      if (m->err) {
        std::string what = rd_kafka_message_errstr(m);
        rd_kafka_message_destroy(m);
        fail("reading " + topic + ": " + what);
      }
      KafkaMessage km;
      km.topic = topic;
      km.partition = m->partition;
      km.offset = m->offset;
      if (m->key) km.key = std::string(static_cast<const char*>(m->key), m->key_len);
      if (m->payload) km.value.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* v;
        size_t len;
        for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &v, &len) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
          km.headers[name] = v ? std::string(static_cast<const char*>(v), len) : std::string();
      }
      if (auto it = ends.find(m->partition); it != ends.end() && m->offset + 1 >= it->second) ends.erase(it);
      rd_kafka_message_destroy(m);
      out.push_back(std::move(km));
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
  return out;
}

std::map<int32_t, int64_t> KafkaCluster::group_offsets(const std::string& group, const std::string& topic) {
  Handle c;
  c.rk = client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap_}, {"group.id", group}, {"enable.auto.commit", "false"}, {"log_level", "3"}});
  int32_t partitions = partition_count(topic);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int32_t p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
  auto err = rd_kafka_committed(c.rk, list, 10000);
  std::map<int32_t, int64_t> out;
  for (int i = 0; !err && i < list->cnt; ++i)
    if (list->elems[i].offset >= 0) out[list->elems[i].partition] = list->elems[i].offset;
  rd_kafka_topic_partition_list_destroy(list);
  if (err) fail("committed offsets of group " + group, err);
  return out;
}

void KafkaCluster::broker_down(int32_t broker) {
  if (auto err = rd_kafka_mock_broker_set_down(impl_->cluster, broker)) fail("broker " + std::to_string(broker) + " down", err);
}
void KafkaCluster::broker_up(int32_t broker) {
  if (auto err = rd_kafka_mock_broker_set_up(impl_->cluster, broker)) fail("broker " + std::to_string(broker) + " up", err);
}
void KafkaCluster::set_leader(const std::string& topic, int32_t partition, int32_t broker) {
  if (auto err = rd_kafka_mock_partition_set_leader(impl_->cluster, topic.c_str(), partition, broker))
    fail("leader of " + topic + "-" + std::to_string(partition), err);
}

std::string padded_json(uint64_t id, size_t size) {
  std::string v = "{\"id\":" + std::to_string(id) + ",\"pad\":\"";
  size_t used = v.size() + 2;
  v.append(size > used ? size - used : 0, char('a' + id % 26));
  v += "\"}";
  return v;
}

}  // namespace sluice::testing

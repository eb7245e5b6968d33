#pragma once
// A real Kafka wire-protocol cluster for tests: librdkafka's mock cluster, in the test process, on 127.0.0.1.
// Other processes (sluiced, kcat) reach it through bootstrap(). Facts that shape tests (../shared/FACTS.md):
// each partition keeps at most 5 MiB of batches (produce with lz4, check low watermarks before judging), there
// are no transaction markers, and a killed group member is noticed after about 2 x session.timeout.ms.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sluice::testing {

struct KafkaMessage {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;
  std::string value;
  std::map<std::string, std::string> headers;
};

class KafkaCluster {
 public:
  // positions_topic: create sluice_positions up front, as an operator would (the mock does not answer the
  // CreateTopics sluiced sends for a missing one, so each first start would wait for that to time out).
  explicit KafkaCluster(int brokers = 3, bool positions_topic = true);
  ~KafkaCluster();
  KafkaCluster(const KafkaCluster&) = delete;
  KafkaCluster& operator=(const KafkaCluster&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }
  void create_topic(const std::string& topic, int partitions, int replication = 1);
  int32_t partition_count(const std::string& topic);

  // Produces value(i) for i in [first, first + count) with lz4 and an idempotent producer; the message goes to
  // partition i % partitions (round-robin: even partitions), keyed by key(i) when given.
  void produce(const std::string& topic, uint64_t first, uint64_t count, const std::function<std::string(uint64_t)>& value,
               const std::function<std::optional<std::string>(uint64_t)>& key = {});
  // Every message of the topic, read from each partition's low watermark to its high watermark.
  std::vector<KafkaMessage> read_all(const std::string& topic);
  std::pair<int64_t, int64_t> watermarks(const std::string& topic, int32_t partition);
  // Fails the test if any partition of the topic lost its oldest batches to the mock's size cap.
  void require_nothing_evicted(const std::string& topic);
  // Offsets the group committed, by partition (absent: none).
  std::map<int32_t, int64_t> group_offsets(const std::string& group, const std::string& topic);

  void broker_down(int32_t broker);
  void broker_up(int32_t broker);
  void set_leader(const std::string& topic, int32_t partition, int32_t broker);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string bootstrap_;
};

// A value of about `size` bytes: a JSON object with "id" and padding, as test workloads use.
std::string padded_json(uint64_t id, size_t size = 200);

}  // namespace sluice::testing

// The kafka sink against a real Kafka wire-protocol broker (librdkafka's mock cluster in this process), run by the
// real sluiced: partitions as Kafka's own partitioner puts keys, topics from a field, position headers, and a
// crash after messages landed but before the commit, with and without transactions.
#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "kafka/client.hpp"
#include "sinks/kafka/origin_header.hpp"
#include "support/daemon_dir.hpp"
#include "support/kafka_cluster.hpp"
#include "support/test_support.hpp"

using namespace sluice::testing;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// Kafka's default partitioner (the Java client's Utils.murmur2), written from its definition: the oracle for
// "the same key lands on the same partition as any Kafka client would put it".
int32_t java_murmur2(const std::string& key) {
  const auto* data = reinterpret_cast<const uint8_t*>(key.data());
  const uint32_t m = 0x5bd1e995;
  const int length = int(key.size());
  uint32_t h = 0x9747b28c ^ uint32_t(length);
  for (int i = 0; i + 4 <= length; i += 4) {
    uint32_t k = uint32_t(data[i]) | uint32_t(data[i + 1]) << 8 | uint32_t(data[i + 2]) << 16 | uint32_t(data[i + 3]) << 24;
    k *= m;
    k ^= k >> 24;
    k *= m;
    h *= m;
    h ^= k;
  }
  int tail = length & ~3;
  switch (length % 4) {
    case 3: h ^= uint32_t(data[tail + 2]) << 16; [[fallthrough]];
    case 2: h ^= uint32_t(data[tail + 1]) << 8; [[fallthrough]];
    case 1:
      h ^= uint32_t(data[tail]);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return int32_t(h);
}

int32_t kafka_partition(const std::string& key, int32_t partitions) { return int32_t((uint32_t(java_murmur2(key)) & 0x7fffffff) % uint32_t(partitions)); }

std::string kafka_sink(const KafkaCluster& k, const std::string& topic, const std::string& extra = "") {
  return "sink:\n  type: kafka\n  brokers: \"" + k.bootstrap() + "\"\n  topic: " + topic + "\n" + extra +
         "  batch: { max_records: 2000, max_wait: 50ms }\n";
}

// Fails naming the first generated seq in [0, n) that the topic does not hold exactly once.
void require_seqs_exactly_once(KafkaCluster& k, const std::string& topic, uint64_t n) {
  k.require_nothing_evicted(topic);
  std::vector<std::string> lines;
  for (auto& m : k.read_all(topic)) lines.push_back(std::move(m.value));
  require_ids_exactly_once(lines, "seq", n);
}

// Every keyless message sits where runs of `sticky` sequence numbers per source partition, taking the partitions
// in turn, put it: the rotation's start (the partition of numbers 0 to sticky-1) is learnt from the messages
// and must be one per source partition.
void require_keyless_runs(const std::vector<KafkaMessage>& messages, uint64_t sticky, int32_t partitions) {
  std::map<std::string, int32_t> rotation_start;
  for (const auto& m : messages) {
    INFO("partition " << m.partition << " offset " << m.offset << ": " << m.value);
    REQUIRE_FALSE(m.key);
    REQUIRE(m.headers.count("sluice") == 1);
    auto origin = sluice::sinks::kafka::parse_origin(m.headers.at("sluice"));
    REQUIRE(origin);
    INFO("source partition " << origin->partition << ", sequence " << origin->sequence);
    const uint64_t n = uint64_t(partitions);
    int32_t start = int32_t((uint64_t(m.partition) + n - origin->sequence / sticky % n) % n);
    auto it = rotation_start.try_emplace(origin->partition, start).first;
    REQUIRE(it->second == start);
  }
}

}  // namespace

TEST_CASE("kafka sink: keyless records go in runs of sticky_records per source partition, the partitions in turn",
          "[kafka][kafka_sink]") {
  KafkaCluster k;
  k.create_topic("runs", 4);
  DaemonDir d;
  std::string a, b;
  for (int i = 0; i < 60; ++i) {
    a += "{\"id\":" + std::to_string(i) + "}\n";
    b += "{\"id\":" + std::to_string(100 + i) + "}\n";
  }
  write_file(d / "in/a.jsonl", a);
  write_file(d / "in/b.jsonl", b);
  d.pipeline("runs", "source: { type: file, path: " + (d / "in") + ", watch: false }\n" + kafka_sink(k, "runs", "  sticky_records: 7\n"));
  REQUIRE(run_sluiced({"run", "--config", d / "sluice.yaml", "--once"}, d / "sluiced.log") == 0);
  auto messages = k.read_all("runs");
  REQUIRE(messages.size() == 120);
  require_keyless_runs(messages, 7, 4);
  // Each file's 60 records make 8 runs of 7 and one of 4: its first partition gets 7 + 7 + 4, the others 7 + 7.
  std::map<std::string, std::map<int32_t, int>> per_file;
  for (const auto& m : messages) per_file[sluice::sinks::kafka::parse_origin(m.headers.at("sluice"))->partition][m.partition]++;
  REQUIRE(per_file.size() == 2);
  for (const auto& [file, partitions] : per_file) {
    INFO(file);
    std::multiset<int> counts;
    for (const auto& [partition, count] : partitions) counts.insert(count);
    CHECK(counts == std::multiset<int>{14, 14, 14, 18});
  }
}

// The sink's start records where each output partition ends (and a restart reads back from there), all
// partitions in one call: the answer must be each partition's own, whatever order the brokers answer in.
TEST_CASE("kafka client: watermarks() of partitions on several brokers match a query per partition", "[kafka][kafka_sink]") {
  KafkaCluster k;
  k.create_topic("marks", 6);
  k.create_topic("marks-other", 2);
  k.produce("marks", 0, 100, [](uint64_t i) { return padded_json(i, 50); });
  auto client = sluice::kafka::make_client(RD_KAFKA_PRODUCER, sluice::kafka::make_conf({{"bootstrap.servers", k.bootstrap()}}, {}));
  {
    // One request goes to each leader: the partitions asked must have more than one.
    const rd_kafka_metadata_t* md = nullptr;
    REQUIRE(rd_kafka_metadata(client.get(), 1, nullptr, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR);
    std::set<int32_t> leaders;
    for (int t = 0; t < md->topic_cnt; ++t)
      if (std::string(md->topics[t].topic).rfind("marks", 0) == 0)
        for (int p = 0; p < md->topics[t].partition_cnt; ++p) leaders.insert(md->topics[t].partitions[p].leader);
    rd_kafka_metadata_destroy(md);
    INFO("leaders of the partitions asked: " << leaders.size());
    REQUIRE(leaders.size() > 1);
  }
  std::vector<std::pair<std::string, int32_t>> partitions{{"marks-other", 1}, {"marks", 5}, {"marks-other", 0}};
  for (int32_t p = 4; p >= 0; --p) partitions.emplace_back("marks", p);
  auto marks = sluice::kafka::watermarks(client.get(), partitions, 10000, "test: ");
  REQUIRE(marks.size() == partitions.size());
  int64_t total = 0;
  for (size_t i = 0; i < partitions.size(); ++i) {
    INFO(partitions[i].first << "-" << partitions[i].second);
    auto [low, high] = k.watermarks(partitions[i].first, partitions[i].second);
    CHECK(marks[i].low == low);
    CHECK(marks[i].high == high);
    total += high - low;
  }
  CHECK(total == 100);
  auto ends = sluice::kafka::list_offsets(client.get(), partitions, RD_KAFKA_OFFSET_END, 10000, "test: ");
  for (size_t i = 0; i < partitions.size(); ++i) CHECK(ends[i] == marks[i].high);
  CHECK(marks[1].high == 16);  // round-robin: 100 messages over 6 partitions leave 16 in the last
  CHECK(marks[0].high == 0);
  REQUIRE_THROWS_WITH(sluice::kafka::watermarks(client.get(), {{"marks", 9}}, 3000, "test: "),
                      Catch::Contains("test: cannot read the start of marks-9"));
}

TEST_CASE("the test's murmur2 is Kafka's: the Java client's published values", "[kafka][kafka_sink]") {
  CHECK(java_murmur2("21") == -973932308);
  CHECK(java_murmur2("foobar") == -790332482);
  CHECK(java_murmur2("a-little-bit-long-string") == -985981536);
  CHECK(java_murmur2("a-little-bit-longer-string") == -1486304829);
  CHECK(java_murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") == -58897971);
  CHECK(java_murmur2("abc") == 479470107);
}

TEST_CASE("kafka sink: a key from a field lands on the partition Kafka's partitioner gives it, with the source position in headers",
          "[kafka][kafka_sink]") {
  KafkaCluster k;
  k.create_topic("users", 5);
  DaemonDir d;
  std::string input;
  for (int i = 0; i < 500; ++i) input += "{\"id\":" + std::to_string(i) + ",\"user\":\"u" + std::to_string(i % 37) + "\"}\n";
  input += "{\"id\":500}\n";  // no key field: no key, a partition that is still a pure function of the record
  write_file(d / "in/users.jsonl", input);
  d.pipeline("users", "source: { type: file, path: " + (d / "in") + ", watch: false }\n" + kafka_sink(k, "users", "  key_field: user\n"));
  REQUIRE(run_sluiced({"run", "--config", d / "sluice.yaml", "--once"}, d / "sluiced.log") == 0);

  auto messages = k.read_all("users");
  std::vector<std::string> values;
  std::map<std::string, std::vector<uint64_t>> sequences;  // by source partition
  for (const auto& m : messages) {
    INFO("partition " << m.partition << " offset " << m.offset << ": " << m.value);
    values.push_back(m.value);
    json::object o = json::parse(m.value).as_object();
    if (o.contains("user")) {
      REQUIRE(m.key);
      CHECK(*m.key == o.at("user").as_string());
      CHECK(m.partition == kafka_partition(*m.key, 5));
    } else {
      CHECK_FALSE(m.key);
    }
    REQUIRE(m.headers.count("sluice") == 1);
    CHECK(m.headers.at("sluice").starts_with("users|"));
    auto origin = sluice::sinks::kafka::parse_origin(m.headers.at("sluice"));
    REQUIRE(origin);
    CHECK(origin->pipeline == "users");
    CHECK(origin->instance.size() == 32);
    CHECK_FALSE(origin->partition.empty());
    CHECK_FALSE(origin->position.empty());
    sequences[origin->partition].push_back(origin->sequence);
  }
  require_ids_exactly_once(values, "id", 501);
  // Each source partition's records are numbered 0, 1, 2, ... without gaps or repeats.
  size_t numbered = 0;
  for (auto& [partition, numbers] : sequences) {
    std::sort(numbers.begin(), numbers.end());
    for (size_t i = 0; i < numbers.size(); ++i) REQUIRE(numbers[i] == i);
    numbered += numbers.size();
  }
  CHECK(numbered == 501);
}

TEST_CASE("kafka sink: topic_field routes each record, records without the field go to topic", "[kafka][kafka_sink]") {
  KafkaCluster k;
  for (const char* t : {"eu", "us", "fallback"}) k.create_topic(t, 2);
  DaemonDir d;
  write_file(d / "in/r.jsonl", "{\"id\":0,\"region\":\"eu\"}\n{\"id\":1,\"region\":\"us\"}\n{\"id\":2}\n{\"id\":3,\"region\":\"eu\"}\n");
  d.pipeline("route", "source: { type: file, path: " + (d / "in") + ", watch: false }\n" + kafka_sink(k, "fallback", "  topic_field: region\n"));
  REQUIRE(run_sluiced({"run", "--config", d / "sluice.yaml", "--once"}, d / "sluiced.log") == 0);
  auto ids = [&](const std::string& topic) {
    std::multiset<uint64_t> out;
    for (const auto& m : k.read_all(topic)) out.insert(*field_number(m.value, "id"));
    return out;
  };
  CHECK(ids("eu") == std::multiset<uint64_t>{0, 3});
  CHECK(ids("us") == std::multiset<uint64_t>{1});
  CHECK(ids("fallback") == std::multiset<uint64_t>{2});
}

TEST_CASE("kafka sink: messages acknowledged but not committed before a crash are recognised on restart and not written again",
          "[kafka][kafka_sink]") {
  const bool transactional = GENERATE(false, true);
  INFO("transactional: " << transactional);
  KafkaCluster k;
  k.create_topic("gen", 6);
  DaemonDir d;
  const uint64_t n = 20000;
  d.pipeline("gen", "source: { type: generate, count: 20000, rate: 0, seed: 3 }\n" +
                        kafka_sink(k, "gen", transactional ? "  transactional: true\n" : ""));
  // Dies on the third commit after every message of its batch was acknowledged, before the state write.
  int rc = run_sluiced({"run", "--config", d / "sluice.yaml", "--once"}, d / "sluiced.log", 2min, {"SLUICE_CRASH_AT=commit.before_state_write:3"});
  INFO(d.log());
  uint64_t landed = k.read_all("gen").size();
  CHECK(landed >= 3 * 1000);  // the crashed batch's messages are in the topic
  REQUIRE(rc == 86);  // the crash point, not another failure
  REQUIRE(run_sluiced({"run", "--config", d / "sluice.yaml", "--once"}, d / "sluiced.log") == 0);
  // The restart read back what landed after its last commit: the crashed batch, all of it this pipeline's.
  std::string log = d.log();
  auto at = log.find("kafka sink: read back ");
  REQUIRE(at != std::string::npos);
  CHECK(log.find(" 0 of them this pipeline's", at) == std::string::npos);
  require_seqs_exactly_once(k, "gen", n);
  // The replay put each record where the run before the crash would have.
  require_keyless_runs(k.read_all("gen"), 4096, 6);
}

// End-to-end: the real sluiced process reads from and writes to a real Kafka wire-protocol broker (librdkafka's
// mock cluster in this process) and is SIGKILLed at random moments; every message must arrive exactly once.
// Output topics are read back with kcat, an independent client.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "support/daemon_dir.hpp"
#include "support/kafka_cluster.hpp"
#include "support/test_support.hpp"

using namespace sluice::testing;
using namespace std::chrono_literals;

namespace {

// A killed member is noticed after about 2 x session.timeout.ms - 1.5 s (FACTS.md): seconds, not minutes. Not less
// than 3 s: the mock holds a group's first join for 3 s and drops a member whose session ends meanwhile, so with a
// shorter session the first join never completes.
const std::string kFastGroup = "librdkafka: { session.timeout.ms: 3000, heartbeat.interval.ms: 500";

std::string kafka_source(const KafkaCluster& k, const std::string& topic, const std::string& group, const std::string& more_librdkafka = "") {
  return "source:\n  type: kafka\n  brokers: \"" + k.bootstrap() + "\"\n  topics: [" + topic + "]\n  group_id: " + group + "\n  " + kFastGroup +
         more_librdkafka + " }\n";
}

// Every message of the topic, from the beginning, one non-empty line each in kcat's -f `format`.
std::vector<std::string> kcat_lines(const KafkaCluster& k, const std::string& topic, const std::string& format) {
  auto r = run_command({"kcat", "-C", "-b", k.bootstrap(), "-t", topic, "-e", "-q", "-o", "beginning", "-f", format});
  INFO(r.output.substr(0, 2000));
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> lines;
  for (size_t at = 0; at < r.output.size();) {
    size_t nl = r.output.find('\n', at);
    if (nl == std::string::npos) nl = r.output.size();
    if (nl > at) lines.push_back(r.output.substr(at, nl - at));
    at = nl + 1;
  }
  return lines;
}

std::vector<std::string> kcat_values(const KafkaCluster& k, const std::string& topic) { return kcat_lines(k, topic, "%s\n"); }

size_t kcat_count(const KafkaCluster& k, const std::string& topic) { return kcat_values(k, topic).size(); }

// Each message's kcat -f `prefix` (partition, offset, header...), by the id in its value's `field`, in topic order.
std::map<uint64_t, std::vector<std::string>> copies_by_id(const KafkaCluster& k, const std::string& topic, const std::string& field,
                                                          const std::string& prefix) {
  std::map<uint64_t, std::vector<std::string>> copies;
  for (const std::string& line : kcat_lines(k, topic, prefix + "\t%s\n")) {
    size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    if (auto id = field_number(line.substr(tab + 1), field)) copies[*id].push_back(line.substr(0, tab));
  }
  return copies;
}

// Every message of the topic holds its record exactly once. On failure, says where each copy of the first
// ids that are not there once sits (partition, offset, the sink's origin header), and what the daemon's
// read-backs found: enough to tell a replay the read-back missed from a message the broker kept twice.
void require_topic_exactly_once(const KafkaCluster& k, const std::string& topic, const std::string& field, uint64_t n,
                                const std::string& log) {
  auto values = kcat_values(k, topic);
  std::map<uint64_t, size_t> count;
  for (const auto& v : values)
    if (auto id = field_number(v, field)) count[*id]++;
  std::set<uint64_t> wrong;
  for (uint64_t i = 0; i < n && wrong.size() < 5; ++i)
    if (count[i] != 1) wrong.insert(i);
  std::string where;
  if (!wrong.empty()) {
    auto copies = copies_by_id(k, topic, field, "%p %o %T %h");
    for (uint64_t id : wrong)
      for (const std::string& copy : copies[id])
        where += field + " " + std::to_string(id) + ": partition offset timestamp header = " + copy + "\n";
    for (size_t at = 0; (at = log.find("read back", at)) != std::string::npos; ++at) {
      size_t start = log.rfind('\n', at);
      start = start == std::string::npos ? 0 : start + 1;
      where += log.substr(start, log.find('\n', at) - start) + "\n";  // npos - start: to the end
    }
  }
  INFO(where);
  require_ids_exactly_once(values, field, n);
}

// Every id in [0, n) is in the topic; one that is there more than once has the same partition and origin header on
// every copy. For a run that never failed (no replay), such a copy is the idempotent producer's own retry after a
// lost connection, which a real broker drops by its sequence number and librdkafka 2.0.2's mock cluster
// stores again (it checks sequence numbers only for transactional producers, rdkafka_mock.c). Copies with
// different headers would be records sluice numbered and produced twice.
void require_topic_every_record(const KafkaCluster& k, const std::string& topic, const std::string& field, uint64_t n) {
  auto headers = copies_by_id(k, topic, field, "%p %o %h");
  size_t retried = 0;
  for (uint64_t i = 0; i < n; ++i) {
    auto it = headers.find(i);
    INFO(field << " " << i);
    REQUIRE(it != headers.end());
    const auto& copies = it->second;
    if (copies.size() == 1) continue;
    ++retried;
    // "partition offset header": a retry goes to the same partition, with the same header, at another offset.
    auto where_from = [](const std::string& copy) {
      size_t offset_end = copy.find(' ', copy.find(' ') + 1);
      return copy.substr(0, copy.find(' ')) + copy.substr(offset_end);
    };
    std::string all;
    for (const auto& c : copies) all += c + "\n";
    INFO("copies (partition offset header):\n" << all);
    for (const auto& c : copies) REQUIRE(where_from(c) == where_from(copies.front()));
  }
  if (retried) WARN(retried << " record(s) of " << topic << " stored twice by the mock after a producer retry");
}

// Starts d, waits until its run has partitions assigned (the `assigned` log line, counted from `before`) and, with
// from_first_commit, until the run has committed, lets it work for a random moment, and SIGKILLs it. Counting
// from the first commit keeps the kill mid-stream however slowly a loaded machine or a sanitizer build gets there.
void kill_after_assignment(DaemonDir& d, std::mt19937& rng, std::chrono::milliseconds min_delay, std::chrono::milliseconds max_delay,
                           bool from_first_commit) {
  size_t before = count_occurrences(d.log(), "kafka: assigned");
  d.start();
  d.wait_log("kafka: assigned", before + 1, 90s);
  if (from_first_commit) {
    bool committed = wait_for_first_commit(d.http_address(), [&] { return d.running(); });
    INFO(d.log());
    REQUIRE(committed);
  }
  std::uniform_int_distribution<int64_t> delay(min_delay.count(), max_delay.count());
  std::this_thread::sleep_for(std::chrono::milliseconds(delay(rng)));
  d.kill();
}

void wait_for_lines(const std::vector<const DaemonDir*>& dirs, size_t n, std::chrono::milliseconds timeout) {
  auto total = [&] {
    size_t sum = 0;
    for (const auto* d : dirs) sum += all_part_lines(*d / "out");
    return sum;
  };
  bool ok = wait_until([&] { return total() >= n; }, timeout, 250ms);
  std::string logs;
  for (const auto* d : dirs) logs += d->path() + ":\n" + d->log().substr(0, 20000) + "\n";
  INFO("waiting for " << n << " records; have " << total() << "\n" << logs);
  REQUIRE(ok);
}

}  // namespace

TEST_CASE("kafka to file: 1M messages on 24 partitions survive 10 SIGKILLs of sluiced with every message exactly once", "[e2e][kafka]") {
  const uint64_t n = sanitizer_build() ? 200000 : 1000000;
  const int kills = sanitizer_build() ? 4 : 10;
  KafkaCluster k;
  k.create_topic("stream", 24);
  k.produce("stream", 0, n, [](uint64_t i) { return padded_json(i); });
  k.require_nothing_evicted("stream");

  DaemonDir d;
  // Paced so that the kills land while data flows: about 40 s of reading in all.
  d.pipeline("stream", kafka_source(k, "stream", "g-stream") + "  rate_limit: { rate: " + std::to_string(n / 40) +
                           " }\nsink: { type: file, path: " + (d / "out") +
                           ", format: jsonl, roll: { max_bytes: 8MiB }, batch: { max_records: 5000, max_wait: 100ms } }\n");
  std::mt19937 rng(11);
  for (int i = 0; i < kills; ++i) kill_after_assignment(d, rng, 500ms, 3500ms, i % 2 == 1);
  CHECK(count_occurrences(d.log(), "resuming from") >= size_t(kills / 2));
  d.start();
  wait_for_lines({&d}, n, 5min);
  d.stop();
  require_ids_exactly_once(finished_part_lines(d / "out"), "id", n);
  CHECK(in_progress_parts(d / "out").empty());
  k.require_nothing_evicted("stream");
}

namespace {

// Two sluiced in one group over 12 partitions, `b` killed and restarted again and again while `a` runs.
void two_instances_one_killed(const std::string& strategy) {
  INFO("partition.assignment.strategy: " << strategy);
  // The sanitizer build proves the same paths on less data (it pays for every record many times over).
  const uint64_t n = sanitizer_build() ? 120000 : 240000;
  const int kills = sanitizer_build() ? 3 : 6;
  KafkaCluster k;
  k.create_topic("shared", 12);
  k.produce("shared", 0, n, [](uint64_t i) { return padded_json(i); });

  DaemonDir a, b;
  for (DaemonDir* d : {&a, &b})
    d->pipeline("shared", kafka_source(k, "shared", "g-shared", ", partition.assignment.strategy: \"" + strategy + "\"") +
                              "  rate_limit: { rate: 2500 }\nsink: { type: file, path: " + (*d / "out") +
                              ", format: jsonl, batch: { max_records: 2000, max_wait: 100ms } }\n");
  a.start();
  a.wait_log("kafka: assigned", 1, 60s);
  std::mt19937 rng(strategy.size());
  for (int i = 0; i < kills; ++i) {
    kill_after_assignment(b, rng, 2000ms, 5000ms, i % 2 == 1);
    REQUIRE(a.running());
  }
  b.start();
  wait_for_lines({&a, &b}, n, 5min);
  a.stop();
  b.stop();
  auto lines = finished_part_lines(a / "out");
  auto from_b = finished_part_lines(b / "out");
  INFO("a wrote " << lines.size() << ", b wrote " << from_b.size());
  CHECK(lines.size() > 0);
  CHECK(from_b.size() > 0);
  lines.insert(lines.end(), from_b.begin(), from_b.end());
  require_ids_exactly_once(lines, "id", n);
  k.require_nothing_evicted("shared");
}

}  // namespace

// Each variant of the long tests below is a test case of its own, so that CTest runs them side by side.
TEST_CASE("kafka to file: two sluiced in one group (eager assignment), one killed and restarted again and again: their outputs together "
          "hold every message exactly once",
          "[e2e][kafka]") {
  two_instances_one_killed("range,roundrobin");
}

TEST_CASE("kafka to file: two sluiced in one group (cooperative-sticky), one killed and restarted again and again: their outputs together "
          "hold every message exactly once",
          "[e2e][kafka]") {
  two_instances_one_killed("cooperative-sticky");
}

namespace {

void generate_to_kafka_with_kills(bool transactional) {
  INFO("transactional: " << transactional);
  REQUIRE(on_path("kcat"));
  const uint64_t n = sanitizer_build() ? 150000 : 300000;
  const int kills = sanitizer_build() ? 4 : 10;
  KafkaCluster k;
  k.create_topic("generated", 16);
  DaemonDir d;
  d.pipeline("gen", "source: { type: generate, count: " + std::to_string(n) + ", rate: 10000, seed: 5 }\n"
                    "sink:\n  type: kafka\n  brokers: \"" + k.bootstrap() + "\"\n  topic: generated\n  key_field: key\n" +
                        (transactional ? "  transactional: true\n" : "") + "  batch: { max_records: 4000, max_wait: 100ms }\n");
  run_with_kills(d.path(), kills, 700ms, 2500ms, transactional ? 21 : 22);
  k.require_nothing_evicted("generated");
  require_topic_exactly_once(k, "generated", "seq", n, d.log());
}

}  // namespace

TEST_CASE("generate to kafka survives 10 SIGKILLs: the whole output topic, read by kcat, holds every record exactly once", "[e2e][kafka]") {
  generate_to_kafka_with_kills(false);
}

TEST_CASE("generate to kafka with transactional: true survives 10 SIGKILLs: the whole output topic, read by kcat, holds every record "
          "exactly once",
          "[e2e][kafka]") {
  generate_to_kafka_with_kills(true);
}

namespace {

void kafka_to_kafka_with_kills(bool transactional) {
  INFO("transactional: " << transactional);
  REQUIRE(on_path("kcat"));
  const uint64_t n = sanitizer_build() ? 150000 : 300000;
  const int kills = sanitizer_build() ? 4 : 10;
  KafkaCluster k;
  k.create_topic("input", 8);
  k.create_topic("output", 12);
  k.produce("input", 0, n, [](uint64_t i) { return padded_json(i); });
  DaemonDir d;
  d.pipeline("relay", kafka_source(k, "input", "g-relay") + "  rate_limit: { rate: 10000 }\n"
                      "sink:\n  type: kafka\n  brokers: \"" + k.bootstrap() + "\"\n  topic: output\n" +
                          (transactional ? "  transactional: true\n" : "") + "  batch: { max_records: 4000, max_wait: 100ms }\n");
  std::mt19937 rng(transactional ? 31 : 32);
  for (int i = 0; i < kills; ++i) kill_after_assignment(d, rng, 500ms, 3000ms, i % 2 == 1);
  d.start();
  bool done = wait_until([&] { return kcat_count(k, "output") >= n || !d.running(); }, 5min, 1s);
  INFO(d.log());
  REQUIRE(done);
  d.stop();
  k.require_nothing_evicted("input");
  k.require_nothing_evicted("output");
  require_topic_exactly_once(k, "output", "id", n, d.log());
}

}  // namespace

TEST_CASE("kafka to kafka survives 10 SIGKILLs: the whole output topic, read by kcat, holds every input message exactly once", "[e2e][kafka]") {
  kafka_to_kafka_with_kills(false);
}

TEST_CASE("kafka to kafka with transactional: true survives 10 SIGKILLs: the whole output topic, read by kcat, holds every input message "
          "exactly once",
          "[e2e][kafka]") {
  kafka_to_kafka_with_kills(true);
}

TEST_CASE("a broker down and up, and partition leaders moving, mid-stream: kafka to file and generate to kafka recover by themselves",
          "[e2e][kafka]") {
  const uint64_t n = 120000;
  KafkaCluster k(3);
  k.create_topic("in", 6, 3);
  k.create_topic("gen", 6, 3);
  k.produce("in", 0, n, [](uint64_t i) { return padded_json(i); });
  DaemonDir d;
  d.pipeline("read", kafka_source(k, "in", "g-outage") + "  rate_limit: { rate: 4000 }\nsink: { type: file, path: " + (d / "out") +
                         ", format: jsonl, batch: { max_wait: 100ms } }\n");
  d.pipeline("write", "source: { type: generate, count: " + std::to_string(n) + ", rate: 4000, seed: 8 }\n"
                      "sink: { type: kafka, brokers: \"" + k.bootstrap() + "\", topic: gen, batch: { max_wait: 100ms } }\n");
  d.start();
  d.wait_log("kafka: assigned 6 partition(s)");
  std::this_thread::sleep_for(3s);
  for (int32_t broker : {1, 2}) {
    k.broker_down(broker);
    std::this_thread::sleep_for(4s);
    k.broker_up(broker);
    std::this_thread::sleep_for(3s);
  }
  for (int32_t p = 0; p < 6; ++p) {
    k.set_leader("in", p, 1 + (p + 1) % 3);
    k.set_leader("gen", p, 1 + (p + 2) % 3);
  }
  wait_for_lines({&d}, n, 3min);
  bool written = wait_until([&] { return kcat_count(k, "gen") >= n || !d.running(); }, 3min, 1s);
  INFO(d.log());
  REQUIRE(written);
  CHECK(count_occurrences(d.log(), "pipeline failed") == 0);
  d.stop();
  k.require_nothing_evicted("in");
  k.require_nothing_evicted("gen");
  require_ids_exactly_once(finished_part_lines(d / "out"), "id", n);
  // No pipeline failed, so nothing was replayed: every record once, or again as the producer's own retry.
  require_topic_every_record(k, "gen", "seq", n);
}

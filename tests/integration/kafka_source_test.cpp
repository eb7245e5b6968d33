// The kafka source against a real Kafka wire-protocol broker (librdkafka's mock cluster in this process), run by
// the real sluiced: values untouched, metadata records, dead letters for bad JSON, pattern subscriptions,
// resumption at the committed offsets, a slow sink that must not cause a rebalance, and refused settings.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "support/daemon_dir.hpp"
#include "support/kafka_cluster.hpp"
#include "support/test_support.hpp"

using namespace sluice::testing;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// Group membership settings for tests: a killed or stopped member is noticed within seconds (FACTS.md).
const std::string kFastGroup = "librdkafka: { session.timeout.ms: 3000, heartbeat.interval.ms: 500 }";

std::string kafka_source(const KafkaCluster& k, const std::string& topics, const std::string& group, const std::string& extra = "") {
  return "source:\n  type: kafka\n  brokers: \"" + k.bootstrap() + "\"\n  topics: " + topics + "\n  group_id: " + group + "\n  " + kFastGroup +
         "\n" + extra;
}

std::string file_sink(const DaemonDir& d, const std::string& name) {
  return "sink: { type: file, path: " + (d / ("out/" + name)) + ", format: jsonl, batch: { max_wait: 50ms } }\n";
}

void wait_lines(const DaemonDir& d, const std::string& name, size_t n, std::chrono::milliseconds timeout = 60s) {
  bool ok = wait_until([&] { return all_part_lines(d / ("out/" + name)) >= n || !d.running(); }, timeout, 100ms);
  INFO("waiting for " << n << " records in out/" << name << "; log:\n" << d.log());
  REQUIRE(all_part_lines(d / ("out/" + name)) >= n);
  REQUIRE(ok);
}

void kcat_produce(const KafkaCluster& k, const std::string& topic, int32_t partition, const std::string& keyed_lines,
                  const std::vector<std::string>& headers = {}) {
  std::vector<std::string> args{"kcat", "-P", "-b", k.bootstrap(), "-t", topic, "-p", std::to_string(partition), "-K", "|"};
  for (const auto& h : headers) args.insert(args.end(), {"-H", h});
  auto r = run_command(args, keyed_lines);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
}

}  // namespace

TEST_CASE("kafka source: raw values pass through byte for byte, and metadata wraps them with topic, partition, offset, key, headers, timestamp",
          "[kafka][kafka_source]") {
  REQUIRE(on_path("kcat"));
  KafkaCluster k;
  k.create_topic("events", 3);
  std::set<std::string> values;
  for (int32_t p = 0; p < 3; ++p) {
    std::string lines;
    for (int i = 0; i < 10; ++i) {
      // Not JSON, with bytes a parser would choke on: raw must not look inside.
      std::string value = "p" + std::to_string(p) + " msg " + std::to_string(i) + " \t{not json\x01";
      values.insert(value);
      lines += "key-" + std::to_string(p) + "-" + std::to_string(i) + "|" + value + "\n";
    }
    kcat_produce(k, "events", p, lines, {"trace=abc", "origin=test"});
  }
  DaemonDir d;
  d.pipeline("raw", kafka_source(k, "[events]", "g-raw") + file_sink(d, "raw"));
  d.pipeline("meta", kafka_source(k, "[events]", "g-meta", "  metadata: true\n") + file_sink(d, "meta"));
  d.start();
  wait_lines(d, "raw", 30);
  wait_lines(d, "meta", 30);
  d.stop();

  auto raw = finished_part_lines(d / "out/raw");
  CHECK(std::set<std::string>(raw.begin(), raw.end()) == values);
  CHECK(raw.size() == 30);

  auto meta = finished_part_lines(d / "out/meta");
  REQUIRE(meta.size() == 30);
  std::set<std::string> wrapped_values;
  for (const auto& line : meta) {
    INFO(line);
    json::object o = json::parse(line).as_object();
    CHECK(o.at("topic") == "events");
    int64_t partition = o.at("partition").as_int64();
    int64_t offset = o.at("offset").as_int64();
    CHECK(o.at("key") == json::string("key-" + std::to_string(partition) + "-" + std::to_string(offset)));
    CHECK(o.at("headers") == json::parse(R"({"trace":"abc","origin":"test"})"));
    CHECK(o.at("timestamp").as_int64() > 1'700'000'000'000);
    wrapped_values.insert(std::string(o.at("value").as_string()));
  }
  CHECK(wrapped_values == values);
}

TEST_CASE("kafka source: with format json a message that is not a JSON object is dead-lettered with topic, partition, offset and reason, "
          "and the partition keeps flowing",
          "[kafka][kafka_source]") {
  REQUIRE(on_path("kcat"));
  KafkaCluster k;
  k.create_topic("orders", 2);
  kcat_produce(k, "orders", 0, "a|{\"id\":0}\nb|this is not json\nc|{\"id\":1}\nd|[1,2,3]\ne|{\"id\":2}\n");
  kcat_produce(k, "orders", 1, "f|{\"id\":3}\ng|{\"id\": oops}\nh|{\"id\":4}\n");
  DaemonDir d;
  d.pipeline("orders", kafka_source(k, "[orders]", "g-json", "  format: json\n  metadata: false\n") +
                           "dead_letter: { path: " + (d / "dead") + " }\n" + file_sink(d, "orders"));
  d.start();
  wait_lines(d, "orders", 5);
  d.stop();
  require_ids_exactly_once(finished_part_lines(d / "out/orders"), "id", 5);

  auto dead = finished_part_lines(d / "dead");
  REQUIRE(dead.size() == 3);
  std::set<std::string> where;
  for (const auto& line : dead) {
    INFO(line);
    json::object o = json::parse(line).as_object();
    CHECK(o.at("topic") == "orders");
    CHECK_FALSE(o.at("reason").as_string().empty());
    where.insert(std::to_string(o.at("partition").as_int64()) + "@" + std::to_string(o.at("offset").as_int64()) + ":" +
                 std::string(o.at("original").as_string()));
  }
  CHECK(where == std::set<std::string>{"0@1:this is not json", "0@3:[1,2,3]", "1@1:{\"id\": oops}"});
}

TEST_CASE("kafka source: a ^pattern subscribes to every matching topic and no other", "[kafka][kafka_source]") {
  KafkaCluster k;
  for (const char* t : {"logs-a", "logs-b", "other"}) k.create_topic(t, 2);
  k.produce("logs-a", 0, 100, [](uint64_t i) { return padded_json(i, 60); });
  k.produce("logs-b", 100, 100, [](uint64_t i) { return padded_json(i, 60); });
  k.produce("other", 200, 100, [](uint64_t i) { return padded_json(i, 60); });
  DaemonDir d;
  d.pipeline("logs", kafka_source(k, "[\"^logs-.*\"]", "g-pattern") + file_sink(d, "logs"));
  d.start();
  wait_lines(d, "logs", 200);
  // Anything from `other` would have come with the rest; give it a moment to show up if it is coming.
  std::this_thread::sleep_for(1s);
  d.stop();
  require_ids_exactly_once(finished_part_lines(d / "out/logs"), "id", 200);
}

TEST_CASE("kafka source: a restart resumes at the committed offsets, and the group's offsets follow the durable commits",
          "[kafka][kafka_source]") {
  KafkaCluster k(3, /*positions_topic=*/false);
  k.create_topic("in", 4);
  k.produce("in", 0, 2000, [](uint64_t i) { return padded_json(i, 100); });
  DaemonDir d;
  d.pipeline("p", kafka_source(k, "[in]", "g-resume") + file_sink(d, "p"));
  d.start();
  wait_lines(d, "p", 2000);
  d.stop();
  k.produce("in", 2000, 2000, [](uint64_t i) { return padded_json(i, 100); });
  d.start();
  d.wait_log("kafka: assigned 4 partition(s)", 2);
  CHECK(count_occurrences(d.log(), "@start") == 4);  // the first run only: the second starts at committed offsets
  // The mock cannot create topics by request: sluiced says what to do and goes on with an auto-created one.
  CHECK(count_occurrences(d.log(), "cannot create positions topic 'sluice_positions'") == 1);
  wait_lines(d, "p", 4000);
  d.stop();
  require_ids_exactly_once(finished_part_lines(d / "out/p"), "id", 4000);
  auto offsets = k.group_offsets("g-resume", "in");
  for (int32_t p = 0; p < 4; ++p) {
    INFO("partition " << p);
    CHECK(offsets[p] == k.watermarks("in", p).second);
  }
}

TEST_CASE("kafka source: a sink slower than max.poll.interval.ms per batch causes no rebalance and loses nothing", "[kafka][kafka_source]") {
  KafkaCluster k;
  k.create_topic("slow", 2);
  const uint64_t n = 3000;
  k.produce("slow", 0, n, [](uint64_t i) { return padded_json(i, 100); });
  DaemonDir d;
  // Each commit takes 7 s, longer than max.poll.interval.ms (6 s); the queue holds less than a batch, so the
  // source must pause its partitions and keep polling while the sink works.
  d.pipeline("slow", "source:\n  type: kafka\n  brokers: \"" + k.bootstrap() +
                         "\"\n  topics: [slow]\n  group_id: g-slow\n"
                         "  librdkafka: { session.timeout.ms: 3000, heartbeat.interval.ms: 500, max.poll.interval.ms: 6000 }\n"
                         "queue: { max_records: 500 }\n"
                         "sink: { type: file, path: " +
                             (d / "out/slow") + ", format: jsonl, batch: { max_records: 1000, max_wait: 50ms } }\n");
  d.start({"SLUICE_SLOW_AT=commit.before_state_write@slow:7000"});
  d.wait_log("kafka: assigned 2 partition(s)");
  bool done = wait_until([&] { return all_part_lines(d / "out/slow") >= n || !d.running(); }, 120s, 200ms);
  INFO(d.log());
  REQUIRE(done);
  CHECK(d.metric("sluice_kafka_rebalances_total{kind=\"revoke\",pipeline=\"slow\"}") == 0);
  CHECK(d.metric("sluice_kafka_rebalances_total{kind=\"assign\",pipeline=\"slow\"}") == 1);
  CHECK(count_occurrences(d.log(), "kafka: assigned") == 1);
  CHECK(d.metric("sluice_kafka_pauses_total{pipeline=\"slow\"}") >= 1);
  // Lag per partition, and librdkafka's own view of the brokers (its statistics come every 5 s).
  CHECK(d.metric_lines("sluice_kafka_consumer_lag_messages{partition=\"0\",pipeline=\"slow\",topic=\"slow\"}").size() == 1);
  auto up = d.metric_lines("sluice_kafka_broker_up{");
  INFO("broker_up series:\n" << [&] { std::string all; for (const auto& l : up) all += l + "\n"; return all; }());
  CHECK(up.size() == 3);
  CHECK(std::count_if(up.begin(), up.end(), [](const std::string& line) { return line.ends_with("} 1"); }) >= 1);
  CHECK(d.metric_lines("sluice_kafka_broker_rtt_seconds{").size() == 3);
  CHECK(d.metric_lines("sluice_kafka_client_queued_messages{client=\"consumer\",pipeline=\"slow\"}").size() == 1);
  d.stop(120s);
  require_ids_exactly_once(finished_part_lines(d / "out/slow"), "id", n);
}

TEST_CASE("kafka source and sink: librdkafka settings that would break the guarantees are refused, naming the key and the line",
          "[kafka][config]") {
  TempDir dir;
  struct Case {
    std::string yaml, expect;
  };
  for (const auto& c : std::vector<Case>{
           {"source: { type: kafka, brokers: \"b:9092\", topics: [t], group_id: g, librdkafka: { enable.auto.commit: true } }\n"
            "sink: { type: blackhole }\n",
            "librdkafka setting 'enable.auto.commit' is not allowed"},
           {"source: { type: kafka, brokers: \"b:9092\", topics: [t], group_id: g, librdkafka: { enable.auto.offset.store: true } }\n"
            "sink: { type: blackhole }\n",
            "librdkafka setting 'enable.auto.offset.store' is not allowed"},
           {"source: { type: generate, count: 1 }\n"
            "sink: { type: kafka, brokers: \"b:9092\", topic: t, librdkafka: { enable.idempotence: false } }\n",
            "librdkafka setting 'enable.idempotence' is not allowed"},
           {"source: { type: generate, count: 1 }\nsink: { type: kafka, brokers: \"b:9092\", topic: t, librdkafka: { acks: 1 } }\n",
            "librdkafka setting 'acks' is not allowed"},
           {"source: { type: kafka, brokers: \"b:9092\", topics: [], group_id: g }\nsink: { type: blackhole }\n", "topics must name"},
       }) {
    write_file(dir / "p.yaml", c.yaml);
    auto r = run_command({sluiced_path(), "check", dir / "p.yaml"});
    INFO(c.yaml << "\n" << r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(c.expect) != std::string::npos);
    CHECK(r.output.find(dir / "p.yaml:") != std::string::npos);
  }
}

TEST_CASE("kafka source: a commit a crash left pending stands if its positions were published, else it is undone, and another "
          "instance resumes exactly where the committed data ends",
          "[kafka][kafka_source]") {
  struct Case {
    const char* crash_at;
    const char* outcome;
  };
  const Case c = GENERATE(Case{"commit.after_pending:3", "were not published, so it is discarded"},
                          Case{"commit.before_state_write:3", "were published, so it is kept"});
  INFO("crash at " << c.crash_at);
  KafkaCluster k;
  k.create_topic("moving", 4);
  const uint64_t n = 12000;
  k.produce("moving", 0, n, [](uint64_t i) { return padded_json(i, 100); });
  DaemonDir a, b;
  for (DaemonDir* d : {&a, &b})
    d->pipeline("moving", kafka_source(k, "[moving]", "g-moving", "  rate_limit: { rate: 3000 }\n") + "sink: { type: file, path: " +
                              (*d / "out") + ", format: jsonl, batch: { max_records: 1000, max_wait: 50ms } }\n");
  // A dies in its third commit, at the crash point; B then takes every partition over.
  a.start({std::string("SLUICE_CRASH_AT=") + c.crash_at});
  REQUIRE(wait_until([&] { return !a.running(); }, 60s));
  INFO("a's log:\n" << a.log());
  REQUIRE(count_occurrences(a.log(), "kafka: assigned") == 1);
  b.start();
  b.wait_log("kafka: assigned 4 partition(s)", 1, 60s);
  // A comes back: it settles the pending commit before anything else, then shares the partitions with B.
  a.start();
  a.wait_log(c.outcome);
  bool all = wait_until([&] { return all_part_lines(a / "out") + all_part_lines(b / "out") >= n; }, 120s, 100ms);
  INFO("b's log:\n" << b.log());
  REQUIRE(all);
  a.stop();
  b.stop();
  auto lines = finished_part_lines(a / "out");
  auto from_b = finished_part_lines(b / "out");
  lines.insert(lines.end(), from_b.begin(), from_b.end());
  require_ids_exactly_once(lines, "id", n);
}

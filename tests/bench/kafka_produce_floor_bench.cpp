// What librdkafka alone costs to produce messages the way the kafka sink does: the floor under sluice's generate →
// kafka, with no source, queue, batching or commits. Reads FILE (one message per line) into memory, then produces
// every line to TOPIC with the sink's producer settings (idempotent, acks=all, lz4, linger.ms=5) and the sink's own
// calls: the value not copied, its timestamp given, keyless lines in runs of 4,096 per partition
// (sinks/kafka/placement.hpp), and the sink's origin header rendered for each message (sinks/kafka/origin_header.hpp),
// or none with --no-header. Waits for every acknowledgement.
//   kafka_produce_floor_bench BROKERS TOPIC FILE [--no-header]
// Prints "wall_s cpu_s maxrss_kib" for the whole process, reading the file included (as kcat's time includes its
// own reading), like GNU time's %e, %U+%S and %M.
#include <librdkafka/rdkafka.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "sinks/kafka/origin_header.hpp"
#include "sinks/kafka/placement.hpp"

namespace {

struct Counts {
  uint64_t acknowledged = 0, failed = 0;
};

[[noreturn]] void die(const std::string& why) {
  std::cerr << "kafka_produce_floor_bench: " << why << "\n";
  std::exit(1);
}

void set(rd_kafka_conf_t* conf, const char* key, const char* value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key, value, err, sizeof err) != RD_KAFKA_CONF_OK) die(std::string(key) + ": " + err);
}

}  // namespace

int main(int argc, char** argv) {
  const auto started = std::chrono::steady_clock::now();
  if (argc < 4) die("usage: kafka_produce_floor_bench BROKERS TOPIC FILE [--no-header]");
  const bool header = !(argc > 4 && std::string(argv[4]) == "--no-header");

  std::vector<std::string> lines;
  {
    std::ifstream in(argv[3]);
    if (!in) die(std::string("cannot read ") + argv[3]);
    for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  }

  Counts counts;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", argv[1]);
  set(conf, "enable.idempotence", "true");
  set(conf, "acks", "all");
  set(conf, "compression.codec", "lz4");
  set(conf, "linger.ms", "5");
  rd_kafka_conf_set_opaque(conf, &counts);
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* c = static_cast<Counts*>(opaque);
    if (m->err) ++c->failed;
    else ++c->acknowledged;
  });
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) die(err);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, argv[2], nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(rk, 0, rkt, &md, 15000) || md->topic_cnt != 1 || md->topics[0].partition_cnt <= 0)
    die(std::string("cannot learn the partitions of ") + argv[2]);
  const int32_t partitions = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);

  // The same shape as the sink's header for a generate source: a prefix per source partition, then the
  // record's number and the position its group ends at.
  using namespace sluice::sinks::kafka;
  const std::string prefix = origin_prefix("p", "2b313eb5c61614b24140f32228d1275b", "generate");
  const std::string position = "1024 1023000000 1796643486064";
  const uint64_t rotation = keyless_rotation_start("generate");
  const int64_t timestamp = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::string origin;
  for (uint64_t i = 0; i < lines.size(); ++i) {
    const std::string& value = lines[i];
    if (header) render_origin(origin, prefix, i, position);
    for (;;) {
      rd_kafka_resp_err_t e =
          header ? rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(keyless_partition(rotation, i, 4096, partitions)),
                                     RD_KAFKA_V_MSGFLAGS(0), RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                     RD_KAFKA_V_HEADER(kOriginHeader, origin.data(), ssize_t(origin.size())),
                                     RD_KAFKA_V_TIMESTAMP(timestamp + int64_t(i)), RD_KAFKA_V_END)
                 : rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(keyless_partition(rotation, i, 4096, partitions)),
                                     RD_KAFKA_V_MSGFLAGS(0), RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                     RD_KAFKA_V_TIMESTAMP(timestamp + int64_t(i)), RD_KAFKA_V_END);
      if (!e) break;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die(std::string("produce: ") + rd_kafka_err2str(e));
      rd_kafka_poll(rk, 10);
    }
    if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
  }
  while (counts.acknowledged + counts.failed < lines.size()) rd_kafka_poll(rk, 10);
  if (counts.failed) die(std::to_string(counts.failed) + " message(s) failed");
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double cpu = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::printf("%.2f %.2f %ld\n", wall, cpu, ru.ru_maxrss);
  return 0;
}

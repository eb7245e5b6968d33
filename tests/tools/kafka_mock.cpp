// A Kafka mock cluster (librdkafka's, a real wire-protocol broker) for benchmarks and manual runs, in its own
// process. Prints the bootstrap address on the first line of stdout, then serves until stdin closes.
//   sluice_kafka_mock [--brokers N] [--topic NAME:PARTITIONS]... [--produce NAME:COUNT:BYTES]...
// --produce fills a topic with COUNT JSON messages of about BYTES bytes ({"id":i,"pad":...}), lz4-compressed,
// round-robin over its partitions, before the address is printed.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "support/kafka_cluster.hpp"

namespace {
std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> parts;
  size_t at = 0;
  for (size_t colon; (colon = s.find(':', at)) != std::string::npos; at = colon + 1) parts.push_back(s.substr(at, colon - at));
  parts.push_back(s.substr(at));
  return parts;
}
[[noreturn]] void usage(const std::string& why) {
  std::cerr << "sluice_kafka_mock: " << why << "\nusage: sluice_kafka_mock [--brokers N] [--topic NAME:PARTITIONS]... [--produce NAME:COUNT:BYTES]...\n";
  std::exit(2);
}
}  // namespace

int main(int argc, char** argv) {
  int brokers = 1;
  std::vector<std::vector<std::string>> topics, produce;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) usage("missing value after " + arg);
    std::string value = argv[++i];
    if (arg == "--brokers") brokers = std::atoi(value.c_str());
    else if (arg == "--topic" && split(value).size() == 2) topics.push_back(split(value));
    else if (arg == "--produce" && split(value).size() == 3) produce.push_back(split(value));
    else usage("bad argument " + arg + " " + value);
  }
  try {
    sluice::testing::KafkaCluster cluster(brokers);
    for (const auto& t : topics) cluster.create_topic(t[0], std::stoi(t[1]));
    for (const auto& p : produce) {
      size_t bytes = std::stoul(p[2]);
      cluster.produce(p[0], 0, std::stoull(p[1]), [bytes](uint64_t id) { return sluice::testing::padded_json(id, bytes); });
    }
    std::cout << cluster.bootstrap() << std::endl;
    char buf[256];
    while (::read(0, buf, sizeof buf) > 0) {
    }
  } catch (const std::exception& e) {
    std::cerr << "sluice_kafka_mock: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

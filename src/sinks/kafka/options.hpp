#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "config/schema.hpp"

namespace sluice::sinks::kafka {

struct KafkaSinkOptions {
  std::string brokers;
  std::string topic;
  std::string topic_field;
  std::string key_field;
  std::string compression = "lz4";
  config::Duration linger{std::chrono::milliseconds(5)};
  uint64_t sticky_records = 4096;
  bool transactional = false;
  std::string transactional_id;
  config::Duration delivery_timeout{std::chrono::minutes(2)};
  std::map<std::string, std::string> librdkafka;
  static const config::Schema<KafkaSinkOptions>& schema();
};

}  // namespace sluice::sinks::kafka

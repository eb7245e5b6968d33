#pragma once
#include <map>
#include <string>
#include <vector>

#include "config/schema.hpp"

namespace sluice::sources::kafka {

enum class StartAt { earliest, latest };
enum class MessageFormat { raw, json };

struct KafkaSourceOptions {
  std::string brokers;
  std::vector<std::string> topics;
  std::string group_id;
  StartAt start = StartAt::earliest;
  MessageFormat format = MessageFormat::raw;
  bool metadata = false;
  uint64_t max_poll_records = 20000;
  config::Duration pause_after{std::chrono::milliseconds(50)};
  std::string positions_topic = "sluice_positions";
  std::map<std::string, std::string> librdkafka;
  static const config::Schema<KafkaSourceOptions>& schema();
};

}  // namespace sluice::sources::kafka

namespace sluice::config {
template <>
struct EnumNames<sources::kafka::StartAt> {
  static constexpr std::pair<sources::kafka::StartAt, const char*> values[] = {{sources::kafka::StartAt::earliest, "earliest"},
                                                                               {sources::kafka::StartAt::latest, "latest"}};
};
template <>
struct EnumNames<sources::kafka::MessageFormat> {
  static constexpr std::pair<sources::kafka::MessageFormat, const char*> values[] = {{sources::kafka::MessageFormat::raw, "raw"},
                                                                                     {sources::kafka::MessageFormat::json, "json"}};
};
}  // namespace sluice::config

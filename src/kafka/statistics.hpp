#pragma once
// librdkafka's own statistics (statistics.interval.ms) as Prometheus gauges, for what only the client knows: each
// broker's round-trip time and whether it is up, and the messages waiting in the client's queues.
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
}

namespace sluice::kafka {

class ClientStatistics {
 public:
  // client: "consumer" or "producer", a label beside the pipeline's.
  ClientStatistics(prometheus::Registry& registry, std::string pipeline, std::string client);
  ~ClientStatistics();  // removes every series it added
  ClientStatistics(const ClientStatistics&) = delete;
  ClientStatistics& operator=(const ClientStatistics&) = delete;
  // One statistics document, as the stats callback hands it over. A document that does not parse is ignored.
  void update(std::string_view json);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::kafka

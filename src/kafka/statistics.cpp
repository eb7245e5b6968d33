#include "kafka/statistics.hpp"

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <boost/json.hpp>

namespace sluice::kafka {
namespace json = boost::json;

struct ClientStatistics::Impl {
  std::map<std::string, std::string> labels;
  prometheus::Family<prometheus::Gauge>& rtt;
  prometheus::Family<prometheus::Gauge>& up;
  prometheus::Family<prometheus::Gauge>& queued_messages;
  prometheus::Family<prometheus::Gauge>& queued_bytes;
  prometheus::Gauge& messages;
  prometheus::Gauge& bytes;
  struct Broker {
    prometheus::Gauge* rtt;
    prometheus::Gauge* up;
  };
  std::map<std::string, Broker> brokers;  // by broker name; bounded by the cluster's size

  Impl(prometheus::Registry& r, std::string pipeline, std::string client)
      : labels{{"pipeline", std::move(pipeline)}, {"client", std::move(client)}},
        rtt(prometheus::BuildGauge()
                .Name("sluice_kafka_broker_rtt_seconds")
                .Help("average request round-trip time to each broker over the last statistics interval (librdkafka)")
                .Register(r)),
        up(prometheus::BuildGauge().Name("sluice_kafka_broker_up").Help("1 while the client is connected to the broker (one it has no use for is never connected: 0)").Register(r)),
        queued_messages(prometheus::BuildGauge()
                            .Name("sluice_kafka_client_queued_messages")
                            .Help("messages in the client's queues: fetched and not yet taken (consumer), or not yet acknowledged (producer)")
                            .Register(r)),
        queued_bytes(prometheus::BuildGauge().Name("sluice_kafka_client_queued_bytes").Help("bytes of those messages").Register(r)),
        messages(queued_messages.Add(labels)),
        bytes(queued_bytes.Add(labels)) {}

  ~Impl() {
    for (auto& [name, b] : brokers) {
      rtt.Remove(b.rtt);
      up.Remove(b.up);
    }
    queued_messages.Remove(&messages);
    queued_bytes.Remove(&bytes);
  }

  static double number(const json::object& o, const char* key) {
    const json::value* v = o.if_contains(key);
    return v && v->is_number() ? v->to_number<double>() : 0.0;
  }

  void update(const json::object& doc) {
    if (const auto* list = doc.if_contains("brokers"); list && list->is_object()) {
      for (const auto& [name, value] : list->as_object()) {
        const json::object* b = value.if_object();
        // Bootstrap entries (nodeid -1) stand for addresses, and logical ones (GroupCoordinator) for roles.
        const json::value* source = b ? b->if_contains("source") : nullptr;
        if (!b || number(*b, "nodeid") < 0 || (source && source->is_string() && (source->as_string() == "logical" || source->as_string() == "internal")))
          continue;
        auto [it, fresh] = brokers.try_emplace(std::string(name));
        if (fresh) {
          auto l = labels;
          l["broker"] = std::string(name);
          it->second = {&rtt.Add(l), &up.Add(l)};
        }
        if (const auto* r = b->if_contains("rtt"); r && r->is_object()) it->second.rtt->Set(number(r->as_object(), "avg") / 1e6);
        const json::value* state = b->if_contains("state");
        it->second.up->Set(state && state->is_string() && state->as_string() == "UP" ? 1 : 0);
      }
    }
    if (doc.if_contains("msg_cnt")) {
      double queued = number(doc, "msg_cnt"), queued_size = number(doc, "msg_size");
      // A consumer's fetched messages wait in per-partition fetch queues, not in msg_cnt.
      if (const auto* topics = doc.if_contains("topics"); topics && topics->is_object())
        for (const auto& [topic, t] : topics->as_object())
          if (const auto* parts = t.is_object() ? t.as_object().if_contains("partitions") : nullptr; parts && parts->is_object())
            for (const auto& [id, p] : parts->as_object())
              if (const json::object* po = p.if_object()) {
                queued += number(*po, "fetchq_cnt");
                queued_size += number(*po, "fetchq_size");
              }
      messages.Set(queued);
      bytes.Set(queued_size);
    }
  }
};

ClientStatistics::ClientStatistics(prometheus::Registry& registry, std::string pipeline, std::string client)
    : impl_(std::make_unique<Impl>(registry, std::move(pipeline), std::move(client))) {}
ClientStatistics::~ClientStatistics() = default;

void ClientStatistics::update(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (!ec && v.is_object()) impl_->update(v.as_object());
}

}  // namespace sluice::kafka

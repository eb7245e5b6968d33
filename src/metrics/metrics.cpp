#include "metrics/metrics.hpp"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <cmath>
#include <sstream>

namespace sluice::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

double unix_now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

ClientMetric labelled(const std::string& pipeline) {
  ClientMetric m;
  m.label.push_back({"pipeline", pipeline});
  return m;
}

// Builds one family per metric while visiting the pipelines once.
class PipelineFamilies {
 public:
  MetricFamily& family(const char* name, const char* help, MetricType type) {
    for (auto& f : families_)
      if (f.name == name) return f;
    families_.push_back({name, help, type, {}});
    return families_.back();
  }
  void counter(const char* name, const char* help, const std::string& pipeline, double value) {
    auto m = labelled(pipeline);
    m.counter.value = value;
    family(name, help, MetricType::Counter).metric.push_back(std::move(m));
  }
  void gauge(const char* name, const char* help, const std::string& pipeline, double value,
             std::vector<ClientMetric::Label> extra = {}) {
    auto m = labelled(pipeline);
    for (auto& l : extra) m.label.push_back(std::move(l));
    m.gauge.value = value;
    family(name, help, MetricType::Gauge).metric.push_back(std::move(m));
  }
  std::vector<MetricFamily> take() { return std::move(families_); }

 private:
  std::vector<MetricFamily> families_;
};

class PipelineCollector final : public prometheus::Collectable {
 public:
  explicit PipelineCollector(EachPipeline each) : each_(std::move(each)) {}

  std::vector<MetricFamily> Collect() const override {
    PipelineFamilies out;
    // Declared up front so that every family is present, with its HELP, even with no pipelines yet.
    declare(out);
    double now = unix_now();
    each_([&](const PipelineView& p) {
      const auto& s = p.stats;
      const auto& n = p.name;
      out.gauge("sluice_pipeline_up", "", n, p.state == "running" ? 1 : 0);
      for (auto state : kPipelineStates)
        out.gauge("sluice_pipeline_state", "", n, p.state == state ? 1 : 0, {{"state", std::string(state)}});
      out.gauge("sluice_pipeline_info", "", n, 1,
                {{"config_hash", p.config.config_hash}, {"source", p.config.source.common.type}, {"sink", p.config.sink.common.type}});
      out.counter("sluice_pipeline_restarts_total", "", n, double(s.restarts));
      out.gauge("sluice_pipeline_degraded", "", n, s.degraded.empty() ? 0 : 1);
      out.counter("sluice_records_in_total", "", n, double(s.records_in));
      out.counter("sluice_bytes_in_total", "", n, double(s.bytes_in));
      out.counter("sluice_records_out_total", "", n, double(s.records_out));
      out.counter("sluice_bytes_out_total", "", n, double(s.bytes_out));
      out.counter("sluice_records_rejected_total", "", n, double(s.rejected));
      for (const auto& [reason, count] : s.dropped) {
        auto m = labelled(n);
        m.label.push_back({"reason", reason});
        m.counter.value = double(count);
        out.family("sluice_records_dropped_total", "", MetricType::Counter).metric.push_back(std::move(m));
      }
      out.counter("sluice_commits_total", "", n, double(s.commits));
      out.counter("sluice_tap_skipped_records_total", "", n, double(s.tap_skipped));
      const auto& q = p.config.queue;
      out.gauge("sluice_queue_records", "", n, double(s.queue_records));
      out.gauge("sluice_queue_bytes", "", n, double(s.queue_bytes));
      out.gauge("sluice_queue_capacity_records", "", n, double(q.max_records));
      out.gauge("sluice_queue_capacity_bytes", "", n,
                double(q.policy == core::Policy::buffer ? q.buffer.max_bytes.bytes : q.max_bytes.bytes));
      out.gauge("sluice_arrival_rate_records_per_second", "", n, s.arrival_rate);
      out.gauge("sluice_service_rate_records_per_second", "", n, s.service_rate);
      out.gauge("sluice_time_to_overflow_seconds", "", n, s.time_to_overflow_s);
      out.gauge("sluice_last_commit_timestamp_seconds", "", n, double(s.last_commit_unix_ms) / 1e3);
      // No event committed (or read) yet: no lag to speak of, which NaN says and 0 would hide.
      out.gauge("sluice_end_to_end_lag_seconds", "", n,
                s.last_event_time_ms ? std::max(0.0, now - double(s.last_event_time_ms) / 1e3) : NAN);
      out.gauge("sluice_source_lag_seconds", "", n,
                s.last_read_event_time_ms ? std::max(0.0, now - double(s.last_read_event_time_ms) / 1e3) : NAN);

      auto h = labelled(n);
      uint64_t cumulative = 0;
      for (size_t i = 0; i < s.commit_buckets.counts.size(); ++i) {
        cumulative += s.commit_buckets.counts[i];
        double le = i < core::CommitBuckets::kUpperBounds.size() ? core::CommitBuckets::kUpperBounds[i] : INFINITY;
        h.histogram.bucket.push_back({cumulative, le});
      }
      h.histogram.sample_count = s.commit_buckets.count;
      h.histogram.sample_sum = s.commit_buckets.sum;
      out.family("sluice_commit_duration_seconds", "", MetricType::Histogram).metric.push_back(std::move(h));
    });
    return out.take();
  }

 private:
  static void declare(PipelineFamilies& out) {
    struct Def {
      const char* name;
      const char* help;
      MetricType type;
    };
    static const Def defs[] = {
        {"sluice_pipeline_up", "1 while the pipeline is running, 0 while it starts, backs off, drains or has ended", MetricType::Gauge},
        {"sluice_pipeline_state", "1 for the pipeline's current state, 0 for the others", MetricType::Gauge},
        {"sluice_pipeline_info", "the pipeline's configuration hash and connector types", MetricType::Gauge},
        {"sluice_pipeline_restarts_total", "restarts after a failure", MetricType::Counter},
        {"sluice_pipeline_degraded", "1 while the source reports the pipeline degraded (the reason is in /status), else 0", MetricType::Gauge},
        {"sluice_records_in_total", "records accepted from the source", MetricType::Counter},
        {"sluice_bytes_in_total", "bytes accepted from the source", MetricType::Counter},
        {"sluice_records_out_total", "records committed to the sink", MetricType::Counter},
        {"sluice_bytes_out_total", "bytes committed to the sink", MetricType::Counter},
        {"sluice_records_rejected_total", "records sent to the dead-letter files", MetricType::Counter},
        {"sluice_records_dropped_total", "records dropped by the queue's policy, by reason", MetricType::Counter},
        {"sluice_commits_total", "commits of a batch with its checkpoint", MetricType::Counter},
        {"sluice_tap_skipped_records_total", "records a live tap sampled out or could not hand to a slow reader", MetricType::Counter},
        {"sluice_queue_records", "records in the queue (or spool)", MetricType::Gauge},
        {"sluice_queue_bytes", "bytes in the queue (or spool)", MetricType::Gauge},
        {"sluice_queue_capacity_records", "the queue's max_records", MetricType::Gauge},
        {"sluice_queue_capacity_bytes", "the queue's max_bytes (buffer.max_bytes for policy buffer)", MetricType::Gauge},
        {"sluice_arrival_rate_records_per_second", "arrival rate lambda into the queue (EWMA, 5 s)", MetricType::Gauge},
        {"sluice_service_rate_records_per_second", "service rate mu out of the queue (EWMA, 5 s)", MetricType::Gauge},
        {"sluice_time_to_overflow_seconds", "seconds until the queue is full at the current rates; +Inf when it is not filling", MetricType::Gauge},
        {"sluice_last_commit_timestamp_seconds", "Unix time of the last commit", MetricType::Gauge},
        {"sluice_end_to_end_lag_seconds", "now minus the event time of the newest committed record", MetricType::Gauge},
        {"sluice_source_lag_seconds", "now minus the event time of the newest record read from the source", MetricType::Gauge},
        {"sluice_commit_duration_seconds", "time to make a batch and its checkpoint durable", MetricType::Histogram},
    };
    for (const auto& d : defs) out.family(d.name, d.help, d.type);
  }

  EachPipeline each_;
};

}  // namespace

struct Metrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  PipelineCollector pipelines;
  prometheus::Counter* reload_success = nullptr;
  prometheus::Counter* reload_failure = nullptr;
  prometheus::Gauge* last_reload_success = nullptr;
  prometheus::Gauge* last_reload_errors = nullptr;

  explicit Impl(EachPipeline each) : pipelines(std::move(each)) {
    auto& reloads = prometheus::BuildCounter()
                        .Name("sluice_reloads_total")
                        .Help("configuration reloads (SIGHUP) by result; a failed one leaves the running set untouched")
                        .Register(*registry);
    reload_success = &reloads.Add({{"result", "success"}});
    reload_failure = &reloads.Add({{"result", "failure"}});
    last_reload_success = &prometheus::BuildGauge()
                               .Name("sluice_last_reload_success_timestamp_seconds")
                               .Help("Unix time of the last successful configuration load (start-up counts)")
                               .Register(*registry)
                               .Add({});
    last_reload_errors = &prometheus::BuildGauge()
                              .Name("sluice_last_reload_errors")
                              .Help("configuration errors found by the last load or reload")
                              .Register(*registry)
                              .Add({});
    prometheus::BuildGauge()
        .Name("sluice_build_info")
        .Help("always 1; the version is in the label")
        .Register(*registry)
        .Add({{"version", SLUICE_VERSION}})
        .Set(1);
    prometheus::BuildGauge()
        .Name("sluice_start_time_seconds")
        .Help("Unix time the daemon started")
        .Register(*registry)
        .Add({})
        .Set(unix_now());
  }
};

Metrics::Metrics(EachPipeline each_pipeline) : impl_(std::make_unique<Impl>(std::move(each_pipeline))) {}
Metrics::~Metrics() = default;

prometheus::Registry& Metrics::registry() { return *impl_->registry; }

void Metrics::initial_load(size_t errors) {
  if (errors == 0) impl_->last_reload_success->Set(unix_now());
  impl_->last_reload_errors->Set(double(errors));
}

void Metrics::reload_attempt(bool succeeded, size_t errors) {
  (succeeded ? impl_->reload_success : impl_->reload_failure)->Increment();
  if (succeeded) impl_->last_reload_success->Set(unix_now());
  impl_->last_reload_errors->Set(double(errors));
}

std::string Metrics::render() const {
  auto families = impl_->registry->Collect();
  auto pipelines = impl_->pipelines.Collect();
  families.insert(families.end(), std::make_move_iterator(pipelines.begin()), std::make_move_iterator(pipelines.end()));
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace sluice::metrics

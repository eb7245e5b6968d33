#include "metrics/owned_series.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace sluice::metrics {

OwnedSeries::OwnedSeries(prometheus::Registry& registry, Labels labels) : registry_(registry), labels_(std::move(labels)) {}

OwnedSeries::~OwnedSeries() {
  for (auto& remove : removers_) remove();
}

namespace {
template <class Builder>
auto& add(Builder builder, prometheus::Registry& registry, const char* name, const char* help, Labels labels, const Labels& extra,
          std::vector<std::function<void()>>& removers) {
  auto& family = builder.Name(name).Help(help).Register(registry);
  labels.insert(extra.begin(), extra.end());
  auto& series = family.Add(labels);
  removers.push_back([&family, &series] { family.Remove(&series); });
  return series;
}
}  // namespace

prometheus::Counter& OwnedSeries::counter(const char* name, const char* help, const Labels& extra) {
  return add(prometheus::BuildCounter(), registry_, name, help, labels_, extra, removers_);
}

prometheus::Gauge& OwnedSeries::gauge(const char* name, const char* help, const Labels& extra) {
  return add(prometheus::BuildGauge(), registry_, name, help, labels_, extra, removers_);
}

}  // namespace sluice::metrics

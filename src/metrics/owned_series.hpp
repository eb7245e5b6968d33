#pragma once
// The series a connector adds to the daemon's registry for as long as it runs: labelled with its pipeline (and
// whatever else it passes), and removed when it goes, so that a restarted or removed pipeline leaves no stale
// series behind.
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace prometheus {
class Registry;
class Counter;
class Gauge;
}  // namespace prometheus

namespace sluice::metrics {

using Labels = std::map<std::string, std::string>;

class OwnedSeries {
 public:
  OwnedSeries(prometheus::Registry& registry, Labels labels);
  ~OwnedSeries();
  OwnedSeries(const OwnedSeries&) = delete;
  OwnedSeries& operator=(const OwnedSeries&) = delete;

  prometheus::Counter& counter(const char* name, const char* help, const Labels& extra = {});
  prometheus::Gauge& gauge(const char* name, const char* help, const Labels& extra = {});

 private:
  prometheus::Registry& registry_;
  Labels labels_;
  std::vector<std::function<void()>> removers_;
};

}  // namespace sluice::metrics

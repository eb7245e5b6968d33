#include "core/crash_point.hpp"

#ifdef SLUICE_CRASH_POINTS
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string_view>
#include <thread>

namespace sluice::core {

namespace {

void slow_point(const char* name, std::string_view pipeline) {
  const char* v = std::getenv("SLUICE_SLOW_AT");
  if (!v || !*v) return;
  std::string_view spec(v);
  auto colon = spec.rfind(':');
  if (colon == std::string_view::npos) return;
  std::string_view where = spec.substr(0, colon);
  auto at = where.find('@');
  if (where.substr(0, at) != name) return;
  if (at != std::string_view::npos && where.substr(at + 1) != pipeline) return;
  std::this_thread::sleep_for(std::chrono::milliseconds(std::atol(v + colon + 1)));
}

}  // namespace

void crash_point(const char* name, std::string_view pipeline) {
  slow_point(name, pipeline);
  // Read on every call (points sit on commit paths, not per record) so that a forked test child can set it.
  const char* v = std::getenv("SLUICE_CRASH_AT");
  if (!v || !*v) return;
  std::string_view target(v);
  auto colon = target.find(':');
  if (target.substr(0, colon) != name) return;
  long nth = colon == std::string_view::npos ? 1 : std::atol(v + colon + 1);
  static std::atomic<long> hits{0};
  if (++hits < nth) return;
  static const char msg[] = "sluice: crash point reached\n";
  (void)!::write(2, msg, sizeof msg - 1);
  ::_exit(86);
}

}  // namespace sluice::core
#endif

#include "core/service_notify.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cstring>
#include <ctime>

namespace sluice::core {

ServiceNotifier::ServiceNotifier() {
  uint64_t usec = 0;
  // Keep the variables (unset_environment = 0): a test or wrapper may inspect them, and nothing we exec needs
  // them hidden.
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) watchdog_interval_ = std::chrono::microseconds(usec / 2);
}

void ServiceNotifier::send(const std::string& state) {
  int r = sd_notify(0, state.c_str());
  if (r < 0) spdlog::warn("sd_notify failed: {}", std::strerror(-r));
}

void ServiceNotifier::ready(const std::string& status) { send("READY=1\nSTATUS=" + status); }

void ServiceNotifier::reloading() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t usec = uint64_t(ts.tv_sec) * 1000000 + uint64_t(ts.tv_nsec) / 1000;
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) + "\nSTATUS=reloading configuration");
}

void ServiceNotifier::stopping() { send("STOPPING=1\nSTATUS=draining and committing"); }

void ServiceNotifier::status(const std::string& status) { send("STATUS=" + status); }

void ServiceNotifier::watchdog() { send("WATCHDOG=1"); }

}  // namespace sluice::core

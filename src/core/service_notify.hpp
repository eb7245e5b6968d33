#pragma once
// systemd's notify protocol (libsystemd's sd_notify). Every call is a no-op unless the service manager set
// NOTIFY_SOCKET, so the daemon behaves the same under systemd, in a container, or in a terminal.
#include <chrono>
#include <optional>
#include <string>

namespace sluice::core {

class ServiceNotifier {
 public:
  ServiceNotifier();
  void ready(const std::string& status);
  // RELOADING=1 with the monotonic timestamp systemd uses to match the reload to its READY=1.
  void reloading();
  void stopping();
  void status(const std::string& status);
  void watchdog();
  // How often to ping: half of WATCHDOG_USEC, when the service manager enabled the watchdog for us.
  std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_interval_; }

 private:
  void send(const std::string& state);
  std::optional<std::chrono::microseconds> watchdog_interval_;
};

}  // namespace sluice::core

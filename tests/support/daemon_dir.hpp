#pragma once
// One sluiced installation for a test: DIR/sluice.yaml, DIR/pipelines, DIR/state, DIR/sluiced.log, and the
// daemon process started from it (several can run side by side, each in its own directory).
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace sluice::testing {

class DaemonDir {
 public:
  DaemonDir();
  ~DaemonDir();  // SIGKILLs a daemon still running

  std::string operator/(const std::string& name) const { return dir_ / name; }
  const std::string& path() const { return dir_.path(); }
  void pipeline(const std::string& name, const std::string& yaml);
  std::string log() const;

  // `sluiced run` (without --once: streaming sources never end).
  void start(std::vector<std::string> env = {});
  bool running() const;
  // SIGTERM, then requires a clean exit (0) within the timeout.
  void stop(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // SIGKILL, as a crash of the machine would end it.
  void kill();
  // Waits until the log holds `text` at least `times` times (fails the test naming the text, with the log).
  void wait_log(const std::string& text, size_t times = 1, std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // The /metrics address of the running daemon.
  std::string http_address();
  // One sample of the running daemon's /metrics, by its exact series text; nullopt when absent.
  std::optional<double> metric(const std::string& series);
  // The lines of the running daemon's /metrics that start with `prefix` (a family name, perhaps with labels).
  std::vector<std::string> metric_lines(const std::string& prefix);

 private:
  // Fails with the daemon's log when it has already exited: that log says why.
  void require_running() const;
  TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  std::string address_;
};

}  // namespace sluice::testing

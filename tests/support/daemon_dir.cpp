#include "support/daemon_dir.hpp"

#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>

#include "metrics/http_client.hpp"

namespace sluice::testing {
using namespace std::chrono_literals;

DaemonDir::DaemonDir() { write_daemon_file(dir_); }

DaemonDir::~DaemonDir() {
  if (daemon_ && daemon_->running()) {
    daemon_->signal(SIGKILL);
    daemon_->wait(10s);
  }
}

void DaemonDir::pipeline(const std::string& name, const std::string& yaml) { write_file(dir_ / ("pipelines/" + name + ".yaml"), yaml); }

std::string DaemonDir::log() const { return read_file(dir_ / "sluiced.log"); }

void DaemonDir::start(std::vector<std::string> env) {
  REQUIRE_FALSE(running());
  std::error_code ec;
  std::filesystem::remove(dir_ / "state/http.address", ec);
  address_.clear();
  daemon_ = std::make_unique<Daemon>(std::vector<std::string>{"run", "--config", dir_ / "sluice.yaml"}, dir_ / "sluiced.log", std::move(env));
}

bool DaemonDir::running() const { return daemon_ && daemon_->running(); }

void DaemonDir::require_running() const {
  REQUIRE(daemon_);
  // The log is read only when it is needed: a test stops or kills its daemon many times.
  if (!daemon_->running()) FAIL("the daemon in " << path() << " is no longer running; its log:\n" << log());
}

void DaemonDir::stop(std::chrono::milliseconds timeout) {
  require_running();
  daemon_->signal(SIGTERM);
  int exit_code = daemon_->wait(timeout);
  // Read after the exit: what the daemon logged while stopping is what explains a failed stop.
  INFO("log of " << path() << ":\n" << log());
  REQUIRE(exit_code == 0);
}

void DaemonDir::kill() {
  require_running();
  daemon_->signal(SIGKILL);
  int exit_code = daemon_->wait(10s);
  INFO("log of " << path() << ":\n" << log());
  REQUIRE(exit_code == 128 + SIGKILL);
}

void DaemonDir::wait_log(const std::string& text, size_t times, std::chrono::milliseconds timeout) {
  bool ok = wait_until([&] { return count_occurrences(log(), text) >= times || !running(); }, timeout, 100ms);
  INFO("waiting for '" << text << "' x" << times << " in the log of " << path() << ":\n" << log());
  REQUIRE(count_occurrences(log(), text) >= times);
  REQUIRE(ok);
}

std::string DaemonDir::http_address() {
  if (address_.empty()) address_ = wait_for_http_address(dir_ / "state");
  return address_;
}

std::optional<double> DaemonDir::metric(const std::string& series) { return scrape_value(http_address(), series); }

std::vector<std::string> DaemonDir::metric_lines(const std::string& prefix) {
  auto answer = metrics::http_get(http_address(), "/metrics");
  REQUIRE(answer.status == 200);
  std::vector<std::string> lines;
  std::istringstream in(answer.body);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) lines.push_back(line);
  return lines;
}

}  // namespace sluice::testing

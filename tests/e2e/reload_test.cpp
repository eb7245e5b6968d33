// SIGHUP as a transaction, under fire: a thousand reloads while a million records flow.
#include <signal.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>

#include "metrics/http_client.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using namespace sluice::testing;
using namespace std::chrono_literals;
namespace json = boost::json;


TEST_CASE("1000 SIGHUPs while 1M records flow: every record once, the unchanged pipeline never restarted, broken reloads reported",
          "[e2e][reload]") {
  TempDir dir;
  write_daemon_file(dir);
  const uint64_t steady_count = 1000000, churn_count = 200000;
  // Paced so that the stream outlasts the signals: about 20 s for the million.
  write_file(dir / "pipelines/steady.yaml", "source: { type: generate, count: " + std::to_string(steady_count) +
                                                ", rate: 50000, seed: 1 }\nsink: { type: file, path: " + (dir / "out-steady") +
                                                ", batch: { max_wait: 50ms } }\n");
  auto churn = [&](int variant) {
    // Only the sink's batching changes: the same records, through a drained and restarted pipeline.
    return "source: { type: generate, count: " + std::to_string(churn_count) + ", rate: 10000, seed: 2 }\nsink: { type: file, path: " +
           (dir / "out-churn") + ", batch: { max_records: " + std::to_string(1000 + variant) + ", max_wait: 50ms } }\n";
  };
  write_file(dir / "pipelines/churn.yaml", churn(0));
  // A pipeline whose commits are slow (50 ms, a disk under load) and small: its queue is always full, so
  // draining it takes a while, and the signals that arrive meanwhile must fold into one more reload.
  auto slow = [&](int variant) {
    return "source: { type: generate, rate: 2000, seed: 3 }\nqueue: { max_records: " + std::to_string(200 + variant) +
           " }\nsink: { type: file, path: " + (dir / "out-slow") + ", batch: { max_records: 1 } }\n";
  };
  int slow_changes = 0;
  write_file(dir / "pipelines/slow.yaml", slow(0));
  Daemon daemon({"run", "--config", dir / "sluice.yaml"}, dir / "log", {"SLUICE_SLOW_AT=commit.before_state_write@slow:50"});
  std::string address = wait_for_http_address(dir / "state");
  INFO("daemon log (tail):\n" << [&] {
    std::string log = read_file(dir / "log");
    return log.size() > 6000 ? log.substr(log.size() - 6000) : log;
  }());

  int changes = 0, broken = 0;
  bool broken_present = false;
  for (int i = 0; i < 1000; ++i) {
    if (i % 50 == 10) write_file(dir / "pipelines/churn.yaml", churn(++changes));
    if (i % 100 == 60) write_file(dir / "pipelines/slow.yaml", slow(++slow_changes));
    if (i % 50 == 30) {
      // Broken: a syntax error in a new file. The whole reload is refused; nothing running is touched.
      write_file(dir / "pipelines/broken.yaml", "source: { type: generate\nsink: [\n");
      broken_present = true;
      ++broken;
    }
    if (i % 50 == 40 && broken_present) {
      std::filesystem::remove(dir / "pipelines/broken.yaml");
      broken_present = false;
    }
    daemon.signal(SIGHUP);
    std::this_thread::sleep_for(15ms);
  }
  if (broken_present) std::filesystem::remove(dir / "pipelines/broken.yaml");
  daemon.signal(SIGHUP);

  REQUIRE(wait_until(
      [&] {
        auto s = daemon_status(address);
        return status_pipeline(s, "steady").at("state").as_string() == "finished" &&
               status_pipeline(s, "churn").at("state").as_string() == "finished" && !s.at("reloading").as_bool();
      },
      120s, 200ms));

  auto status = daemon_status(address);
  const auto& steady = status_pipeline(status, "steady");
  INFO(json::serialize(status));
  CHECK(steady.at("instance").to_number<uint64_t>() == 1);
  CHECK(steady.at("restarts").to_number<uint64_t>() == 0);
  const auto& reload = status.at("reload").as_object();
  // The kernel may merge a signal sent while the previous one is still pending, so not all 1001 need arrive.
  uint64_t signals = reload.at("signals").to_number<uint64_t>();
  CHECK(signals <= 1001);
  CHECK(signals >= 950);
  // Changes that came while an earlier one still drained were applied together: the last one is what runs.
  CHECK(status_pipeline(status, "slow").at("instance").to_number<uint64_t>() >= 2);
  CHECK(status_pipeline(status, "slow").at("queue").at("capacity_records").to_number<int>() == 200 + slow_changes);
  CHECK(reload.at("failed").to_number<uint64_t>() > 0);
  CHECK(reload.at("succeeded").to_number<uint64_t>() > 0);
  // Signals that arrived while a changed pipeline drained were folded into one more reload each.
  CHECK(reload.at("succeeded").to_number<uint64_t>() + reload.at("failed").to_number<uint64_t>() < signals);
  const auto& failure = reload.at("last_failure").as_object();
  REQUIRE(failure.at("errors").as_array().size() >= 1);
  CHECK(std::string(failure.at("errors").as_array()[0].as_string()).find("broken.yaml:") != std::string::npos);
  CHECK(status_pipeline(status, "churn").at("instance").to_number<uint64_t>() > 1);

  auto metrics_text = metrics::http_get(address, "/metrics").body;
  CHECK(metric_value(metrics_text, R"(sluice_reloads_total{result="failure"})").value_or(0) >= 1);
  CHECK(metric_value(metrics_text, R"(sluice_reloads_total{result="success"})").value_or(0) >= 1);
  CHECK(metric_value(metrics_text, R"(sluice_records_out_total{pipeline="steady"})") == double(steady_count));
  CHECK(metric_value(metrics_text, R"(sluice_records_out_total{pipeline="churn"})") == double(churn_count));

  daemon.signal(SIGTERM);
  REQUIRE(daemon.wait(60s) == 0);
  std::string log = read_file(dir / "log");
  CHECK(count_occurrences(log, "reload: pipeline steady changed") == 0);
  CHECK(count_occurrences(log, "[steady] resuming from") == 0);
  CHECK(count_occurrences(log, "reload rejected, running set unchanged: ") >= size_t(1));
  require_ids_exactly_once(finished_part_lines(dir / "out-steady"), "seq", steady_count);
  require_ids_exactly_once(finished_part_lines(dir / "out-churn"), "seq", churn_count);
  auto slow_lines = finished_part_lines(dir / "out-slow");
  CHECK(slow_lines.size() > 200);
  require_ids_exactly_once(slow_lines, "seq", slow_lines.size());
}

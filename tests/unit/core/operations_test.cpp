#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "config/error.hpp"
#include "core/daemon_config.hpp"
#include "core/pipeline_config.hpp"
#include "core/status.hpp"
#include "core/tap.hpp"
#include "metrics/http_server.hpp"
#include "metrics/metrics.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

namespace {

core::Records records(size_t n, size_t first = 0) {
  core::Records out(n);
  for (size_t i = 0; i < n; ++i) out[i].value = "{\"seq\":" + std::to_string(first + i) + "}";
  return out;
}

}  // namespace

TEST_CASE("a tap reader gets at most its rate and its buffer, and the rest is counted as skipped", "[tap]") {
  boost::asio::io_context io;
  core::Tap tap(io.get_executor());
  CHECK_FALSE(tap.active());
  CHECK(tap.offer(records(10)) == 0);  // nobody listening: nothing copied, nothing skipped

  auto reader = tap.subscribe({/*max_rate=*/100, /*max_buffered=*/50});
  CHECK(tap.active());
  // A full second's worth of tokens at start (100), but only 50 fit the buffer.
  CHECK(tap.offer(records(500)) == 450);
  CHECK(reader->values.size() == 50);
  CHECK(reader->values.front() == "{\"seq\":0}");
  CHECK(reader->skipped == 450);
  // The reader is slow: nothing fits until it takes some.
  CHECK(tap.offer(records(10, 500)) == 10);
  tap.unsubscribe(reader);

  // With room to spare, the rate is the limit: a second's worth at start, then a refill at the rate.
  reader = tap.subscribe({/*max_rate=*/100, /*max_buffered=*/100000});
  CHECK(tap.offer(records(500)) == 400);
  reader->values.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  uint64_t skipped = tap.offer(records(1000, 500));
  CHECK(reader->values.size() >= 8);
  CHECK(reader->values.size() <= 40);  // generous: a loaded machine may sleep longer
  CHECK(skipped == 1000 - reader->values.size());

  // Rejected records (dead letters) are not the pipeline's data: never tapped, never counted.
  reader->values.clear();
  reader->skipped = 0;
  auto rs = records(3);
  for (auto& r : rs) r.rejected = true;
  CHECK(tap.offer(rs) == 0);
  CHECK(reader->values.empty());
  CHECK(reader->skipped == 0);

  tap.unsubscribe(reader);
  CHECK_FALSE(tap.active());
}

TEST_CASE("listen addresses are host:port or a bracketed IPv6 host with its port", "[http]") {
  CHECK(metrics::parse_listen_address("127.0.0.1:9477") == std::pair<std::string, uint16_t>{"127.0.0.1", 9477});
  CHECK(metrics::parse_listen_address("[::1]:0") == std::pair<std::string, uint16_t>{"::1", 0});
  CHECK(metrics::parse_listen_address("0.0.0.0:80").first == "0.0.0.0");
  CHECK_THROWS_WITH(metrics::parse_listen_address("localhost:9477"), Catch::Contains("not an IP address"));
  CHECK_THROWS_WITH(metrics::parse_listen_address("127.0.0.1"), Catch::Contains("no :port"));
  CHECK_THROWS_WITH(metrics::parse_listen_address("127.0.0.1:70000"), Catch::Contains("port must be 0-65535"));
  CHECK_THROWS_WITH(metrics::parse_listen_address(":9477"), Catch::Contains("no host"));
  CHECK_THROWS(metrics::parse_listen_address("[::1]9477"));
}

TEST_CASE("a bad http.listen is a config error at its line", "[http][config]") {
  TempDir dir;
  write_file(dir / "sluice.yaml", "state_dir: s\nhttp:\n  listen: localhost:9477\n");
  try {
    core::load_daemon_file(dir / "sluice.yaml");
    FAIL("accepted");
  } catch (const config::ConfigError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].to_string().find("sluice.yaml:3:") != std::string::npos);
    CHECK(e.diagnostics()[0].to_string().find("not an IP address") != std::string::npos);
  }
  write_file(dir / "sluice.yaml", "state_dir: s\nhttp: { listen: '' }\n");
  CHECK(core::load_daemon_file(dir / "sluice.yaml").http.listen.empty());
}

TEST_CASE("the config hash ignores comments and layout but not values, names or substituted secrets", "[config][reload]") {
  TempDir dir;
  auto hash = [&](const std::string& text, const std::string& file = "p.yaml") {
    write_file(dir / file, text);
    return core::load_pipeline_file(dir / file).config_hash;
  };
  std::string base = hash("source: { type: generate, rate: 10 }\nsink: { type: blackhole }\n");
  CHECK(hash("# orders\nsource:\n  type: generate   # synthetic\n  rate: 10\nsink: {type: blackhole}\n") == base);
  CHECK(hash("source: { type: generate, rate: 11 }\nsink: { type: blackhole }\n") != base);
  CHECK(hash("source: { type: generate, rate: 10 }\nsink: { type: blackhole }\n", "q.yaml") != base);  // another name
  write_file(dir / "secret", "10");
  std::string from_file = hash("source: { type: generate, rate: \"${file:" + (dir / "secret") + "}\" }\nsink: { type: blackhole }\n");
  write_file(dir / "secret", "12");
  CHECK(hash("source: { type: generate, rate: \"${file:" + (dir / "secret") + "}\" }\nsink: { type: blackhole }\n") != from_file);
}

TEST_CASE("/status renders every field, and `sluiced status` turns it into a table", "[status]") {
  TempDir dir;
  write_file(dir / "orders.yaml", "source: { type: generate }\nqueue: { max_records: 200 }\nsink: { type: blackhole }\n");
  auto config = core::load_pipeline_file(dir / "orders.yaml");
  core::PipelineStats stats;
  stats.records_in = 1500;
  stats.records_out = 1234;
  stats.queue_records = 50;
  stats.arrival_rate = 2500;
  stats.service_rate = 2000;
  stats.time_to_overflow_s = INFINITY;
  stats.dropped["queue_full_drop_newest"] = 7;
  stats.last_error = "sink went away";
  stats.restarts = 2;
  stats.committed_position["generate"] = "1234 0 0";
  core::ReloadReport failed;
  failed.sequence = 3;
  failed.at_unix_ms = 1795599866000;
  failed.succeeded = false;
  failed.errors = {"/etc/sluice/pipelines/x.yaml:2:1: YAML syntax error"};
  core::StatusInput in;
  in.version = "9.9.9";
  in.started_unix_ms = 1795599800000;
  in.last_reload = &failed;
  in.last_failed_reload = &failed;
  in.reloads_failed = 1;
  in.pipelines.push_back({&config, &stats, core::PipelineState::backoff, 0, 1});

  std::string json_text = core::render_status(in);
  auto doc = boost::json::parse(json_text).as_object();
  const auto& p = doc.at("pipelines").as_array()[0].as_object();
  CHECK(p.at("name").as_string() == "orders");
  CHECK(p.at("state").as_string() == "backoff");
  CHECK(p.at("queue").as_object().at("fill").as_double() == Approx(0.25));
  CHECK(p.at("time_to_overflow_s").is_null());  // infinity is not JSON
  CHECK(p.at("dropped").as_object().at("queue_full_drop_newest").to_number<int>() == 7);
  CHECK(p.at("position").as_object().at("generate").as_string() == "1234 0 0");
  CHECK(p.at("last_commit_at").is_null());
  CHECK(doc.at("reload").as_object().at("last").as_object().at("result").as_string() == "failure");

  std::string table = core::format_status_table(json_text);
  INFO(table);
  CHECK(table.find("sluiced 9.9.9") != std::string::npos);
  CHECK(table.find("orders") != std::string::npos);
  CHECK(table.find("backoff") != std::string::npos);
  CHECK(table.find("2.5k") != std::string::npos);
  CHECK(table.find("25%") != std::string::npos);
  CHECK(table.find("sink went away") != std::string::npos);
  CHECK(table.find("x.yaml:2:1: YAML syntax error") != std::string::npos);
  CHECK_THROWS_WITH(core::format_status_table("<html>"), Catch::Contains("not JSON"));
}

TEST_CASE("a degraded pipeline shows its reason in /status, the table and the metrics", "[status][metrics]") {
  TempDir dir;
  write_file(dir / "cdc.yaml", "source: { type: generate }\nsink: { type: blackhole }\n");
  auto config = core::load_pipeline_file(dir / "cdc.yaml");
  core::PipelineStats stats;
  core::StatusInput in;
  in.version = "9.9.9";
  in.pipelines.push_back({&config, &stats, core::PipelineState::running, 0, 1});
  auto pipeline_json = [&] { return boost::json::parse(core::render_status(in)).as_object().at("pipelines").as_array()[0].as_object(); };
  CHECK(pipeline_json().at("degraded").is_null());
  CHECK(core::format_status_table(core::render_status(in)).find("(degraded)") == std::string::npos);

  stats.degraded = "slot lag 2.0 GiB exceeds max_slot_lag 1.0 GiB";
  stats.degraded_since_unix_ms = 1795599866000;
  auto p = pipeline_json();
  CHECK(p.at("degraded").as_string() == stats.degraded);
  CHECK(p.at("degraded_since").as_string() == "2026-11-25T09:44:26.000Z");
  std::string table = core::format_status_table(core::render_status(in));
  INFO(table);
  CHECK(table.find("running (degraded)") != std::string::npos);
  CHECK(table.find("slot lag 2.0 GiB") != std::string::npos);

  const std::string name = "cdc";
  metrics::Metrics m([&](const metrics::PipelineVisitor& visit) { visit({name, "running", config, stats}); });
  CHECK(metric_value(m.render(), R"(sluice_pipeline_degraded{pipeline="cdc"})") == 1.0);
  stats.degraded.clear();
  CHECK(metric_value(m.render(), R"(sluice_pipeline_degraded{pipeline="cdc"})") == 0.0);
}

TEST_CASE("metrics render every family with HELP and TYPE even before any pipeline exists", "[metrics]") {
  metrics::Metrics m([](const metrics::PipelineVisitor&) {});
  std::string text = m.render();
  for (const char* family : {"sluice_records_in_total", "sluice_commit_duration_seconds", "sluice_time_to_overflow_seconds",
                             "sluice_reloads_total", "sluice_build_info"}) {
    INFO(family);
    CHECK(text.find(std::string("# TYPE ") + family + " ") != std::string::npos);
  }
  m.reload_attempt(false, 2);
  text = m.render();
  CHECK(metric_value(text, R"(sluice_reloads_total{result="failure"})") == 1.0);
  CHECK(metric_value(text, "sluice_last_reload_errors") == 2.0);
}

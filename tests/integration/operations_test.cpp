// The operator's view of a running sluiced: the HTTP listener, Prometheus, systemd's notify protocol, and the
// command-line tools, each against the real binary.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/wait.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "metrics/http_client.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using namespace sluice::testing;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

std::string generate_to_file(const TempDir& dir, const std::string& name, const std::string& source_extra = "rate: 5000") {
  return "name: " + name + "\nsource: { type: generate, " + source_extra + ", seed: 3 }\nsink: { type: file, path: " + (dir / ("out-" + name)) +
         ", format: jsonl, batch: { max_wait: 50ms } }\n";
}

}  // namespace

TEST_CASE("the listener serves /healthz, /readyz, /status and /metrics, and promtool accepts a live scrape", "[operations]") {
  TempDir dir;
  write_daemon_file(dir);
  write_file(dir / "pipelines/gen.yaml", generate_to_file(dir, "gen"));
  // A sink that can never open: the pipeline fails and backs off, which /readyz and /status must show.
  write_file(dir / "pipelines/stuck.yaml", "source: { type: generate, rate: 10 }\nsink: { type: file, path: /proc/sluice-cannot-write }\n");
  write_file(dir / "pipelines/bad.yaml", "source: { type: generate }\nsink: { type: file, path: x, formatt: jsonl }\n");
  Daemon daemon({"run", "--config", dir / "sluice.yaml"}, dir / "log");
  std::string address = wait_for_http_address(dir / "state");
  INFO("daemon log:\n" << read_file(dir / "log"));

  auto health = metrics::http_get(address, "/healthz");
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");
  CHECK(metrics::http_get(address, "/nothing-here").status == 404);

  REQUIRE(wait_until([&] { return scrape_value(address, R"(sluice_pipeline_restarts_total{pipeline="stuck"})").value_or(0) >= 1; }, 20s));
  REQUIRE(wait_until([&] { return scrape_value(address, R"(sluice_commits_total{pipeline="gen"})").value_or(0) >= 2; }, 20s));
  auto ready = metrics::http_get(address, "/readyz");
  CHECK(ready.status == 503);
  CHECK(ready.body.find("pipeline stuck:") != std::string::npos);
  CHECK(ready.body.find("gen") == std::string::npos);

  auto status = daemon_status(address);
  CHECK(status.at("ready").as_bool() == false);
  REQUIRE(status.at("startup_errors").as_array().size() == 1);
  CHECK(std::string(status.at("startup_errors").as_array()[0].as_string()).find("bad.yaml:2:") != std::string::npos);
  const auto& gen = status_pipeline(status, "gen");
  CHECK(gen.at("state").as_string() == "running");
  CHECK(gen.at("config_hash").as_string().size() == 16);
  CHECK(gen.at("position").as_object().contains("generate"));
  CHECK(gen.at("records_out").to_number<uint64_t>() > 0);
  CHECK(gen.at("bytes_in").to_number<uint64_t>() >= gen.at("bytes_out").to_number<uint64_t>());
  CHECK(gen.at("queue").as_object().at("capacity_records").to_number<uint64_t>() == 10000);
  CHECK(gen.at("last_commit_at").is_string());
  CHECK(gen.at("end_to_end_lag_s").is_number());
  CHECK(gen.at("source_lag_s").is_number());
  CHECK(gen.at("arrival_rate").is_number());
  CHECK(gen.at("last_error").is_null());
  const auto& stuck = status_pipeline(status, "stuck");
  CHECK(stuck.at("restarts").to_number<uint64_t>() >= 1);
  CHECK(stuck.at("last_error").as_string().find("/proc/sluice-cannot-write") != json::string::npos);
  CHECK_THROWS_WITH(status_pipeline(status, "bad"), Catch::Contains("no pipeline bad"));

  auto scrape = metrics::http_get(address, "/metrics");
  REQUIRE(scrape.status == 200);
  CHECK(metric_value(scrape.body, R"(sluice_pipeline_up{pipeline="gen"})") == 1.0);
  CHECK(metric_value(scrape.body, R"(sluice_pipeline_state{pipeline="stuck",state="backoff"})").has_value());
  CHECK(metric_value(scrape.body, R"(sluice_last_reload_errors)") == 1.0);
  CHECK(metric_value(scrape.body, R"(sluice_records_in_total{pipeline="gen"})").value_or(0) > 0);
  CHECK(metric_value(scrape.body, R"(sluice_commit_duration_seconds_count{pipeline="gen"})").value_or(0) >= 2);
  CHECK(metric_value(scrape.body, R"(sluice_commit_duration_seconds_bucket{pipeline="gen",le="+Inf"})") ==
        metric_value(scrape.body, R"(sluice_commit_duration_seconds_count{pipeline="gen"})"));
  CHECK(scrape.body.find("sluice_build_info{version=\"") != std::string::npos);

  if (!on_path("promtool")) FAIL("promtool is missing: scripts/setup.sh installs Debian's prometheus package");
  auto [rc, output] = run_command({"promtool", "check", "metrics"}, scrape.body);
  INFO("promtool said:\n" << output);
  CHECK(rc == 0);
  CHECK(output.find("SUCCESS") == std::string::npos);  // promtool prints nothing when it has nothing to say
  CHECK(output.empty());

  // Removing the broken pipeline makes the daemon ready; the reload is counted.
  std::filesystem::remove(dir / "pipelines/stuck.yaml");
  std::filesystem::remove(dir / "pipelines/bad.yaml");
  daemon.signal(SIGHUP);
  REQUIRE(wait_until([&] { return metrics::http_get(address, "/readyz").status == 200; }, 10s));
  CHECK(scrape_value(address, R"(sluice_reloads_total{result="success"})") == 1.0);
  CHECK_FALSE(scrape_value(address, R"(sluice_pipeline_up{pipeline="stuck"})").has_value());

  daemon.signal(SIGTERM);
  CHECK(daemon.wait(30s) == 0);
}

TEST_CASE("a real Prometheus server scrapes sluiced and answers a PromQL query on the records counter", "[operations][prometheus]") {
  if (!on_path("prometheus")) FAIL("prometheus is missing: scripts/setup.sh installs Debian's prometheus package");
  TempDir dir;
  write_daemon_file(dir);
  write_file(dir / "pipelines/gen.yaml", generate_to_file(dir, "gen"));
  Daemon daemon({"run", "--config", dir / "sluice.yaml"}, dir / "log");
  std::string address = wait_for_http_address(dir / "state");

  std::string prometheus_address = "127.0.0.1:" + std::to_string(free_port());
  write_file(dir / "prometheus.yml", "global: { scrape_interval: 1s, evaluation_interval: 1s }\n"
                                     "scrape_configs:\n  - job_name: sluice\n    static_configs: [ { targets: ['" + address + "'] } ]\n");
  std::string command = "exec prometheus --config.file=" + (dir / "prometheus.yml") + " --storage.tsdb.path=" + (dir / "tsdb") +
                        " --web.listen-address=" + prometheus_address + " >" + (dir / "prometheus.log") + " 2>&1";
  pid_t prometheus = ::fork();
  REQUIRE(prometheus >= 0);
  if (prometheus == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), nullptr);
    ::_exit(127);
  }
  struct Reap {
    pid_t pid;
    ~Reap() {
      ::kill(pid, SIGTERM);
      int st;
      ::waitpid(pid, &st, 0);
    }
  } reap{prometheus};

  std::string answer;
  double value = 0;
  bool answered = wait_until(
      [&] {
        try {
          auto r = metrics::http_get(prometheus_address, "/api/v1/query?query=sluice_records_out_total%7Bpipeline%3D%22gen%22%7D");
          answer = r.body;
          if (r.status != 200) return false;
          auto result = json::parse(r.body).at("data").at("result").as_array();
          if (result.empty()) return false;
          value = std::stod(std::string(result[0].at("value").as_array()[1].as_string()));
          return value > 0;
        } catch (const std::exception& e) {
          answer = e.what();
          return false;
        }
      },
      60s, 500ms);
  INFO("last answer: " << answer << "\nprometheus log:\n" << read_file(dir / "prometheus.log"));
  REQUIRE(answered);
  CHECK(value > 0);
  // The target is healthy in Prometheus' own eyes, which only happens when every scrape parsed.
  auto targets = metrics::http_get(prometheus_address, "/api/v1/targets");
  CHECK(targets.body.find("\"health\":\"up\"") != std::string::npos);
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(30s) == 0);
}

namespace {

// Receives what sluiced sends to $NOTIFY_SOCKET, as systemd would.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("cannot bind " + path);
  }
  ~NotifySocket() { ::close(fd_); }
  // The next datagram, or "" after the timeout.
  std::string next(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, int(timeout.count())) <= 0) return "";
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, size_t(n)) : "";
  }
  // Reads datagrams until one contains `needle`; returns it, or "" after the timeout. Watchdog pings seen on
  // the way are counted.
  std::string until(const std::string& needle, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::string m = next(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
      if (m.find("WATCHDOG=1") != std::string::npos) ++watchdogs;
      seen += m + "|";
      if (m.find(needle) != std::string::npos) return m;
    }
    return "";
  }
  int watchdogs = 0;
  std::string seen;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

TEST_CASE("systemd notify: READY, RELOADING with MONOTONIC_USEC, READY, STOPPING, and WATCHDOG from the event loop", "[operations][systemd]") {
  TempDir dir;
  write_daemon_file(dir);
  write_file(dir / "pipelines/gen.yaml", generate_to_file(dir, "gen"));
  NotifySocket notify(dir / "notify.sock");
  Daemon daemon({"run", "--config", dir / "sluice.yaml"}, dir / "log",
                {"NOTIFY_SOCKET=" + (dir / "notify.sock"), "WATCHDOG_USEC=300000"});
  INFO("daemon log:\n" << read_file(dir / "log") << "\ndatagrams: " << notify.seen);

  std::string ready = notify.until("READY=1", 15s);
  REQUIRE(!ready.empty());
  CHECK(ready.find("STATUS=1 pipeline(s)") != std::string::npos);
  // WATCHDOG_USEC=300 ms: a ping every 150 ms, so a second brings at least five.
  notify.watchdogs = 0;
  notify.until("never sent", 1s);
  CHECK(notify.watchdogs >= 5);

  daemon.signal(SIGHUP);
  std::string reloading = notify.until("RELOADING=1", 5s);
  REQUIRE(!reloading.empty());
  CHECK(reloading.find("MONOTONIC_USEC=") != std::string::npos);
  CHECK(!notify.until("READY=1", 5s).empty());

  daemon.signal(SIGTERM);
  CHECK(!notify.until("STOPPING=1", 5s).empty());
  CHECK(daemon.wait(30s) == 0);
}

TEST_CASE("without NOTIFY_SOCKET the daemon runs the same and sends nothing", "[operations][systemd]") {
  TempDir dir;
  write_daemon_file(dir);
  write_file(dir / "pipelines/gen.yaml", generate_to_file(dir, "gen", "count: 1000"));
  // A ping every millisecond: the end of the run must still stop the pings (a watchdog timer that re-arms after
  // the daemon is done would keep it running forever).
  CHECK(run_sluiced({"run", "--config", dir / "sluice.yaml", "--once"}, dir / "log", 60s, {"WATCHDOG_USEC=2000"}) == 0);
  CHECK(read_file(dir / "log").find("sd_notify failed") == std::string::npos);
}

TEST_CASE("sluiced status prints a table of the running daemon's pipelines", "[operations][cli]") {
  TempDir dir;
  write_daemon_file(dir);
  write_file(dir / "pipelines/gen.yaml", generate_to_file(dir, "gen"));
  write_file(dir / "pipelines/lossy.yaml",
             "source: { type: generate, rate: 20000 }\nqueue: { max_records: 10, policy: drop_newest }\n"
             "sink: { type: file, path: " + (dir / "out-lossy") + ", batch: { max_records: 5, max_wait: 100ms } }\n");
  Daemon daemon({"run", "--config", dir / "sluice.yaml"}, dir / "log");
  std::string address = wait_for_http_address(dir / "state");
  REQUIRE(wait_until([&] { return scrape_value(address, R"(sluice_commits_total{pipeline="gen"})").value_or(0) >= 1; }, 20s));
  REQUIRE(wait_until([&] { return scrape_value(address, R"(sluice_records_dropped_total{pipeline="lossy",reason="queue_full_drop_newest"})").value_or(0) > 0; }, 20s));

  auto [rc, table] = run_command({sluiced_path(), "status", "--config", dir / "sluice.yaml"});
  INFO(table);
  CHECK(rc == 0);
  CHECK(table.find("PIPELINE") != std::string::npos);
  CHECK(table.find("LAST ERROR") != std::string::npos);
  std::istringstream lines(table);
  std::string line, gen_line, lossy_line;
  while (std::getline(lines, line)) {
    if (line.rfind("gen ", 0) == 0) gen_line = line;
    if (line.rfind("lossy ", 0) == 0) lossy_line = line;
  }
  CHECK(gen_line.find("running") != std::string::npos);
  CHECK(lossy_line.find("running") != std::string::npos);
  // The same table through --url.
  auto [rc2, table2] = run_command({sluiced_path(), "status", "--url", "http://" + address});
  CHECK(rc2 == 0);
  CHECK(table2.find("gen ") != std::string::npos);

  daemon.signal(SIGTERM);
  CHECK(daemon.wait(30s) == 0);
  // Nobody listening any more: a clear error and exit 1.
  auto [rc3, error] = run_command({sluiced_path(), "status", "--url", address});
  CHECK(rc3 == 1);
  CHECK(error.find("cannot reach sluiced at " + address) != std::string::npos);
}

TEST_CASE("sluiced tap streams live records as JSONL, sampled, and reports what it skipped", "[operations][cli]") {
  TempDir dir;
  write_daemon_file(dir);
  write_file(dir / "pipelines/gen.yaml", generate_to_file(dir, "gen"));
  Daemon daemon({"run", "--config", dir / "sluice.yaml"}, dir / "log");
  std::string address = wait_for_http_address(dir / "state");
  INFO("daemon log:\n" << read_file(dir / "log"));

  TempDir out;
  int rc = std::system((sluiced_path() + " tap gen --limit 50 --config " + (dir / "sluice.yaml") + " >" + (out / "stdout") + " 2>" +
                        (out / "stderr"))
                           .c_str());
  CHECK(WEXITSTATUS(rc) == 0);
  std::string records = read_file(out / "stdout");
  INFO("tap stdout:\n" << records << "\ntap stderr:\n" << read_file(out / "stderr"));
  std::istringstream in(records);
  std::string line;
  size_t n = 0;
  std::optional<uint64_t> previous;
  while (std::getline(in, line)) {
    auto record = json::parse(line).as_object();  // each line is the record itself, not an envelope
    uint64_t seq = record.at("seq").to_number<uint64_t>();
    if (previous) CHECK(seq > *previous);
    previous = seq;
    ++n;
  }
  CHECK(n == 50);
  CHECK(read_file(out / "stderr").find("50 record(s) shown") != std::string::npos);

  // At 20 records/s from a 5000/s pipeline, most are sampled out and counted.
  rc = std::system((sluiced_path() + " tap gen --limit 30 --rate 20 --url " + address + " >" + (out / "stdout2") + " 2>" + (out / "stderr2")).c_str());
  CHECK(WEXITSTATUS(rc) == 0);
  std::string summary = read_file(out / "stderr2");
  INFO(summary);
  CHECK(summary.find("30 record(s) shown") != std::string::npos);
  CHECK(summary.find(" 0 skipped") == std::string::npos);
  CHECK(scrape_value(address, R"(sluice_tap_skipped_records_total{pipeline="gen"})").value_or(0) > 0);

  rc = std::system((sluiced_path() + " tap nosuch --url " + address + " >/dev/null 2>" + (out / "stderr3")).c_str());
  CHECK(WEXITSTATUS(rc) == 1);
  CHECK(read_file(out / "stderr3").find("no pipeline named nosuch") != std::string::npos);

  daemon.signal(SIGTERM);
  CHECK(daemon.wait(30s) == 0);
}

TEST_CASE("a tap reader that stops reading never slows the pipeline", "[operations][cli]") {
  TempDir dir;
  write_daemon_file(dir);
  const uint64_t count = 300000;
  write_file(dir / "pipelines/fast.yaml",
             "source: { type: generate, count: " + std::to_string(count) + " }\nsink: { type: file, path: " + (dir / "out") + " }\n");
  // Start with a pipeline that cannot finish before the tap is attached: a slow one, then swap in the fast one.
  write_file(dir / "pipelines/fast.yaml", "source: { type: generate, rate: 100 }\nsink: { type: file, path: " + (dir / "out") + " }\n");
  Daemon daemon({"run", "--config", dir / "sluice.yaml"}, dir / "log");
  std::string address = wait_for_http_address(dir / "state");
  INFO("daemon log:\n" << read_file(dir / "log"));

  // A reader that asks for everything and then reads nothing: its socket fills, then the tap's buffer.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  auto colon = address.rfind(':');
  addr.sin_port = htons(uint16_t(std::stoi(address.substr(colon + 1))));
  ::inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string request = "GET /tap/fast?rate=1000000 HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(::send(fd, request.data(), request.size(), 0) == ssize_t(request.size()));
  REQUIRE(wait_until([&] { return daemon_status(address).at("pipelines").as_array()[0].at("tap_readers").to_number<uint64_t>() == 1; }, 10s));

  write_file(dir / "pipelines/fast.yaml",
             "source: { type: generate, count: " + std::to_string(count) + " }\nsink: { type: file, path: " + (dir / "out") + " }\n");
  daemon.signal(SIGHUP);
  // The whole bounded source reaches the sink while the reader is stalled.
  bool finished = wait_until(
      [&] {
        auto p = daemon_status(address).at("pipelines").as_array()[0].as_object();
        return p.at("state").as_string() == "finished";
      },
      60s, 100ms);
  auto p = daemon_status(address).at("pipelines").as_array()[0].as_object();
  INFO(json::serialize(p));
  CHECK(finished);
  CHECK(p.at("tap_readers").to_number<uint64_t>() == 1);
  CHECK(p.at("tap_skipped").to_number<uint64_t>() > 0);
  ::close(fd);
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(30s) == 0);
}

TEST_CASE("log level and format change on reload and JSON logs are one object a line with ts, level, pipeline, message, fields",
          "[operations][logs]") {
  TempDir dir;
  write_daemon_file(dir);
  auto daemon_file = [&](const std::string& log) {
    write_file(dir / "sluice.yaml", "state_dir: " + (dir / "state") + "\npipelines_dir: " + (dir / "pipelines") +
                                        "\nhttp: { listen: 127.0.0.1:0 }\nlog: " + log + "\n");
  };
  daemon_file("{ level: warn, format: text }");
  write_file(dir / "pipelines/gen.yaml", generate_to_file(dir, "gen"));
  Daemon daemon({"run", "--config", dir / "sluice.yaml"}, dir / "log");
  std::string address = wait_for_http_address(dir / "state");
  REQUIRE(wait_until([&] { return scrape_value(address, R"(sluice_commits_total{pipeline="gen"})").value_or(0) >= 1; }, 20s));
  CHECK(read_file(dir / "log").find(" started: ") == std::string::npos);  // info, below warn

  daemon_file("{ level: info, format: json }");
  daemon.signal(SIGHUP);
  REQUIRE(wait_until([&] { return scrape_value(address, R"(sluice_reloads_total{result="success"})").value_or(0) >= 1; }, 10s));
  daemon.signal(SIGTERM);
  REQUIRE(daemon.wait(30s) == 0);

  std::string log = read_file(dir / "log");
  INFO(log);
  std::istringstream lines(log);
  std::string line;
  size_t json_lines = 0;
  bool saw_reload = false, saw_pipeline_end = false;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;
    ++json_lines;
    auto o = json::parse(line).as_object();
    for (const char* key : {"ts", "level", "pipeline", "message", "fields"}) CHECK(o.contains(key));
    CHECK(o.at("ts").as_string().size() == 24);  // 2026-11-25T07:30:00.123Z
    CHECK(o.at("fields").is_object());
    const auto& fields = o.at("fields").as_object();
    if (fields.contains("event") && fields.at("event").as_string() == "reload_applied") {
      saw_reload = true;
      CHECK(o.at("pipeline").is_null());  // the daemon's own line
      CHECK(o.at("level").as_string() == "info");
      CHECK(fields.at("sequence").to_number<uint64_t>() == 1);
      CHECK(fields.at("unchanged").to_number<uint64_t>() == 1);
    }
    if (fields.contains("event") && fields.at("event").as_string() == "pipeline_ended") {
      saw_pipeline_end = true;
      CHECK(o.at("pipeline").as_string() == "gen");
      CHECK(fields.at("records_out").to_number<uint64_t>() > 0);
      CHECK(fields.at("state").as_string() == "stopped");
    }
  }
  CHECK(json_lines >= 3);
  CHECK(saw_reload);
  CHECK(saw_pipeline_end);
}

TEST_CASE("connectors add their own series to the same registry, and they leave with the pipeline", "[operations]") {
  TempDir dir;
  write_daemon_file(dir);
  write_file(dir / "in/a.jsonl", "{\"a\":1}\n");
  write_file(dir / "in/b.jsonl", "{\"b\":2}\n");
  write_file(dir / "pipelines/files.yaml", "source: { type: file, path: " + (dir / "in") + ", watch: true }\nsink: { type: blackhole }\n");
  Daemon daemon({"run", "--config", dir / "sluice.yaml"}, dir / "log");
  std::string address = wait_for_http_address(dir / "state");
  INFO(read_file(dir / "log"));
  REQUIRE(wait_until([&] { return scrape_value(address, R"(sluice_file_source_files{pipeline="files"})") == 2.0; }, 10s));
  write_file(dir / "in/c.jsonl", "{\"c\":3}\n");
  CHECK(wait_until([&] { return scrape_value(address, R"(sluice_file_source_files{pipeline="files"})") == 3.0; }, 10s));

  std::filesystem::remove(dir / "pipelines/files.yaml");
  daemon.signal(SIGHUP);
  CHECK(wait_until([&] { return !scrape_value(address, R"(sluice_file_source_files{pipeline="files"})").has_value(); }, 10s));
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(30s) == 0);
}

TEST_CASE("a second stop signal exits at once, and the next start resumes from the last commit", "[operations][shutdown]") {
  TempDir dir;
  write_daemon_file(dir);
  write_file(dir / "sluice.yaml", read_file(dir / "sluice.yaml") + "shutdown_timeout: 60s\n");
  // Small batches and commits made slow (100 ms, a disk under load): the queue fills, so a clean drain would
  // take seconds.
  write_file(dir / "pipelines/slow.yaml", "source: { type: generate, rate: 2000, seed: 5 }\nqueue: { max_records: 2000 }\n"
                                          "sink: { type: file, path: " + (dir / "out") + ", batch: { max_records: 1 } }\n");
  {
    Daemon daemon({"run", "--config", dir / "sluice.yaml"}, dir / "log1", {"SLUICE_SLOW_AT=commit.before_state_write@slow:100"});
    std::string address = wait_for_http_address(dir / "state");
    REQUIRE(wait_until([&] { return scrape_value(address, R"(sluice_queue_records{pipeline="slow"})").value_or(0) >= 1000; }, 20s));
    daemon.signal(SIGTERM);
    std::this_thread::sleep_for(100ms);
    auto second = std::chrono::steady_clock::now();
    daemon.signal(SIGTERM);
    CHECK(daemon.wait(5s) == 1);
    CHECK(std::chrono::steady_clock::now() - second < 2s);
    std::string log = read_file(dir / "log1");
    INFO(log);
    CHECK(log.find("second stop signal: exiting now") != std::string::npos);
    CHECK(log.find("[slow] stopped:") == std::string::npos);  // it did not wait for the drain
  }
  std::filesystem::remove(dir / "state/http.address");
  Daemon daemon({"run", "--config", dir / "sluice.yaml"}, dir / "log2");
  std::string address = wait_for_http_address(dir / "state");
  REQUIRE(wait_until([&] { return scrape_value(address, R"(sluice_commits_total{pipeline="slow"})").value_or(0) >= 20; }, 20s));
  // A clean stop this time, at full speed: it drains the queue within shutdown_timeout.
  daemon.signal(SIGTERM);
  REQUIRE(daemon.wait(60s) == 0);
  INFO(read_file(dir / "log2"));
  CHECK(read_file(dir / "log2").find("resuming from 1 committed position(s)") != std::string::npos);
  auto lines = finished_part_lines(dir / "out");
  CHECK(in_progress_parts(dir / "out").empty());
  REQUIRE(lines.size() > 20);
  require_ids_exactly_once(lines, "seq", lines.size());
}

TEST_CASE("/status shows the source position where a restart resumes, for the in-memory queue and the spool", "[operations]") {
  TempDir dir;
  write_daemon_file(dir);
  write_file(dir / "pipelines/memory.yaml", generate_to_file(dir, "memory"));
  // With policy buffer the position is durable once spooled, before the sink commits.
  write_file(dir / "pipelines/spooled.yaml", "source: { type: generate, rate: 5000 }\nqueue: { policy: buffer }\n"
                                             "sink: { type: file, path: " + (dir / "out-spooled") + " }\n");
  Daemon daemon({"run", "--config", dir / "sluice.yaml"}, dir / "log");
  std::string address = wait_for_http_address(dir / "state");
  INFO(read_file(dir / "log"));
  for (const char* name : {"memory", "spooled"}) {
    INFO(name);
    std::string first;
    CHECK(wait_until(
        [&] {
          auto status = daemon_status(address);
          const auto& position = status_pipeline(status, name).at("position").as_object();
          if (!position.contains("generate")) return false;
          std::string now(position.at("generate").as_string());
          if (first.empty()) first = now;
          return now != first;  // it moves as the pipeline runs
        },
        15s));
  }
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(30s) == 0);
}

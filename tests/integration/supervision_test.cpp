// A failing pipeline is restarted with backoff and never stops another one.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>

#include "support/test_support.hpp"

using namespace sluice::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST_CASE("a failing pipeline restarts with doubling backoff while another keeps running", "[integration][supervision]") {
  TempDir dir;
  write_daemon_file(dir);
  // The sink's directory is a regular file: every start of this pipeline fails.
  write_file(dir / "blocker", "not a directory");
  write_file(dir / "pipelines/broken.yaml", "source: { type: generate, rate: 100 }\nsink: { type: file, path: " + (dir / "blocker/out") + " }\n");
  write_file(dir / "pipelines/healthy.yaml", "source: { type: generate, rate: 2000 }\nsink: { type: file, path: " + (dir / "out") + " }\n");
  Daemon d({"run", "--config", dir / "sluice.yaml"}, dir / "sluiced.log");
  std::this_thread::sleep_for(3500ms);  // failures at 0 s, 1 s, 3 s
  REQUIRE(d.running());
  d.signal(SIGTERM);
  REQUIRE(d.wait(30s) == 0);
  std::string log = read_file(dir / "sluiced.log");
  INFO(log);
  CHECK(log.find("[broken] restarting in 1s (attempt 2)") != std::string::npos);
  CHECK(log.find("[broken] restarting in 2s (attempt 3)") != std::string::npos);
  CHECK(log.find("[healthy] stopped:") != std::string::npos);
  CHECK(finished_part_lines(dir / "out").size() > 3000);
}

TEST_CASE("with --once a failed pipeline is final: the others finish and the exit code is 1", "[integration][supervision]") {
  TempDir dir;
  write_daemon_file(dir);
  write_file(dir / "blocker", "x");
  write_file(dir / "pipelines/broken.yaml", "source: { type: generate, count: 10 }\nsink: { type: file, path: " + (dir / "blocker/out") + " }\n");
  write_file(dir / "pipelines/healthy.yaml", "source: { type: generate, count: 20000 }\nsink: { type: file, path: " + (dir / "out") + " }\n");
  int rc = run_sluiced({"run", "--config", dir / "sluice.yaml", "--once"}, dir / "sluiced.log", 60s);
  INFO(read_file(dir / "sluiced.log"));
  CHECK(rc == 1);
  CHECK(finished_part_lines(dir / "out").size() == 20000);
}

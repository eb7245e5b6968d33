// The real sluiced, built with crash points, dies at each step of the file sink's commit protocol; the next
// run must recover to exactly the committed data and finish with every record exactly once.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>
#include <thread>

#include "support/parquet_support.hpp"
#include "support/test_support.hpp"

using namespace sluice::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

int run_once(const TempDir& dir, std::vector<std::string> env = {}) {
  return run_sluiced({"run", "--config", dir / "sluice.yaml", "--once"}, dir / "sluiced.log", 2min, std::move(env));
}

}  // namespace

TEST_CASE("file sink recovers from a crash at every step of the commit", "[integration][crash]") {
  const char* points[] = {"file_sink.after_create:2",   "file_sink.after_append:3",     "file_sink.after_fsync:4",
                          "commit.before_state_write:5", "commit.after_state_write:6",  "file_sink.after_rename:2"};
  for (const char* point : points) {
    for (const char* compression : {"none", "gzip"}) {
      DYNAMIC_SECTION(point << " " << compression) {
        TempDir dir;
        write_daemon_file(dir);
        write_file(dir / "pipelines/gen.yaml",
                   std::string("source: { type: generate, count: 20000, seed: 5 }\n") +
                       "sink: { type: file, path: " + (dir / "out") + ", format: jsonl, compression: " + compression +
                       ", roll: { max_bytes: 64KiB }, batch: { max_records: 1000, max_wait: 10ms } }\n");
        int rc = run_once(dir, {std::string("SLUICE_CRASH_AT=") + point});
        INFO("log: " << read_file(dir / "sluiced.log"));
        REQUIRE(rc == 86);  // died at the crash point
        REQUIRE(run_once(dir) == 0);
        require_ids_exactly_once(finished_part_lines(dir / "out"), "seq", 20000);
        CHECK(in_progress_parts(dir / "out").empty());
      }
    }
  }
}

TEST_CASE("Parquet sink recovers from a crash at every step of its commit: stage appends, row groups, footers", "[integration][crash]") {
  struct Case {
    const char* point;
    int records, batch;
    const char* row_group;
  };
  // Small batches: a row group every few commits, the stage appended in between. Big batches (1.4 MB of JSON
  // each): the stage is written in several pieces while a batch is shredded.
  const Case cases[] = {
      {"parquet_part.after_stage_append:3", 20000, 1000, "256KiB"}, {"parquet_part.after_row_group:2", 20000, 1000, "256KiB"},
      {"commit.before_state_write:7", 20000, 1000, "256KiB"},        {"commit.after_state_write:9", 20000, 1000, "256KiB"},
      {"parquet_part.after_footer:1", 20000, 1000, "256KiB"},        {"file_sink.after_rename:1", 20000, 1000, "256KiB"},
      {"parquet_part.after_stage_append:3", 60000, 10000, "4MiB"}, {"commit.after_state_write:4", 60000, 10000, "4MiB"},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.point << ", batches of " << c.batch) {
      TempDir dir;
      write_daemon_file(dir);
      write_file(dir / "pipelines/gen.yaml",
                 "source: { type: generate, count: " + std::to_string(c.records) + ", seed: 5 }\n" +
                     "sink: { type: file, path: " + (dir / "out") + ", format: parquet, schema: infer, row_group_bytes: " + c.row_group +
                     ", roll: { max_bytes: 1MiB }, batch: { max_records: " + std::to_string(c.batch) + ", max_wait: 10ms } }\n");
      int rc = run_once(dir, {std::string("SLUICE_CRASH_AT=") + c.point});
      INFO("log: " << read_file(dir / "sluiced.log"));
      REQUIRE(rc == 86);  // died at the crash point
      REQUIRE(run_once(dir) == 0);
      std::vector<std::string> rows;
      for (const auto& e : fs::directory_iterator(dir / "out"))
        if (e.path().extension() == ".parquet")
          for (auto& row : parquet_rows(e.path().string())) rows.push_back(std::move(row));
      require_ids_exactly_once(rows, "seq", c.records);
      CHECK(in_progress_parts(dir / "out").empty());
      for (const auto& e : fs::directory_iterator(dir / "out")) CHECK_FALSE(e.path().filename().string().starts_with("."));
    }
  }
}

TEST_CASE("CSV sink writes a header per part and recovers like JSONL", "[integration][crash]") {
  TempDir dir;
  write_daemon_file(dir);
  write_file(dir / "pipelines/gen.yaml",
             "source: { type: generate, count: 5000, seed: 5, payload_bytes: 8 }\n"
             "sink: { type: file, path: " + (dir / "out") + ", format: csv, roll: { max_bytes: 32KiB }, batch: { max_records: 300 } }\n");
  REQUIRE(run_once(dir, {"SLUICE_CRASH_AT=file_sink.after_fsync:4"}) == 86);
  REQUIRE(run_once(dir) == 0);
  auto lines = finished_part_lines(dir / "out");
  size_t headers = 0;
  std::vector<int> seen(5000, 0);
  for (const auto& l : lines) {
    if (l == "seq,ts,key,payload") {
      ++headers;
      continue;
    }
    seen[std::stoul(l.substr(0, l.find(',')))]++;
  }
  CHECK(headers >= 2);
  for (int i = 0; i < 5000; ++i) REQUIRE(seen[size_t(i)] == 1);
}

TEST_CASE("file source resumes mid-file for plain, gzip and CSV input", "[integration][file_source]") {
  for (const char* kind : {"jsonl", "jsonl.gz", "csv", "csv.gz"}) {
    DYNAMIC_SECTION(kind) {
      TempDir dir;
      write_daemon_file(dir);
      bool csv = std::string(kind).starts_with("csv");
      std::string text = csv ? "\xEF\xBB\xBFid,text\r\n" : "";
      for (int i = 0; i < 30000; ++i)
        text += csv ? std::to_string(i) + ",\"a \"\"quoted\"\", multi\nline value\"\r\n"
                    : "{\"id\":" + std::to_string(i) + ",\"text\":\"" + std::string(50, 'z') + "\"}\n";
      std::string name = dir / (std::string("in/data.") + kind);
      write_file(name, std::string(kind).ends_with(".gz") ? gzip_text(text) : text);
      write_file(dir / "pipelines/files.yaml",
                 "source: { type: file, path: " + (dir / "in") + ", watch: false }\n"
                 "sink: { type: file, path: " + (dir / "out") + ", format: jsonl, batch: { max_records: 500, max_wait: 10ms } }\n");
      // Several crashes, each after a few commits: every restart resumes inside the file.
      for (int crash = 0; crash < 4; ++crash) REQUIRE(run_once(dir, {"SLUICE_CRASH_AT=commit.after_state_write:7"}) == 86);
      int rc = run_once(dir);
      INFO("log: " << read_file(dir / "sluiced.log"));
      REQUIRE(rc == 0);
      auto lines = finished_part_lines(dir / "out");
      require_ids_exactly_once(lines, "id", 30000);
      if (csv) CHECK(lines[0].find(R"("text":"a \"quoted\", multi\nline value")") != std::string::npos);
      REQUIRE(read_file(dir / "sluiced.log").find("resuming from") != std::string::npos);
    }
  }
}

TEST_CASE("watch mode follows appends, rotation by rename and truncation", "[integration][file_source]") {
  TempDir dir;
  write_daemon_file(dir);
  fs::create_directories(dir / "in");
  write_file(dir / "pipelines/tail.yaml",
             "source: { type: file, path: " + (dir / "in") + ", watch: true, poll_interval: 20ms }\n"
             "sink: { type: file, path: " + (dir / "out") + ", format: jsonl, batch: { max_records: 100, max_wait: 10ms } }\n");
  Daemon d({"run", "--config", dir / "sluice.yaml"}, dir / "sluiced.log");
  int next = 0;
  auto append = [&](const std::string& file, int n) {
    std::string text;
    for (int i = 0; i < n; ++i) text += "{\"id\":" + std::to_string(next++) + "}\n";
    append_file(dir / ("in/" + file), text);
  };
  auto wait_for = [&](size_t n) {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (all_part_lines(dir / "out") < n) {
      INFO("log: " << read_file(dir / "sluiced.log"));
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(20ms);
    }
  };
  append("app.jsonl", 100);
  wait_for(100);
  append("app.jsonl", 50);  // appended lines
  wait_for(150);
  // Rotation: the file moves away and a new one takes its name; the rest of the old one still arrives once.
  append("app.jsonl", 25);
  fs::rename(dir / "in/app.jsonl", dir / "in/app-1.jsonl");
  append("app.jsonl", 40);
  wait_for(215);
  // Truncation in place (copytruncate): the file starts over and its new lines are read.
  append("trunc.jsonl", 30);
  wait_for(245);
  fs::resize_file(dir / "in/trunc.jsonl", 0);
  std::this_thread::sleep_for(100ms);
  append("trunc.jsonl", 10);
  wait_for(255);
  d.signal(SIGTERM);
  REQUIRE(d.wait(30s) == 0);
  require_ids_exactly_once(finished_part_lines(dir / "out"), "id", uint64_t(next));
}

TEST_CASE("two daemons cannot share a state_dir and the second names the first's pid", "[integration]") {
  TempDir dir;
  write_daemon_file(dir);
  write_file(dir / "pipelines/gen.yaml", "source: { type: generate, rate: 10 }\nsink: { type: file, path: " + (dir / "out") + " }\n");
  Daemon first({"run", "--config", dir / "sluice.yaml"}, dir / "first.log");
  std::this_thread::sleep_for(500ms);
  REQUIRE(first.running());
  int rc = run_sluiced({"run", "--config", dir / "sluice.yaml"}, dir / "second.log", 30s);
  CHECK(rc == 1);
  CHECK(read_file(dir / "second.log").find("in use by another sluiced process (pid " + std::to_string(first.pid()) + ")") !=
        std::string::npos);
  first.signal(SIGTERM);
  REQUIRE(first.wait(30s) == 0);
}

TEST_CASE("an overlong JSONL line is dead-lettered once and later line numbers stay right", "[integration][file_source]") {
  TempDir dir;
  write_daemon_file(dir);
  // The long line spans several 1 MiB reads, so its end arrives chunks after its start.
  std::string text = "{\"id\":0}\n{\"big\":\"" + std::string(3 << 20, 'x') + "\"}\n{\"id\":1}\n{oops\n{\"id\":2}\n";
  write_file(dir / "in/data.jsonl", text);
  write_file(dir / "pipelines/files.yaml",
             "source: { type: file, path: " + (dir / "in") + ", watch: false, max_line_bytes: 64KiB }\n"
             "dead_letter: { path: " + (dir / "dead") + " }\n"
             "sink: { type: file, path: " + (dir / "out") + " }\n");
  REQUIRE(run_sluiced({"run", "--config", dir / "sluice.yaml", "--once"}, dir / "sluiced.log") == 0);
  require_ids_exactly_once(finished_part_lines(dir / "out"), "id", 3);
  auto dead = finished_part_lines(dir / "dead");
  INFO(read_file(dir / "sluiced.log"));
  REQUIRE(dead.size() == 2);
  CHECK(dead[0].find("\"line\":2,\"reason\":\"line longer than max_line_bytes") != std::string::npos);
  CHECK(dead[0].size() < 2000);
  CHECK(dead[1].find("\"line\":4,") != std::string::npos);
}

TEST_CASE("pipelines whose names share a prefix share a sink directory safely across a crash", "[integration][crash]") {
  TempDir dir;
  write_daemon_file(dir);
  for (const char* name : {"orders", "orders-eu"})
    write_file(dir / (std::string("pipelines/") + name + ".yaml"),
               "source: { type: generate, count: 20000, seed: 1 }\n"
               "sink: { type: file, path: " + (dir / "out") + ", batch: { max_records: 1000, max_wait: 10ms } }\n");
  REQUIRE(run_sluiced({"run", "--config", dir / "sluice.yaml", "--once"}, dir / "sluiced.log", 2min,
                      {"SLUICE_CRASH_AT=commit.after_state_write:9"}) == 86);
  REQUIRE(in_progress_parts(dir / "out").size() == 2);  // both had committed data in progress
  REQUIRE(run_sluiced({"run", "--config", dir / "sluice.yaml", "--once"}, dir / "sluiced.log") == 0);
  std::vector<std::string> orders, orders_eu;
  for (const auto& e : fs::directory_iterator(dir / "out")) {
    std::string name = e.path().filename().string();
    std::string text = read_file(e.path().string());
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) (name.starts_with("orders-eu-") ? orders_eu : orders).push_back(line);
  }
  require_ids_exactly_once(orders, "seq", 20000);
  require_ids_exactly_once(orders_eu, "seq", 20000);
}

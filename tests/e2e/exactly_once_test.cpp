// End-to-end: the real sluiced process is SIGKILLed at random moments and restarted; the sink must hold
// every record exactly once.
#include <signal.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "support/test_support.hpp"

using namespace sluice::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

void write_daemon_file(const TempDir& dir) {
  fs::create_directories(dir / "pipelines");
  write_file(dir / "sluice.yaml", "state_dir: " + (dir / "state") + "\npipelines_dir: " + (dir / "pipelines") +
                                      "\nlog: { level: info, format: text }\nshutdown_timeout: 30s\n");
}

// The integer after `"field":` (quoted or not) in a JSON line.
std::optional<uint64_t> field_number(const std::string& line, const std::string& field) {
  std::string needle = "\"" + field + "\":";
  auto at = line.find(needle);
  if (at == std::string::npos) return std::nullopt;
  at += needle.size();
  if (at < line.size() && line[at] == '"') ++at;
  uint64_t v = 0;
  size_t digits = 0;
  while (at < line.size() && std::isdigit(static_cast<unsigned char>(line[at]))) v = v * 10 + uint64_t(line[at++] - '0'), ++digits;
  if (!digits) return std::nullopt;
  return v;
}

// Every id in [0, expected) exactly once; the message names the first offender.
void require_exactly_once(const std::vector<std::string>& lines, const std::string& field, uint64_t expected) {
  std::vector<uint32_t> seen(expected, 0);
  for (const auto& line : lines) {
    auto id = field_number(line, field);
    INFO("line: " << line);
    REQUIRE(id.has_value());
    REQUIRE(*id < expected);
    seen[*id]++;
  }
  for (uint64_t i = 0; i < expected; ++i) {
    if (seen[i] != 1) FAIL_CHECK(field << " " << i << " appears " << seen[i] << " times (want exactly once); " << lines.size() << " lines in all");
    if (seen[i] != 1) break;
  }
  REQUIRE(lines.size() == expected);
}

size_t count_occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Runs `run --once`, SIGKILLing it `kills` times at random moments in [min_delay, max_delay), then lets the
// last run finish. Workloads are paced so that they cannot finish before the last kill.
void run_with_kills(const TempDir& dir, int kills, std::chrono::milliseconds min_delay, std::chrono::milliseconds max_delay,
                    uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> delay(min_delay.count(), max_delay.count());
  for (int killed = 0; killed < kills; ++killed) {
    Daemon d({"run", "--config", dir / "sluice.yaml", "--once"}, dir / "sluiced.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(delay(rng)));
    INFO("kill " << killed + 1 << " of " << kills << "; log: " << read_file(dir / "sluiced.log"));
    REQUIRE(d.running());  // finished before all kills: the workload is too small to prove anything
    d.signal(SIGKILL);
    REQUIRE(d.wait(10s) == 128 + SIGKILL);
  }
  // Kills landed mid-stream: most restarts resumed from a commit of an earlier run (a kill during start-up,
  // slow under sanitizers, may precede the first commit).
  CHECK(count_occurrences(read_file(dir / "sluiced.log"), "resuming from") >= size_t(kills / 2));
  int rc = run_sluiced({"run", "--config", dir / "sluice.yaml", "--once"}, dir / "sluiced.log", 10min);
  INFO("log tail: " << read_file(dir / "sluiced.log").substr(0, 4000));
  REQUIRE(rc == 0);
}

std::string gzip_text(const std::string& text) {
  std::string out(compressBound(uLong(text.size())) + 64, '\0');
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = uInt(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = uInt(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

TEST_CASE("generate to file survives 10 SIGKILLs with every seq exactly once", "[e2e]") {
  TempDir dir;
  write_daemon_file(dir);
  const uint64_t n = 500000;
  write_file(dir / "pipelines/gen.yaml",
             "source: { type: generate, count: 500000, rate: 60000, arrival: poisson, seed: 7 }\n"
             "sink: { type: file, path: " + (dir / "out") + ", format: jsonl, roll: { max_bytes: 4MiB },"
             " batch: { max_records: 3000, max_wait: 50ms } }\n");
  run_with_kills(dir, 10, 200ms, 700ms, 1);
  require_exactly_once(finished_part_lines(dir / "out"), "seq", n);
  CHECK(in_progress_parts(dir / "out").empty());
}

TEST_CASE("generate to gzip file with policy buffer survives 10 SIGKILLs exactly once", "[e2e]") {
  TempDir dir;
  write_daemon_file(dir);
  const uint64_t n = 500000;
  write_file(dir / "pipelines/gen.yaml",
             "source: { type: generate, count: 500000, rate: 60000, arrival: poisson, seed: 9 }\n"
             "queue: { policy: buffer, max_records: 20000, buffer: { max_bytes: 64MiB } }\n"
             "sink: { type: file, path: " + (dir / "out") + ", format: jsonl, compression: gzip, roll: { max_bytes: 2MiB },"
             " batch: { max_records: 4000, max_wait: 50ms } }\n");
  run_with_kills(dir, 10, 200ms, 700ms, 2);
  require_exactly_once(finished_part_lines(dir / "out"), "seq", n);
  CHECK(in_progress_parts(dir / "out").empty());
}

TEST_CASE("a directory of JSONL, gzip and CSV files survives 10 SIGKILLs exactly once, bad lines dead-lettered once", "[e2e]") {
  TempDir dir;
  write_daemon_file(dir);
  // 24 files of 10k records each, in four shapes, ids globally unique; every 5000th JSONL line is malformed.
  uint64_t id = 0, bad = 0;
  for (int f = 0; f < 24; ++f) {
    std::string text;
    bool csv = f % 4 >= 2, gz = f % 2 == 1;
    if (csv) text = "id,name,note\r\n";
    for (int i = 0; i < 10000; ++i) {
      if (csv) {
        text += std::to_string(id++) + ",\"user, " + std::to_string(i) + "\",\"line one\nline two\"\r\n";
      } else if (i % 5000 == 4999) {
        text += "{\"id\": oops}\n";
        ++bad;
      } else {
        text += "{\"id\":" + std::to_string(id++) + ",\"v\":\"" + std::string(40, 'x') + "\"}\n";
      }
    }
    std::string name = dir / ("in/file-" + std::to_string(f) + (csv ? ".csv" : ".jsonl") + (gz ? ".gz" : ""));
    write_file(name, gz ? gzip_text(text) : text);
  }
  write_file(dir / "pipelines/files.yaml",
             "source: { type: file, path: " + (dir / "in") + ", watch: false, rate_limit: { rate: 25000, burst: 2000 } }\n"
             "dead_letter: { path: " + (dir / "dead") + " }\n"
             "sink: { type: file, path: " + (dir / "out") + ", format: jsonl, batch: { max_records: 2000, max_wait: 50ms } }\n");
  run_with_kills(dir, 10, 150ms, 800ms, 3);
  require_exactly_once(finished_part_lines(dir / "out"), "id", id);
  auto dead = finished_part_lines(dir / "dead");
  REQUIRE(dead.size() == bad);
  for (const auto& line : dead) {
    CHECK(line.find("\"line\":") != std::string::npos);
    CHECK(line.find("oops") != std::string::npos);
  }
}

TEST_CASE("SIGTERM drains, commits, finishes parts and exits 0; a restart continues without a gap", "[e2e]") {
  TempDir dir;
  write_daemon_file(dir);
  write_file(dir / "pipelines/endless.yaml",
             "source: { type: generate, rate: 50000, seed: 3 }\n"
             "sink: { type: file, path: " + (dir / "out") + ", format: jsonl }\n");
  for (int round = 0; round < 2; ++round) {
    Daemon d({"run", "--config", dir / "sluice.yaml"}, dir / "sluiced.log");
    std::this_thread::sleep_for(1500ms);
    REQUIRE(d.running());
    d.signal(SIGTERM);
    int rc = d.wait(30s);
    INFO("log: " << read_file(dir / "sluiced.log"));
    REQUIRE(rc == 0);
    CHECK(in_progress_parts(dir / "out").empty());
  }
  auto lines = finished_part_lines(dir / "out");
  REQUIRE(lines.size() > 50000);
  require_exactly_once(lines, "seq", lines.size());
}

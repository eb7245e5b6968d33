// End-to-end: the real sluiced process is SIGKILLed at random moments and restarted; the sink must hold
// every record exactly once.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "formats/parquet/column_spec.hpp"
#include "formats/parquet/writer.hpp"
#include "support/test_support.hpp"

using namespace sluice::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST_CASE("generate to file survives 10 SIGKILLs with every seq exactly once", "[e2e]") {
  TempDir dir;
  write_daemon_file(dir);
  const uint64_t n = 500000;
  write_file(dir / "pipelines/gen.yaml",
             "source: { type: generate, count: 500000, rate: 60000, arrival: poisson, seed: 7 }\n"
             "sink: { type: file, path: " + (dir / "out") + ", format: jsonl, roll: { max_bytes: 4MiB },"
             " batch: { max_records: 3000, max_wait: 50ms } }\n");
  run_with_kills(dir.path(), 10, 200ms, 700ms, 1);
  require_ids_exactly_once(finished_part_lines(dir / "out"), "seq", n);
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
  run_with_kills(dir.path(), 10, 200ms, 700ms, 2);
  require_ids_exactly_once(finished_part_lines(dir / "out"), "seq", n);
  CHECK(in_progress_parts(dir / "out").empty());
}

TEST_CASE("a directory of JSONL, gzip and CSV files survives 10 SIGKILLs exactly once, bad lines dead-lettered once", "[e2e]") {
  const std::string policy = GENERATE(as<std::string>{}, "throttle", "buffer");
  INFO("policy: " << policy);
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
             "queue: { policy: " + policy + " }\n"
             "sink: { type: file, path: " + (dir / "out") + ", format: jsonl, batch: { max_records: 2000, max_wait: 50ms } }\n");
  run_with_kills(dir.path(), 10, 150ms, 800ms, policy == "buffer" ? 4 : 3);
  require_ids_exactly_once(finished_part_lines(dir / "out"), "id", id);
  auto dead = finished_part_lines(dir / "dead");
  REQUIRE(dead.size() == bad);
  for (const auto& line : dead) {
    CHECK(line.find("\"line\":") != std::string::npos);
    CHECK(line.find("oops") != std::string::npos);
  }
}

TEST_CASE("a directory of Parquet files survives 10 SIGKILLs exactly once, a corrupt file dead-lettered once", "[e2e]") {
  namespace pq = sluice::formats::parquet;
  TempDir dir;
  write_daemon_file(dir);
  // 12 files of 20k rows in row groups of 1500 (nested and null values), ids globally unique, plus one file
  // whose row group 3 has a garbage page header.
  const std::vector<pq::ColumnSpec> columns{{"id", pq::parse_column_type("int64 not null")},
                                            {"user", pq::parse_column_type("struct{name: string, score: int32}")},
                                            {"tags", pq::parse_column_type("list<string>")}};
  auto write_parquet = [&](const std::string& name, uint64_t first, uint64_t count, std::optional<size_t> corrupt_group) {
    pq::Writer writer(columns, pq::WriterOptions{});
    std::string bytes(pq::kParquetMagic);
    std::vector<pq::RowGroup> groups;
    for (uint64_t id = first; id < first + count; ++id) {
      const std::string n = std::to_string(id);
      REQUIRE_FALSE(writer.add("{\"id\":" + n + ",\"user\":" + (id % 7 == 0 ? std::string("null") : "{\"name\":\"n" + n + "\",\"score\":null}") +
                               ",\"tags\":[\"" + n + "\",null]}"));
      if (writer.rows() == 1500) groups.push_back(writer.flush(bytes.size(), bytes));
    }
    if (writer.rows()) groups.push_back(writer.flush(bytes.size(), bytes));
    bytes += writer.footer(groups, {}, "sluice e2e test");
    if (corrupt_group) {
      const auto& meta = *groups.at(*corrupt_group).columns.at(0).meta_data;
      bytes.replace(size_t(meta.dictionary_page_offset.value_or(meta.data_page_offset)), 16, std::string(16, '\xff'));
    }
    write_file(dir / ("tmp/" + name), bytes);
    fs::create_directories(dir / "in");
    fs::rename(dir / ("tmp/" + name), dir / ("in/" + name));
  };
  uint64_t id = 0;
  for (int f = 0; f < 12; ++f, id += 20000) write_parquet("file-" + std::to_string(f) + ".parquet", id, 20000, std::nullopt);
  write_parquet("corrupt.parquet", id, 10000, 3);  // its row groups 0-2 arrive, the rest is dead-lettered
  id += 4500;
  write_file(dir / "pipelines/files.yaml",
             "source: { type: file, path: " + (dir / "in") + ", watch: false, rate_limit: { rate: 25000, burst: 2000 } }\n"
             "dead_letter: { path: " + (dir / "dead") + " }\n"
             "sink: { type: file, path: " + (dir / "out") + ", format: jsonl, batch: { max_records: 2000, max_wait: 50ms } }\n");
  run_with_kills(dir.path(), 10, 150ms, 800ms, 5);
  require_ids_exactly_once(finished_part_lines(dir / "out"), "id", id);
  auto dead = finished_part_lines(dir / "dead");
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].find("corrupt.parquet\",\"row_group\":3,") != std::string::npos);
}

TEST_CASE("SIGTERM drains, commits, finishes parts and exits 0, and a restart continues without a gap", "[e2e]") {
  TempDir dir;
  write_daemon_file(dir);
  // Unpaced and rate-limited in chunks smaller than the generator's groups, into a small queue: stops land
  // in the middle of groups, whose records carry no position yet.
  write_file(dir / "pipelines/endless.yaml",
             "source: { type: generate, seed: 3, rate_limit: { rate: 50000, burst: 300 } }\n"
             "queue: { max_records: 2000 }\n"
             "sink: { type: file, path: " + (dir / "out") + ", format: jsonl }\n");
  for (int round = 0; round < 3; ++round) {
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
  require_ids_exactly_once(lines, "seq", lines.size());
}

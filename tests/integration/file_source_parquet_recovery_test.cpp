// The real sluiced reading Parquet files with the file source: crashes in the commit, files that arrive in two
// steps, and files whose data is corrupt.
#include <signal.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>

#include "formats/parquet/column_spec.hpp"
#include "formats/parquet/writer.hpp"
#include "support/test_support.hpp"

using namespace sluice::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;
namespace pq = sluice::formats::parquet;

namespace {

// Row `id`: a nested struct, a list, and nulls in both.
std::string row_json(uint64_t id) {
  const std::string n = std::to_string(id);
  return "{\"id\":" + n + ",\"user\":" + (id % 5 == 1 ? std::string("null") : "{\"name\":\"u" + n + "\",\"age\":" + (id % 3 ? n : "null") + "}") +
         ",\"tags\":" + (id % 4 == 2 ? std::string("[]") : "[\"x\",null,\"" + n + "\"]") + "}";
}

struct TestFile {
  std::string bytes;
  std::vector<pq::RowGroup> groups;
};

TestFile make_parquet(uint64_t first_id, uint64_t count, uint64_t per_group) {
  std::vector<pq::ColumnSpec> columns{{"id", pq::parse_column_type("int64 not null")},
                                      {"user", pq::parse_column_type("struct{name: string, age: int64}")},
                                      {"tags", pq::parse_column_type("list<string>")}};
  pq::Writer writer(columns, pq::WriterOptions{});
  TestFile f{std::string(pq::kParquetMagic), {}};
  for (uint64_t id = first_id; id < first_id + count; ++id) {
    REQUIRE_FALSE(writer.add(row_json(id)));
    if (writer.rows() == per_group) f.groups.push_back(writer.flush(f.bytes.size(), f.bytes));
  }
  if (writer.rows()) f.groups.push_back(writer.flush(f.bytes.size(), f.bytes));
  f.bytes += writer.footer(f.groups, {}, "sluice file source test");
  return f;
}

void place(const TempDir& dir, const std::string& name, const std::string& bytes) {
  write_file(dir / ("tmp/" + name), bytes);
  fs::create_directories(dir / "in");
  fs::rename(dir / ("tmp/" + name), dir / ("in/" + name));
}

// Every line is the row its id names, exactly as written.
void require_rows_as_written(const std::vector<std::string>& lines) {
  for (const auto& line : lines) {
    auto id = field_number(line, "id");
    REQUIRE(id);
    INFO("line: " << line);
    REQUIRE(json::parse(line) == json::parse(row_json(*id)));
  }
}

}  // namespace

TEST_CASE("Parquet input resumes mid-row-group after crashes in the commit, every row exactly once",
          "[integration][file_source][parquet][crash]") {
  TempDir dir;
  write_daemon_file(dir);
  for (uint64_t f = 0; f < 3; ++f) place(dir, "part-" + std::to_string(f) + ".parquet", make_parquet(f * 10000, 10000, 1700).bytes);
  write_file(dir / "pipelines/files.yaml",
             "source: { type: file, path: " + (dir / "in") + ", watch: false }\n"
             "sink: { type: file, path: " + (dir / "out") + ", format: jsonl, batch: { max_records: 500, max_wait: 10ms } }\n");
  // Several crashes, each after a few commits of 500 rows: restarts resume inside row groups of 1700.
  for (int crash = 0; crash < 4; ++crash)
    REQUIRE(run_sluiced({"run", "--config", dir / "sluice.yaml", "--once"}, dir / "sluiced.log", 2min,
                        {"SLUICE_CRASH_AT=commit.after_state_write:7"}) == 86);
  int rc = run_sluiced({"run", "--config", dir / "sluice.yaml", "--once"}, dir / "sluiced.log");
  INFO("log: " << read_file(dir / "sluiced.log"));
  REQUIRE(rc == 0);
  auto lines = finished_part_lines(dir / "out");
  require_ids_exactly_once(lines, "id", 30000);
  require_rows_as_written(lines);
  REQUIRE(read_file(dir / "sluiced.log").find("resuming from") != std::string::npos);
}

TEST_CASE("a Parquet file copied in two steps is read once complete, and a corrupt one is dead-lettered once",
          "[integration][file_source][parquet]") {
  TempDir dir;
  write_daemon_file(dir);
  fs::create_directories(dir / "in");
  write_file(dir / "pipelines/watch.yaml",
             "source: { type: file, path: " + (dir / "in") + ", poll_interval: 20ms }\n"
             "dead_letter: { path: " + (dir / "dead") + " }\n"
             "sink: { type: file, path: " + (dir / "out") + ", format: jsonl, batch: { max_records: 300, max_wait: 10ms } }\n");
  Daemon d({"run", "--config", dir / "sluice.yaml"}, dir / "sluiced.log");
  auto wait_for = [&](size_t n) {
    INFO("log: " << read_file(dir / "sluiced.log"));
    REQUIRE(wait_until([&] { return all_part_lines(dir / "out") >= n; }, 30s));
  };

  // The first half of the bytes, then (after many polls) the rest with the footer: a copy in progress.
  const TestFile copied = make_parquet(0, 5000, 1000);
  const size_t half = copied.bytes.size() / 2;
  write_file(dir / "in/copied.parquet", copied.bytes.substr(0, half));
  std::this_thread::sleep_for(1s);
  CHECK(all_part_lines(dir / "out") == 0);
  append_file(dir / "in/copied.parquet", copied.bytes.substr(half));
  wait_for(5000);

  // Valid footer, garbage over the first page header of row group 1: row group 0 arrives, then one dead letter.
  TestFile corrupt = make_parquet(5000, 3000, 1000);
  const auto& meta = *corrupt.groups.at(1).columns.at(0).meta_data;
  corrupt.bytes.replace(size_t(meta.dictionary_page_offset.value_or(meta.data_page_offset)), 16, std::string(16, '\xff'));
  place(dir, "corrupt.parquet", corrupt.bytes);
  place(dir, "after.parquet", make_parquet(6000, 2000, 1000).bytes);
  wait_for(8000);
  std::this_thread::sleep_for(300ms);
  d.signal(SIGTERM);
  REQUIRE(d.wait(30s) == 0);

  auto lines = finished_part_lines(dir / "out");
  require_ids_exactly_once(lines, "id", 8000);
  require_rows_as_written(lines);
  auto dead = finished_part_lines(dir / "dead");
  INFO("log: " << read_file(dir / "sluiced.log"));
  REQUIRE(dead.size() == 1);
  const auto entry = json::parse(dead[0]).as_object();
  CHECK(entry.at("file").as_string() == dir / "in/corrupt.parquet");
  CHECK(entry.at("row_group").as_int64() == 1);
  CHECK(!entry.at("reason").as_string().empty());

  // Restarted, it reads nothing again and reports nothing again.
  write_file(dir / "pipelines/watch.yaml",
             "source: { type: file, path: " + (dir / "in") + ", watch: false }\n"
             "dead_letter: { path: " + (dir / "dead") + " }\n"
             "sink: { type: file, path: " + (dir / "out") + ", format: jsonl }\n");
  REQUIRE(run_sluiced({"run", "--config", dir / "sluice.yaml", "--once"}, dir / "sluiced.log") == 0);
  CHECK(finished_part_lines(dir / "out").size() == 8000);
  CHECK(finished_part_lines(dir / "dead").size() == 1);
}

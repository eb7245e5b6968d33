// The Parquet file sink through the real daemon: SIGKILLed at random moments, every record lands exactly once,
// every finished part is valid Parquet to sluice, DuckDB and hyparquet alike, and row groups come out near
// row_group_bytes however often the sink commits.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>

#include "formats/parquet/file_reader.hpp"
#include "support/parquet_support.hpp"
#include "support/test_support.hpp"

using namespace sluice::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;
namespace pq = sluice::formats::parquet;

namespace {

// Text that does not compress away, so that row groups and parts fill up at a test's scale.
std::string noise(uint64_t seed, size_t length) {
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out;
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < length; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    out.push_back(kDigits[x % 36]);
  }
  return out;
}

std::vector<std::string> finished_parquet_parts(const std::string& dir) {
  std::vector<std::string> parts;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (!name.starts_with(".") && name.ends_with(".parquet")) parts.push_back(e.path().string());
  }
  std::sort(parts.begin(), parts.end());
  return parts;
}

// After a clean finish nothing hidden is left behind: no in-progress part, no staged rows.
void require_no_hidden_files(const std::string& dir) {
  for (const auto& e : fs::directory_iterator(dir)) CHECK_FALSE(e.path().filename().string().starts_with("."));
}

std::string oracle() { return std::string(SLUICE_SOURCE_DIR) + "/tests/oracles/parquet_oracle.mjs"; }

void require_oracles() {
  if (!on_path("node") || !fs::exists(std::string(SLUICE_SOURCE_DIR) + "/tests/oracles/node_modules"))
    FAIL("the Parquet oracles are not installed: run scripts/setup.sh (it installs node and npm ci's tests/oracles)");
}

// Both oracles must read the part and print exactly the rows sluice's own reader prints.
void require_oracles_agree(const std::string& part, const std::vector<std::string>& ours) {
  std::string expected;
  for (const auto& r : ours) expected += r + "\n";
  for (const char* engine : {"duckdb", "hyparquet"}) {
    const CommandResult r = run_command({"node", oracle(), "read", engine, part});
    INFO(engine << " on " << part << ": " << r.output.substr(0, 2000));
    REQUIRE(r.exit_code == 0);
    CHECK(r.output == expected);
  }
}

}  // namespace

TEST_CASE("JSONL files to a Parquet sink survive 10 SIGKILLs exactly once, readable by DuckDB and hyparquet", "[e2e][parquet]") {
  require_oracles();
  TempDir dir;
  write_daemon_file(dir);
  // 20 files of 12,000 records; every 4000th does not fit its column (a fraction in an integer column) and
  // must be dead-lettered once.
  uint64_t id = 0, bad = 0;
  for (int f = 0; f < 20; ++f) {
    std::string text;
    for (int i = 0; i < 12000; ++i) {
      if (i % 4000 == 3999) {
        text += R"({"id":1.5,"note":"does not fit"})" "\n";
        ++bad;
        continue;
      }
      const uint64_t n = id++;
      text += "{\"id\":" + std::to_string(n) + ",\"name\":\"user-" + std::to_string(n % 977) + "\",\"amount\":\"" +
              std::to_string(n % 100000) + "." + std::to_string(10 + n % 90) + "\",\"at\":\"2026-01-0" + std::to_string(1 + n % 9) +
              "T12:00:00." + std::to_string(100000 + n % 900000) + "Z\",\"tags\":" + (n % 5 ? "[\"a\",\"b\"]" : "[]") +
              ",\"geo\":" + (n % 7 ? "{\"lat\":" + std::to_string(n % 90) + ".5,\"lon\":-1.25}" : std::string("null")) +
              ",\"blob\":\"" + noise(n, 40 + n % 60) + "\"}\n";
    }
    write_file(dir / ("in/part-" + std::to_string(100 + f) + ".jsonl"), text);
  }
  write_file(dir / "pipelines/topq.yaml",
             "source: { type: file, path: " + (dir / "in") + ", watch: false, rate_limit: { rate: 25000, burst: 2000 } }\n"
             "dead_letter: { path: " + (dir / "dead") + " }\n"
             "sink:\n"
             "  type: file\n"
             "  path: " + (dir / "out") + "\n"
             "  format: parquet\n"
             "  row_group_bytes: 1MiB\n"
             "  roll: { max_bytes: 4MiB }\n"
             "  batch: { max_records: 1500, max_wait: 50ms }\n"
             "  columns:\n"
             "    - { name: id, type: int64, nullable: false }\n"
             "    - { name: name, type: string }\n"
             "    - { name: amount, type: 'decimal(12, 2)' }\n"
             "    - { name: at, type: 'timestamp(us, utc)' }\n"
             "    - { name: tags, type: 'list<string>' }\n"
             "    - { name: geo, type: 'struct{lat: double, lon: double}' }\n"
             "    - { name: blob, type: string }\n");
  run_with_kills(dir.path(), 10, 200ms, 900ms, 11);

  std::vector<std::string> rows;
  const auto parts = finished_parquet_parts(dir / "out");
  REQUIRE(parts.size() >= 2);
  std::vector<int64_t> group_sizes;
  for (const auto& part : parts) {
    auto part_rows = sluice::testing::parquet_rows(part);
    require_oracles_agree(part, part_rows);
    rows.insert(rows.end(), part_rows.begin(), part_rows.end());
    pq::FileReader reader(part);
    const auto& groups = reader.metadata().row_groups;
    for (size_t g = 0; g + 1 < groups.size(); ++g) group_sizes.push_back(*groups[g].total_compressed_size);
  }
  require_ids_exactly_once(rows, "id", id);
  require_no_hidden_files(dir / "out");
  // Row groups end at the first commit past the target: near 1 MiB, never far under, never a commit's worth.
  REQUIRE(!group_sizes.empty());
  for (int64_t size : group_sizes) {
    CHECK(size > (1 << 20) * 6 / 10);
    CHECK(size < (1 << 20) * 3 / 2);
  }
  auto dead = finished_part_lines(dir / "dead");
  REQUIRE(dead.size() == bad);
  for (const auto& line : dead) CHECK(line.find("does not fit") != std::string::npos);
}

TEST_CASE("an inferred Parquet schema survives 10 SIGKILLs, and a new field starts a wider part once", "[e2e][parquet]") {
  require_oracles();
  TempDir dir;
  write_daemon_file(dir);
  // The later files' records gain a field: the sink must finish its part and go on with a wider schema.
  uint64_t id = 0;
  for (int f = 0; f < 10; ++f) {
    std::string text;
    for (int i = 0; i < 10000; ++i, ++id) {
      text += "{\"id\":" + std::to_string(id) + ",\"v\":" + std::to_string(id % 1000);
      if (f >= 5) text += ",\"extra\":{\"k\":\"x" + std::to_string(id % 7) + "\"}";
      text += "}\n";
    }
    write_file(dir / ("in/f-" + std::to_string(10 + f) + ".jsonl"), text);
  }
  write_file(dir / "pipelines/infer.yaml",
             "source: { type: file, path: " + (dir / "in") + ", watch: false, rate_limit: { rate: 12000, burst: 1000 } }\n"
             "sink: { type: file, path: " + (dir / "out") + ", format: parquet, schema: infer, row_group_bytes: 256KiB,"
             " roll: { max_bytes: 1MiB }, batch: { max_records: 1000, max_wait: 50ms } }\n");
  run_with_kills(dir.path(), 10, 150ms, 700ms, 12);
  std::vector<std::string> rows;
  size_t wide_parts = 0;
  for (const auto& part : finished_parquet_parts(dir / "out")) {
    auto part_rows = sluice::testing::parquet_rows(part);
    require_oracles_agree(part, part_rows);
    pq::FileReader reader(part);
    if (reader.schema().root().children.size() == 3) ++wide_parts;
    rows.insert(rows.end(), part_rows.begin(), part_rows.end());
  }
  require_ids_exactly_once(rows, "id", id);
  require_no_hidden_files(dir / "out");
  CHECK(wide_parts >= 1);
  // Rows of the first five files have no "extra"; rows after the drift carry it, as an object.
  for (const auto& r : rows) {
    const json::object row = json::parse(r).as_object();
    const auto n = row.at("id").to_number<uint64_t>();
    if (n >= 50000) CHECK(row.at("extra").is_object());
    else CHECK((!row.contains("extra") || row.at("extra").is_null()));
  }
}

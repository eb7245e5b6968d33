#include <catch2/catch.hpp>
#include <cstdlib>

#include "config/error.hpp"
#include "config/loader.hpp"
#include "core/daemon_config.hpp"
#include "core/pipeline_config.hpp"
#include "sinks/file/options.hpp"
#include "sources/generate/options.hpp"
#include "support/test_support.hpp"

using namespace sluice;

namespace {

core::PipelineConfig parse(const std::string& yaml) {
  return core::parse_pipeline(config::load_yaml_string(yaml, "p.yaml"), "p");
}

// The first diagnostic for a bad file, as "line:col: message".
std::string first_error(const std::string& yaml) {
  try {
    parse(yaml);
  } catch (const config::ConfigError& e) {
    const auto& d = e.diagnostics().front();
    return std::to_string(d.mark.line) + ":" + std::to_string(d.mark.col) + ": " + d.message;
  }
  return "no error";
}

const std::string kSink = "sink:\n  type: file\n  path: out\n";

}  // namespace

TEST_CASE("a valid pipeline parses with defaults from the declarations", "[config]") {
  auto p = parse("source:\n  type: generate\n  count: 10\n" + kSink);
  CHECK(p.name == "p");
  CHECK(p.queue.max_records == 10000);
  CHECK(p.queue.max_bytes.bytes == 64ull << 20);
  CHECK(p.queue.policy == core::Policy::throttle);
  CHECK(p.sink.common.batch.max_records == 5000);
  CHECK(p.sink.common.batch.max_wait.value == std::chrono::milliseconds(200));
  auto gen = static_cast<const sources::generate::GenerateOptions*>(p.source.options.get());
  REQUIRE(gen->count);
  CHECK(*gen->count == 10);
  auto file = static_cast<const sinks::file::FileOptions*>(p.sink.options.get());
  CHECK(file->path == "out");
  CHECK(file->format == sinks::file::Format::jsonl);
}

TEST_CASE("every bad pipeline file is reported at its exact line and column", "[config]") {
  struct Case {
    const char* what;
    std::string yaml;
    const char* expected_prefix;
  };
  const Case cases[] = {
      {"unknown key", "source:\n  type: generate\n  cout: 10\n" + kSink, "3:3: unknown key 'cout' in source (generate) (did you mean 'count'?)"},
      {"wrong type", "source:\n  type: generate\n  count: lots\n" + kSink, "3:10: expected a non-negative integer, got 'lots'"},
      {"unknown source type", "source:\n  type: nosuch\n" + kSink, "2:9: unknown source type 'nosuch'"},
      {"unknown sink type", "source:\n  type: generate\nsink:\n  type: s3x\n", "4:9: unknown sink type 's3x'"},
      {"bad policy", "source:\n  type: generate\n" + kSink + "queue:\n  policy: explode\n", "7:11: invalid value 'explode': expected one of throttle, drop_newest"},
      {"negative rate", "source:\n  type: generate\n  rate: -5\n" + kSink, "3:9: '-5' is out of range for rate: must be at least 0"},
      {"bad size unit", "source:\n  type: generate\n" + kSink + "queue:\n  max_bytes: 64XB\n", "7:14: invalid size '64XB'"},
      {"bad duration", "source:\n  type: generate\n" + kSink + "  batch:\n    max_wait: 200 parsecs\n", "7:15: invalid duration '200 parsecs'"},
      {"bare duration number", "source:\n  type: generate\n" + kSink + "  batch:\n    max_wait: 200\n", "7:15: invalid duration '200'"},
      {"bad format", "source:\n  type: generate\nsink:\n  type: file\n  path: out\n  format: xml\n", "6:11: invalid value 'xml': expected one of jsonl, csv"},
      {"missing sink", "source:\n  type: generate\n", "1:1: missing required key 'sink' in pipeline"},
      {"missing sink path", "source:\n  type: generate\nsink:\n  type: file\n", "4:3: missing required key 'path' in sink (file)"},
      {"source not a mapping", "source: generate\n" + kSink, "1:9: expected a mapping for source, got a scalar"},
      {"zero queue", "source:\n  type: generate\n" + kSink + "queue:\n  max_records: 0\n", "7:16: '0' is out of range for max_records: must be at least 1"},
      {"unknown top-level key", "source:\n  type: generate\n" + kSink + "sinks: []\n", "6:1: unknown key 'sinks' in pipeline (did you mean 'sink'?)"},
      {"poisson without rate", "source:\n  type: generate\n  arrival: poisson\n" + kSink, "3:12: arrival: poisson needs a rate above 0"},
      {"bad nhpp profile", "source:\n  type: generate\n  arrival: nhpp\n  profile: [[25, 10]]\n" + kSink, "4:12: invalid nhpp profile"},
      {"bad rate limit", "source:\n  type: generate\n  rate_limit: { rate: 0 }\n" + kSink, "3:23: '0' is out of range for rate: must be greater than 0"},
      {"fractional burst", "source:\n  type: generate\n  rate_limit: { rate: 10, burst: 0.5 }\n" + kSink, "3:34: burst must be 0"},
      {"bool expected", "source:\n  type: file\n  path: /tmp\n  watch: maybe\n" + kSink, "4:10: expected true or false, got 'maybe'"},
      {"syntax error", "source: {type: generate\n" + kSink, "2:5: YAML syntax error: end of map flow not found"},
      {"duplicate key", "source:\n  type: generate\n  count: 1\n  count: 2\n" + kSink, "4:3: duplicate key 'count'"},
      {"integer overflow", "source:\n  type: generate\n  count: 99999999999999999999999\n" + kSink, "3:10: integer '99999999999999999999999' out of range"},
      {"invalid name", "name: 'a b'\nsource:\n  type: generate\n" + kSink, "1:7: invalid pipeline name 'a b'"},
      {"transforms not available", "source:\n  type: generate\n" + kSink + "transforms:\n  - type: dedup\n", "7:5: unknown transform"},
  };
  for (const auto& c : cases) {
    std::string got = first_error(c.yaml);
    INFO(c.what << "\n" << c.yaml << "\ngot: " << got);
    CHECK(got.rfind(c.expected_prefix, 0) == 0);
  }
}

TEST_CASE("several problems in one file are all reported", "[config]") {
  try {
    parse("source:\n  type: generate\n  cout: 1\n  rate: x\nsink:\n  type: file\n  path: out\n  format: xml\n");
    FAIL("accepted");
  } catch (const config::ConfigError& e) {
    REQUIRE(e.diagnostics().size() == 3);
    CHECK(e.diagnostics()[0].to_string().rfind("p.yaml:3:3:", 0) == 0);
  }
}

TEST_CASE("${ENV} and ${file:} are substituted and never quoted back in errors", "[config]") {
  ::setenv("SLUICE_TEST_OUT", "/data/out", 1);
  ::setenv("SLUICE_TEST_SECRET", "hunter2", 1);
  auto p = parse("source:\n  type: generate\nsink:\n  type: file\n  path: ${SLUICE_TEST_OUT}/x\n");
  CHECK(static_cast<const sinks::file::FileOptions*>(p.sink.options.get())->path == "/data/out/x");

  testing::TempDir dir;
  testing::write_file(dir / "secret", "s3cr3t\n");
  auto q = parse("source:\n  type: generate\nsink:\n  type: file\n  path: ${file:" + (dir / "secret") + "}\n");
  CHECK(static_cast<const sinks::file::FileOptions*>(q.sink.options.get())->path == "s3cr3t");

  std::string err = first_error("source:\n  type: generate\n  count: ${SLUICE_TEST_SECRET}\n" + kSink);
  CHECK(err.find("hunter2") == std::string::npos);
  CHECK(err.find("${SLUICE_TEST_SECRET}") != std::string::npos);

  CHECK(first_error("source:\n  type: generate\nsink:\n  type: file\n  path: ${SLUICE_TEST_UNSET_VAR}\n")
            .rfind("5:9: environment variable SLUICE_TEST_UNSET_VAR is not set", 0) == 0);
  CHECK(parse("source:\n  type: generate\nsink:\n  type: file\n  path: a$${b}\n").sink.options != nullptr);
}

TEST_CASE("the daemon file resolves its directories relative to itself", "[config]") {
  testing::TempDir dir;
  testing::write_file(dir / "etc/sluice.yaml", "state_dir: ../state\npipelines_dir: pipes\nshutdown_timeout: 10s\n");
  auto d = core::load_daemon_file(dir / "etc/sluice.yaml");
  CHECK(d.state_dir == dir / "state");
  CHECK(d.pipelines_dir == dir / "etc/pipes");
  CHECK(d.shutdown_timeout.value == std::chrono::seconds(10));
  CHECK(d.http.listen == "127.0.0.1:9477");
}

TEST_CASE("a directory with one bad pipeline file yields the good ones and the error", "[config]") {
  testing::TempDir dir;
  testing::write_file(dir / "good.yaml", "source: { type: generate }\n" + kSink);
  testing::write_file(dir / "bad.yaml", "source: { type: generate, rate: fast }\n" + kSink);
  testing::write_file(dir / "same-name.yaml", "name: good\nsource: { type: generate }\n" + kSink);
  testing::write_file(dir / "notes.txt", "not a pipeline");
  auto set = core::load_pipeline_dir(dir.path());
  REQUIRE(set.pipelines.size() == 1);
  CHECK(set.pipelines[0].name == "good");
  REQUIRE(set.errors.size() == 2);
  CHECK(set.errors[0].to_string().rfind(dir / "bad.yaml:1:", 0) == 0);
  CHECK(set.errors[1].message.find("already used") != std::string::npos);
}

TEST_CASE("Parquet sink options are checked where they are written", "[config]") {
  const std::string head = "source: { type: generate }\nsink:\n  type: file\n  path: out\n";
  // Declared columns parse, each type checked at its own line and column.
  auto p = parse(head + "  format: parquet\n  columns:\n    - { name: id, type: int64, nullable: false }\n"
                        "    - { name: tags, type: 'list<string>' }\n");
  CHECK(p.sink.common.type == "file");
  CHECK_THAT(first_error(head + "  format: parquet\n  columns:\n    - { name: id, type: int65 }\n"),
             Catch::StartsWith("7:") && Catch::Contains("column type 'int65' at character 6: unknown type 'int65'"));
  CHECK_THAT(first_error(head + "  format: parquet\n"), Catch::Contains("needs its columns declared"));
  CHECK_THAT(first_error(head + "  format: parquet\n  columns: [price]\n"), Catch::Contains("'price' needs a type"));
  CHECK_THAT(first_error(head + "  format: parquet\n  schema: infer\n  columns: [{ name: a, type: int32 }]\n"),
             Catch::Contains("schema: infer takes no columns"));
  CHECK_THAT(first_error(head + "  format: parquet\n  schema: infer\n  compression_level: 99\n"), Catch::Contains("level"));
  CHECK_THAT(first_error(head + "  format: csv\n  compression: zstd\n"), Catch::Contains("none or gzip"));
  CHECK_THAT(first_error(head + "  format: csv\n  columns: [{ name: a, type: int32 }]\n"), Catch::Contains("csv columns are names"));
  CHECK_THAT(first_error(head + "  compression: gzip\n  compression_level: 12\n"), Catch::Contains("1 to 9"));
  CHECK_THAT(first_error(head + "  format: parquet\n  schema: infer\n  row_group_bytes: 1KiB\n"), Catch::Contains("row_group_bytes"));
}

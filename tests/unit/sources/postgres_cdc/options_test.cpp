#include <catch2/catch.hpp>
#include <cstdlib>

#include "config/error.hpp"
#include "config/loader.hpp"
#include "core/pipeline_config.hpp"
#include "sources/postgres_cdc/options.hpp"

using namespace sluice;
using sources::postgres_cdc::CdcOptions;

namespace {

core::PipelineConfig parse(const std::string& source_block) {
  return core::parse_pipeline(config::load_yaml_string("source:\n" + source_block + "sink: { type: blackhole }\n", "cdc.yaml"), "cdc");
}

// Every diagnostic for a bad source block, as "line:col: message" lines.
std::string errors(const std::string& source_block) {
  try {
    parse(source_block);
  } catch (const config::ConfigError& e) {
    std::string out;
    for (const auto& d : e.diagnostics()) out += std::to_string(d.mark.line) + ":" + std::to_string(d.mark.col) + ": " + d.message + "\n";
    return out;
  }
  return "no error";
}

}  // namespace

TEST_CASE("a postgres_cdc block parses with its defaults", "[cdc][options]") {
  auto p = parse("  type: postgres_cdc\n  dsn: host=db dbname=shop\n  slot: shop_cdc\n  tables: [orders, '\"Sales\".items']\n");
  const auto& o = *static_cast<const CdcOptions*>(p.source.options.get());
  CHECK(o.slot == "shop_cdc");
  CHECK(o.publication_name() == "shop_cdc");
  CHECK(o.tables.size() == 2);
  CHECK(o.create_slot);
  CHECK(o.snapshot == sources::postgres_cdc::SnapshotMode::initial);
  CHECK(o.heartbeat_interval.value == std::chrono::seconds(10));
  CHECK(o.max_slot_lag.bytes == 0);
}

TEST_CASE("bad postgres_cdc options are errors at their line and column", "[cdc][options]") {
  CHECK(errors("  type: postgres_cdc\n  dsn: host=db\n") == "2:3: missing required key 'slot' in source (postgres_cdc)\n");
  CHECK(errors("  type: postgres_cdc\n  dsn: host=db\n  slot: Shop-CDC\n").find("4:9: invalid slot name 'Shop-CDC'") == 0);
  CHECK(errors("  type: postgres_cdc\n  dsn: host=db replication=database\n  slot: s\n").find("3:8: dsn must not set replication") == 0);
  CHECK(errors("  type: postgres_cdc\n  dsn: \"host=db port\"\n  slot: s\n").find("3:8: dsn is not a libpq connection string: ") == 0);
  CHECK(errors("  type: postgres_cdc\n  dsn: host=db\n  slot: s\n  tables: [ok, '\"not closed']\n").find("5:16: invalid table name") == 0);
  CHECK(errors("  type: postgres_cdc\n  dsn: host=db\n  slot: s\n  heartbeat_interval: 10ms\n").find("5:23: heartbeat_interval must be 0") == 0);
  CHECK(errors("  type: postgres_cdc\n  dsn: host=db\n  slot: s\n  snapshot: always\n").find("5:13: invalid value 'always'") == 0);
}

TEST_CASE("a dsn with a substituted secret is never quoted back in an error", "[cdc][options]") {
  ::setenv("SLUICE_TEST_PG_SECRET", "pass word'with quote", 1);
  std::string e = errors("  type: postgres_cdc\n  dsn: \"host=db password=${SLUICE_TEST_PG_SECRET}\"\n  slot: s\n");
  INFO(e);
  CHECK(e.find("dsn is not a libpq connection string") != std::string::npos);
  CHECK(e.find("word") == std::string::npos);
  ::unsetenv("SLUICE_TEST_PG_SECRET");
}

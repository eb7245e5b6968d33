#include "core/reference_doc.hpp"

#include <catch2/catch.hpp>

#include "support/test_support.hpp"

TEST_CASE("docs/configuration.md matches the option declarations", "[config][docs]") {
  std::string committed = sluice::testing::read_file(std::string(SLUICE_SOURCE_DIR) + "/docs/configuration.md");
  std::string rendered = sluice::core::render_configuration_reference();
  INFO("docs/configuration.md is stale: regenerate it with `build/tests/sluice_docgen > docs/configuration.md`");
  REQUIRE(committed == rendered);
}

TEST_CASE("the reference documents every connector and shared block", "[config][docs]") {
  std::string doc = sluice::core::render_configuration_reference();
  for (const char* key : {"`state_dir`", "`queue.policy`", "`queue.buffer.max_bytes`", "`source.rate_limit.rate`", "`sink.batch.max_wait`",
                          "`type: generate`", "`type: file`", "`type: blackhole`", "`source.arrival`", "`sink.roll.max_bytes`",
                          "`source.watch`"})
    CHECK(doc.find(key) != std::string::npos);
}

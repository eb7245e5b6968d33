#include "sources/generate/generate_source.hpp"

#include "formats/timestamp.hpp"

#include <xxhash.h>

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <prometheus/registry.h>

using namespace sluice;
using namespace sluice::sources::generate;
namespace asio = boost::asio;

namespace {

// Collects what a source pushes, with the checkpoint a test chooses.
struct CollectingContext final : core::SourceContext {
  asio::io_context& io;
  core::Checkpoint saved;
  std::vector<core::Record> records;
  std::string name = "test";
  explicit CollectingContext(asio::io_context& io_) : io(io_) {}
  const std::string& pipeline() const override { return name; }
  const core::Checkpoint& checkpoint() const override { return saved; }
  uint32_t partition(std::string_view) override { return 0; }
  asio::awaitable<void> push(core::Records& rs) override {
    for (auto& r : rs) records.push_back(std::move(r));
    rs.clear();
    co_return;
  }
  spdlog::logger& log() override { return *spdlog::default_logger(); }
  asio::any_io_executor executor() override { return io.get_executor(); }
  asio::any_io_executor blocking_executor() override { return io.get_executor(); }
  prometheus::Registry& metrics() override { return registry; }
  void set_degraded(std::string_view) override {}
  const std::string& instance() const override { return name; }
  asio::awaitable<void> withdraw(const std::vector<uint32_t>&) override { co_return; }
  prometheus::Registry registry;
};

std::vector<core::Record> generate(const GenerateOptions& o, core::Checkpoint from = {}) {
  asio::io_context io;
  CollectingContext ctx(io);
  ctx.saved = std::move(from);
  GenerateSource source(o);
  std::exception_ptr error;
  asio::co_spawn(io, source.run(ctx), [&](std::exception_ptr e) { error = e; });
  io.run();
  if (error) std::rethrow_exception(error);
  return std::move(ctx.records);
}

}  // namespace

TEST_CASE("generated records are JSON objects with a gap-free seq, ts, key and payload", "[generate]") {
  GenerateOptions o;
  o.count = 3000;
  o.start_time = "2026-01-02T03:04:05Z";
  auto records = generate(o);
  REQUIRE(records.size() == 3000);
  for (size_t i = 0; i < records.size(); ++i) {
    auto v = boost::json::parse(records[i].value).as_object();
    REQUIRE(v.at("seq").as_int64() == int64_t(i));
    REQUIRE(v.at("payload").as_string().size() == o.payload_bytes);
    REQUIRE(v.at("key").as_string().starts_with("key-"));
  }
  CHECK(boost::json::parse(records[0].value).at("ts").as_string() == "2026-01-02T03:04:05.000Z");
  CHECK(boost::json::parse(records[1].value).at("ts").as_string() == "2026-01-02T03:04:05.001Z");
  CHECK(records.back().position.rfind("3000 ", 0) == 0);
}

TEST_CASE("the same seed gives the same records and a resumed generator continues the same stream", "[generate]") {
  GenerateOptions o;
  o.count = 5000;
  o.rate = 1e9;  // paced by a Poisson timeline, but far faster than the test
  o.arrival = ArrivalKind::poisson;
  o.seed = 99;
  o.start_time = "2026-01-02T00:00:00Z";
  auto first = generate(o);
  auto again = generate(o);
  REQUIRE(first.size() == 5000);
  for (size_t i = 0; i < first.size(); ++i) REQUIRE(first[i].value == again[i].value);

  // Resume from the position carried by a chunk's last record.
  size_t cut = 0;
  for (size_t i = 0; i < first.size(); ++i)
    if (!first[i].position.empty() && i > 1000) {
      cut = i;
      break;
    }
  REQUIRE(cut > 0);
  auto rest = generate(o, {{"generate", first[cut].position}});
  REQUIRE(rest.size() == first.size() - cut - 1);
  for (size_t i = 0; i < rest.size(); ++i) REQUIRE(rest[i].value == first[cut + 1 + i].value);

  o.seed = 100;
  CHECK(generate(o)[10].value != first[10].value);
}

TEST_CASE("RFC 3339 timestamps parse with offsets and fractions and print back in UTC", "[generate]") {
  CHECK(formats::parse_rfc3339_ms("1970-01-01T00:00:00Z") == 0);
  CHECK(formats::parse_rfc3339_ms("2026-01-02T03:04:05.250Z") == 1767323045250);
  CHECK(formats::parse_rfc3339_ms("2026-01-02T04:04:05+01:00") == 1767323045000);
  CHECK_FALSE(formats::parse_rfc3339_ms("2026-13-02T03:04:05Z"));
  CHECK_FALSE(formats::parse_rfc3339_ms("yesterday"));
  std::string s;
  formats::append_iso8601_ms(s, 1767323045250);
  CHECK(s == "2026-01-02T03:04:05.250Z");
}

TEST_CASE("the rendered stream is the same byte for byte as sluice 0.1 rendered it, across second, day and year boundaries",
          "[generate]") {
  // A resumed generator continues the stream it started: a faster renderer must not change a byte of it.
  GenerateOptions o;
  o.count = 3000;
  o.seed = 7;
  o.payload_bytes = 37;  // not a multiple of the 10 characters drawn from each random word
  o.start_time = "2026-12-31T23:59:58.500Z";
  auto records = generate(o);
  REQUIRE(records.size() == 3000);
  const int64_t start = *formats::parse_rfc3339_ms(o.start_time);
  uint64_t digest = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    std::string ts;
    formats::append_iso8601_ms(ts, start + int64_t(i));
    REQUIRE(boost::json::parse(records[i].value).at("ts").as_string() == ts);
    digest = XXH64(records[i].value.data(), records[i].value.size(), digest);
  }
  CHECK(records[0].value == R"({"seq":0,"ts":"2026-12-31T23:59:58.500Z","key":"key-962","payload":"fK_RxjYPwMx6oCRqEmMetDvFVId3V7B2jWC7g"})");
  CHECK(digest == 0x51ab7ccfd686ad73ull);  // of the values rendered by the renderer before this test
}

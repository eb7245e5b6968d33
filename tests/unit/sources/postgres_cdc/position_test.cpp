#include "sources/postgres_cdc/position.hpp"

#include <catch2/catch.hpp>

#include "sources/postgres_cdc/options.hpp"
#include "sources/postgres_cdc/watermark_chunk.hpp"

using namespace sluice::sources::postgres_cdc;

TEST_CASE("CDC positions round-trip in every state", "[cdc][position]") {
  CdcPosition streaming;
  streaming.lsn = 0x16B3748;
  CHECK(streaming.format() == R"({"lsn":"0/16B3748"})");
  CdcPosition partial = streaming;
  partial.partial_txn = 0x16B4000;
  partial.partial_done = 4096;
  CdcPosition snapshot = streaming;
  snapshot.snapshot = SnapshotProgress{"public.orders", std::vector<std::string>{"41", "a \"b\""}};
  CdcPosition not_started = streaming;
  not_started.snapshot = SnapshotProgress{"public.items", std::nullopt};
  for (const auto& p : {streaming, partial, snapshot, not_started}) {
    INFO(p.format());
    CHECK(CdcPosition::parse(p.format()) == p);
  }
}

TEST_CASE("an unreadable CDC position is an error that shows it", "[cdc][position]") {
  CHECK_THROWS_WITH(CdcPosition::parse("0/16B3748"), Catch::Contains("unreadable postgres_cdc position '0/16B3748'"));
  CHECK_THROWS_WITH(CdcPosition::parse("{}"), Catch::Contains("no \"lsn\""));
  CHECK_THROWS_WITH(CdcPosition::parse(R"({"lsn":"x"})"), Catch::Contains("not an LSN"));
  CHECK_THROWS_WITH(CdcPosition::parse(R"({"lsn":"0/1","txn":"0/2"})"), Catch::Contains("without a \"done\""));
  CHECK_THROWS_WITH(CdcPosition::parse(R"({"lsn":"0/1","snapshot":{}})"), Catch::Contains("no table"));
}

TEST_CASE("table names fold and quote as PostgreSQL reads identifiers", "[cdc][options]") {
  auto check = [](const char* text, const char* schema, const char* name) {
    INFO(text);
    auto t = parse_table_name(text);
    REQUIRE(t);
    CHECK(t->schema == schema);
    CHECK(t->name == name);
  };
  check("orders", "public", "orders");
  check("Sales.Orders", "sales", "orders");
  check("\"Sales\".\"Order Lines\"", "Sales", "Order Lines");
  check("\"a.b\"", "public", "a.b");
  check("\"say \"\"hi\"\"\"", "public", "say \"hi\"");
  for (const char* bad : {"", ".", "a.", ".a", "a.b.c", "a b", "\"\"", "\"open", "\"x\"y", "a-b"}) {
    INFO(bad);
    CHECK_FALSE(parse_table_name(bad));
  }
}

namespace {

Row row(std::string id, std::string v) { return {std::move(id), std::move(v)}; }

}  // namespace

TEST_CASE("a watermarked chunk drops the rows the stream changed inside its window", "[cdc][watermark]") {
  WatermarkChunk chunk({row("1", "a"), row("2", "b"), row("3", "c")}, {0}, 10);
  chunk.changed("2", false);
  chunk.changed("99", false);  // a row outside the chunk
  auto left = chunk.surviving();
  REQUIRE(left.size() == 2);
  CHECK(*(*left[0])[1] == "a");
  CHECK(*(*left[1])[1] == "c");
  // The next chunk starts after the last row read, changed or not: the stream delivered its state.
  CHECK(chunk.last_key() == std::vector<std::string>{"3"});
  CHECK(chunk.table_done());  // 3 rows of a limit of 10: nothing follows
}

TEST_CASE("a TOAST-less update inside the window gives the row and the rest back to the next chunk", "[cdc][watermark]") {
  WatermarkChunk chunk({row("1", "a"), row("2", "b"), row("3", "c")}, {0}, 3);
  chunk.changed("3", false);
  chunk.changed("2", true);
  auto left = chunk.surviving();
  REQUIRE(left.size() == 1);
  CHECK(*(*left[0])[0] == "1");
  CHECK(chunk.last_key() == std::vector<std::string>{"1"});
  CHECK_FALSE(chunk.table_done());

  WatermarkChunk first({row("1", "a")}, {0}, 5);
  first.changed("1", true);
  CHECK(first.surviving().empty());
  CHECK_FALSE(first.last_key());  // no progress: the same chunk is read again
  CHECK_FALSE(first.table_done());
}

TEST_CASE("a truncate inside the window empties the chunk and composite keys match on every column", "[cdc][watermark]") {
  WatermarkChunk chunk({{"1", "1", "x"}, {"1", "2", "y"}}, {0, 1}, 2);
  chunk.changed(WatermarkChunk::join_key({"1", "2"}), false);
  CHECK(chunk.surviving().size() == 1);
  chunk.truncated();
  CHECK(chunk.surviving().empty());
  CHECK(chunk.last_key() == std::vector<std::string>{"1", "2"});
  CHECK_FALSE(chunk.table_done());  // a full chunk: more rows may follow
  CHECK(WatermarkChunk::join_key({"1", "23"}) != WatermarkChunk::join_key({"12", "3"}));
}

TEST_CASE("a chunk's snapshot gives the transactions still in progress for it, as the protocol's 32-bit xids", "[cdc][watermark]") {
  using Xids = std::unordered_set<uint32_t>;
  CHECK(snapshot_in_progress("750:750:") == Xids{});
  CHECK(snapshot_in_progress("745:750:745,747") == Xids{745, 747});
  // After a wraparound the epoch is in the high half: pgoutput's Begin carries only the low one.
  CHECK(snapshot_in_progress("4294967301:4294967310:4294967301,4294967305") == Xids{5, 9});
  CHECK_THROWS_WITH(snapshot_in_progress(""), Catch::Contains("not a snapshot"));
  CHECK_THROWS_WITH(snapshot_in_progress("745:750"), Catch::Contains("'745:750'"));
  CHECK_THROWS_WITH(snapshot_in_progress("745:750:745,x"), Catch::Contains("not a snapshot"));
  CHECK_THROWS_WITH(snapshot_in_progress("745:750:745,"), Catch::Contains("not a snapshot"));
}

#include "sources/postgres_cdc/change_records.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace sluice;
using namespace sluice::sources::postgres_cdc;
namespace json = boost::json;

namespace {

Datum text(std::string t) { return {Datum::Kind::text, std::move(t)}; }
Datum null() { return {Datum::Kind::null, {}}; }
Datum toast() { return {Datum::Kind::unchanged_toast, {}}; }

// public.orders as the stream describes it: a bigint key and a column of most types the source maps.
Relation orders(char identity = 'd') {
  Relation r;
  r.id = 16384;
  r.schema = "public";
  r.name = "orders";
  r.replica_identity = identity;
  r.columns = {{true, "id", 20, -1},          {identity == 'f', "amount", 1700, 1310730}, {identity == 'f', "note", 25, -1},
               {identity == 'f', "big", 25, -1}, {identity == 'f', "paid", 16, -1},         {identity == 'f', "at", 1184, -1},
               {identity == 'f', "tags", 1009, -1}, {identity == 'f', "doc", 3802, -1},      {identity == 'f', "raw", 17, -1},
               {identity == 'f', "ratio", 701, -1}};
  return r;
}

Tuple full_row(const std::string& id) {
  return {text(id),          text("12345678901234.123456"), text("say \"hi\""), text(std::string(3000, 'x')), text("t"),
          text("2026-11-25 10:00:00.5+00"), text("{a,\"b c\",NULL}"), text("{\"k\": [1, 2]}"), text("\\x00ff"), text("NaN")};
}

ChangeRecords builder(char identity = 'd') {
  ChangeRecords c;
  c.set_primary_keys({{"public.orders", {"id"}}});
  c.relation(orders(identity));
  Begin b;
  b.final_lsn = 0x16B3800;
  b.xid = 742;
  b.commit_time = (1795600000000 - 946684800000) * 1000;  // 2026-11-25T09:46:40Z
  c.begin(b);
  return c;
}

json::object parse(const core::Record& r) {
  INFO(r.value);
  return json::parse(r.value).as_object();
}

}  // namespace

TEST_CASE("an insert becomes op c with every column typed and the source of the change", "[cdc][records]") {
  auto c = builder();
  core::Record r;
  c.insert({16384, full_row("9223372036854775807")}, 0x16B3760, r);
  auto o = parse(r);
  CHECK(o.at("op").as_string() == "c");
  CHECK(o.at("before").is_null());
  const auto& s = o.at("source").as_object();
  CHECK(s.at("lsn").as_string() == "0/16B3760");
  CHECK(s.at("commit_lsn").as_string() == "0/16B3800");
  CHECK(s.at("xid").as_int64() == 742);
  CHECK(s.at("commit_time").as_string() == "2026-11-25T09:46:40.000Z");
  CHECK(s.at("schema").as_string() == "public");
  CHECK(s.at("table").as_string() == "orders");
  const auto& a = o.at("after").as_object();
  // Exact beyond 2^53: the JSON text keeps every digit.
  CHECK(r.value.find("\"id\":9223372036854775807") != std::string::npos);
  CHECK(a.at("amount").as_string() == "12345678901234.123456");
  CHECK(a.at("note").as_string() == "say \"hi\"");
  CHECK(a.at("big").as_string().size() == 3000);
  CHECK(a.at("paid").as_bool());
  CHECK(a.at("at").as_string() == "2026-11-25T10:00:00.5Z");
  CHECK(json::serialize(a.at("tags")) == R"(["a","b c",null])");
  CHECK(json::serialize(a.at("doc")) == R"({"k":[1,2]})");
  CHECK(a.at("raw").as_string() == "AP8=");
  CHECK(a.at("ratio").as_string() == "NaN");
  CHECK_FALSE(o.contains("unchanged_toast"));
  CHECK(r.op == core::Op::insert);
  CHECK(r.key == "{\"id\":9223372036854775807}");
  CHECK(r.event_time_ms == 1795600000000);
  CHECK_FALSE(r.rejected);
}

TEST_CASE("an update that left a TOASTed column alone names it instead of sending null", "[cdc][records]") {
  auto c = builder();
  core::Record r;
  Tuple after = full_row("7");
  after[3] = toast();
  after[2] = null();
  c.update({16384, 0, {}, after}, 0x100, r);
  auto o = parse(r);
  CHECK(o.at("op").as_string() == "u");
  CHECK(o.at("before").is_null());  // default identity, key unchanged: the server sends no old image
  const auto& a = o.at("after").as_object();
  CHECK_FALSE(a.contains("big"));
  CHECK(a.at("note").is_null());  // a real NULL stays null
  CHECK(json::serialize(o.at("unchanged_toast")) == R"(["big"])");
}

TEST_CASE("a key change carries the old key and a delete carries the old key only", "[cdc][records]") {
  auto c = builder();
  Tuple old_key(10, null());
  old_key[0] = text("7");
  core::Record u, d;
  c.update({16384, 'K', old_key, full_row("8")}, 0x100, u);
  CHECK(json::serialize(parse(u).at("before")) == R"({"id":7})");
  CHECK(u.key == "{\"id\":8}");
  c.remove({16384, 'K', old_key}, 0x110, d);
  auto o = parse(d);
  CHECK(o.at("op").as_string() == "d");
  // The non-key columns of a default-identity old row are nulls that are not real values: left out.
  CHECK(json::serialize(o.at("before")) == R"({"id":7})");
  CHECK(o.at("after").is_null());
  CHECK(d.key == "{\"id\":7}");
  CHECK(d.op == core::Op::remove);
}

TEST_CASE("with REPLICA IDENTITY FULL the old row is whole and the key is still the primary key", "[cdc][records]") {
  auto c = builder('f');
  core::Record u, d;
  Tuple after = full_row("7");
  after[2] = text("changed");
  c.update({16384, 'O', full_row("7"), after}, 0x100, u);
  auto o = parse(u);
  CHECK(o.at("before").as_object().at("note").as_string() == "say \"hi\"");
  CHECK(o.at("after").as_object().at("note").as_string() == "changed");
  CHECK(u.key == "{\"id\":7}");  // not every column, though the stream marks them all as identity
  c.remove({16384, 'O', full_row("7")}, 0x110, d);
  CHECK(parse(d).at("before").as_object().size() == 10);
}

TEST_CASE("a column of a domain type is rendered as its base type, as a snapshot query returns it", "[cdc][records]") {
  ChangeRecords c;
  c.set_domain_types({{90001, 23}});  // CREATE DOMAIN positive AS int
  Relation r = orders();
  r.columns[4].type_oid = 90001;
  c.relation(r);
  Tuple row = full_row("1");
  row[4] = text("3");
  core::Record rec;
  c.insert({16384, row}, 0x100, rec);
  CHECK(parse(rec).at("after").as_object().at("paid").as_int64() == 3);
}

TEST_CASE("a truncate becomes one op t record per table", "[cdc][records]") {
  auto c = builder();
  core::Record r;
  c.truncate({true, false, {16384}}, 16384, 0x200, r);
  auto o = parse(r);
  CHECK(o.at("op").as_string() == "t");
  CHECK(o.at("source").as_object().at("table").as_string() == "orders");
  CHECK(o.at("cascade").as_bool());
  CHECK_FALSE(o.at("restart_identity").as_bool());
  CHECK(r.op == core::Op::truncate);
}

TEST_CASE("a changed Relation message (ALTER TABLE) replaces the columns of later records", "[cdc][records]") {
  auto c = builder();
  Relation altered = orders();
  altered.columns.push_back({false, "added", 23, -1});
  c.relation(altered);
  Tuple row = full_row("1");
  row.push_back(text("42"));
  core::Record r;
  c.insert({16384, row}, 0x300, r);
  CHECK(parse(r).at("after").as_object().at("added").as_int64() == 42);
  // A tuple that does not match the relation is a protocol error, never a silently shifted row.
  CHECK_THROWS_WITH(c.insert({16384, full_row("1")}, 0x300, r), Catch::Contains("has 10 columns") && Catch::Contains("said 11"));
  CHECK_THROWS_WITH(c.insert({999, full_row("1")}, 0x300, r), Catch::Contains("relation 999 before its Relation message"));
}

TEST_CASE("a value that does not parse as its column's type becomes a dead-letter entry naming table, column and LSN", "[cdc][records]") {
  auto c = builder();
  Tuple row = full_row("1");
  row[4] = text("maybe");  // not a boolean
  core::Record r;
  c.insert({16384, row}, 0x16B3760, r);
  REQUIRE(r.rejected);
  auto o = parse(r);
  CHECK(o.at("table").as_string() == "public.orders");
  CHECK(o.at("lsn").as_string() == "0/16B3760");
  CHECK(o.at("op").as_string() == "c");
  CHECK(std::string(o.at("reason").as_string()).find("column paid") != std::string::npos);
}

TEST_CASE("a snapshot row becomes op r with its columns typed by the query's result", "[cdc][records]") {
  auto cols = snapshot_columns("sales", "items", {"order_id", "line", "price"}, {20, 23, 1700}, {0, 1});
  core::Record r;
  std::vector<std::optional<std::string_view>> values{"5", "2", std::nullopt};
  snapshot_record(cols, values, 0x16B3748, 1795600000000, r);
  auto o = parse(r);
  CHECK(o.at("op").as_string() == "r");
  CHECK(o.at("before").is_null());
  CHECK(json::serialize(o.at("after")) == R"({"order_id":5,"line":2,"price":null})");
  const auto& s = o.at("source").as_object();
  CHECK(s.at("snapshot").as_bool());
  CHECK(s.at("lsn").as_string() == "0/16B3748");
  CHECK(s.at("schema").as_string() == "sales");
  CHECK(s.at("table").as_string() == "items");
  CHECK(r.key == "{\"order_id\":5,\"line\":2}");
  CHECK(r.op == core::Op::snapshot_read);

  values = {"5", "x", "1"};
  snapshot_record(cols, values, 0x16B3748, 1795600000000, r);
  REQUIRE(r.rejected);
  auto bad = parse(r);
  CHECK(std::string(bad.at("reason").as_string()).find("column line: ") == 0);
  CHECK(bad.at("table").as_string() == "sales.items");
  CHECK(bad.at("op").as_string() == "r");
}

// The PostgreSQL fixture the CDC and table connectors are tested against: a real server with what logical
// replication needs, surviving a restart.
#include <catch2/catch.hpp>

#include <sstream>
#include <variant>

#include <boost/json.hpp>

#include "sources/postgres_cdc/pgoutput.hpp"
#include "sources/postgres_cdc/values.hpp"
#include "support/postgres_server.hpp"

using namespace sluice::testing;

TEST_CASE("the PostgreSQL fixture runs a real server ready for logical replication, across a restart", "[postgres]") {
  PostgresServer pg;
  CHECK(pg.sql("SHOW wal_level;") == "logical\n");
  CHECK(pg.sql("SELECT current_setting('server_version_num')::int / 10000;") == "15\n");
  pg.sql("CREATE TABLE orders (id bigint PRIMARY KEY, note text);\n"
         "CREATE PUBLICATION sluice_pub FOR TABLE orders;\n"
         "SELECT 1 FROM pg_create_logical_replication_slot('sluice_slot', 'pgoutput');\n"
         "INSERT INTO orders VALUES (1, 'a'), (2, 'b');\n");
  // The change is in the slot, readable through pgoutput.
  CHECK(pg.sql("SELECT count(*) > 0 FROM pg_logical_slot_peek_binary_changes('sluice_slot', NULL, NULL, "
               "'proto_version', '1', 'publication_names', 'sluice_pub');") == "t\n");

  pg.restart();
  CHECK(pg.sql("SELECT count(*) FROM orders;") == "2\n");
  CHECK(pg.sql("SELECT slot_name FROM pg_replication_slots;") == "sluice_slot\n");
  CHECK_THROWS_WITH(pg.sql("SELECT * FROM no_such_table;"), Catch::Contains("no_such_table"));
}

namespace {

std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += char(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

}  // namespace

TEST_CASE("pgoutput bytes from a real server decode: every kind, TOAST left alone, full and default identity", "[postgres][pgoutput]") {
  using namespace sluice::sources::postgres_cdc;
  PostgresServer pg;
  pg.sql("CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(18,6), note text, big text, tags text[], at timestamptz);\n"
         "ALTER TABLE orders ALTER COLUMN big SET STORAGE EXTERNAL;\n"
         "CREATE TABLE audit (id int PRIMARY KEY, v text);\n"
         "ALTER TABLE audit REPLICA IDENTITY FULL;\n"
         "CREATE PUBLICATION pub FOR TABLE orders, audit;\n"
         "SELECT 1 FROM pg_create_logical_replication_slot('slot', 'pgoutput');\n"
         "INSERT INTO orders VALUES (1, 12.345678, 'first', repeat('x', 10000), '{a,b}', '2026-11-25 10:00:00+00');\n"
         "UPDATE orders SET note = 'second' WHERE id = 1;\n"  // big is TOASTed and unchanged
         "UPDATE orders SET id = 2 WHERE id = 1;\n"           // the key changes: the old key is sent
         "INSERT INTO audit VALUES (1, 'a');\n"
         "UPDATE audit SET v = 'b';\n"
         "DELETE FROM audit;\n"
         "DELETE FROM orders;\n"
         "TRUNCATE orders, audit;\n"
         "SELECT 1 FROM pg_logical_emit_message(true, 'sluice', 'heartbeat');\n");
  // The connection settings the source uses, so that timestamps come in ISO form and UTC.
  std::string hex = pg.sql("SET DateStyle = 'ISO'; SET TimeZone = 'UTC';\nSELECT encode(data, 'hex') FROM pg_logical_slot_get_binary_changes('slot', NULL, NULL, "
                           "'proto_version', '1', 'publication_names', 'pub', 'messages', 'true');");
  std::vector<PgOutputMessage> messages;
  std::istringstream lines(hex);
  for (std::string line; std::getline(lines, line);) messages.push_back(decode_pgoutput(from_hex(line)));

  std::string kinds;
  const Relation* orders = nullptr;
  std::vector<Update> updates;
  std::vector<Delete> deletes;
  const Truncate* truncate = nullptr;
  const Message* heartbeat = nullptr;
  const Insert* first_insert = nullptr;
  for (const auto& m : messages) {
    if (auto* i = std::get_if<Insert>(&m); i && !first_insert) first_insert = i;
    kinds += "BCORYIUDTM"[m.index()];
    if (auto* r = std::get_if<Relation>(&m); r && r->name == "orders") orders = r;
    if (auto* u = std::get_if<Update>(&m)) updates.push_back(*u);
    if (auto* d = std::get_if<Delete>(&m)) deletes.push_back(*d);
    if (auto* t = std::get_if<Truncate>(&m)) truncate = t;
    if (auto* h = std::get_if<Message>(&m)) heartbeat = h;
  }
  INFO("message kinds: " << kinds);
  // One transaction per statement; Relation before a table's first change, and again for every table a
  // TRUNCATE names. A transactional message is a transaction of its own.
  CHECK(kinds == "BRICBUCBUCBRICBUCBDCBDCBRRTCBMC");
  REQUIRE(orders);
  CHECK(orders->schema == "public");
  REQUIRE(orders->columns.size() == 6);
  CHECK(orders->columns[0].key);
  CHECK(orders->columns[0].type_oid == 20);      // int8
  CHECK(orders->columns[1].type_oid == 1700);    // numeric
  CHECK(orders->columns[1].type_modifier != -1);  // (18,6)
  CHECK(orders->columns[4].type_oid == 1009);    // text[]
  CHECK(orders->columns[5].type_oid == 1184);    // timestamptz

  // The values of the first insert, typed by the relation's columns.
  REQUIRE(first_insert);
  std::string row = "{";
  for (size_t c = 0; c < orders->columns.size(); ++c) {
    row += (c ? ",\"" : "\"") + orders->columns[c].name + "\":";
    const auto& d = first_insert->after.at(c);
    if (d.kind == Datum::Kind::null) row += "null";
    else sluice::sources::postgres_cdc::append_json_value(row, orders->columns[c].type_oid, d.text);
  }
  row += "}";
  auto parsed = boost::json::parse(row).as_object();
  CHECK(parsed.at("id").as_int64() == 1);
  CHECK(parsed.at("amount").as_string() == "12.345678");
  CHECK(parsed.at("big").as_string().size() == 10000);
  CHECK(boost::json::serialize(parsed.at("tags")) == R"(["a","b"])");
  CHECK(parsed.at("at").as_string() == "2026-11-25T10:00:00Z");

  REQUIRE(updates.size() == 3);
  CHECK(updates[0].old_kind == 0);  // default identity, key unchanged: no old image at all
  CHECK(updates[0].after[2].text == "second");
  CHECK(updates[0].after[3].kind == Datum::Kind::unchanged_toast);
  CHECK(updates[1].old_kind == 'K');
  CHECK(updates[1].before[0].text == "1");
  CHECK(updates[1].after[0].text == "2");
  CHECK(updates[1].after[1].text == "12.345678");
  CHECK(updates[2].old_kind == 'O');  // REPLICA IDENTITY FULL
  CHECK(updates[2].before[1].text == "a");
  REQUIRE(deletes.size() == 2);
  CHECK(deletes[0].old_kind == 'O');
  CHECK(deletes[1].old_kind == 'K');
  CHECK(deletes[1].before[0].text == "2");
  CHECK(deletes[1].before[2].kind == Datum::Kind::null);  // not a real value: only the key is sent
  REQUIRE(truncate);
  CHECK(truncate->relations.size() == 2);
  REQUIRE(heartbeat);
  CHECK(heartbeat->transactional);
  CHECK(heartbeat->prefix == "sluice");
  CHECK(heartbeat->content == "heartbeat");
}

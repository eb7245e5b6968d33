// The PostgreSQL fixture the CDC and table connectors are tested against: a real server with what logical
// replication needs, surviving a restart.
#include <catch2/catch.hpp>

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

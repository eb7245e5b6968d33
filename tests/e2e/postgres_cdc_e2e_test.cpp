// End-to-end: the real sluiced streams a PostgreSQL 15 workload of over 200k mixed changes (TOASTed columns,
// key changes, REPLICA IDENTITY FULL, a transaction far bigger than a batch) while it is SIGKILLed again and
// again, or while the server itself restarts. Replaying its output onto empty copies must reproduce the
// tables exactly, with every change the server reported exactly once.
#include <signal.h>

#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <thread>

#include "support/cdc_support.hpp"
#include "support/postgres_server.hpp"
#include "support/test_support.hpp"

using namespace sluice::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const TableKeys kTables{{"accounts", {"id"}}, {"documents", {"id"}}, {"events", {"id"}}};

void create_tables(const PostgresServer& pg) {
  pg.sql(
      "CREATE TABLE accounts (id bigint PRIMARY KEY, owner text, balance numeric(14,2), tags text[], meta jsonb, updated timestamptz);\n"
      "CREATE TABLE documents (id int PRIMARY KEY, title text, body text, version int);\n"
      "ALTER TABLE documents ALTER COLUMN body SET STORAGE EXTERNAL;\n"  // out of line from 2 kB on: TOASTed
      "CREATE TABLE events (id bigint PRIMARY KEY, kind text, payload jsonb, at timestamptz);\n"
      "ALTER TABLE events REPLICA IDENTITY FULL;\n"
      "INSERT INTO accounts SELECT g, 'owner ' || g, g * 1.25, ARRAY['t' || (g % 7), 'x y'], jsonb_build_object('g', g, 'even', g % 2 = 0),"
      " '2026-01-01 00:00:00+00'::timestamptz + g * interval '1 second' FROM generate_series(1, 20000) g;\n"
      "INSERT INTO documents SELECT g, 'title ' || g, repeat(md5(g::text), 100), 1 FROM generate_series(1, 2000) g;\n"
      "INSERT INTO events SELECT g, 'k' || (g % 5), jsonb_build_object('n', g), now() FROM generate_series(1, 10000) g;\n");
}

// One round of the workload: about 2,400 row changes in several transactions, each statement named by its
// table for run_counted_workload.
std::string round_sql(int r) {
  std::string s = std::to_string(r), base = std::to_string(100000 + r * 1000);
  std::string sql;
  sql += "\\echo @accounts\nINSERT INTO accounts SELECT g, 'new ' || g, g % 1000, ARRAY['n'], '{\"new\": true}', now() FROM generate_series(" + base +
         ", " + base + " + 999) g;\n";
  sql += "\\echo @accounts\nUPDATE accounts SET balance = balance + 1, updated = now() WHERE id % 60 = " + std::to_string(r % 60) + ";\n";
  // Only the title: body stays TOASTed and is not sent.
  sql += "\\echo @documents\nUPDATE documents SET version = version + 1, title = 'v' || version WHERE id % 20 = " + std::to_string(r % 20) + ";\n";
  sql += "\\echo @documents\nUPDATE documents SET body = repeat(md5(id::text || '" + s + "'), 110) WHERE id % 50 = " + std::to_string(r % 50) + ";\n";
  sql += "BEGIN;\n";
  sql += "\\echo @events\nINSERT INTO events SELECT g, 'k' || (g % 5), jsonb_build_object('round', " + s + ", 'g', g), now() FROM generate_series(" +
         std::to_string(1000000 + r * 500) + ", " + std::to_string(1000000 + r * 500 + 499) + ") g;\n";
  sql += "\\echo @events\nDELETE FROM events WHERE id % 200 = " + s + ";\n";
  sql += "COMMIT;\n";
  sql += "\\echo @accounts\nDELETE FROM accounts WHERE id % 97 = " + std::to_string(r % 97) + " AND id > 100000;\n";
  if (r % 10 == 5) {
    // Key changes: the old key is sent with the new row.
    std::string from = std::to_string(r * 100 + 1);
    sql += "\\echo @accounts\nUPDATE accounts SET id = id + 10000000 WHERE id BETWEEN " + from + " AND " + from + " + 49;\n";
  }
  if (r == 20) {
    // One transaction of about 35,000 changes: far more than a batch.
    sql += "\\echo @accounts\nUPDATE accounts SET balance = balance - 1, tags = tags || 'big'::text WHERE id % 3 = 0;\n";
  }
  return sql + "SELECT pg_sleep(0.08);\n";
}

std::string workload(int from, int to) {
  std::string sql;
  for (int r = from; r < to; ++r) sql += round_sql(r);
  return sql;
}

struct CdcE2e {
  PostgresServer pg;
  TempDir dir;
  std::unique_ptr<Daemon> daemon;

  CdcE2e() {
    write_daemon_file(dir);
    create_tables(pg);
    // A rate limit keeps the stream behind the workload, so that every kill and every server restart lands
    // with changes in flight.
    write_file(dir / "pipelines/cdc.yaml",
               "source:\n  type: postgres_cdc\n  dsn: \"" + pg.dsn() + "\"\n  slot: e2e\n  tables: [accounts, documents, events]\n"
               "  snapshot_chunk_rows: 5000\n  heartbeat_interval: 200ms\n  status_interval: 500ms\n  max_reconnect_backoff: 2s\n"
               "  rate_limit: { rate: 12000, burst: 2000 }\n"
               "sink: { type: file, path: " + (dir / "out") + ", format: jsonl, roll: { max_bytes: 16MiB },"
               " batch: { max_records: 5000, max_wait: 50ms } }\n");
  }
  ~CdcE2e() {
    if (daemon && daemon->running()) daemon->signal(SIGKILL);
  }
  std::string log() const { return read_file(dir / "sluiced.log"); }
  void start() {
    std::error_code ec;
    fs::remove(dir / "state/http.address", ec);
    daemon = std::make_unique<Daemon>(std::vector<std::string>{"run", "--config", dir / "sluice.yaml"}, dir / "sluiced.log");
  }
  // Waits for the start-up line of the daemon's n-th start, so that a kill's delay counts from there.
  void wait_started(size_t n) {
    REQUIRE(wait_until([&] { return count_occurrences(log(), "] sluiced ") >= n || !daemon->running(); }, 60s));
  }
  void kill() {
    INFO("log: " << log().substr(0, 4000));
    REQUIRE(daemon->running());
    daemon->signal(SIGKILL);
    REQUIRE(daemon->wait(10s) == 128 + SIGKILL);
  }
  // Lets the daemon finish its snapshot (a resumed one moves at the pace of the stream) and confirm
  // everything written so far, then stops it cleanly.
  void finish() {
    std::string address = wait_for_http_address(dir / "state");
    bool snapshot_done = wait_until(
        [&] {
          try {
            auto status = daemon_status(address);
            const auto& position = status_pipeline(status, "cdc").at("position").as_object();
            return position.contains("e2e") && std::string(position.at("e2e").as_string()).find("snapshot") == std::string::npos;
          } catch (const std::exception&) {
            return false;  // not answering yet
          }
        },
        600s, 200ms);
    REQUIRE(snapshot_done);
    uint64_t target = current_wal_lsn(pg);
    bool caught_up = wait_until([&] { return confirmed_flush_lsn(pg, "e2e") >= target || !daemon->running(); }, 600s, 200ms);
    INFO("log tail: " << log().substr(log().size() > 6000 ? log().size() - 6000 : 0));
    REQUIRE(caught_up);
    REQUIRE(daemon->running());
    daemon->signal(SIGTERM);
    REQUIRE(daemon->wait(120s) == 0);
  }
  void verify(const ChangeCounts& expected) {
    auto lines = finished_part_lines(dir / "out");
    CHECK(in_progress_parts(dir / "out").empty());
    auto counts = count_changes(lines);
    // A table the exported snapshot read holds its initial rows as r; one whose snapshot resumed after a kill
    // is read as it is at each chunk, rows the workload added included: counts vary, the replay may not.
    for (const auto& [table, key] : kTables) {
      INFO("snapshot rows of " << table);
      CHECK(counts[table]['r'] > 0);
    }
    uint64_t stream = 0;
    for (const auto& [table, ops] : expected)
      for (const auto& [op, n] : ops) {
        INFO("table " << table << ", op " << op);
        CHECK(counts[table][op] == n);
        stream += n;
      }
    INFO(stream << " stream changes expected");
    REQUIRE(stream >= 200000);
    require_no_duplicate_changes(lines, kTables);
    require_replay_equals_tables(pg, lines, kTables);
  }
};

}  // namespace

TEST_CASE("postgres_cdc: 200k mixed changes survive 10 SIGKILLs of sluiced and the replayed stream equals the tables", "[e2e][postgres][cdc]") {
  CdcE2e t;
  t.start();
  // The workload begins after the slot: what it changes is in the stream, not in the snapshot.
  REQUIRE(wait_until([&] { return t.log().find("created replication slot") != std::string::npos; }, 60s));
  ChangeCounts expected;
  std::atomic<bool> workload_done{false};
  std::exception_ptr workload_error;
  std::thread writer([&] {
    try {
      expected = run_counted_workload(t.pg, workload(0, 90));
    } catch (...) {
      workload_error = std::current_exception();
    }
    workload_done = true;
  });
  std::mt19937 rng(6);
  std::uniform_int_distribution<int> delay(600, 2200);
  for (int kill = 0; kill < 10; ++kill) {
    if (kill > 0) t.start();
    t.wait_started(size_t(kill + 1));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay(rng)));
    t.kill();
  }
  t.start();
  writer.join();
  if (workload_error) std::rethrow_exception(workload_error);
  t.finish();
  // The kills landed while changes flowed: most runs resumed from a commit of an earlier one.
  CHECK(count_occurrences(t.log(), "resuming from") >= 8);
  t.verify(expected);
}

TEST_CASE("postgres_cdc: the PostgreSQL server restarted mid-stream: sluiced reconnects and the replayed stream equals the tables",
          "[e2e][postgres][cdc]") {
  CdcE2e t;
  t.start();
  REQUIRE(wait_until([&] { return t.log().find("created replication slot") != std::string::npos; }, 60s));
  ChangeCounts expected;
  auto add = [&](const ChangeCounts& more) {
    for (const auto& [table, ops] : more)
      for (const auto& [op, n] : ops) expected[table][op] += n;
  };
  const int segments = 4;
  for (int s = 0; s < segments; ++s) {
    add(run_counted_workload(t.pg, workload(s * 23, (s + 1) * 23)));
    // The stream is behind the workload here (rate-limited): a crash of the server cuts it mid-flow. A fast
    // shutdown instead waits until sluiced has confirmed what was sent.
    CHECK(confirmed_flush_lsn(t.pg, "e2e") < current_wal_lsn(t.pg));
    t.pg.restart(s == 2 ? PostgresServer::Shutdown::fast : PostgresServer::Shutdown::immediate);
    if (s == 1) {
      // And sluiced dies too, right after the server came back.
      t.kill();
      t.start();
    }
  }
  t.finish();
  INFO(t.log().substr(0, 8000));
  CHECK(count_occurrences(t.log(), "reconnecting in") >= 3);
  t.verify(expected);
}

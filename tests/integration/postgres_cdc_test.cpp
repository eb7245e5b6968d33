// The postgres_cdc source against a real PostgreSQL 15, run by the real sluiced: record shapes, the snapshot
// handoff under concurrent writes, a snapshot resumed after a crash, heartbeats, the flush position, loud
// failures, keepalives while throttled, the slot-lag guard and a transaction bigger than a batch.
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
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

struct CdcTest {
  PostgresServer pg;
  TempDir dir;
  std::unique_ptr<Daemon> daemon;

  CdcTest() { write_daemon_file(dir); }
  ~CdcTest() {
    if (daemon && daemon->running()) {
      daemon->signal(SIGKILL);
      daemon->wait(10s);
    }
  }

  std::string log() const { return read_file(dir / "sluiced.log"); }
  // A pipeline NAME streaming SLOT into DIR/out/NAME, with `extra` lines of source options.
  void pipeline(const std::string& name, const std::string& slot, const std::string& extra, const std::string& rest = "",
                const std::string& database = "postgres") {
    write_file(dir / ("pipelines/" + name + ".yaml"),
               "source:\n  type: postgres_cdc\n  dsn: \"" + pg.dsn(database) + "\"\n  slot: " + slot + "\n" + extra +
                   (rest.empty() ? "sink: { type: file, path: " + out(name) + ", format: jsonl, batch: { max_wait: 50ms } }\n" : rest));
  }
  std::string out(const std::string& name) const { return dir / ("out/" + name); }
  std::vector<std::string> output(const std::string& name) const { return finished_part_lines(out(name)); }

  void start(std::vector<std::string> env = {}) {
    std::error_code ec;
    fs::remove(dir / "state/http.address", ec);
    daemon = std::make_unique<Daemon>(std::vector<std::string>{"run", "--config", dir / "sluice.yaml"}, dir / "sluiced.log", std::move(env));
  }
  // Waits until the log holds `text` `times` times in all.
  void wait_log(const std::string& text, size_t times = 1, std::chrono::milliseconds timeout = 60s) {
    bool ok = wait_until([&] { return count_occurrences(log(), text) >= times || !daemon->running(); }, timeout);
    INFO("waiting for '" << text << "' in the log:\n" << log().substr(0, 6000));
    REQUIRE(count_occurrences(log(), text) >= times);
    REQUIRE(ok);
  }
  // Waits until the slot confirms everything the server has written so far (heartbeats must be on).
  void catch_up(const std::string& slot, std::chrono::milliseconds timeout = 120s) {
    uint64_t target = current_wal_lsn(pg);
    bool ok = wait_until([&] { return confirmed_flush_lsn(pg, slot) >= target || !daemon->running(); }, timeout, 100ms);
    INFO("slot " << slot << " did not confirm " << target << "; log:\n" << log().substr(0, 6000));
    REQUIRE(ok);
    REQUIRE(daemon->running());
  }
  void stop() {
    daemon->signal(SIGTERM);
    int rc = daemon->wait(60s);
    INFO("log:\n" << log().substr(0, 6000));
    REQUIRE(rc == 0);
  }
  void kill() {
    REQUIRE(daemon->running());
    daemon->signal(SIGKILL);
    REQUIRE(daemon->wait(10s) == 128 + SIGKILL);
  }
  std::string address() { return wait_for_http_address(dir / "state"); }
  // A `run --once` that must fail (a CDC source never ends by itself), with each text in its log.
  void fails_with(const std::vector<std::string>& texts) {
    int rc = run_sluiced({"run", "--config", dir / "sluice.yaml", "--once"}, dir / "sluiced.log", 60s);
    INFO(log());
    CHECK(rc == 1);
    for (const auto& text : texts) {
      INFO("expected in the log: " << text);
      CHECK(log().find(text) != std::string::npos);
    }
  }
};

json::object parse(const std::string& line) { return json::parse(line).as_object(); }

std::vector<json::object> of_table(const std::vector<std::string>& lines, const std::string& table) {
  std::vector<json::object> out;
  for (const auto& l : lines) {
    auto o = parse(l);
    if (o.at("source").as_object().at("table").as_string() == table) out.push_back(std::move(o));
  }
  return out;
}

std::string ops(const std::vector<json::object>& changes) {
  std::string s;
  for (const auto& c : changes) s += c.at("op").as_string();
  return s;
}

// Random small changes to table w (id bigint primary key, v int) until stopped: what an application does
// while sluice reads. Counts the psql runs that committed.
class Writer {
 public:
  Writer(const PostgresServer& pg, uint64_t ids, uint32_t seed) : pg_(pg), ids_(ids), rng_(seed) {}
  ~Writer() { stop(); }
  void start() {
    thread_ = std::thread([this] {
      try {
        run();
      } catch (const std::exception& e) {
        // Thrown on this thread it would end the test binary; the test fails with it at stop() instead.
        error_ = e.what();
      }
    });
  }
  // Stops the writer; returns why it stopped by itself before (psql failed or timed out), empty if it did not.
  std::string stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return error_;
  }
  std::atomic<int> committed{0};

 private:
  void run() {
    while (!stop_) {
      std::string sql = "BEGIN;\n";
      for (int i = 0; i < 20; ++i) {
        uint64_t id = rng_() % ids_ + 1;
        switch (rng_() % 4) {
          case 0: sql += "DELETE FROM w WHERE id = " + std::to_string(id) + ";\n"; break;
          case 1:
            sql += "INSERT INTO w VALUES (" + std::to_string(id) + ", 0) ON CONFLICT (id) DO UPDATE SET v = w.v + 1000;\n";
            break;
          default: sql += "UPDATE w SET v = v + 1 WHERE id = " + std::to_string(id) + ";\n";
        }
      }
      // 20 small statements take milliseconds; a minute means one waits on something that will not come.
      pg_.sql(sql + "COMMIT;\n", "postgres", 60s);
      ++committed;
    }
  }

  const PostgresServer& pg_;
  uint64_t ids_;
  std::mt19937_64 rng_;
  std::atomic<bool> stop_{false};
  std::string error_;  // written by the thread, read after joining it
  std::thread thread_;
};

}  // namespace

TEST_CASE("postgres_cdc: a snapshot, then every kind of change with typed values, TOAST marked, ALTER TABLE followed", "[postgres][cdc]") {
  CdcTest t;
  t.pg.sql(
      "CREATE DOMAIN positive AS int CHECK (VALUE > 0);\n"
      "CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(20,6), note text, big text, tags text[], doc jsonb, paid boolean,"
      " at timestamptz, raw bytea, qty positive);\n"
      "ALTER TABLE orders ALTER COLUMN big SET STORAGE EXTERNAL;\n"
      "CREATE TABLE audit (id int PRIMARY KEY, v text);\n"
      "ALTER TABLE audit REPLICA IDENTITY FULL;\n"
      "CREATE TABLE ignored (id int PRIMARY KEY);\n"
      "INSERT INTO orders VALUES (1, 12345678901234.123456, 'first', repeat('x', 5000), '{a,\"b c\"}', '{\"k\": [1, 2]}', true,"
      " '2026-11-25 10:00:00.5+00', '\\x00ff', 3);\n"
      "INSERT INTO orders (id, note) SELECT g, 'n' || g FROM generate_series(2, 5) g;\n"
      "INSERT INTO audit VALUES (1, 'a');\n");
  t.pipeline("cdc", "shapes", "  tables: [orders, audit]\n  snapshot_chunk_rows: 2\n  heartbeat_interval: 200ms\n  status_interval: 200ms\n");
  t.start();
  t.wait_log("streaming from shapes");
  t.pg.sql(
      "INSERT INTO ignored VALUES (1);\n"
      "UPDATE orders SET note = 'second' WHERE id = 1;\n"  // big is left alone: not sent
      "UPDATE orders SET id = 10 WHERE id = 2;\n"          // a key change carries the old key
      "UPDATE orders SET big = repeat('y', 6000) WHERE id = 1;\n"
      "DELETE FROM orders WHERE id = 3;\n"
      "UPDATE audit SET v = 'b';\n"
      "DELETE FROM audit;\n"
      "ALTER TABLE orders ADD COLUMN extra int;\n"
      "INSERT INTO orders (id, extra, qty) VALUES (99, 7, 4);\n"
      "TRUNCATE audit;\n");
  t.catch_up("shapes");
  t.stop();

  auto lines = t.output("cdc");
  auto orders = of_table(lines, "orders");
  auto audit = of_table(lines, "audit");
  INFO(lines.size() << " changes; first: " << (lines.empty() ? "" : lines[0]));
  CHECK(of_table(lines, "ignored").empty());  // not in tables: (and not in the publication made for them)
  REQUIRE(ops(orders) == "rrrrruuudc");
  REQUIRE(ops(audit) == "rudt");
  // The snapshot: in key order, typed like the stream.
  for (size_t i = 0; i < 5; ++i) CHECK(orders[i].at("after").as_object().at("id").as_int64() == int64_t(i + 1));
  const auto& first = orders[0].at("after").as_object();
  CHECK(first.at("amount").as_string() == "12345678901234.123456");
  CHECK(first.at("big").as_string().size() == 5000);
  CHECK(json::serialize(first.at("tags")) == R"(["a","b c"])");
  CHECK(json::serialize(first.at("doc")) == R"({"k":[1,2]})");
  CHECK(first.at("paid").as_bool());
  CHECK(first.at("at").as_string() == "2026-11-25T10:00:00.5Z");
  CHECK(first.at("raw").as_string() == "AP8=");
  CHECK(orders[0].at("source").as_object().at("snapshot").as_bool());
  // The stream.
  const auto& toast = orders[5];
  CHECK(toast.at("after").as_object().at("note").as_string() == "second");
  CHECK_FALSE(toast.at("after").as_object().contains("big"));
  CHECK(json::serialize(toast.at("unchanged_toast")) == R"(["big"])");
  CHECK(json::serialize(orders[6].at("before")) == R"({"id":2})");
  CHECK(orders[6].at("after").as_object().at("id").as_int64() == 10);
  CHECK(orders[7].at("after").as_object().at("big").as_string() == std::string(6000, 'y'));
  CHECK_FALSE(orders[7].contains("unchanged_toast"));
  CHECK(json::serialize(orders[8].at("before")) == R"({"id":3})");
  CHECK(orders[9].at("after").as_object().at("extra").as_int64() == 7);  // the new column, after ALTER TABLE
  // A domain is its base type, in the snapshot and in the stream alike.
  CHECK(first.at("qty").as_int64() == 3);
  CHECK(orders[9].at("after").as_object().at("qty").as_int64() == 4);
  CHECK(audit[1].at("before").as_object().at("v").as_string() == "a");   // REPLICA IDENTITY FULL: the old row
  CHECK(audit[2].at("before").as_object().at("v").as_string() == "b");
  const auto& s = orders[5].at("source").as_object();
  CHECK(s.at("xid").as_int64() > 0);
  CHECK(s.at("schema").as_string() == "public");
  CHECK(s.at("commit_time").as_string().size() == 24);
}

TEST_CASE("postgres_cdc: the initial snapshot plus the stream equals the final tables under concurrent writes", "[postgres][cdc]") {
  CdcTest t;
  t.pg.sql("CREATE TABLE w (id bigint PRIMARY KEY, v int);\n"
           "INSERT INTO w SELECT g, 0 FROM generate_series(1, 30000) g;\n"
           "CREATE TABLE names (k text PRIMARY KEY, n int);\n"
           "INSERT INTO names SELECT 'name ' || g, g FROM generate_series(1, 5000) g;\n");
  TableKeys keys{{"w", {"id"}}, {"names", {"k"}}};
  // Slowed by a rate limit, the snapshot takes seconds, while the writer changes what it reads.
  t.pipeline("cdc", "handoff",
             "  tables: [w, names]\n  snapshot_chunk_rows: 1000\n  heartbeat_interval: 200ms\n  rate_limit: { rate: 12000, burst: 1000 }\n");
  Writer writer(t.pg, 40000, 1);
  t.start();
  t.wait_log("reading the initial snapshot");
  writer.start();
  t.wait_log("initial snapshot done");
  int during = writer.committed;
  std::this_thread::sleep_for(1s);
  if (auto error = writer.stop(); !error.empty()) FAIL("the writer stopped early: " << error);
  t.catch_up("handoff");
  t.stop();
  INFO("writer transactions committed while the snapshot was read: " << during);
  REQUIRE(during >= 5);

  auto lines = t.output("cdc");
  auto counts = count_changes(lines);
  CHECK(counts["w"]['r'] == 30000);
  CHECK(counts["names"]['r'] == 5000);
  require_no_duplicate_changes(lines, keys);
  require_replay_equals_tables(t.pg, lines, keys);
}

TEST_CASE("postgres_cdc: a snapshot killed midway resumes from its last committed chunk, reconciled with the stream", "[postgres][cdc]") {
  CdcTest t;
  t.pg.sql("CREATE TABLE w (id bigint PRIMARY KEY, v int);\n"
           "INSERT INTO w SELECT g, 0 FROM generate_series(1, 40000) g;\n"
           "CREATE TABLE zz (id int PRIMARY KEY, doc text);\n"
           "INSERT INTO zz SELECT g, repeat('d', 3000) FROM generate_series(1, 300) g;\n");
  TableKeys keys{{"w", {"id"}}, {"zz", {"id"}}};
  t.pipeline("cdc", "resume",
             "  tables: [w, zz]\n  snapshot_chunk_rows: 1000\n  heartbeat_interval: 200ms\n  rate_limit: { rate: 8000, burst: 1000 }\n",
             "sink: { type: file, path: " + t.out("cdc") + ", format: jsonl, batch: { max_records: 1000, max_wait: 50ms } }\n");
  Writer writer(t.pg, 45000, 2);
  writer.start();
  t.start();
  t.wait_log("reading the initial snapshot");
  std::this_thread::sleep_for(1500ms);
  t.kill();  // in the exported snapshot: it is gone with the connection
  t.start();
  t.wait_log("the snapshot continues at public.w");
  std::this_thread::sleep_for(1500ms);
  t.kill();  // in the watermarked chunks
  t.start();
  t.wait_log("the snapshot continues at public.w", 2);
  t.wait_log("snapshot done: every table read");
  if (auto error = writer.stop(); !error.empty()) FAIL("the writer stopped early: " << error);
  t.catch_up("resume");
  t.stop();

  auto lines = t.output("cdc");
  // Not from the start: no snapshot row was read twice, and every row of zz (untouched) was read once.
  require_no_duplicate_changes(lines, keys);
  auto counts = count_changes(lines);
  CHECK(counts["zz"]['r'] == 300);
  CHECK(counts["w"]['r'] > 20000);  // the rest were changed inside a window, and the stream delivered them
  require_replay_equals_tables(t.pg, lines, keys);
}

TEST_CASE("postgres_cdc: the slot of an idle table on a busy database advances, by heartbeats and by the server's keepalives", "[postgres][cdc]") {
  CdcTest t;
  // Two databases of one server: logical messages (heartbeats) are decoded only for slots of their own
  // database, while the WAL that every slot holds back is the server's.
  t.pg.sql("CREATE TABLE idle (id int PRIMARY KEY);\nCREATE TABLE busy (id int PRIMARY KEY, v int);\nCREATE DATABASE quiet;\n");
  t.pg.sql("CREATE TABLE idle (id int PRIMARY KEY);\n", "quiet");
  t.pipeline("with", "with_heartbeats", "  tables: [idle]\n  heartbeat_interval: 300ms\n  status_interval: 300ms\n");
  t.pipeline("without", "without_heartbeats", "  tables: [idle]\n  heartbeat_interval: 0s\n  status_interval: 300ms\n", "", "quiet");
  t.start();
  t.wait_log("streaming from with_heartbeats");
  t.wait_log("streaming from without_heartbeats");
  uint64_t before = current_wal_lsn(t.pg);
  for (int i = 0; i < 30; ++i) t.pg.sql("INSERT INTO busy SELECT g, g FROM generate_series(" + std::to_string(i * 1000) + ", " +
                                         std::to_string(i * 1000 + 999) + ") g;\n");
  uint64_t busy_end = current_wal_lsn(t.pg);
  REQUIRE(busy_end > before + 1000000);  // the server wrote MBs of WAL the slots must hold
  t.catch_up("with_heartbeats", 30s);
  auto address = t.address();
  CHECK(scrape_value(address, R"(sluice_postgres_cdc_heartbeats_total{pipeline="with"})").value_or(0) >= 1);
  CHECK(scrape_value(address, R"(sluice_postgres_cdc_heartbeats_total{pipeline="without"})") == 0.0);
  // Without heartbeats the server's keepalives carry the position past the WAL it skipped for us.
  t.catch_up("without_heartbeats", 30s);
  CHECK(wait_until([&] { return scrape_value(address, R"(sluice_postgres_cdc_slot_lag_bytes{pipeline="without"})").value_or(1e9) < 1e6; }, 10s));
  t.stop();
  CHECK(t.output("with").empty());  // heartbeats and keepalives are positions, not records
}

TEST_CASE("postgres_cdc: the slot is confirmed only after the sink's commit is durable", "[postgres][cdc]") {
  CdcTest t;
  t.pg.sql("CREATE TABLE t (id int PRIMARY KEY);\n");
  t.pipeline("cdc", "durable", "  tables: [t]\n  heartbeat_interval: 0s\n  status_interval: 200ms\n");
  t.start();
  t.wait_log("streaming from durable");
  t.pg.sql("INSERT INTO t VALUES (1);\n");
  uint64_t first = current_wal_lsn(t.pg);
  REQUIRE(wait_until([&] { return confirmed_flush_lsn(t.pg, "durable") >= first; }, 20s));
  t.stop();

  // This run dies at its first commit, after the sink wrote the data and before the commit was recorded.
  t.start({"SLUICE_CRASH_AT=commit.before_state_write"});
  t.wait_log("streaming from durable", 2);
  t.pg.sql("INSERT INTO t VALUES (2);\n");
  uint64_t second = current_wal_lsn(t.pg);
  REQUIRE(t.daemon->wait(20s) == 86);
  uint64_t confirmed = confirmed_flush_lsn(t.pg, "durable");
  CHECK(confirmed >= first);
  CHECK(confirmed < second);  // what was not committed was not confirmed: the server keeps it for us

  t.start();
  t.wait_log("streaming from durable", 3);
  REQUIRE(wait_until([&] { return confirmed_flush_lsn(t.pg, "durable") >= second; }, 20s));
  t.stop();
  auto rows = of_table(t.output("cdc"), "t");
  REQUIRE(ops(rows) == "cc");
  CHECK(rows[0].at("after").as_object().at("id").as_int64() == 1);
  CHECK(rows[1].at("after").as_object().at("id").as_int64() == 2);
}

TEST_CASE("postgres_cdc: a dropped slot, a missing publication or a table outside it fail loudly and create nothing", "[postgres][cdc]") {
  CdcTest t;
  t.pg.sql("CREATE TABLE t (id int PRIMARY KEY);\nINSERT INTO t VALUES (1), (2);\nCREATE TABLE other (id int PRIMARY KEY);\n");
  t.pipeline("cdc", "dropped", "  tables: [t]\n  heartbeat_interval: 200ms\n");
  t.start();
  t.wait_log("streaming from dropped");
  t.catch_up("dropped");
  t.stop();
  REQUIRE(count_changes(t.output("cdc"))["t"]['r'] == 2);

  t.pg.sql("SELECT pg_drop_replication_slot('dropped');\n");
  t.fails_with({"the slot no longer exists, but this pipeline has a committed position"});
  CHECK(t.pg.sql("SELECT count(*) FROM pg_replication_slots;\n") == "0\n");  // no new slot, no new snapshot
  CHECK(count_changes(t.output("cdc"))["t"]['r'] == 2);

  // A slot that another consumer moved past the committed position: the changes in between are gone for us.
  t.pipeline("cdc", "ahead", "  tables: [t]\n  heartbeat_interval: 0s\n");
  t.start();
  t.wait_log("streaming from ahead");
  t.stop();
  t.pg.sql("INSERT INTO t VALUES (3);\nSELECT 1 FROM pg_replication_slot_advance('ahead', pg_current_wal_lsn());\n");
  t.fails_with({"is ahead of this pipeline's committed position"});

  // A slot the server invalidated because it held more WAL than max_slot_wal_keep_size.
  t.pg.sql("SELECT pg_drop_replication_slot('ahead');\n");
  fs::remove_all(t.dir / "state");
  t.pipeline("cdc", "lost", "  tables: [t]\n  heartbeat_interval: 0s\n");
  t.start();
  t.wait_log("streaming from lost");
  t.stop();
  t.pg.sql("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB';\nSELECT pg_reload_conf();\n");
  for (int i = 0; i < 4; ++i)
    t.pg.sql("INSERT INTO other SELECT g FROM generate_series(" + std::to_string(i * 100000 + 1) + ", " + std::to_string(i * 100000 + 100000) +
             ") g;\nSELECT pg_switch_wal();\nCHECKPOINT;\n");
  REQUIRE(t.pg.sql("SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'lost';\n") == "lost\n");
  t.fails_with({"the slot is invalid (wal_status lost)"});
  t.pg.sql("ALTER SYSTEM RESET max_slot_wal_keep_size;\nSELECT pg_reload_conf();\nSELECT pg_drop_replication_slot('lost');\n");

  fs::remove(t.dir / "pipelines/cdc.yaml");
  t.pipeline("nopub", "nopub", "  publication: nothing_here\n");
  t.pipeline("outside", "outside", "  publication: dropped\n  tables: [other]\n");
  // A connection the server refuses (here an unknown role) is not retried: it will not heal by waiting.
  write_file(t.dir / "pipelines/stranger.yaml", "source:\n  type: postgres_cdc\n  dsn: \"host=127.0.0.1 port=" + std::to_string(t.pg.port()) +
                                                    " user=nobody_here dbname=postgres\"\n  slot: stranger\nsink: { type: blackhole }\n");
  t.fails_with({"publication 'nothing_here' does not exist, and no tables are configured", "table public.other is configured but not in publication 'dropped'",
                "role \"nobody_here\" does not exist"});
  CHECK(t.log().find("reconnecting") == std::string::npos);
  CHECK(t.pg.sql("SELECT count(*) FROM pg_replication_slots;\n") == "0\n");
}

TEST_CASE("postgres_cdc: at a first start a slot made by hand is used with a watermarked snapshot and snapshot never takes none", "[postgres][cdc]") {
  CdcTest t;
  t.pg.sql("CREATE TABLE t (id int PRIMARY KEY, v text);\nINSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');\n"
           "CREATE PUBLICATION p FOR TABLE t;\n"
           "SELECT 1 FROM pg_create_logical_replication_slot('handmade', 'pgoutput');\n"
           "SELECT 1 FROM pg_create_logical_replication_slot('foreign', 'test_decoding');\n"
           "INSERT INTO t VALUES (4, 'after the slot');\n");
  t.pipeline("made", "handmade", "  publication: p\n  create_slot: false\n  snapshot_chunk_rows: 2\n  heartbeat_interval: 200ms\n");
  t.pipeline("never", "never_snapshot", "  publication: p\n  snapshot: never\n  heartbeat_interval: 200ms\n");
  t.start();
  t.wait_log("replication slot handmade exists and this pipeline has no committed position");
  t.wait_log("created replication slot never_snapshot at");
  t.wait_log("streaming from never_snapshot");
  t.wait_log("snapshot done: every table read");
  t.pg.sql("UPDATE t SET v = 'later' WHERE id = 1;\n");
  t.catch_up("handmade");
  t.catch_up("never_snapshot");
  t.stop();
  auto made = of_table(t.output("made"), "t");
  // The insert made after the slot comes from the stream; then every row, as it is now, from the snapshot.
  CHECK(ops(made) == "crrrru");
  CHECK(made[0].at("after").as_object().at("id").as_int64() == 4);
  CHECK(ops(of_table(t.output("never"), "t")) == "u");
  TableKeys keys{{"t", {"id"}}};
  require_replay_equals_tables(t.pg, t.output("made"), keys);

  for (const char* name : {"made", "never"}) fs::remove(t.dir / ("pipelines/" + std::string(name) + ".yaml"));
  t.pipeline("missing", "missing", "  publication: p\n  create_slot: false\n");
  t.pipeline("foreign", "foreign", "  publication: p\n");
  t.fails_with({"the slot does not exist and create_slot is false", "it uses the output plugin 'test_decoding'"});
}

TEST_CASE("postgres_cdc: a source throttled longer than wal_sender_timeout keeps its connection", "[postgres][cdc]") {
  CdcTest t;
  t.pg.sql("ALTER SYSTEM SET wal_sender_timeout = '2s';\nSELECT pg_reload_conf();\nCREATE TABLE t (id int PRIMARY KEY, v text);\n");
  // Each commit takes 3 s and the queue holds 200 records: the source waits in push for longer than the
  // server's timeout, again and again.
  t.pipeline("cdc", "throttled", "  tables: [t]\n  heartbeat_interval: 0s\n  status_interval: 300ms\n",
             "queue: { max_records: 200 }\nsink: { type: file, path: " + t.out("cdc") +
                 ", format: jsonl, batch: { max_records: 200, max_wait: 50ms } }\n");
  t.start({"SLUICE_SLOW_AT=commit.before_state_write@cdc:3000"});
  t.wait_log("streaming from throttled");
  t.pg.sql("INSERT INTO t SELECT g, repeat('v', 100) FROM generate_series(1, 1500) g;\n");
  std::this_thread::sleep_for(10s);
  auto reconnects = scrape_value(t.address(), R"(sluice_postgres_cdc_reconnects_total{pipeline="cdc"})");
  t.stop();
  INFO(t.log());
  CHECK(reconnects == 0.0);
  CHECK(t.log().find("reconnecting") == std::string::npos);
  CHECK(t.pg.server_log().find("replication timeout") == std::string::npos);
  CHECK(of_table(t.output("cdc"), "t").size() >= 400);
}

TEST_CASE("postgres_cdc: a slot lagging past max_slot_lag marks the pipeline degraded until it catches up", "[postgres][cdc]") {
  CdcTest t;
  t.pg.sql("CREATE TABLE t (id int PRIMARY KEY, v text);\n");
  t.pipeline("cdc", "lagging", "  tables: [t]\n  heartbeat_interval: 200ms\n  status_interval: 200ms\n  max_slot_lag: 256KiB\n",
             "sink: { type: file, path: " + t.out("cdc") + ", format: jsonl, batch: { max_records: 100000, max_bytes: 64MiB, max_wait: 50ms } }\n");
  t.start({"SLUICE_SLOW_AT=commit.before_state_write@cdc:2500"});
  t.wait_log("streaming from lagging");
  auto address = t.address();
  t.pg.sql("INSERT INTO t SELECT g, repeat('v', 200) FROM generate_series(1, 20000) g;\n");
  std::string reason;
  bool degraded = wait_until(
      [&] {
        auto p = status_pipeline(daemon_status(address), "cdc");
        if (p.at("degraded").is_string()) reason = p.at("degraded").as_string();
        return !reason.empty();
      },
      20s);
  INFO(t.log());
  REQUIRE(degraded);
  CHECK(reason.find("more than max_slot_lag 256.0 KiB") != std::string::npos);
  CHECK(scrape_value(address, R"(sluice_pipeline_degraded{pipeline="cdc"})") == 1.0);
  CHECK(t.log().find("holds") != std::string::npos);
  REQUIRE(wait_until([&] { return status_pipeline(daemon_status(address), "cdc").at("degraded").is_null(); }, 60s));
  CHECK(scrape_value(address, R"(sluice_pipeline_degraded{pipeline="cdc"})") == 0.0);
  CHECK(t.log().find("is back within max_slot_lag") != std::string::npos);
  t.stop();
}

TEST_CASE("postgres_cdc: a transaction bigger than a batch commits at resumable points inside it and survives kills", "[postgres][cdc]") {
  const std::string policy = GENERATE(as<std::string>{}, "throttle", "buffer");
  INFO("policy: " << policy);
  CdcTest t;
  t.pg.sql("CREATE TABLE t (id int PRIMARY KEY, v int);\n");
  // With policy buffer the position is durable (and confirmed) once spooled, at the same resumable points.
  t.pipeline("cdc", "bigtxn", "  tables: [t]\n  heartbeat_interval: 200ms\n  rate_limit: { rate: 15000, burst: 1000 }\n",
             "queue: { policy: " + policy + " }\nsink: { type: file, path: " + t.out("cdc") +
                 ", format: jsonl, batch: { max_records: 2000, max_wait: 50ms } }\n");
  t.start();
  t.wait_log("streaming from bigtxn");
  t.pg.sql("INSERT INTO t SELECT g, g FROM generate_series(0, 59999) g;\n");  // one transaction
  auto address = t.address();
  // Committed in the middle of the transaction: the position names it and how much of it is delivered.
  std::string position;
  REQUIRE(wait_until(
      [&] {
        position = status_pipeline(daemon_status(address), "cdc").at("position").as_object().at("bigtxn").as_string();
        return position.find("\"txn\"") != std::string::npos;
      },
      30s, 20ms));
  INFO("position: " << position);
  t.kill();
  t.start();
  t.wait_log("streaming from bigtxn", 2);
  std::this_thread::sleep_for(1200ms);
  t.kill();
  t.start();
  t.catch_up("bigtxn");
  t.stop();
  auto rows = of_table(t.output("cdc"), "t");
  std::vector<std::string> after;
  for (const auto& r : rows) after.push_back(json::serialize(r.at("after")));
  require_ids_exactly_once(after, "id", 60000);
}

#pragma once
// A real PostgreSQL 15 for the tests that need one: initdb into a fresh directory, wal_level=logical, its own
// port and socket directory, stopped and removed when the object goes away. Run as root, the server runs as
// the `postgres` user (through runuser), as PostgreSQL refuses to run as root.
#include <chrono>
#include <string>

#include "support/test_support.hpp"

namespace sluice::testing {

class PostgresServer {
 public:
  // Throws std::runtime_error with the server's own log when it cannot start (the test then fails naming
  // why: a missing package, a port in use, permissions).
  PostgresServer();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  uint16_t port() const { return port_; }
  const std::string& socket_dir() const { return socket_dir_; }
  // A libpq connection string for database `postgres` as superuser `postgres`, over TCP on 127.0.0.1.
  std::string dsn(const std::string& database = "postgres") const;
  // Runs SQL through psql (ON_ERROR_STOP); returns its unaligned, tuples-only output. Throws with psql's
  // message on an error, and when psql has not finished within `timeout` (a statement waiting on a lock, a
  // server that stopped answering): a test fails saying so rather than hanging.
  static constexpr std::chrono::milliseconds kSqlTimeout = std::chrono::minutes(5);
  std::string sql(const std::string& statements, const std::string& database = "postgres",
                  std::chrono::milliseconds timeout = kSqlTimeout) const;
  // The same, with psql's command tags (INSERT 0 5, UPDATE 3) and \echo lines in the output.
  std::string sql_with_tags(const std::string& statements) const;
  // Stops the server and starts it again on the same data directory and port. Fast shutdown lets the
  // walsenders finish sending (and waits for their clients to confirm); immediate is a crash: the server
  // recovers from its WAL at the next start.
  enum class Shutdown { fast, immediate };
  void restart(Shutdown mode = Shutdown::fast);
  // What the server logged so far.
  std::string server_log() const { return read_file(log_); }

 private:
  void start();
  void stop(Shutdown mode = Shutdown::fast);

  TempDir dir_;
  std::string data_dir_, socket_dir_, log_;
  uint16_t port_ = 0;
  bool running_ = false;
};

}  // namespace sluice::testing

#include "support/postgres_server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

namespace sluice::testing {
namespace {

const std::string kBin = "/usr/lib/postgresql/15/bin/";

bool running_as_root() { return ::geteuid() == 0; }

// As the postgres user when we are root: the server refuses to run as root. initdb takes seconds and pg_ctl
// waits at most its own -t 60; past two minutes something is stuck.
CommandResult as_postgres(std::vector<std::string> args) {
  if (running_as_root()) args.insert(args.begin(), {"runuser", "-u", "postgres", "--"});
  return run_command(args, "", {}, std::chrono::minutes(2));
}

}  // namespace

PostgresServer::PostgresServer() {
  if (!std::filesystem::exists(kBin + "initdb"))
    throw std::runtime_error("PostgreSQL 15 is not installed (" + kBin + "initdb): scripts/setup.sh installs postgresql-15");
  // The server runs as postgres: it must be able to reach its directories through ours (mkdtemp makes 0700).
  ::chmod(dir_.path().c_str(), 0711);
  data_dir_ = dir_ / "data";
  socket_dir_ = dir_ / "socket";
  log_ = dir_ / "server.log";
  std::filesystem::create_directories(socket_dir_);
  if (running_as_root()) {
    run_command({"chown", "postgres", dir_.path(), socket_dir_});
    ::chmod(socket_dir_.c_str(), 0755);
  }
  auto [rc, out] = as_postgres({kBin + "initdb", "-D", data_dir_, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"});
  if (rc != 0) throw std::runtime_error("initdb failed:\n" + out);
  std::string conf = "\nwal_level = logical\nmax_replication_slots = 10\nmax_wal_senders = 10\nfsync = off\n"
                     "synchronous_commit = on\nfull_page_writes = off\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '" +
                     socket_dir_ + "'\nshared_buffers = 64MB\nmax_connections = 50\nlog_min_messages = warning\n";
  append_file(data_dir_ + "/postgresql.conf", conf);
  append_file(data_dir_ + "/pg_hba.conf", "\nhost replication all 127.0.0.1/32 trust\n");
  port_ = free_port();
  start();
}

PostgresServer::~PostgresServer() {
  try {
    stop();
  } catch (const std::exception&) {
    // A server that will not stop is killed with the directory's removal being the least of our worries; the
    // test has already reported what it found.
  }
}

void PostgresServer::start() {
  auto [rc, out] = as_postgres({kBin + "pg_ctl", "-D", data_dir_, "-l", log_, "-o", "-p " + std::to_string(port_), "-w", "-t", "60", "start"});
  if (rc != 0) throw std::runtime_error("PostgreSQL did not start on port " + std::to_string(port_) + ":\n" + out + "\n" + read_file(log_));
  running_ = true;
}

void PostgresServer::stop(Shutdown mode) {
  if (!running_) return;
  running_ = false;
  auto [rc, out] = as_postgres({kBin + "pg_ctl", "-D", data_dir_, "-m", mode == Shutdown::fast ? "fast" : "immediate", "-w", "-t", "60", "stop"});
  if (rc != 0) throw std::runtime_error("PostgreSQL did not stop:\n" + out);
}

void PostgresServer::restart(Shutdown mode) {
  stop(mode);
  start();
}

std::string PostgresServer::dsn(const std::string& database) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + database;
}

namespace {

std::string psql(uint16_t port, const std::string& database, const std::string& statements, bool tags, std::chrono::milliseconds timeout) {
  std::vector<std::string> args{"psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", std::to_string(port), "-U",
                                "postgres", "-d", database, "-f", "-"};
  if (!tags) args.insert(args.begin() + 2, "-q");
  auto [rc, out] = run_command(args, statements, {}, timeout);
  if (rc != 0) throw std::runtime_error("psql failed (" + std::to_string(rc) + "):\n" + out.substr(0, 4000));
  return out;
}

}  // namespace

std::string PostgresServer::sql(const std::string& statements, const std::string& database, std::chrono::milliseconds timeout) const {
  return psql(port_, database, statements, false, timeout);
}

std::string PostgresServer::sql_with_tags(const std::string& statements) const {
  return psql(port_, "postgres", statements, true, kSqlTimeout);
}

}  // namespace sluice::testing

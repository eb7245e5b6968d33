#include "sources/postgres_cdc/pg_connection.hpp"

#include <libpq-fe.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/async.hpp"

namespace sluice::sources::postgres_cdc {
namespace asio = boost::asio;
using asio::awaitable;

namespace {

std::string trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s.empty() ? "unknown libpq error" : s;
}

std::string param(const ConnParams& params, std::string_view key, std::string fallback = "") {
  for (const auto& [k, v] : params)
    if (k == key) return v;
  return fallback;
}

void set_param(ConnParams& params, const std::string& key, std::string value) {
  for (auto& [k, v] : params)
    if (k == key) {
      v = std::move(value);
      return;
    }
  params.emplace_back(key, std::move(value));
}

}  // namespace

bool PgError::transient() const {
  if (connection_lost) return true;
  if (sqlstate.starts_with("08")) return true;  // connection exception
  // admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections, and object_in_use: the slot is
  // still active for the walsender of a session that has not noticed its client died.
  for (const char* s : {"57P01", "57P02", "57P03", "53300", "55006"})
    if (sqlstate == s) return true;
  return false;
}

ConnParams parse_dsn(const std::string& dsn) {
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &err);
  if (!options) {
    std::string why = err ? trimmed(err) : "out of memory";
    if (err) PQfreemem(err);
    throw std::invalid_argument(why);
  }
  ConnParams out;
  for (PQconninfoOption* o = options; o->keyword; ++o)
    if (o->val && *o->val) out.emplace_back(o->keyword, o->val);
  PQconninfoFree(options);
  return out;
}

ConnParams session_params(ConnParams params, const std::string& application_name, bool replication) {
  // The text forms values.cpp reads: ISO timestamps in UTC, hex bytea, ISO 8601 intervals, and floats in
  // their shortest exact form.
  std::string options = param(params, "options");
  options += (options.empty() ? "" : " ");
  options += "-c DateStyle=ISO -c TimeZone=UTC -c bytea_output=hex -c IntervalStyle=iso_8601 -c extra_float_digits=3";
  set_param(params, "options", options);
  if (param(params, "application_name").empty()) set_param(params, "application_name", application_name);
  if (replication) set_param(params, "replication", "database");
  return params;
}

std::string describe(const ConnParams& params) {
  std::string host = param(params, "host", param(params, "hostaddr", "localhost"));
  return host + ":" + param(params, "port", "5432") + "/" + param(params, "dbname", param(params, "user", "postgres"));
}

PgResult& PgResult::operator=(PgResult&& o) noexcept {
  if (this != &o) {
    if (r_) PQclear(r_);
    r_ = std::exchange(o.r_, nullptr);
  }
  return *this;
}
PgResult::~PgResult() {
  if (r_) PQclear(r_);
}
int PgResult::rows() const { return r_ ? PQntuples(r_) : 0; }
int PgResult::columns() const { return r_ ? PQnfields(r_) : 0; }
bool PgResult::is_null(int row, int column) const { return PQgetisnull(r_, row, column) != 0; }
std::string_view PgResult::get(int row, int column) const {
  return {PQgetvalue(r_, row, column), size_t(PQgetlength(r_, row, column))};
}
uint32_t PgResult::type(int column) const { return PQftype(r_, column); }
std::string_view PgResult::name(int column) const { return PQfname(r_, column); }

void CopyMessage::reset(char* data, int size) {
  if (data_) PQfreemem(data_);
  data_ = data;
  size_ = size;
}

PgConnection::PgConnection(asio::any_io_executor ex, pg_conn* conn, std::string where)
    : conn_(conn), where_(std::move(where)), socket_(std::move(ex)) {}

PgConnection::~PgConnection() {
  // libpq owns the socket: Asio must let go of it without closing it.
  if (socket_.is_open()) socket_.release();
  PQfinish(conn_);
}

PgError PgConnection::error(const std::string& doing) const {
  return PgError("PostgreSQL " + where_ + ": " + doing + ": " + trimmed(PQerrorMessage(conn_)), "", PQstatus(conn_) == CONNECTION_BAD);
}

PgError PgConnection::connect_error() const {
  std::string message = trimmed(PQerrorMessage(conn_));
  // libpq gives no SQLSTATE for a refused connection. One the server itself refused (bad password, no
  // pg_hba.conf entry, a missing database or role, no REPLICATION right) will not heal by retrying: fail
  // the pipeline with the server's words. A server that is starting, stopping or full, or one that does not
  // answer at all, is worth waiting for.
  bool server_refused = message.find("FATAL:") != std::string::npos;
  for (const char* later : {"starting up", "shutting down", "not yet accepting connections", "in recovery mode", "too many clients",
                            "connection slots are reserved", "cannot connect now"})
    if (message.find(later) != std::string::npos) server_refused = false;
  return PgError("PostgreSQL " + where_ + ": cannot connect: " + message, "", !server_refused);
}

PgError PgConnection::result_error(pg_result* r, const std::string& doing) const {
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  return PgError("PostgreSQL " + where_ + ": " + doing + ": " + trimmed(PQresultErrorMessage(r)), state ? state : "",
                 PQstatus(conn_) == CONNECTION_BAD);
}

void PgConnection::track_socket() {
  int fd = PQsocket(conn_);
  if (fd == socket_fd_) return;
  // libpq may open a new socket for each address it tries while connecting.
  if (socket_.is_open()) socket_.release();
  socket_fd_ = fd;
  if (fd >= 0) socket_.assign(fd);
}

awaitable<bool> PgConnection::ready(bool for_write, std::chrono::steady_clock::time_point deadline) {
  using namespace asio::experimental::awaitable_operators;
  track_socket();
  if (socket_fd_ < 0) throw error("no socket");
  auto type = for_write ? asio::posix::stream_descriptor::wait_write : asio::posix::stream_descriptor::wait_read;
  if (deadline == std::chrono::steady_clock::time_point::max()) {
    co_await socket_.async_wait(type, asio::use_awaitable);
    co_return true;
  }
  asio::steady_timer timer(socket_.get_executor());
  timer.expires_at(deadline);
  std::variant<std::monostate, std::monostate> which;
  try {
    which = co_await (socket_.async_wait(type, asio::use_awaitable) || timer.async_wait(asio::use_awaitable));
  } catch (const asio::multiple_exceptions&) {
    core::rethrow_first_cause(std::current_exception());  // cancelled: both waits were aborted
  }
  co_return which.index() == 0;
}

awaitable<void> PgConnection::wait(bool for_write, std::chrono::steady_clock::time_point deadline) {
  // Not `if (!co_await ...)`: g++ 12 compiles a co_await inside an if condition, in a coroutine that then
  // runs off its end, into an illegal instruction.
  bool in_time = co_await ready(for_write, deadline);
  if (!in_time) throw PgError("PostgreSQL " + where_ + ": timed out", "", true);
  co_return;
}

awaitable<std::unique_ptr<PgConnection>> PgConnection::connect(const ConnParams& params, std::chrono::milliseconds timeout) {
  std::vector<const char*> keywords, values;
  for (const auto& [k, v] : params) {
    keywords.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  pg_conn* raw = PQconnectStartParams(keywords.data(), values.data(), 0);
  if (!raw) throw std::bad_alloc();
  std::unique_ptr<PgConnection> conn(new PgConnection(co_await asio::this_coro::executor, raw, describe(params)));
  if (PQstatus(raw) == CONNECTION_BAD) throw conn->connect_error();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (PostgresPollingStatusType status = PGRES_POLLING_WRITING;;) {
    if (status == PGRES_POLLING_OK) break;
    if (status == PGRES_POLLING_FAILED) throw conn->connect_error();
    co_await conn->wait(status == PGRES_POLLING_WRITING, deadline);
    status = PQconnectPoll(raw);
  }
  if (PQsetnonblocking(raw, 1) != 0) throw conn->error("cannot make the connection non-blocking");
  co_return conn;
}

awaitable<void> PgConnection::flush() {
  for (;;) {
    int r = PQflush(conn_);
    if (r == 0) co_return;
    if (r < 0) throw error("sending");
    // Only ever waits to write: input is taken by whoever reads, so that no reader misses its wake-up.
    co_await wait(true, std::chrono::steady_clock::time_point::max());
  }
}

awaitable<PgResult> PgConnection::collect(const std::string& doing) {
  co_await flush();
  PgResult last;
  std::optional<PgError> failure;
  for (;;) {
    while (PQisBusy(conn_)) {
      co_await wait(false, std::chrono::steady_clock::time_point::max());
      if (!PQconsumeInput(conn_)) throw error(doing);
    }
    pg_result* r = PQgetResult(conn_);
    if (!r) break;
    auto status = PQresultStatus(r);
    // COPY BOTH (START_REPLICATION) has no end of results until the stream ends: it is the answer.
    if (status == PGRES_COPY_BOTH || status == PGRES_COPY_OUT) co_return PgResult(r);
    if ((status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE) && !failure) failure = result_error(r, doing);
    last = PgResult(r);
  }
  if (failure) throw *failure;
  co_return last;
}

awaitable<PgResult> PgConnection::exec(std::string text) {
  if (!PQsendQuery(conn_, text.c_str())) throw error("cannot send " + text.substr(0, 80));
  co_return co_await collect(text.substr(0, 80));
}

awaitable<PgResult> PgConnection::exec(std::string text, std::vector<std::optional<std::string>> params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  if (!PQsendQueryParams(conn_, text.c_str(), int(values.size()), nullptr, values.data(), nullptr, nullptr, 0))
    throw error("cannot send " + text.substr(0, 80));
  co_return co_await collect(text.substr(0, 80));
}

PgConnection::Read PgConnection::try_read_copy(CopyMessage& out) {
  char* buffer = nullptr;
  int n = PQgetCopyData(conn_, &buffer, 1);
  if (n > 0) {
    out.reset(buffer, n);
    return Read::message;
  }
  if (n == 0) return Read::need_input;
  if (n == -1) return Read::ended;
  throw error("reading the replication stream");
}

awaitable<void> PgConnection::stream_ended() {
  // The server's reason (an error such as admin_shutdown, or a plain end) is in the results after the COPY.
  co_await collect("replication stream");
  throw PgError("PostgreSQL " + where_ + ": the server ended the replication stream", "", true);
}

awaitable<void> PgConnection::wait_for_input() {
  co_await wait(false, std::chrono::steady_clock::time_point::max());
  if (!PQconsumeInput(conn_)) throw error("reading");
}

void PgConnection::consume_input() {
  if (!PQconsumeInput(conn_)) throw error("reading");
}

void PgConnection::put_copy(std::string_view bytes) {
  if (PQputCopyData(conn_, bytes.data(), int(bytes.size())) != 1) throw error("sending a status update");
}

void PgConnection::interrupt() {
  if (socket_.is_open()) socket_.cancel();
}

std::string PgConnection::quote_identifier(std::string_view name) const {
  char* q = PQescapeIdentifier(conn_, name.data(), name.size());
  if (!q) throw error("cannot quote identifier");
  std::string s(q);
  PQfreemem(q);
  return s;
}

std::string PgConnection::quote_literal(std::string_view text) const {
  char* q = PQescapeLiteral(conn_, text.data(), text.size());
  if (!q) throw error("cannot quote literal");
  std::string s(q);
  PQfreemem(q);
  return s;
}

}  // namespace sluice::sources::postgres_cdc

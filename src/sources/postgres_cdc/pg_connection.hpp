#pragma once
// A thin RAII layer over one libpq connection, driven through libpq's non-blocking API with its socket
// waited on by Asio: a slow or silent server suspends a coroutine, never the event loop. Included only by
// the postgres_cdc connector's own files; libpq's header stays in the .cpp.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct pg_conn;
struct pg_result;

namespace sluice::sources::postgres_cdc {

// A failure of the server or of the connection, with the server's SQLSTATE when it sent one.
struct PgError : std::runtime_error {
  PgError(const std::string& what, std::string state, bool lost)
      : std::runtime_error(what), sqlstate(std::move(state)), connection_lost(lost) {}
  std::string sqlstate;
  bool connection_lost;  // the connection broke or never came up
  // Worth reconnecting for: the network, a server shutting down or starting up, a slot still held by the
  // session of a process that just died.
  bool transient() const;
};

// libpq connection keywords and values, as PQconninfoParse yields them.
using ConnParams = std::vector<std::pair<std::string, std::string>>;

// Parses a libpq connection string or URI; throws std::invalid_argument with libpq's reason.
ConnParams parse_dsn(const std::string& dsn);
// `params` for our sessions: server settings that make values arrive in the forms values.cpp reads
// (DateStyle ISO, UTC, hex bytea, shortest exact floats), plus replication=database when asked.
ConnParams session_params(ConnParams params, const std::string& application_name, bool replication);
// "host:port/dbname" of the parameters, for messages (never the password).
std::string describe(const ConnParams& params);

class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* r) : r_(r) {}
  PgResult(PgResult&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
  PgResult& operator=(PgResult&& o) noexcept;
  ~PgResult();
  int rows() const;
  int columns() const;
  bool is_null(int row, int column) const;
  std::string_view get(int row, int column) const;
  uint32_t type(int column) const;
  std::string_view name(int column) const;

 private:
  pg_result* r_ = nullptr;
};

// One COPY message as libpq allocated it.
class CopyMessage {
 public:
  CopyMessage() = default;
  CopyMessage(const CopyMessage&) = delete;
  CopyMessage& operator=(const CopyMessage&) = delete;
  ~CopyMessage() { reset(); }
  std::string_view bytes() const { return {data_, size_t(size_)}; }
  void reset(char* data = nullptr, int size = 0);

 private:
  char* data_ = nullptr;
  int size_ = 0;
};

class PgConnection {
 public:
  // Connects within `timeout`; throws PgError naming `where` (see describe()).
  static boost::asio::awaitable<std::unique_ptr<PgConnection>> connect(const ConnParams& params, std::chrono::milliseconds timeout);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // The simple query protocol (the only one a replication connection speaks): every statement of `sql`,
  // returning the last result. Throws PgError on the first failing statement.
  boost::asio::awaitable<PgResult> exec(std::string sql);
  // One statement with text parameters ($1, $2, ...); nullopt is NULL.
  boost::asio::awaitable<PgResult> exec(std::string sql, std::vector<std::optional<std::string>> params);
  // The same with the parameters listed: exec_params(sql, a, b). (Not a braced list at the call: g++ 12
  // miscompiles an initializer list inside a co_await expression.)
  template <class... P>
  boost::asio::awaitable<PgResult> exec_params(std::string sql, P&&... params) {
    std::vector<std::optional<std::string>> list;
    (list.emplace_back(std::forward<P>(params)), ...);
    return exec(std::move(sql), std::move(list));
  }

  // After exec() of START_REPLICATION (which returns once the server enters COPY BOTH):
  enum class Read { message, need_input, ended };
  // The next buffered COPY message without waiting.
  Read try_read_copy(CopyMessage& out);
  // After Read::ended: waits for the server's reason and throws it as PgError.
  boost::asio::awaitable<void> stream_ended();
  // Waits until the socket has input and takes it into libpq's buffer.
  boost::asio::awaitable<void> wait_for_input();
  // Takes whatever input the socket has now into libpq's buffer, without waiting.
  void consume_input();
  // Queues one COPY message for the server; flush() sends what is queued.
  void put_copy(std::string_view bytes);
  boost::asio::awaitable<void> flush();
  // Ends whatever waits on this connection's socket with operation_aborted (the connection stays usable).
  void interrupt();

  std::string quote_identifier(std::string_view name) const;
  std::string quote_literal(std::string_view text) const;

 private:
  PgConnection(boost::asio::any_io_executor ex, pg_conn* conn, std::string where);
  PgError error(const std::string& doing) const;
  PgError connect_error() const;
  PgError result_error(pg_result* r, const std::string& doing) const;
  void track_socket();
  boost::asio::awaitable<bool> ready(bool for_write, std::chrono::steady_clock::time_point deadline);
  boost::asio::awaitable<void> wait(bool for_write, std::chrono::steady_clock::time_point deadline);
  boost::asio::awaitable<PgResult> collect(const std::string& doing);

  pg_conn* conn_;
  std::string where_;
  boost::asio::posix::stream_descriptor socket_;
  int socket_fd_ = -1;
};

}  // namespace sluice::sources::postgres_cdc

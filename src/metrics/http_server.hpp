#pragma once
// The daemon's one HTTP listener (Beast stays inside http_server.cpp). Plain handlers answer from the event
// loop thread, so they may read pipeline state without locks; stream handlers write a body of unknown length
// (live taps) and end it by closing the connection.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}

namespace sluice::metrics {

struct HttpRequest {
  std::string method;
  std::string path;                          // without the query
  std::map<std::string, std::string> query;  // decoded
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class HttpStream {
 public:
  virtual ~HttpStream() = default;
  // False once the client has gone away; the handler should then return.
  virtual boost::asio::awaitable<bool> write(std::string_view data) = 0;
  // False once the server is stopping or a write failed.
  virtual bool open() const = 0;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
using HttpStreamHandler = std::function<boost::asio::awaitable<void>(const HttpRequest&, HttpStream&)>;

// "host:port" or "[v6]:port"; port 0 asks the kernel for a free one. Throws std::invalid_argument.
std::pair<std::string, uint16_t> parse_listen_address(const std::string& address);

class HttpServer {
 public:
  HttpServer(boost::asio::any_io_executor executor, std::shared_ptr<spdlog::logger> log);
  ~HttpServer();

  // Exact paths, or prefixes ending in '/' (for /tap/<pipeline>).
  void route(std::string path, HttpHandler handler);
  void stream(std::string prefix, HttpStreamHandler handler);

  // Binds and starts accepting; returns the bound address as host:port. Throws std::runtime_error naming
  // the address when it cannot bind.
  std::string listen(const std::string& address);
  // Stops accepting and closes every connection, streams included, so the event loop can end.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sluice::metrics

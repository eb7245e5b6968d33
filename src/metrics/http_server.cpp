#include "metrics/http_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <list>
#include <stdexcept>

#include "formats/hex.hpp"

namespace sluice::metrics {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;

namespace {
constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr size_t kMaxRequestBytes = 16 * 1024;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// Query strings as browsers and curl send them: %XX escapes and '+' for space. A malformed escape is kept as
// written rather than refused: these are names to look up, and a wrong one answers 404 anyway.
std::string percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && formats::hex_digit(in[i + 1]) >= 0 && formats::hex_digit(in[i + 2]) >= 0) {
      out += char(formats::hex_digit(in[i + 1]) * 16 + formats::hex_digit(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}
}  // namespace

std::pair<std::string, uint16_t> parse_listen_address(const std::string& address) {
  std::string host;
  std::string port;
  if (!address.empty() && address.front() == '[') {
    auto close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':')
      throw std::invalid_argument("'" + address + "' is not [ipv6]:port");
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    auto colon = address.rfind(':');
    if (colon == std::string::npos) throw std::invalid_argument("'" + address + "' has no :port");
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  if (host.empty()) throw std::invalid_argument("'" + address + "' has no host (use 0.0.0.0 for every interface)");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535)
    throw std::invalid_argument("'" + address + "': port must be 0-65535");
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  if (ec) throw std::invalid_argument("'" + address + "': '" + host + "' is not an IP address");
  return {host, uint16_t(std::stoul(port))};
}

struct HttpServer::Impl : std::enable_shared_from_this<Impl> {
  asio::any_io_executor executor;
  std::shared_ptr<spdlog::logger> log;
  std::map<std::string, HttpHandler, std::less<>> routes;
  std::map<std::string, HttpStreamHandler, std::less<>> streams;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::list<std::weak_ptr<beast::tcp_stream>> connections;
  bool stopped = false;

  Impl(asio::any_io_executor ex, std::shared_ptr<spdlog::logger> l) : executor(std::move(ex)), log(std::move(l)) {}

  static HttpRequest parse_target(const http::request<http::string_body>& req) {
    HttpRequest out;
    out.method = std::string(req.method_string());
    std::string_view target(req.target().data(), req.target().size());
    auto question = target.find('?');
    out.path = percent_decode(target.substr(0, question));
    if (question == std::string_view::npos) return out;
    std::string_view query = target.substr(question + 1);
    while (!query.empty()) {
      auto amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      auto eq = pair.find('=');
      std::string key = percent_decode(pair.substr(0, eq));
      if (!key.empty()) out.query[key] = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
    return out;
  }

  const HttpStreamHandler* find_stream(std::string_view path) const {
    for (const auto& [prefix, handler] : streams)
      if (path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix) return &handler;
    return nullptr;
  }

  struct ConnectionStream final : HttpStream {
    beast::tcp_stream& socket;
    explicit ConnectionStream(beast::tcp_stream& s) : socket(s) {}
    bool open() const override { return socket.socket().is_open(); }
    awaitable<bool> write(std::string_view data) override {
      // A tap reader may be idle for long, but a write that cannot progress means a stuck client.
      socket.expires_after(std::chrono::seconds(30));
      auto [ec, n] = co_await asio::async_write(socket, asio::buffer(data.data(), data.size()), use_nothrow);
      co_return !ec;
    }
  };

  awaitable<void> serve(std::shared_ptr<beast::tcp_stream> socket) {
    auto self = shared_from_this();
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kMaxRequestBytes);
      parser.header_limit(kMaxRequestBytes);
      socket->expires_after(kIdleTimeout);
      auto [ec, n] = co_await http::async_read(*socket, buffer, parser, use_nothrow);
      if (ec) break;  // closed, timed out, or not HTTP: nothing to answer
      auto req = parser.release();
      HttpRequest request = parse_target(req);

      if (req.method() == http::verb::get) {
        if (const auto* handler = find_stream(request.path)) {
          http::response<http::empty_body> head{http::status::ok, req.version()};
          head.set(http::field::content_type, "application/x-ndjson");
          head.set(http::field::cache_control, "no-store");
          head.keep_alive(false);  // the body ends when the connection does
          http::response_serializer<http::empty_body> sr{head};
          socket->expires_after(std::chrono::seconds(30));
          auto [wec, wn] = co_await http::async_write_header(*socket, sr, use_nothrow);
          if (!wec) {
            ConnectionStream stream(*socket);
            co_await (*handler)(request, stream);
          }
          break;
        }
      }
      HttpResponse answer;
      auto it = routes.find(request.path);
      if (it == routes.end()) {
        answer = {404, "text/plain; charset=utf-8", "not found: " + request.path + "\n"};
      } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
        answer = {405, "text/plain; charset=utf-8", "only GET\n"};
      } else {
        try {
          answer = it->second(request);
        } catch (const std::exception& e) {
          log->error("http: {} failed: {}", request.path, e.what());
          answer = {500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what() + "\n"};
        }
      }
      http::response<http::string_body> res{static_cast<http::status>(answer.status), req.version()};
      res.set(http::field::content_type, answer.content_type);
      res.set(http::field::cache_control, "no-store");
      res.keep_alive(req.keep_alive());
      res.body() = std::move(answer.body);
      res.prepare_payload();
      if (req.method() == http::verb::head) res.body().clear();
      socket->expires_after(kIdleTimeout);
      auto [wec, wn] = co_await http::async_write(*socket, res, use_nothrow);
      if (wec || !res.keep_alive() || stopped) break;
    }
    boost::system::error_code ignored;
    socket->socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket->close();
  }

  awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopped) {
      auto [ec, socket] = co_await acceptor->async_accept(use_nothrow);
      if (stopped) break;
      if (ec) {
        // Out of descriptors and the like: keep serving the connections we have, try again shortly.
        log->warn("http: accept failed: {}", ec.message());
        asio::steady_timer pause(executor, std::chrono::milliseconds(100));
        co_await pause.async_wait(use_nothrow);
        continue;
      }
      auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
      connections.remove_if([](const auto& w) { return w.expired(); });
      connections.push_back(stream);
      asio::co_spawn(executor, serve(stream), asio::detached);
    }
  }
};

HttpServer::HttpServer(asio::any_io_executor executor, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(log))) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(std::string path, HttpHandler handler) { impl_->routes[std::move(path)] = std::move(handler); }

void HttpServer::stream(std::string prefix, HttpStreamHandler handler) { impl_->streams[std::move(prefix)] = std::move(handler); }

std::string HttpServer::listen(const std::string& address) {
  auto [host, port] = parse_listen_address(address);
  tcp::endpoint endpoint(asio::ip::make_address(host), port);
  auto acceptor = std::make_unique<tcp::acceptor>(impl_->executor);
  boost::system::error_code ec;
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("http.listen " + address + ": " + ec.message());
  auto bound = acceptor->local_endpoint();
  impl_->acceptor = std::move(acceptor);
  asio::co_spawn(impl_->executor, impl_->accept_loop(), asio::detached);
  std::string shown = bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string();
  return shown + ":" + std::to_string(bound.port());
}

void HttpServer::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  boost::system::error_code ignored;
  if (impl_->acceptor) impl_->acceptor->close(ignored);
  for (auto& weak : impl_->connections)
    if (auto c = weak.lock()) {
      c->socket().shutdown(tcp::socket::shutdown_both, ignored);
      c->socket().close(ignored);
    }
  impl_->connections.clear();
}

}  // namespace sluice::metrics

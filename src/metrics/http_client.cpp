#include "metrics/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <stdexcept>

#include "metrics/http_server.hpp"

namespace sluice::metrics {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

beast::tcp_stream connect(asio::io_context& io, const std::string& address) {
  std::pair<std::string, uint16_t> hp;
  try {
    hp = parse_listen_address(address);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("daemon address ") + e.what());
  }
  beast::tcp_stream stream(io);
  boost::system::error_code ec;
  stream.socket().connect(tcp::endpoint(asio::ip::make_address(hp.first), hp.second), ec);
  if (ec) throw std::runtime_error("cannot reach sluiced at " + address + ": " + ec.message());
  return stream;
}

http::request<http::empty_body> get(const std::string& address, const std::string& target) {
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, address);
  req.set(http::field::user_agent, "sluiced-cli");
  req.keep_alive(false);
  return req;
}

}  // namespace

HttpResult http_get(const std::string& address, const std::string& target, std::chrono::milliseconds timeout) {
  asio::io_context io;
  beast::tcp_stream stream = connect(io, address);
  stream.expires_after(timeout);
  HttpResult result;
  http::response<http::string_body> res;
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  http::write(stream, get(address, target), ec);
  if (!ec) http::read(stream, buffer, res, ec);
  if (ec) throw std::runtime_error("GET http://" + address + target + ": " + ec.message());
  result.status = res.result_int();
  result.body = std::move(res.body());
  return result;
}

unsigned http_get_lines(const std::string& address, const std::string& target, const std::function<bool(std::string_view)>& on_line) {
  asio::io_context io;
  beast::tcp_stream stream = connect(io, address);
  boost::system::error_code ec;
  http::write(stream, get(address, target), ec);
  if (ec) throw std::runtime_error("GET http://" + address + target + ": " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  http::read_header(stream, buffer, parser, ec);
  if (ec) throw std::runtime_error("GET http://" + address + target + ": " + ec.message());
  unsigned status = parser.get().result_int();
  std::string pending;
  char chunk[64 * 1024];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    http::read(stream, buffer, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset) break;
    if (ec) throw std::runtime_error("reading http://" + address + target + ": " + ec.message());
    pending.append(chunk, sizeof chunk - parser.get().body().size);
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1)
      if (!on_line(std::string_view(pending).substr(start, nl - start))) return status;
    pending.erase(0, start);
  }
  if (!pending.empty()) on_line(pending);
  return status;
}

}  // namespace sluice::metrics

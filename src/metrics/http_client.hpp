#pragma once
// A small blocking HTTP/1.1 client for the command line (`sluiced status`, `sluiced tap`) and the tests:
// one GET to the daemon's own listener. Beast stays inside http_client.cpp.
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace sluice::metrics {

struct HttpResult {
  unsigned status = 0;
  std::string body;
};

// address is host:port as in http.listen. Throws std::runtime_error naming the address on connection errors.
HttpResult http_get(const std::string& address, const std::string& target,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Streams a body line by line until on_line returns false or the server ends it. Returns the status; a
// non-200 answer's body is passed to on_line whole.
unsigned http_get_lines(const std::string& address, const std::string& target, const std::function<bool(std::string_view)>& on_line);

}  // namespace sluice::metrics

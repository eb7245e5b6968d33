#include "core/notifier.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sluice::core {
namespace asio = boost::asio;

Notifier::Notifier(asio::any_io_executor ex) : timer_(ex) { timer_.expires_at(asio::steady_timer::time_point::max()); }

asio::awaitable<void> Notifier::wait() {
  boost::system::error_code ec;
  // The timer never expires: notify_all() cancels the pending waits, which is the wake-up.
  co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  auto cs = co_await asio::this_coro::cancellation_state;
  if (cs.cancelled() != asio::cancellation_type::none) throw boost::system::system_error(asio::error::operation_aborted);
}

asio::awaitable<bool> Notifier::wait_until(std::chrono::steady_clock::time_point deadline) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer deadline_timer(co_await asio::this_coro::executor);
  deadline_timer.expires_at(deadline);
  boost::system::error_code ec1, ec2;
  auto result = co_await (timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec1)) ||
                          deadline_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec2)));
  auto cs = co_await asio::this_coro::cancellation_state;
  if (cs.cancelled() != asio::cancellation_type::none) throw boost::system::system_error(asio::error::operation_aborted);
  co_return result.index() == 0;
}

}  // namespace sluice::core

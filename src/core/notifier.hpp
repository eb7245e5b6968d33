#pragma once
// A condition variable for coroutines on one strand: wait() suspends until notify_all() or the coroutine is
// cancelled (then it throws operation_aborted). Waiters re-check their condition after waking.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

namespace sluice::core {

class Notifier {
 public:
  explicit Notifier(boost::asio::any_io_executor ex);
  void notify_all() { timer_.cancel(); }
  boost::asio::awaitable<void> wait();
  // Like wait(), but also returns at the deadline. True when notified before it.
  boost::asio::awaitable<bool> wait_until(std::chrono::steady_clock::time_point deadline);

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace sluice::core

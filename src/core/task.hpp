#pragma once
// A coroutine started beside the caller's, with the means to cancel it and to learn that it ended: what a
// pipeline runs its source and sink worker as, and what a connector runs its side loops as. Include from
// .cpp files only: it pulls in Asio.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>

#include "core/notifier.hpp"

namespace sluice::core {

struct Task {
  boost::asio::cancellation_signal cancel;
  bool done = false;
  std::exception_ptr error;
  // Runs body on ex; when it ends, done and error are set and `changed` is notified. The Task and `changed`
  // must outlive the body.
  void start(boost::asio::any_io_executor ex, boost::asio::awaitable<void> body, Notifier& changed) {
    boost::asio::co_spawn(ex, std::move(body), boost::asio::bind_cancellation_slot(cancel.slot(), [this, &changed](std::exception_ptr e) {
                            done = true;
                            error = e;
                            changed.notify_all();
                          }));
  }
  void stop() {
    if (!done) cancel.emit(boost::asio::cancellation_type::terminal);
  }
  // Stops the body and waits for its end, so that the caller may let go of what the body uses. A coroutine
  // that is itself being cancelled throws at every co_await of an awaitable unless it has turned that off:
  //   co_await this_coro::throw_if_cancelled(false); co_await task.stop_and_join(); co_await this_coro::throw_if_cancelled(true);
  // (its cancellation stays recorded, and the first co_await after that throws it).
  boost::asio::awaitable<void> stop_and_join() {
    stop();
    boost::asio::steady_timer poll(co_await boost::asio::this_coro::executor);
    while (!done) {
      poll.expires_after(std::chrono::milliseconds(1));
      boost::system::error_code ignored;
      co_await poll.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
    }
  }
};

}  // namespace sluice::core

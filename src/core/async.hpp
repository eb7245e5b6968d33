#pragma once
// Coroutine helpers shared by the engine and connectors. Include from .cpp files only: it pulls in Asio.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/multiple_exceptions.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <type_traits>

namespace sluice::core {

namespace asio = boost::asio;
template <class T = void>
using awaitable = asio::awaitable<T>;

// Runs blocking work (fsync, synchronous RocksDB writes, file reads) on the blocking pool and resumes the
// calling coroutine on its own executor with the result; exceptions propagate to the caller. The work is not
// cancellable: a cancellation of the caller takes effect at its next suspension after the work is done (Asio's
// cancellation signals must not cross threads, and half-done blocking work has nothing to undo).
template <class Executor, class F>
auto run_blocking(const Executor& pool, F&& f) -> awaitable<std::invoke_result_t<F>> {
  using R = std::invoke_result_t<F>;
  auto home = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr, R)>(
      [pool, home, f = std::forward<F>(f)](auto handler) mutable {
        asio::post(pool, [f = std::move(f), home, handler = std::move(handler)]() mutable {
          std::exception_ptr error;
          R result{};
          try {
            result = f();
          } catch (...) {
            error = std::current_exception();
          }
          asio::post(home, [handler = std::move(handler), error, result = std::move(result)]() mutable {
            std::move(handler)(error, std::move(result));
          });
        });
      },
      asio::use_awaitable);
}

// Asio's awaitable operators report "every branch failed" as multiple_exceptions holding the first
// failure, nested once per operator (a || b || c). Rethrows that first failure itself, so that a
// cancellation still reads as operation_aborted and an error keeps its type.
[[noreturn]] inline void rethrow_first_cause(std::exception_ptr e) {
  for (;;) {
    try {
      std::rethrow_exception(e);
    } catch (const asio::multiple_exceptions& m) {
      e = m.first_exception();
    }
  }
}

}  // namespace sluice::core

#pragma once
// Coroutine helpers shared by the engine and connectors. Include from .cpp files only: it pulls in Asio.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>

namespace sluice::core {

namespace asio = boost::asio;
template <class T = void>
using awaitable = asio::awaitable<T>;

// Runs blocking work (fsync, synchronous RocksDB writes, file reads) on the blocking pool and resumes the
// calling coroutine on its own executor with the result; exceptions propagate to the caller.
template <class Executor, class F>
auto run_blocking(const Executor& pool, F&& f) -> awaitable<std::invoke_result_t<F>> {
  using R = std::invoke_result_t<F>;
  co_return co_await asio::co_spawn(
      pool, [f = std::forward<F>(f)]() mutable -> awaitable<R> { co_return f(); }, asio::use_awaitable);
}

}  // namespace sluice::core

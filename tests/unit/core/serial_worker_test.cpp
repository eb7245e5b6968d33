#include "core/serial_worker.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

using sluice::core::SerialWorker;
using namespace std::chrono_literals;

TEST_CASE("a serial worker runs tasks one at a time in the order submitted, and numbers them from 1", "[core][serial_worker]") {
  SerialWorker worker(3);
  std::vector<int> order;  // touched by the worker's thread only, read after wait_all
  std::atomic<int> running{0}, most{0};
  for (int i = 0; i < 200; ++i) {
    const uint64_t n = worker.submit([&, i] {
      most = std::max(most.load(), ++running);
      order.push_back(i);
      --running;
    });
    CHECK(n == uint64_t(i + 1));
  }
  worker.wait_all();
  CHECK(most == 1);
  REQUIRE(order.size() == 200);
  for (int i = 0; i < 200; ++i) CHECK(order[size_t(i)] == i);
  CHECK(worker.done(200));
}

TEST_CASE("a serial worker's done and wait follow each task, and submit blocks while max_queued are in hand", "[core][serial_worker]") {
  SerialWorker worker(2);
  std::promise<void> open_first, open_second;
  auto first_gate = open_first.get_future().share();
  auto second_gate = open_second.get_future().share();
  const uint64_t first = worker.submit([first_gate] { first_gate.wait(); });
  const uint64_t second = worker.submit([second_gate] { second_gate.wait(); });
  CHECK_FALSE(worker.done(first));
  // Two in hand: a third submit waits for the first to finish.
  auto third = std::async(std::launch::async, [&] { return worker.submit([] {}); });
  CHECK(third.wait_for(200ms) == std::future_status::timeout);
  open_first.set_value();
  worker.wait(first);
  CHECK(worker.done(first));
  CHECK(third.get() == 3);
  CHECK_FALSE(worker.done(second));
  CHECK_FALSE(worker.done(3));
  open_second.set_value();
  worker.wait_all();
  CHECK(worker.done(3));
}

TEST_CASE("a serial worker going away finishes the task in hand and drops the queued ones", "[core][serial_worker]") {
  std::atomic<int> ran{0};
  std::promise<void> started, release;
  auto release_gate = release.get_future().share();
  std::thread releaser;
  {
    SerialWorker worker(4);
    worker.submit([&, release_gate] {
      started.set_value();
      release_gate.wait();
      ++ran;
    });
    worker.submit([&] { ++ran; });
    worker.submit([&] { ++ran; });
    started.get_future().wait();
    // Released only after the worker has been told to stop (its destructor runs first).
    releaser = std::thread([&] {
      std::this_thread::sleep_for(200ms);
      release.set_value();
    });
  }
  releaser.join();
  CHECK(ran == 1);
}

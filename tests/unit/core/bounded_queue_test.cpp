#include "core/bounded_queue.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

using namespace sluice::core;
namespace asio = boost::asio;

namespace {

Records make(int first, int n, size_t value_bytes = 10, bool positioned = true) {
  Records rs;
  for (int i = first; i < first + n; ++i) {
    Record r;
    r.value = std::string(value_bytes, 'a' + char(i % 26));
    r.value.replace(0, std::min(value_bytes, std::to_string(i).size()), std::to_string(i).substr(0, value_bytes));
    r.partition = 0;
    if (positioned) r.position = std::to_string(i + 1);
    rs.push_back(std::move(r));
  }
  return rs;
}

struct Fixture {
  asio::io_context io;
  std::vector<std::string> partitions{"p"};
  PipelineStats stats;
  ManualClock clock;

  BoundedQueue queue(uint64_t max_records, uint64_t max_bytes, Policy policy) {
    return BoundedQueue(io.get_executor(), max_records, max_bytes, policy, partitions, stats, clock);
  }
  template <class F>
  void run(F&& body) {
    bool done = false;
    std::exception_ptr error;
    asio::co_spawn(io, std::forward<F>(body), [&](std::exception_ptr e) {
      done = true;
      error = e;
    });
    io.run_for(std::chrono::seconds(5));
    io.restart();
    if (error) std::rethrow_exception(error);
    REQUIRE(done);
  }
};

BatchLimits limits(uint64_t records, uint64_t bytes = 1 << 30) { return {records, bytes, std::chrono::milliseconds(1)}; }

}  // namespace

TEST_CASE("drop_newest keeps the first records that fit and counts the rest", "[queue]") {
  Fixture f;
  auto q = f.queue(5, 1 << 20, Policy::drop_newest);
  f.run([&]() -> asio::awaitable<void> {
    Records rs = make(0, 8);
    co_await q.push(rs);
    CHECK(q.size() == 5);
    CHECK(f.stats.dropped["queue_full_drop_newest"] == 3);
    Batch b;
    { bool got = co_await q.pop(b, limits(100)); REQUIRE(got); }
    REQUIRE(b.records.size() == 5);
    CHECK(b.records.front().value.starts_with("0"));
    // The dropped records' positions still advance the checkpoint: they will not be read again.
    CHECK(b.checkpoint.at("p") == "8");
  });
}

TEST_CASE("drop_oldest evicts the oldest records and counts them", "[queue]") {
  Fixture f;
  auto q = f.queue(5, 1 << 20, Policy::drop_oldest);
  f.run([&]() -> asio::awaitable<void> {
    Records rs = make(0, 8);
    co_await q.push(rs);
    CHECK(q.size() == 5);
    CHECK(f.stats.dropped["queue_full_drop_oldest"] == 3);
    Batch b;
    { bool got = co_await q.pop(b, limits(100)); REQUIRE(got); }
    REQUIRE(b.records.size() == 5);
    CHECK(b.records.front().value.starts_with("3"));
    CHECK(b.checkpoint.at("p") == "8");
  });
}

TEST_CASE("the byte cap limits the queue as the record cap does", "[queue]") {
  Fixture f;
  auto q = f.queue(1000, 100, Policy::drop_newest);
  f.run([&]() -> asio::awaitable<void> {
    Records rs = make(0, 20, 30);  // 30 bytes each: three fit in 100
    co_await q.push(rs);
    CHECK(q.size() == 3);
    CHECK(q.bytes() == 90);
    CHECK(f.stats.dropped["queue_full_drop_newest"] == 17);
  });
}

TEST_CASE("a record bigger than the byte cap passes alone through an empty queue", "[queue]") {
  Fixture f;
  auto q = f.queue(10, 100, Policy::drop_newest);
  f.run([&]() -> asio::awaitable<void> {
    Records rs = make(0, 2, 500);
    co_await q.push(rs);
    CHECK(q.size() == 1);
    CHECK(f.stats.dropped["queue_full_drop_newest"] == 1);
  });
}

TEST_CASE("throttle suspends the producer until the consumer makes room, losing nothing", "[queue]") {
  Fixture f;
  auto q = f.queue(4, 1 << 20, Policy::throttle);
  std::vector<std::string> got;
  bool producer_done = false;
  asio::co_spawn(f.io, [&]() -> asio::awaitable<void> {
        Records rs = make(0, 10);
        co_await q.push(rs);
        producer_done = true;
        q.close();
      }, asio::detached);
  asio::co_spawn(f.io, [&]() -> asio::awaitable<void> {
        Batch b;
        while (co_await q.pop(b, limits(3))) {
          CHECK(q.size() <= 4);
          for (auto& r : b.records) got.push_back(r.value);
        }
      }, asio::detached);
  f.io.run_for(std::chrono::seconds(5));
  REQUIRE(producer_done);
  REQUIRE(got.size() == 10);
  for (int i = 0; i < 10; ++i) CHECK(got[size_t(i)].starts_with(std::to_string(i)));
  CHECK(f.stats.dropped_total() == 0);
}

TEST_CASE("a batch ends only where the source can resume", "[queue]") {
  Fixture f;
  auto q = f.queue(100, 1 << 20, Policy::throttle);
  f.run([&]() -> asio::awaitable<void> {
    Records rs = make(0, 10, 10, false);
    rs[6].position = "7";
    rs[9].position = "10";
    co_await q.push(rs);
    Batch b;
    { bool got = co_await q.pop(b, limits(4)); REQUIRE(got); }
    CHECK(b.records.size() == 7);  // past the limit of 4, up to the record that carries a position
    CHECK(b.checkpoint.at("p") == "7");
    { bool got = co_await q.pop(b, limits(4)); REQUIRE(got); }
    CHECK(b.records.size() == 3);
    CHECK(b.checkpoint.at("p") == "10");
  });
}

TEST_CASE("rejected records travel beside the data to the dead-letter side of the batch", "[queue]") {
  Fixture f;
  auto q = f.queue(100, 1 << 20, Policy::throttle);
  f.run([&]() -> asio::awaitable<void> {
    Records rs = make(0, 4);
    rs[1].rejected = true;
    co_await q.push(rs);
    Batch b;
    { bool got = co_await q.pop(b, limits(10)); REQUIRE(got); }
    CHECK(b.records.size() == 3);
    CHECK(b.rejected.size() == 1);
  });
}

TEST_CASE("arrival and service rates and time to overflow follow the clock", "[queue]") {
  Fixture f;
  auto q = f.queue(10000, 1 << 30, Policy::throttle);
  f.run([&]() -> asio::awaitable<void> {
    // 100 records/s arrive for 30 s while nothing is served.
    for (int s = 0; s < 300; ++s) {
      Records rs = make(s * 10, 10, 10);
      co_await q.push(rs);
      f.clock.advance(std::chrono::milliseconds(100));
    }
    q.update_gauges();
    CHECK(f.stats.arrival_rate == Approx(100).epsilon(0.01));
    CHECK(f.stats.service_rate == 0);
    double expected = (10000.0 - double(q.size())) / f.stats.arrival_rate;
    CHECK(f.stats.time_to_overflow_s == Approx(expected).epsilon(0.01));
  });
}

TEST_CASE("time to overflow is infinite while the queue drains", "[queue]") {
  CHECK(std::isinf(time_to_overflow(100, 50, 10, 20)));
  CHECK(time_to_overflow(100, 50, 20, 10) == Approx(5.0));
}

TEST_CASE("a batch does not end while another partition's records still lack their position", "[queue]") {
  Fixture f;
  f.partitions = {"a", "b"};
  auto q = f.queue(100, 1 << 20, Policy::throttle);
  f.run([&]() -> asio::awaitable<void> {
    Records rs = make(0, 4, 10, false);
    rs[0].partition = 0;
    rs[1].partition = 1;  // b, no position yet
    rs[2].partition = 0;
    rs[2].position = "a3";  // a can resume here, b cannot
    rs[3].partition = 1;
    rs[3].position = "b4";
    co_await q.push(rs);
    Batch b;
    bool got = co_await q.pop(b, limits(3));
    REQUIRE(got);
    CHECK(b.records.size() == 4);  // past the limit of 3 until b has its position too
    CHECK(b.checkpoint.at("a") == "a3");
    CHECK(b.checkpoint.at("b") == "b4");
  });
}

TEST_CASE("a source stopped in the middle of a group: the tail after the last resume point is not committed", "[queue]") {
  Fixture f;
  auto q = f.queue(100, 1 << 20, Policy::throttle);
  f.run([&]() -> asio::awaitable<void> {
    Records rs = make(0, 7, 10, false);
    rs[3].position = "4";  // records 4..6 belong to a group whose positioned end never arrived
    co_await q.push(rs);
    q.close();
    Batch b;
    bool got = co_await q.pop(b, limits(100));
    REQUIRE(got);
    CHECK(b.records.size() == 4);
    CHECK(b.checkpoint.at("p") == "4");
    got = co_await q.pop(b, limits(100));
    CHECK_FALSE(got);
  });
}

namespace {

// A database transaction of n changes as a CDC source pushes it: resumable every `every` changes inside
// (mid_group) and at its commit.
Records transaction(int first, int n, int every) {
  Records rs = make(first, n, 10, false);
  for (int i = 0; i < n; ++i) {
    if ((i + 1) % every == 0) {
      rs[size_t(i)].position = std::to_string(first + i + 1);
      rs[size_t(i)].mid_group = true;
    }
  }
  rs.back().position = std::to_string(first + n);
  rs.back().mid_group = false;
  return rs;
}

}  // namespace

TEST_CASE("a group that fits the batch limits is never split, even where it could resume inside", "[queue]") {
  Fixture f;
  auto q = f.queue(1000, 1 << 20, Policy::throttle);
  f.run([&]() -> asio::awaitable<void> {
    Records rs = transaction(0, 3, 1);    // 0..2
    Records big = transaction(3, 8, 1);   // 3..10: resumable after every change, fits a batch of 10
    rs.insert(rs.end(), big.begin(), big.end());
    co_await q.push(rs);
    Batch b;
    { bool got = co_await q.pop(b, limits(10)); REQUIRE(got); }
    // Full at 10 records inside the second group; its part (7) has not outgrown the limit: go on to its end.
    CHECK(b.records.size() == 11);
    CHECK(b.checkpoint.at("p") == "11");
  });
}

TEST_CASE("a group bigger than the batch limits is split at its resumable points, bounded by the limits", "[queue]") {
  Fixture f;
  auto q = f.queue(1000, 1 << 20, Policy::throttle);
  f.run([&]() -> asio::awaitable<void> {
    Records rs = transaction(0, 2, 1);   // 0..1
    Records big = transaction(2, 25, 3);  // 2..26
    rs.insert(rs.end(), big.begin(), big.end());
    co_await q.push(rs);
    std::vector<size_t> sizes;
    std::vector<std::string> ends;
    Batch b;
    while (q.size() > 0) {
      bool got = co_await q.pop(b, limits(5));
      REQUIRE(got);
      sizes.push_back(b.records.size());
      ends.push_back(b.checkpoint.at("p"));
    }
    // Each batch ends at the first resumable point after the big group's part in it reached 5 records: the
    // first holds the small group and 2..7, the next ones 6 records each, the last the group's end.
    CHECK(sizes == std::vector<size_t>{8, 6, 6, 6, 1});
    CHECK(ends == std::vector<std::string>{"8", "14", "20", "26", "27"});
  });
}

TEST_CASE("a stop inside a group that fits the limits commits only up to the group's start", "[queue]") {
  Fixture f;
  auto q = f.queue(100, 1 << 20, Policy::throttle);
  f.run([&]() -> asio::awaitable<void> {
    Records rs = transaction(0, 2, 1);
    Records open = transaction(2, 6, 2);
    open.resize(5);  // the group's end never arrived; its mid points at 4 and 6 did
    rs.insert(rs.end(), open.begin(), open.end());
    co_await q.push(rs);
    q.close();
    Batch b;
    bool got = co_await q.pop(b, limits(100));
    REQUIRE(got);
    CHECK(b.records.size() == 2);
    CHECK(b.checkpoint.at("p") == "2");
  });
}

TEST_CASE("a position-only record advances the checkpoint and never reaches the sink", "[queue]") {
  Fixture f;
  auto q = f.queue(2, 1 << 20, Policy::drop_newest);
  f.run([&]() -> asio::awaitable<void> {
    Records rs = make(0, 2);
    Record heartbeat;
    heartbeat.position = "hb";
    heartbeat.position_only = true;
    rs.push_back(heartbeat);
    co_await q.push(rs);  // the queue is full: the data-less record is admitted anyway, not dropped
    CHECK(f.stats.dropped.empty());
    CHECK(f.stats.records_in == 2);
    Batch b;
    { bool got = co_await q.pop(b, limits(10)); REQUIRE(got); }
    CHECK(b.records.size() == 2);
    CHECK(b.checkpoint.at("p") == "hb");
    rs.push_back(heartbeat);
    rs.back().position = "hb2";
    co_await q.push(rs);
    { bool got = co_await q.pop(b, limits(10)); REQUIRE(got); }
    CHECK(b.size() == 0);  // a batch of nothing but a position still commits it
    CHECK(b.checkpoint.at("p") == "hb2");
  });
}

TEST_CASE("a push cancelled while it waits for room hands back exactly the records it did not admit", "[queue]") {
  Fixture f;
  auto q = f.queue(3, 1 << 20, Policy::throttle);
  Records rs = make(0, 5);
  asio::cancellation_signal cancel;
  bool ended = false;
  asio::co_spawn(f.io, q.push(rs), asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e) {
                   ended = true;
                   CHECK(e);
                 }));
  f.io.run_for(std::chrono::milliseconds(50));
  f.io.restart();
  REQUIRE_FALSE(ended);  // waiting for room after 3 records
  cancel.emit(asio::cancellation_type::terminal);
  f.io.run_for(std::chrono::milliseconds(50));
  f.io.restart();
  REQUIRE(ended);
  CHECK(q.size() == 3);
  REQUIRE(rs.size() == 2);
  CHECK(rs[0].value.starts_with("3"));
  CHECK(rs[1].value.starts_with("4"));
}

TEST_CASE("withdraw drops the not-yet-taken records of the given partitions and keeps the others in order", "[queue]") {
  Fixture f;
  f.partitions = {"a", "b"};
  auto q = f.queue(100, 1 << 20, Policy::throttle);
  f.run([&]() -> asio::awaitable<void> {
    Records rs = make(0, 6);
    for (size_t i = 0; i < rs.size(); ++i) rs[i].partition = uint32_t(i % 2);  // 0,2,4 in a; 1,3,5 in b
    co_await q.push(rs);
    q.withdraw({1});
    CHECK(q.size() == 3);
    Batch b;
    { bool got = co_await q.pop(b, limits(100)); REQUIRE(got); }
    REQUIRE(b.records.size() == 3);
    for (const auto& r : b.records) CHECK(r.partition == 0);
    CHECK(b.checkpoint == Checkpoint{{"a", "5"}});  // b's positions are not acknowledged
  });
}

TEST_CASE("withdraw keeps the positions of records dropped under drop_newest in their place among the others", "[queue]") {
  Fixture f;
  f.partitions = {"a", "b"};
  auto q = f.queue(4, 1 << 20, Policy::drop_newest);
  f.run([&]() -> asio::awaitable<void> {
    // b0 a1 b2 a3 fit; a5 is dropped (its position applies after those four); b4 is dropped too.
    Records rs = make(0, 6);
    for (size_t i = 0; i < rs.size(); ++i) rs[i].partition = i == 1 || i == 3 || i == 5 ? 0 : 1;
    co_await q.push(rs);
    q.withdraw({1});
    CHECK(q.size() == 2);
    Batch first;
    { bool got = co_await q.pop(first, limits(1)); REQUIRE(got); }
    CHECK(first.checkpoint == Checkpoint{{"a", "2"}});  // a5's position must not overtake a3
    Batch second;
    { bool got = co_await q.pop(second, limits(1)); REQUIRE(got); }
    CHECK(second.checkpoint == Checkpoint{{"a", "6"}});
  });
}

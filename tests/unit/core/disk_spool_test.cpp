#include "core/disk_spool.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "state/state_store.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using namespace sluice::core;
namespace asio = boost::asio;

namespace {

Records make(int first, int n, size_t bytes = 100) {
  Records rs;
  for (int i = first; i < first + n; ++i) {
    Record r;
    r.value = std::to_string(i) + std::string(bytes, '.');
    r.position = std::to_string(i + 1);
    r.event_time_ms = i;
    rs.push_back(std::move(r));
  }
  return rs;
}

struct Fixture {
  testing::TempDir dir;
  std::unique_ptr<state::StateStore> store = state::StateStore::open(dir.path());
  asio::io_context io;
  std::vector<std::string> partitions{"p"};
  PipelineStats stats;
  std::vector<Checkpoint> acknowledged;

  std::unique_ptr<DiskSpool> spool(uint64_t max_bytes) {
    auto s = std::make_unique<DiskSpool>(io.get_executor(), io.get_executor(), *store, "pipe", max_bytes, partitions, stats,
                                         [this](const Checkpoint& c) { acknowledged.push_back(c); });
    s->recover();
    return s;
  }
  void commit(DiskSpool& s, Batch& b) {
    state::WriteBatch txn;
    s.commit_state(b, txn);
    store->write(txn);
  }
  template <class F>
  void run(F&& body) {
    std::exception_ptr error;
    bool done = false;
    asio::co_spawn(io, std::forward<F>(body), [&](std::exception_ptr e) {
      error = e;
      done = true;
    });
    io.run_for(std::chrono::seconds(10));
    io.restart();
    if (error) std::rethrow_exception(error);
    REQUIRE(done);
  }
};

BatchLimits limits(uint64_t n) { return {n, 1 << 30, std::chrono::milliseconds(1)}; }

}  // namespace

TEST_CASE("the spool acknowledges the source once records are on disk, with their position in the same write", "[spool]") {
  Fixture f;
  auto s = f.spool(1 << 20);
  f.run([&]() -> asio::awaitable<void> {
    Records rs = make(0, 10);
    co_await s->push(rs);
  });
  REQUIRE(f.acknowledged.size() == 1);
  CHECK(f.acknowledged[0].at("p") == "10");
  CHECK(f.store->get(state::Family::checkpoints, state::scoped_key("pipe", "p")) == "10");
  CHECK(s->size() == 10);
}

TEST_CASE("the sink reads the spool in order and a restart replays exactly what was not committed", "[spool]") {
  Fixture f;
  {
    auto s = f.spool(1 << 20);
    f.run([&]() -> asio::awaitable<void> {
      Records rs = make(0, 25);
      co_await s->push(rs);
      Batch b;
      bool got = co_await s->pop(b, limits(10));
      REQUIRE(got);
      REQUIRE(b.records.size() == 10);
      CHECK(b.records.front().value.starts_with("0."));
      f.commit(*s, b);
      got = co_await s->pop(b, limits(10));  // read but never committed: lost with the crash below
      REQUIRE(b.records.size() == 10);
    });
  }
  auto again = f.spool(1 << 20);  // as after a crash
  CHECK(again->size() == 15);
  f.run([&]() -> asio::awaitable<void> {
    Batch b;
    std::vector<std::string> seen;
    again->close();
    while (co_await again->pop(b, limits(4))) {
      for (auto& r : b.records) seen.push_back(r.value.substr(0, r.value.find('.')));
      f.commit(*again, b);
    }
    REQUIRE(seen.size() == 15);
    for (int i = 0; i < 15; ++i) CHECK(seen[size_t(i)] == std::to_string(i + 10));
  });
  CHECK(f.spool(1 << 20)->size() == 0);
}

TEST_CASE("a full spool throttles the source until the sink commits", "[spool]") {
  Fixture f;
  auto s = f.spool(3000);  // room for about 28 records of ~105 encoded bytes
  bool second_push_done = false;
  asio::co_spawn(f.io, [&]() -> asio::awaitable<void> {
        Records rs = make(0, 25);
        co_await s->push(rs);
        rs = make(25, 10);
        co_await s->push(rs);
        second_push_done = true;
      }, asio::detached);
  f.io.run_for(std::chrono::milliseconds(200));
  f.io.restart();
  CHECK_FALSE(second_push_done);
  asio::co_spawn(f.io, [&]() -> asio::awaitable<void> {
        Batch b;
        co_await s->pop(b, limits(20));
        f.commit(*s, b);
      }, asio::detached);
  f.io.run_for(std::chrono::milliseconds(500));
  CHECK(second_push_done);
  CHECK(s->size() == 15);
}

TEST_CASE("records after the source's last resumable position wait in memory until it arrives", "[spool]") {
  Fixture f;
  auto s = f.spool(1 << 20);
  f.run([&]() -> asio::awaitable<void> {
    Records rs = make(0, 10);
    for (auto& r : rs) r.position.clear();
    rs[5].position = "6";
    co_await s->push(rs);  // 0..5 spooled with position 6; 6..9 held back
    CHECK(f.store->get(state::Family::checkpoints, state::scoped_key("pipe", "p")) == "6");
    CHECK(s->size() == 10);
    CHECK(f.spool(1 << 20)->size() == 6);  // what a crash now would find on disk
    rs = make(10, 2);  // completes the held-back records
    co_await s->push(rs);
    CHECK(f.store->get(state::Family::checkpoints, state::scoped_key("pipe", "p")) == "12");
  });
  auto again = f.spool(1 << 20);
  CHECK(again->size() == 12);  // everything was spooled, in order, exactly once
  REQUIRE(f.acknowledged.size() == 2);
}

TEST_CASE("spool records round-trip every field", "[spool]") {
  Record r;
  r.value = std::string("{\"a\":1}\0binary", 14);
  r.key = "k";
  r.before = "{\"a\":0}";
  r.op = Op::update;
  r.event_time_ms = 1234567890123;
  r.rejected = true;
  Record back;
  REQUIRE(DiskSpool::decode(DiskSpool::encode(r), back));
  CHECK(back.value == r.value);
  CHECK(back.key == r.key);
  CHECK(back.before == r.before);
  CHECK(back.op == Op::update);
  CHECK(back.event_time_ms == r.event_time_ms);
  CHECK(back.rejected);
  CHECK_FALSE(DiskSpool::decode(DiskSpool::encode(r).substr(0, 10), back));
}

TEST_CASE("a second store on the same state_dir is refused, naming the holder", "[state]") {
  testing::TempDir dir;
  auto first = state::StateStore::open(dir.path());
  try {
    state::StateStore::open(dir.path());
    FAIL("opened twice");
  } catch (const state::StateError& e) {
    CHECK(std::string(e.what()).find("in use by another sluiced process (pid " + std::to_string(::getpid()) + ")") != std::string::npos);
  }
}

TEST_CASE("a position-only record is made durable by the spool write and never spooled for the sink", "[spool]") {
  Fixture f;
  auto s = f.spool(1 << 20);
  f.run([&]() -> asio::awaitable<void> {
    Records rs = make(0, 3);
    Record heartbeat;
    heartbeat.position = "hb";
    heartbeat.position_only = true;
    rs.push_back(heartbeat);
    co_await s->push(rs);
    CHECK(f.store->get(state::Family::checkpoints, state::scoped_key("pipe", "p")) == "hb");
    CHECK(s->size() == 3);
    CHECK(f.stats.records_in == 3);
    rs.push_back(heartbeat);
    rs.back().position = "hb2";
    co_await s->push(rs);
    CHECK(f.store->get(state::Family::checkpoints, state::scoped_key("pipe", "p")) == "hb2");
    CHECK(s->size() == 3);
  });
  REQUIRE(f.acknowledged.size() == 2);
  CHECK(f.acknowledged.back().at("p") == "hb2");
}

// The sink worker's overlapping of batches (Sink::batches_ahead), with the real engine, queue, generate source
// and state store, and a sink that records what it is asked and acknowledges each batch only after a pause,
// as a producer waiting for its brokers would.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <deque>
#include <prometheus/registry.h>

#include "config/loader.hpp"
#include "core/pipeline.hpp"
#include "core/pipeline_config.hpp"
#include "core/registry.hpp"
#include "core/stats.hpp"
#include "core/tap.hpp"
#include "state/state_store.hpp"
#include "support/test_support.hpp"

using namespace sluice;
namespace asio = boost::asio;

namespace {

struct Trace {
  size_t sends = 0, writes = 0;
  size_t most_unwritten = 0;     // batches handed over (sent, or written without a send) and not yet written, at most
  bool out_of_order = false;     // a write() that was not for the oldest batch sent
  bool written_unsent = false;   // a write() without a send() while the sink overlaps batches
  std::vector<uint64_t> seqs;    // every record's seq, in the order written
};

class RecordingSink final : public core::Sink {
 public:
  RecordingSink(Trace& trace, size_t ahead) : trace_(trace), ahead_(ahead) {}
  asio::awaitable<std::optional<core::Checkpoint>> open(core::SinkContext& ctx) override {
    executor_ = ctx.executor();
    co_return std::nullopt;
  }
  size_t batches_ahead(uint64_t) const override { return ahead_; }
  asio::awaitable<void> send(core::Batch& batch) override {
    ++trace_.sends;
    handed(batch);
    co_return;
  }
  asio::awaitable<void> write(core::Batch& batch, state::WriteBatch&) override {
    if (sent_.empty() || sent_.front() != &batch) {
      if (ahead_ > 0) trace_.written_unsent = true;
      if (!sent_.empty()) trace_.out_of_order = true;
      handed(batch);
    }
    // The acknowledgement comes later: long enough for the engine to take and send every batch it may.
    asio::steady_timer ack(executor_, std::chrono::milliseconds(15));
    co_await ack.async_wait(asio::use_awaitable);
    if (sent_.front() != &batch) trace_.out_of_order = true;
    sent_.pop_front();
    for (const auto& r : batch.records) trace_.seqs.push_back(field_number_or_max(r.value));
    ++trace_.writes;
  }

 private:
  void handed(core::Batch& batch) {
    sent_.push_back(&batch);
    trace_.most_unwritten = std::max(trace_.most_unwritten, sent_.size());
  }
  static uint64_t field_number_or_max(const std::string& json) {
    return testing::field_number(json, "seq").value_or(std::numeric_limits<uint64_t>::max());
  }
  Trace& trace_;
  size_t ahead_;
  asio::any_io_executor executor_;
  std::deque<core::Batch*> sent_;
};

// Runs `count` generated records through a pipeline whose sink is a RecordingSink taking `ahead` batches ahead.
Trace run(size_t ahead, uint64_t count, const std::string& queue = "") {
  testing::TempDir dir;
  auto store = state::StateStore::open(dir / "state");
  asio::io_context io;
  asio::thread_pool pool(2);
  prometheus::Registry registry;
  core::PipelineEnv env{io.get_executor(), pool.get_executor(), store.get(), dir.path(), true, &registry};
  auto config = core::parse_pipeline(config::load_yaml_string("source: { type: generate, count: " + std::to_string(count) +
                                                                   ", seed: 3 }\n" + queue +
                                                                   "sink: { type: blackhole, batch: { max_records: 1000, max_wait: 50ms } }\n",
                                                               "p.yaml"),
                                     "p");
  Trace trace;
  core::SinkFactory recording = *config.sink.factory;
  recording.create = [&](const core::OptionsPtr&) -> std::unique_ptr<core::Sink> { return std::make_unique<RecordingSink>(trace, ahead); };
  config.sink.factory = &recording;
  core::Pipeline pipeline(std::move(config), env, std::make_shared<core::PipelineStats>(), std::make_shared<core::Tap>(io.get_executor()));
  std::exception_ptr error;
  asio::co_spawn(io, pipeline.run(), [&](std::exception_ptr e) { error = e; });
  io.run();
  pool.join();
  if (error) std::rethrow_exception(error);
  INFO("pipeline ended " << core::state_name(pipeline.state()) << ": " << pipeline.stats().last_error);
  REQUIRE(pipeline.state() == core::PipelineState::finished);
  auto checkpoint = store->get(state::Family::checkpoints, state::scoped_key("p", "generate"));
  REQUIRE(checkpoint);
  CHECK(checkpoint->rfind(std::to_string(count) + " ", 0) == 0);
  return trace;
}

void require_every_record_once_in_order(const Trace& trace, uint64_t count) {
  REQUIRE(trace.seqs.size() == count);
  for (uint64_t i = 0; i < count; ++i) REQUIRE(trace.seqs[i] == i);
}

}  // namespace

TEST_CASE("a sink that takes batches ahead gets up to that many sent beyond the one committing, committed in order",
          "[engine]") {
  const size_t ahead = GENERATE(1, 3);
  INFO("batches ahead: " << ahead);
  const uint64_t count = 30000;
  Trace trace = run(ahead, count, "queue: { max_records: 20000 }\n");
  require_every_record_once_in_order(trace, count);
  CHECK_FALSE(trace.out_of_order);
  CHECK_FALSE(trace.written_unsent);
  CHECK(trace.sends == trace.writes);
  CHECK(trace.writes >= count / 1000);
  // The generator outruns a sink that waits 15 ms per batch: the engine fills every place it has, and no more.
  CHECK(trace.most_unwritten == 1 + ahead);
}

TEST_CASE("a sink that does not overlap batches is handed one batch at a time, written without a send", "[engine]") {
  const uint64_t count = 8000;
  Trace trace = run(0, count);
  require_every_record_once_in_order(trace, count);
  CHECK(trace.sends == 0);
  CHECK(trace.most_unwritten == 1);
  CHECK_FALSE(trace.out_of_order);
}

#pragma once
// Live sampling of a pipeline's records for `sluiced tap`. The pipeline only ever copies what a reader has
// room for: each reader has a sampling rate and a bounded buffer, and what does not fit is counted as
// skipped, so a slow or stalled reader can never slow the pipeline.
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <deque>
#include <list>
#include <memory>
#include <string>

#include "core/notifier.hpp"
#include "core/record.hpp"

namespace sluice::core {

class Tap {
 public:
  struct Options {
    double max_rate = 1000;     // records/s delivered to this reader at most
    size_t max_buffered = 4096;  // records waiting for the reader at most
  };

  // The reader's writer drains `values` every kFlushInterval, or sooner once half the buffer is full: waking
  // it for every sampled record would cost the pipeline's thread more than the sampling saves.
  static constexpr std::chrono::milliseconds kFlushInterval{50};
  struct Reader {
    Reader(boost::asio::any_io_executor ex, Options o) : options(o), notifier(std::move(ex)) {}
    Options options;
    std::deque<std::string> values;
    uint64_t skipped = 0;  // not yet reported to the reader
    double tokens = 0;
    std::chrono::steady_clock::time_point refilled = std::chrono::steady_clock::now();
    bool woken = false;  // notified since the writer last drained
    Notifier notifier;
  };

  explicit Tap(boost::asio::any_io_executor ex) : executor_(std::move(ex)) {}

  bool active() const { return !readers_.empty(); }
  // Hands the readers their sample of records; returns how many records some reader had to skip.
  uint64_t offer(const Records& records);

  std::shared_ptr<Reader> subscribe(Options options);
  void unsubscribe(const std::shared_ptr<Reader>& reader);
  size_t readers() const { return readers_.size(); }

 private:
  boost::asio::any_io_executor executor_;
  std::list<std::shared_ptr<Reader>> readers_;
};

}  // namespace sluice::core

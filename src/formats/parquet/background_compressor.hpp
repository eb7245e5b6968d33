#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "formats/parquet/codec.hpp"

namespace sluice::formats::parquet {

// Compresses a writer's pages on a thread of its own, so that shredding and encoding the next pages overlaps
// compressing the last ones: at zstd's default level compression is about a third of a writer's work. Pages
// come out exactly as Compressor would make them inline. At most `max_queued` pages wait at a time (submit
// blocks past that), which bounds the extra memory to that many uncompressed pages.
class BackgroundCompressor {
 public:
  // One compression: `input` until it is done, then `output` (or `error`).
  struct Job {
    std::string input, output;
    std::exception_ptr error;
    bool done = false;
  };
  using Ticket = std::shared_ptr<Job>;

  // Throws std::invalid_argument as Compressor does for a codec or level it cannot write.
  BackgroundCompressor(Codec codec, int level, size_t max_queued);
  ~BackgroundCompressor();  // finishes the page in hand, drops the queued ones, and joins the thread
  BackgroundCompressor(const BackgroundCompressor&) = delete;
  BackgroundCompressor& operator=(const BackgroundCompressor&) = delete;

  Ticket submit(std::string page);
  bool ready(const Ticket& ticket);
  // Waits for the job; returns its output, or rethrows what compressing it threw.
  std::string& wait(const Ticket& ticket);

 private:
  void run();

  Compressor compressor_;
  const size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable queued_, finished_;
  std::deque<Ticket> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sluice::formats::parquet

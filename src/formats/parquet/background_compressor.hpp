#pragma once
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "core/serial_worker.hpp"
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
    uint64_t number = 0;  // the worker's task
  };
  using Ticket = std::shared_ptr<Job>;

  // Throws std::invalid_argument as Compressor does for a codec or level it cannot write.
  BackgroundCompressor(Codec codec, int level, size_t max_queued);

  Ticket submit(std::string page);
  bool ready(const Ticket& ticket);
  // Waits for the job; returns its output, or rethrows what compressing it threw.
  std::string& wait(const Ticket& ticket);

 private:
  Compressor compressor_;  // used by the worker's thread only
  core::SerialWorker worker_;  // after compressor_: joined before it goes
};

}  // namespace sluice::formats::parquet

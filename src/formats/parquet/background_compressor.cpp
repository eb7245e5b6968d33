#include "formats/parquet/background_compressor.hpp"

namespace sluice::formats::parquet {

BackgroundCompressor::BackgroundCompressor(Codec codec, int level, size_t max_queued) : compressor_(codec, level), worker_(max_queued) {}

BackgroundCompressor::Ticket BackgroundCompressor::submit(std::string page) {
  auto job = std::make_shared<Job>();
  job->input = std::move(page);
  job->number = worker_.submit([this, job] {
    try {
      compressor_.run(job->input, job->output);
    } catch (...) {
      job->error = std::current_exception();
    }
    std::string().swap(job->input);
  });
  return job;
}

bool BackgroundCompressor::ready(const Ticket& ticket) { return worker_.done(ticket->number); }

std::string& BackgroundCompressor::wait(const Ticket& ticket) {
  worker_.wait(ticket->number);
  if (ticket->error) std::rethrow_exception(ticket->error);
  return ticket->output;
}

}  // namespace sluice::formats::parquet

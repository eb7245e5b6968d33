#include "formats/parquet/background_compressor.hpp"

namespace sluice::formats::parquet {

BackgroundCompressor::BackgroundCompressor(Codec codec, int level, size_t max_queued)
    : compressor_(codec, level), max_queued_(max_queued == 0 ? 1 : max_queued), thread_([this] { run(); }) {}

BackgroundCompressor::~BackgroundCompressor() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  queued_.notify_all();
  finished_.notify_all();
  thread_.join();
}

BackgroundCompressor::Ticket BackgroundCompressor::submit(std::string page) {
  auto job = std::make_shared<Job>();
  job->input = std::move(page);
  {
    std::unique_lock lock(mutex_);
    finished_.wait(lock, [&] { return queue_.size() < max_queued_; });
    queue_.push_back(job);
  }
  queued_.notify_one();
  return job;
}

bool BackgroundCompressor::ready(const Ticket& ticket) {
  std::lock_guard lock(mutex_);
  return ticket->done;
}

std::string& BackgroundCompressor::wait(const Ticket& ticket) {
  {
    std::unique_lock lock(mutex_);
    finished_.wait(lock, [&] { return ticket->done; });
  }
  if (ticket->error) std::rethrow_exception(ticket->error);
  return ticket->output;
}

void BackgroundCompressor::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    queued_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    // The job stays at the queue's front while it is compressed, so it counts against max_queued.
    Ticket job = queue_.front();
    lock.unlock();
    try {
      compressor_.run(job->input, job->output);
    } catch (...) {
      job->error = std::current_exception();
    }
    std::string().swap(job->input);
    lock.lock();
    job->done = true;
    queue_.pop_front();
    finished_.notify_all();
  }
}

}  // namespace sluice::formats::parquet

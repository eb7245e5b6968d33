#include "core/serial_worker.hpp"

namespace sluice::core {

SerialWorker::SerialWorker(size_t max_queued) : max_queued_(max_queued == 0 ? 1 : max_queued), thread_([this] { run(); }) {}

SerialWorker::~SerialWorker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

uint64_t SerialWorker::submit(std::function<void()> task) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return queue_.size() < max_queued_; });
  queue_.push_back(std::move(task));
  changed_.notify_all();
  return ++submitted_;
}

bool SerialWorker::done(uint64_t number) {
  std::lock_guard lock(mutex_);
  return finished_ >= number;
}

void SerialWorker::wait(uint64_t number) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return finished_ >= number; });
}

void SerialWorker::wait_all() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return finished_ == submitted_; });
}

void SerialWorker::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    // The task stays at the queue's front while it runs, so it counts against max_queued.
    std::function<void()>& task = queue_.front();
    lock.unlock();
    task();
    lock.lock();
    queue_.pop_front();
    ++finished_;
    changed_.notify_all();
  }
}

}  // namespace sluice::core

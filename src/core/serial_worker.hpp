#pragma once
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace sluice::core {

// One thread that runs tasks in the order they were submitted, with at most `max_queued` waiting or running at
// a time (submit blocks past that, which bounds the memory the tasks hold). For work that must overlap the
// caller's, such as compressing the last pages while the next are encoded, not for the event loop (which has the
// blocking pool). Tasks report their own failures: one that throws ends the process.
class SerialWorker {
 public:
  explicit SerialWorker(size_t max_queued);
  // Finishes the task in hand, drops the queued ones, and joins the thread.
  ~SerialWorker();
  SerialWorker(const SerialWorker&) = delete;
  SerialWorker& operator=(const SerialWorker&) = delete;

  // Queues the task and returns its number: 1 for the first, then one more each time.
  uint64_t submit(std::function<void()> task);
  // Whether task `number` has run (and with it every task before it).
  bool done(uint64_t number);
  void wait(uint64_t number);
  void wait_all();

 private:
  void run();

  const size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> queue_;  // the front one is running once the thread has taken it
  uint64_t submitted_ = 0, finished_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sluice::core

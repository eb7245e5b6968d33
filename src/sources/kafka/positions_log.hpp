#pragma once
// The positions topic: where the sluiced instances of one consumer group publish the positions their commits
// end at, so that the next owner of a partition resumes exactly where the committed data ends, although it
// cannot read the previous owner's state (DESIGN.md, "When work moves between instances").
//
// Each commit publishes one message, keyed by (group, instance), holding every position this instance ever
// committed for the group and the commit's id: one message, so a commit is published whole or not at all, and
// a compacted topic keeps each instance's latest. A partition resumes at the highest position any instance
// published for it (Kafka offsets only move forward), and recovery learns whether a pending commit was
// published by finding its id in this instance's latest message.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <map>
#include <memory>
#include <string>

#include "core/record.hpp"

namespace spdlog {
class logger;
}

namespace sluice::sources::kafka {

struct PositionsLogSettings {
  std::string brokers;
  std::string topic;
  std::string group;
  std::string instance;
  std::string pipeline;
  std::map<std::string, std::string> client;  // the user's librdkafka settings that both clients need (security)
  std::chrono::milliseconds delivery_timeout{30000};
};

class PositionsLog {
 public:
  PositionsLog(PositionsLogSettings settings, boost::asio::any_io_executor loop, boost::asio::any_io_executor blocking,
               spdlog::logger& log);
  ~PositionsLog();
  PositionsLog(const PositionsLog&) = delete;
  PositionsLog& operator=(const PositionsLog&) = delete;

  // Reads what every instance of the group published since the last call (the whole topic the first time).
  boost::asio::awaitable<void> catch_up();
  // After catch_up(): the highest position published for a partition by any instance, or -1.
  int64_t resume_offset(const std::string& partition) const;
  // After catch_up(): whether this instance's latest message is the commit `commit_id`.
  bool published(const std::string& commit_id) const;
  // Publishes this instance's positions, updated by `positions`, under commit_id, and waits until the brokers
  // have it (acks=all, idempotent producer). Throws when it cannot.
  boost::asio::awaitable<void> publish(const core::Checkpoint& positions, const std::string& commit_id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::sources::kafka

#include "kafka/client.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <system_error>

namespace sluice::kafka {
namespace asio = boost::asio;

const ReservedKey* find_reserved(const Settings& user, const std::vector<ReservedKey>& reserved) {
  for (const auto& r : reserved)
    if (user.count(r.key)) return &r;
  return nullptr;
}

Conf make_conf(const Settings& ours, const Settings& user) {
  Conf conf(rd_kafka_conf_new());
  char err[512];
  auto set = [&](const std::string& k, const std::string& v, const char* whose) {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
      throw KafkaError(std::string("librdkafka refused ") + whose + " setting " + k + ": " + err);
  };
  for (const auto& [k, v] : ours) set(k, v, "the connector's");
  for (const auto& [k, v] : user) set(k, v, "the librdkafka:");
  return conf;
}

Handle make_client(rd_kafka_type_t type, Conf conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err, sizeof err);
  if (!rk) throw KafkaError(std::string("cannot create the Kafka client: ") + err);
  conf.release();  // rd_kafka_new took it
  return Handle(rk);
}

std::string partition_name(std::string_view topic, int32_t partition) {
  return std::string(topic) + "-" + std::to_string(partition);
}

struct QueueWaker::Impl {
  rd_kafka_queue_t* queue;
  int write_fd = -1;
  asio::posix::stream_descriptor reader;
  Impl(asio::any_io_executor ex, rd_kafka_queue_t* q) : queue(q), reader(ex) {}
};

QueueWaker::QueueWaker(asio::any_io_executor ex, rd_kafka_queue_t* queue, core::Notifier& notifier)
    : impl_(std::make_unique<Impl>(ex, queue)), notifier_(notifier) {
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe for the Kafka queue");
  impl_->reader.assign(fds[0]);
  impl_->write_fd = fds[1];
  rd_kafka_queue_io_event_enable(queue, fds[1], "1", 1);
}

QueueWaker::~QueueWaker() {
  // librdkafka must stop writing before the pipe closes.
  rd_kafka_queue_io_event_enable(impl_->queue, -1, nullptr, 0);
  ::close(impl_->write_fd);
}

asio::awaitable<void> QueueWaker::watch() {
  char buf[256];
  for (;;) {
    co_await impl_->reader.async_wait(asio::posix::stream_descriptor::wait_read, asio::use_awaitable);
    while (::read(impl_->reader.native_handle(), buf, sizeof buf) > 0) {
    }
    ready_ = true;
    notifier_.notify_all();
  }
}

}  // namespace sluice::kafka

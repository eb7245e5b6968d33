#include "sinks/file/parquet_part.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "core/crash_point.hpp"
#include "core/serial_worker.hpp"
#include "formats/base64.hpp"

namespace sluice::sinks::file {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace pq = formats::parquet;

namespace {

[[noreturn]] void throw_errno(const std::string& what, const std::string& path) {
  throw std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

void write_all(int fd, std::string_view data, const std::string& path) {
  for (size_t done = 0; done < data.size();) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("cannot write", path);
    done += size_t(n);
  }
}

void fsync_dir_of(const std::string& path) {
  const std::string dir = fs::path(path).parent_path().string();
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open directory", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw_errno("cannot fsync directory", dir);
}

}  // namespace

// Appends a batch's stage lines on a thread of its own, a piece at a time while the sink shreds the rest of the
// batch: the copy into the page cache was a sixth of the sink thread's time, and the sink thread is what sets
// the pace. At most kQueued pieces (of kStagePiece bytes) are in hand at a time.
class ParquetPart::StageWriter {
 public:
  void submit(int fd, uint64_t offset, std::string bytes) {
    worker_.submit([this, fd, offset, bytes = std::move(bytes)] {
      for (size_t done = 0; done < bytes.size();) {
        const ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done, off_t(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          const int error = errno;
          std::lock_guard lock(mutex_);
          if (error_.empty()) error_ = std::strerror(error);
          return;
        }
        done += size_t(n);
      }
    });
  }

  // Waits until every piece submitted is written; returns the first failure since the last wait ("" if none).
  std::string wait() {
    worker_.wait_all();
    std::lock_guard lock(mutex_);
    return std::exchange(error_, {});
  }

 private:
  static constexpr size_t kQueued = 4;
  std::mutex mutex_;
  std::string error_;
  core::SerialWorker worker_{kQueued};  // last: joined before what its tasks use goes
};

ParquetPart::ParquetPart(std::string part_path, std::string stage_prefix, State state, const pq::WriterOptions& options,
                         uint64_t row_group_bytes, bool fsync)
    : part_path_(std::move(part_path)),
      stage_prefix_(std::move(stage_prefix)),
      state_(std::move(state)),
      writer_(state_.columns, options),
      row_group_bytes_(row_group_bytes),
      fsync_(fsync),
      stage_writer_(std::make_unique<StageWriter>()),
      first_stale_(state_.stage_generation) {}

ParquetPart::~ParquetPart() {
  stage_writer_.reset();  // its thread may still hold stage_fd_
  if (stage_fd_ >= 0) ::close(stage_fd_);
}

std::string ParquetPart::stage_path(uint64_t generation) const { return stage_prefix_ + std::to_string(generation); }

uint64_t ParquetPart::start(int fd) {
  write_all(fd, pq::kParquetMagic, part_path_);
  return pq::kParquetMagic.size();
}

void ParquetPart::recover() {
  const std::string path = stage_path(state_.stage_generation);
  if (state_.stage_length == 0) {
    ::unlink(path.c_str());  // a stage this generation started but never committed
    return;
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) throw_errno("committed stage file is missing:", path);
  if (::ftruncate(fd, off_t(state_.stage_length)) != 0) {
    ::close(fd);
    throw_errno("cannot truncate", path);
  }
  // Streamed in chunks: a stage holds up to a row group's worth of records, which may be far bigger as JSON.
  std::string chunk, line;
  chunk.resize(1 << 20);
  uint64_t offset = 0, number = 0;
  while (offset < state_.stage_length) {
    const ssize_t n = ::pread(fd, chunk.data(), std::min<uint64_t>(chunk.size(), state_.stage_length - offset), off_t(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      throw_errno("cannot read", path);
    }
    offset += uint64_t(n);
    std::string_view data(chunk.data(), size_t(n));
    while (!data.empty()) {
      const size_t end = data.find('\n');
      if (end == std::string_view::npos) {
        line.append(data);
        break;
      }
      line.append(data.substr(0, end));
      data.remove_prefix(end + 1);
      ++number;
      if (auto refused = writer_.add(line)) {
        ::close(fd);
        throw std::runtime_error("stage " + path + " line " + std::to_string(number) + " no longer fits the part's columns (" +
                                 *refused + "): the file was changed outside sluice");
      }
      line.clear();
    }
  }
  ::close(fd);
  if (!line.empty()) throw std::runtime_error("stage " + path + " ends inside a record: the file was changed outside sluice");
}

void ParquetPart::open_stage() {
  if (stage_fd_ >= 0) return;
  const std::string path = stage_path(state_.stage_generation);
  // A fresh generation may find a file an uncommitted attempt left: what the commit has not named is void.
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (state_.stage_length == 0 ? O_TRUNC : 0);
  stage_fd_ = ::open(path.c_str(), flags, 0644);
  if (stage_fd_ < 0) throw_errno("cannot open", path);
  if (state_.stage_length == 0 && fsync_) fsync_dir_of(path);
}

// Hands the lines so far to the stage writer, to land past the committed length (bytes a failed attempt
// appended there are overwritten, not kept). They count only once a commit names the new length.
void ParquetPart::stage_ahead() {
  open_stage();
  const size_t size = pending_.size();
  stage_writer_->submit(stage_fd_, state_.stage_length + staged_ahead_, std::move(pending_));
  pending_.clear();
  staged_ahead_ += size;
}

void ParquetPart::append_stage() {
  if (!pending_.empty()) stage_ahead();
  if (staged_ahead_ == 0) return;
  const std::string path = stage_path(state_.stage_generation);
  if (const std::string failed = stage_writer_->wait(); !failed.empty())
    throw std::runtime_error("cannot write " + path + ": " + failed);
  core::crash_point("parquet_part.after_stage_append");
  if (fsync_ && ::fdatasync(stage_fd_) != 0) throw_errno("cannot fsync", path);
  state_.stage_length += staged_ahead_;
  staged_ahead_ = 0;
}

// The rows went into a row group instead: what was staged ahead for them is void (past the committed length of
// a generation the commit leaves behind), including a write of it that failed.
void ParquetPart::drop_staged_ahead() {
  (void)stage_writer_->wait();
  pending_.clear();
  staged_ahead_ = 0;
}

uint64_t ParquetPart::persist(int fd, uint64_t part_length) {
  if (writer_.estimated_bytes() < row_group_bytes_) {
    append_stage();
    return part_length;
  }
  // The row group holds the staged records and these: the part takes them all, and the next stage starts empty.
  uint64_t length = part_length;
  state_.row_groups.push_back(writer_.flush(part_length, [&](std::string_view bytes) {
    write_all(fd, bytes, part_path_);
    length += bytes.size();
  }));
  core::crash_point("parquet_part.after_row_group");
  if (fsync_ && ::fdatasync(fd) != 0) throw_errno("cannot fsync", part_path_);
  drop_staged_ahead();
  if (stage_fd_ >= 0) ::close(stage_fd_);
  stage_fd_ = -1;
  ++state_.stage_generation;
  state_.stage_length = 0;
  return length;
}

uint64_t ParquetPart::finish(int fd, uint64_t part_length, std::vector<pq::KeyValue> key_values, const std::string& created_by) {
  uint64_t length = part_length;
  auto write = [&](std::string_view bytes) {
    write_all(fd, bytes, part_path_);
    length += bytes.size();
  };
  if (writer_.rows() > 0) state_.row_groups.push_back(writer_.flush(length, write));
  if (state_.row_groups.empty()) return 0;
  write(writer_.footer(state_.row_groups, std::move(key_values), created_by));
  core::crash_point("parquet_part.after_footer");
  if (fsync_ && ::fdatasync(fd) != 0) throw_errno("cannot fsync", part_path_);
  drop_staged_ahead();
  if (stage_fd_ >= 0) ::close(stage_fd_);
  stage_fd_ = -1;
  ++state_.stage_generation;  // the rows are in the part: no stage names them any more
  state_.stage_length = 0;
  return length;
}

void ParquetPart::remove_stale_stages() {
  for (; first_stale_ < state_.stage_generation; ++first_stale_) ::unlink(stage_path(first_stale_).c_str());
}

json::object parquet_state_to_json(const ParquetPart::State& s) {
  json::array columns;
  for (const auto& c : s.columns) columns.push_back(json::array{json::string(c.name), json::string(pq::describe(c.type))});
  pq::FileMetaData groups;
  groups.row_groups = s.row_groups;
  std::string thrift, encoded;
  pq::serialize(groups, thrift);
  formats::append_base64(encoded, thrift);
  return json::object{{"columns", std::move(columns)},
                      {"row_groups", encoded},
                      {"stage_generation", s.stage_generation},
                      {"stage_length", s.stage_length}};
}

ParquetPart::State parquet_state_from_json(const json::object& o) {
  ParquetPart::State s;
  for (const auto& c : o.at("columns").as_array()) {
    const auto& pair = c.as_array();
    s.columns.push_back({json::value_to<std::string>(pair.at(0)), pq::parse_column_type(json::value_to<std::string>(pair.at(1)))});
  }
  std::string thrift;
  if (!formats::decode_base64(json::value_to<std::string>(o.at("row_groups")), thrift))
    throw std::runtime_error("sink state: row groups are not base64");
  s.row_groups = pq::parse_file_metadata(thrift, pq::Limits{}).row_groups;
  s.stage_generation = o.at("stage_generation").to_number<uint64_t>();
  s.stage_length = o.at("stage_length").to_number<uint64_t>();
  return s;
}

}  // namespace sluice::sinks::file

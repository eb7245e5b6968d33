#include "sources/file/parquet_input.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "formats/json_check.hpp"
#include "formats/parquet/error.hpp"
#include "formats/parquet/file_reader.hpp"
#include "sources/file/shared.hpp"

namespace sluice::sources::file {

namespace {

constexpr std::string_view kTag = "parquet";
constexpr std::string_view kAbandoned = "abandoned";

template <class T>
bool parse_number(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// The reader opens the source's own descriptor through procfs, so it reads the inode the source identified
// even if the name now points elsewhere (a rotation, a file replaced by rename). Without procfs it opens the
// path, which is the same file unless it was replaced in the moment between listing and opening.
std::string reader_path(int fd, const std::string& path) {
  static const bool procfs = ::access("/proc/self/fd", X_OK) == 0;
  return procfs ? "/proc/self/fd/" + std::to_string(fd) : path;
}

// The reader's messages start with the path it was given; the dead-letter entry names the file itself.
std::string without_path(std::string message, const std::string& opened_as) {
  const std::string prefix = opened_as + ": ";
  for (size_t at; (at = message.find(prefix)) != std::string::npos;) message.erase(at, prefix.size());
  return message;
}

[[noreturn]] void rethrow_io(const std::exception& e, const std::string& opened_as, const std::string& path) {
  throw std::runtime_error(path + ": " + without_path(e.what(), opened_as));
}

}  // namespace

std::string ParquetPosition::text() const {
  std::string s(kTag);
  for (uint64_t v : {uint64_t(row_group), row, rows, uint64_t(fp_len), fingerprint, size}) {
    s += ' ';
    s += std::to_string(v);
  }
  if (abandoned) {
    s += ' ';
    s += kAbandoned;
  }
  return s;
}

std::optional<ParquetPosition> ParquetPosition::parse(std::string_view text) {
  std::vector<std::string_view> words;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find(' ', at);
    if (end == std::string_view::npos) end = text.size();
    words.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  if ((words.size() != 7 && words.size() != 8) || words[0] != kTag) return std::nullopt;
  ParquetPosition p;
  if (!parse_number(words[1], p.row_group) || !parse_number(words[2], p.row) || !parse_number(words[3], p.rows) ||
      !parse_number(words[4], p.fp_len) || !parse_number(words[5], p.fingerprint) || !parse_number(words[6], p.size))
    return std::nullopt;
  if (words.size() == 8) {
    if (words[7] != kAbandoned) return std::nullopt;
    p.abandoned = true;
  }
  return p;
}

ParquetInput::ParquetInput() = default;
ParquetInput::~ParquetInput() = default;

void ParquetInput::resume(const ParquetPosition& saved, timespec mtime) {
  row_group_ = saved.row_group;
  row_ = saved.row;
  rows_ = saved.rows;
  fp_len_ = saved.fp_len;
  fingerprint_ = saved.fingerprint;
  stamp_ = {saved.size, mtime};
  if (saved.abandoned) {
    state_ = State::abandoned;
  } else {
    state_ = State::fresh;
    expected_ = saved;
  }
}

ParquetPosition ParquetInput::position() const {
  return {row_group_, row_, rows_, fp_len_, fingerprint_, stamp_.size, state_ == State::abandoned};
}

// The end of a row group is written as the start of the next: FileReader::seek skips whole row groups unread
// but would decode all of row group g to reach (g, its row count).
void ParquetInput::normalize() {
  const auto& groups = reader_->metadata().row_groups;
  while (row_group_ < groups.size() && row_ >= uint64_t(groups[row_group_].num_rows)) {
    ++row_group_;
    row_ = 0;
  }
}

void ParquetInput::restart_from_zero() {
  reader_.reset();
  state_ = State::fresh;
  row_group_ = 0;
  row_ = 0;
  rows_ = 0;
  discard_ = 0;
  expected_.reset();
  skip_if_size_.reset();
}

// A file read (or dead-lettered) before has new content when its size changed, or when its mtime moved and
// its first bytes differ. While nothing of it was delivered, an mtime change alone is enough to look again:
// that cannot duplicate anything.
bool ParquetInput::content_changed(const Target& file, const Stamp& now_stamp) {
  if (now_stamp.size != stamp_.size) return true;
  if (now_stamp == stamp_) return false;
  if (row_group_ == 0 && row_ == 0) return true;
  auto [len, fp] = read_fingerprint(file.fd, fp_len_);
  if (len != fp_len_ || fp != fingerprint_) return true;
  stamp_ = now_stamp;  // touched, same content
  return false;
}

ParquetInput::Step ParquetInput::step(const Target& file, core::Records& out, bool may_open, core::Clock::time_point now,
                                      spdlog::logger& log) {
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) throw std::runtime_error("cannot stat " + file.path + ": " + std::strerror(errno));
  const Stamp stamp{uint64_t(st.st_size), st.st_mtim};
  switch (state_) {
    case State::done:
    case State::abandoned:
      if (!content_changed(file, stamp)) return Step::idle;
      log.warn("{} changed after it was {}; reading it again from the start, as a new file", file.path,
               state_ == State::done ? "read" : "dead-lettered");
      restart_from_zero();
      break;
    case State::reading:
      if (stamp.size == stamp_.size) return read_rows(file, out, log);
      // Parquet files are written whole; one that changes under the reader is being replaced.
      log.warn("{} changed size while it was being read ({} → {} bytes); reading it again from the start, as a new file",
               file.path, stamp_.size, stamp.size);
      restart_from_zero();
      break;
    case State::fresh:
    case State::pending:
      break;
  }
  if (!may_open) return Step::waiting;
  return open(file, stamp, out, now, log);
}

ParquetInput::Step ParquetInput::open(const Target& file, const Stamp& stamp, core::Records& out, core::Clock::time_point now,
                                      spdlog::logger& log) {
  const std::string opened_as = reader_path(file.fd, file.path);
  std::string invalid;
  try {
    reader_ = std::make_unique<formats::parquet::FileReader>(opened_as);
    struct stat st {};
    if (::fstat(file.fd, &st) != 0) throw std::runtime_error("cannot stat: " + std::string(std::strerror(errno)));
    if (!(Stamp{uint64_t(st.st_size), st.st_mtim} == stamp)) {
      reader_.reset();
      invalid = "it changed while its footer was read";
    }
  } catch (const formats::parquet::ParquetError& e) {
    invalid = without_path(e.what(), opened_as);
  } catch (const std::runtime_error& e) {
    reader_.reset();
    rethrow_io(e, opened_as, file.path);
  }

  if (!invalid.empty()) {
    // Not (yet) valid Parquet: a file still being copied looks like this until its footer is written.
    if (expected_) restart_from_zero();  // not the content the committed position described
    if (state_ != State::pending || !(stamp == pending_stamp_)) {
      if (state_ != State::pending)
        log.info("{} is not a valid Parquet file (yet): {}; trying again while it changes", file.path, invalid);
      pending_stamp_ = stamp;
      pending_since_ = now;
    }
    state_ = State::pending;
    if (now - pending_since_ < kSettle) return Step::waiting;
    auto [len, fp] = read_fingerprint(file.fd, kFingerprintBytes);
    fp_len_ = len;
    fingerprint_ = fp;
    stamp_ = stamp;
    abandon(file, out, "not a valid Parquet file, unchanged for " + std::to_string(kSettle.count()) + "s: " + invalid, false, log);
    return Step::progressed;
  }

  auto [len, fp] = read_fingerprint(file.fd, kFingerprintBytes);
  if (expected_ && (expected_->size != stamp.size || expected_->fp_len != len || expected_->fingerprint != fp)) {
    log.info("{} changed since its position was committed; reading it from the start", file.path);
    row_group_ = 0;
    row_ = 0;
    rows_ = 0;
  }
  expected_.reset();
  fp_len_ = len;
  fingerprint_ = fp;
  stamp_ = stamp;
  if (skip_if_size_) {
    const bool skip = *skip_if_size_ == stamp.size;
    skip_if_size_.reset();
    if (skip) {
      const auto& meta = reader_->metadata();
      log.info("start_at: end: skipping the {} rows {} held at start", meta.num_rows, file.path);
      row_group_ = uint32_t(meta.row_groups.size());
      row_ = 0;
      reader_.reset();
      state_ = State::done;
      return Step::progressed;
    }
  }
  normalize();
  // Whole row groups are skipped here, unread; the rows before the position inside its row group are decoded
  // and dropped by read_rows, a chunk per step like any rows, so a resume never holds the blocking pool for
  // a whole row group.
  discard_ = row_;
  if (row_group_ > 0) {
    try {
      reader_->seek({row_group_, 0});
    } catch (const formats::parquet::ParquetError& e) {
      abandon(file, out, without_path(e.what(), opened_as), true, log);
      return Step::progressed;
    } catch (const std::runtime_error& e) {
      reader_.reset();
      rethrow_io(e, opened_as, file.path);
    }
  }
  state_ = State::reading;
  return read_rows(file, out, log);
}

ParquetInput::Step ParquetInput::read_rows(const Target& file, core::Records& out, spdlog::logger& log) {
  const size_t first = out.size();
  size_t bytes = 0;
  bool assembling = false;  // out.back() is the row next() is writing
  try {
    std::string dropped;
    for (; discard_ > 0 && bytes < kChunkBytes; --discard_) {
      dropped.clear();
      if (!reader_->next(dropped)) {
        discard_ = 0;
        break;
      }
      bytes += dropped.size();
    }
    if (discard_ > 0) return Step::progressed;
    while (bytes < kChunkBytes) {
      core::Record& r = out.emplace_back();
      // Rows of a file are alike in size: one allocation of about the last row's size, not one per doubling.
      r.value.reserve(row_size_hint_);
      assembling = true;
      if (!reader_->next(r.value)) {
        out.pop_back();
        reader_.reset();
        state_ = State::done;
        break;
      }
      assembling = false;
      r.partition = file.partition;
      const auto at = reader_->position();
      row_group_ = at.row_group;
      row_ = at.row;
      normalize();
      ++rows_;
      bytes += r.value.size();
      // Capped: one huge row must not make the next, small one hold as much memory the queue does not count.
      row_size_hint_ = std::min<size_t>(r.value.size() + r.value.size() / 8 + 16, 64u << 10);
      if ((out.size() - first) % kPositionEvery == 0) r.position = position().text();
    }
  } catch (const formats::parquet::ParquetError& e) {
    // The row being assembled is dropped; the rows before it stay, and the dead-letter entry's position covers them.
    if (assembling) out.pop_back();
    const std::string opened_as = reader_path(file.fd, file.path);
    abandon(file, out, without_path(e.what(), opened_as), true, log);
    return Step::progressed;
  } catch (const std::runtime_error& e) {
    reader_.reset();
    rethrow_io(e, reader_path(file.fd, file.path), file.path);
  }
  if (out.size() > first && out.back().position.empty()) out.back().position = position().text();
  return Step::progressed;
}

void ParquetInput::abandon(const Target& file, core::Records& out, const std::string& reason, bool with_row,
                           spdlog::logger& log) {
  if (with_row && reader_) {
    // Where the reader stopped: the row it could not read (or the end of the row group it was leaving).
    const auto at = reader_->position();
    row_group_ = at.row_group;
    row_ = at.row;
  }
  reader_.reset();
  state_ = State::abandoned;
  core::Record& r = out.emplace_back();
  r.rejected = true;
  r.partition = file.partition;
  r.value = "{\"file\":";
  formats::append_json_string(r.value, file.path);
  if (with_row) r.value += ",\"row_group\":" + std::to_string(row_group_) + ",\"row\":" + std::to_string(row_);
  r.value += ",\"reason\":";
  formats::append_json_string(r.value, reason);
  r.value += "}";
  r.position = position().text();
  log.warn("{}: {}; the file is dead-lettered and not read further", file.path, reason);
}

}  // namespace sluice::sources::file

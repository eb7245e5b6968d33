#pragma once
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/record.hpp"

namespace spdlog {
class logger;
}
namespace sluice::formats::parquet {
class FileReader;
}

namespace sluice::sources::file {

// A Parquet file's committed position, as text:
//   parquet <row_group> <row> <rows> <fp_len> <fingerprint> <size>[ abandoned]
struct ParquetPosition {
  uint32_t row_group = 0;  // the next row to deliver is `row` of row group `row_group`
  uint64_t row = 0;
  uint64_t rows = 0;        // rows delivered from the file so far
  uint32_t fp_len = 0;      // FNV-1a 64 of the file's first fp_len bytes, as for JSONL and CSV files
  uint64_t fingerprint = 0;
  uint64_t size = 0;        // the file's size when it was read: with the fingerprint, what identifies its content
  bool abandoned = false;   // dead-lettered as a bad file: not read again while its content stays the same

  std::string text() const;
  // nullopt for anything else (a JSONL/CSV position, say).
  static std::optional<ParquetPosition> parse(std::string_view text);
};

// One Parquet file of the file source: opens it once its footer is valid, reads a bounded number of rows per
// step, and turns a file that stays unreadable, or whose data turns out corrupt, into one dead-letter entry.
// Each row is one record whose value is the row's JSON object text (formats::parquet::FileReader).
//
// Not thread-safe; the source calls step() on its blocking pool, one call at a time.
class ParquetInput {
 public:
  // A file whose footer stays invalid this long, with the same size and mtime, is reported as bad.
  static constexpr std::chrono::seconds kSettle{10};

  enum class Step {
    progressed,  // rows or a dead-letter entry were appended, or the file was opened or finished
    idle,        // nothing to do: read to its end, or abandoned
    waiting,     // not readable yet (incomplete, or the reader is another file's for now): try again later
  };

  struct Target {
    int fd;                   // the source's descriptor: the reader opens this very inode, whatever its name now
    const std::string& path;  // for messages and dead-letter entries
    uint32_t partition;
  };

  ParquetInput();
  ~ParquetInput();
  ParquetInput(const ParquetInput&) = delete;
  ParquetInput& operator=(const ParquetInput&) = delete;

  // Continues from a committed position whose fingerprint and size the caller found to match the file, which
  // has this mtime now.
  void resume(const ParquetPosition& saved, timespec mtime);
  // start_at: end: the file's rows are skipped if it is valid Parquet of this size when first opened (a file
  // still being written when the source started is read once complete).
  void skip_existing(uint64_t size) { skip_if_size_ = size; }

  // May only open the file when `may_open` (the source keeps one reader open at a time).
  Step step(const Target& file, core::Records& out, bool may_open, core::Clock::time_point now, spdlog::logger& log);
  bool reader_open() const { return reader_ != nullptr; }

 private:
  enum class State { fresh, pending, reading, done, abandoned };
  struct Stamp {
    uint64_t size = 0;
    timespec mtime{};
    bool operator==(const Stamp& o) const {
      return size == o.size && mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec;
    }
  };

  bool content_changed(const Target& file, const Stamp& now_stamp);
  void restart_from_zero();
  void normalize();
  Step open(const Target& file, const Stamp& stamp, core::Records& out, core::Clock::time_point now, spdlog::logger& log);
  Step read_rows(const Target& file, core::Records& out, spdlog::logger& log);
  void abandon(const Target& file, core::Records& out, const std::string& reason, bool with_row, spdlog::logger& log);
  ParquetPosition position() const;

  State state_ = State::fresh;
  std::unique_ptr<formats::parquet::FileReader> reader_;
  uint32_t row_group_ = 0;  // of the next row
  uint64_t row_ = 0;
  uint64_t rows_ = 0;
  uint64_t discard_ = 0;    // rows of row_group_ before row_ still to decode and drop (resuming)
  size_t row_size_hint_ = 64;  // bytes to reserve for the next row's JSON
  uint32_t fp_len_ = 0;
  uint64_t fingerprint_ = 0;
  Stamp stamp_;                              // of the content read (reading, done, abandoned)
  std::optional<ParquetPosition> expected_;  // a committed position not yet checked against an open reader
  std::optional<uint64_t> skip_if_size_;
  Stamp pending_stamp_;                      // pending: the size and mtime its footer was last found invalid at
  core::Clock::time_point pending_since_{};
  std::string pending_reason_;
};

}  // namespace sluice::sources::file

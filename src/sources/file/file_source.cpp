#include "sources/file/file_source.hpp"

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <fcntl.h>
#include <glob.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/async.hpp"
#include "formats/csv.hpp"
#include "formats/gzip.hpp"
#include "formats/json_check.hpp"
#include "sources/file/parquet_input.hpp"
#include "sources/file/shared.hpp"

namespace sluice::sources::file {
namespace fs = std::filesystem;
using config::opt;
using core::awaitable;

const config::Schema<FileSourceOptions>& FileSourceOptions::schema() {
  static const config::Schema<FileSourceOptions> s{
      "source (file)",
      {opt(&FileSourceOptions::path, "path", "a directory (its files, not hidden, not recursive) or a glob such as /var/log/app/*.jsonl")
           .required(),
       opt(&FileSourceOptions::watch, "watch",
           "follow new files and appended lines (rotation and truncation by inode); false: read what exists, then the source is exhausted"),
       opt(&FileSourceOptions::format, "format",
           "auto: by extension (.jsonl .ndjson .json → jsonl, .csv → csv, either + .gz; .parquet .parq → parquet)"),
       opt(&FileSourceOptions::start_at, "start_at", "where reading starts in a file that has no committed position"),
       opt(&FileSourceOptions::poll_interval, "poll_interval", "watch: how often files are checked for new data").min(0.001),
       opt(&FileSourceOptions::max_line_bytes, "max_line_bytes", "longer records go to the dead-letter file").min(1024)}};
  return s;
}

namespace {

enum class Kind { jsonl, csv, parquet };

std::optional<Kind> kind_of(const std::string& path, InputFormat configured) {
  if (configured == InputFormat::jsonl) return Kind::jsonl;
  if (configured == InputFormat::csv) return Kind::csv;
  if (configured == InputFormat::parquet) return Kind::parquet;
  // Parquet compresses its pages itself and is read by seeking, so a gzipped Parquet file is not one we read.
  if (path.ends_with(".parquet") || path.ends_with(".parq")) return Kind::parquet;
  std::string name = path;
  if (name.ends_with(".gz")) name.resize(name.size() - 3);
  if (name.ends_with(".jsonl") || name.ends_with(".ndjson") || name.ends_with(".json")) return Kind::jsonl;
  if (name.ends_with(".csv")) return Kind::csv;
  return std::nullopt;
}

}  // namespace

// One file being read: its identity, where it stands, and what was read but not yet delivered.
struct TailedFile {
  std::string path;
  std::string partition_name;
  uint32_t partition = 0;
  Kind kind = Kind::jsonl;
  bool gzip = false;
  int fd = -1;
  uint64_t offset = 0;       // decompressed bytes delivered (end of the last complete record)
  uint64_t line = 0;         // lines delivered
  uint64_t raw_offset = 0;   // bytes read from fd
  uint64_t skip_to = 0;      // gzip resume: decompressed bytes to discard first
  uint64_t stream_pos = 0;   // decompressed position of buffer[0]
  uint32_t fp_len = 0;
  uint64_t fingerprint = 0;
  bool abandoned = false;    // corrupt compressed data: nothing more can be read
  bool csv_header_read = false;
  bool skipping_long_line = false;
  std::vector<std::string> header;
  std::string buffer;
  std::string compressed;    // gzip: the chunk read from fd, before decompression
  size_t consumed = 0;       // bytes of buffer already turned into records
  std::unique_ptr<formats::GzipDecoder> decoder;
  formats::JsonChecker checker;
  std::vector<std::string> fields;
  std::unique_ptr<ParquetInput> parquet;  // Kind::parquet: everything above but the identity is unused

  ~TailedFile() {
    if (fd >= 0) ::close(fd);
  }

  // "offset line fp_len fingerprint [skip]": skip marks that the line starting at offset was dead-lettered
  // as too long already, so a restart skips it instead of reporting it twice.
  std::string position() const {
    return std::to_string(abandoned ? UINT64_MAX : offset) + " " + std::to_string(line) + " " + std::to_string(fp_len) + " " +
           std::to_string(fingerprint) + (skipping_long_line ? " skip" : "");
  }
};

namespace {

struct SavedPosition {
  uint64_t offset, line, fingerprint;
  uint32_t fp_len;
  bool skipping_long_line;
};

std::optional<SavedPosition> parse_position(const std::string& text) {
  SavedPosition p{};
  unsigned long long o, l, f;
  unsigned fl;
  char skip[8] = {};
  int n = std::sscanf(text.c_str(), "%llu %llu %u %llu %7s", &o, &l, &fl, &f, skip);
  if (n < 4) return std::nullopt;
  p.skipping_long_line = n == 5 && std::string_view(skip) == "skip";
  p.offset = o;
  p.line = l;
  p.fp_len = fl;
  p.fingerprint = f;
  return p;
}

void append_dead_letter(core::Records& out, const TailedFile& f, uint64_t line, const std::string& reason, std::string_view original) {
  core::Record& r = out.emplace_back();
  r.rejected = true;
  r.partition = f.partition;
  r.value = "{\"file\":";
  formats::append_json_string(r.value, f.path);
  r.value += ",\"line\":" + std::to_string(line) + ",\"reason\":";
  formats::append_json_string(r.value, reason);
  r.value += ",\"original\":";
  formats::append_json_string(r.value, original);
  r.value += "}";
}

}  // namespace

FileSource::FileSource(const FileSourceOptions& options, const core::Clock& clock) : options_(options), clock_(clock) {}
FileSource::~FileSource() = default;

std::vector<std::string> FileSource::discover() const {
  std::vector<std::string> paths;
  std::error_code ec;
  if (fs::is_directory(options_.path, ec)) {
    for (fs::directory_iterator it(options_.path, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (name.starts_with(".") || !it->is_regular_file(ec)) continue;
      if (kind_of(name, options_.format)) paths.push_back(it->path().string());
    }
  } else {
    glob_t g{};
    if (::glob(options_.path.c_str(), 0, nullptr, &g) == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        std::string p = g.gl_pathv[i];
        if (fs::is_regular_file(p, ec) && kind_of(p, options_.format)) paths.push_back(p);
      }
    ::globfree(&g);
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

void FileSource::track(core::SourceContext& ctx, const std::string& path, bool initial_scan) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;  // gone between listing and now
  std::string name = "file:" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  if (auto it = files_.find(name); it != files_.end()) {
    it->second->path = path;  // renamed (rotated): same file, same position
    return;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    ctx.log().warn("cannot open {}: {}", path, std::strerror(errno));
    return;
  }
  auto f = std::make_unique<TailedFile>();
  f->path = path;
  f->partition_name = name;
  f->partition = ctx.partition(name);
  f->kind = *kind_of(path, options_.format);
  f->fd = fd;
  if (f->kind == Kind::parquet) {
    track_parquet(ctx, *f, st, initial_scan);
    files_.emplace(name, std::move(f));
    return;
  }
  char magic[2] = {};
  f->gzip = path.ends_with(".gz") || (::pread(fd, magic, 2, 0) == 2 && formats::looks_like_gzip(std::string_view(magic, 2)));
  if (f->gzip) f->decoder = std::make_unique<formats::GzipDecoder>();

  std::optional<SavedPosition> saved;
  if (auto it = ctx.checkpoint().find(name); it != ctx.checkpoint().end()) saved = parse_position(it->second);
  if (saved && saved->fp_len > 0 && read_fingerprint(fd, saved->fp_len) != std::pair{saved->fp_len, saved->fingerprint}) {
    ctx.log().info("{} reuses the inode of a file read before but has other content; reading it from the start", path);
    saved.reset();
  }
  if (saved) {
    if (saved->offset == UINT64_MAX) {
      f->abandoned = true;
    } else if (!f->gzip && uint64_t(st.st_size) < saved->offset) {
      ctx.log().warn("{} was truncated below the committed offset {}; reading it from the start", path, saved->offset);
    } else {
      f->offset = saved->offset;
      f->line = saved->line;
      f->skipping_long_line = saved->skipping_long_line;
      f->fp_len = saved->fp_len;
      f->fingerprint = saved->fingerprint;
    }
  } else if (options_.start_at == StartAt::end && initial_scan && !f->gzip) {
    // Like `tail -f`: only lines written from now on (CSV still reads its header from the start).
    f->offset = uint64_t(st.st_size);
  }
  // Plain files resume by seeking; gzip streams and CSV headers are read from the start, discarding what was
  // already delivered.
  if (f->gzip || (f->kind == Kind::csv && f->offset > 0)) {
    f->skip_to = f->offset;
  } else {
    f->raw_offset = f->stream_pos = f->offset;
  }
  files_.emplace(name, std::move(f));
}

void FileSource::track_parquet(core::SourceContext& ctx, TailedFile& f, const struct stat& st, bool initial_scan) {
  f.parquet = std::make_unique<ParquetInput>();
  std::optional<ParquetPosition> saved;
  if (auto it = ctx.checkpoint().find(f.partition_name); it != ctx.checkpoint().end()) {
    saved = ParquetPosition::parse(it->second);
    if (!saved) ctx.log().info("{} has a committed position that is not a Parquet one; reading it from the start", f.path);
  }
  // Parquet files do not grow: a different size is other content, as is a different start.
  if (saved && (saved->size != uint64_t(st.st_size) ||
                read_fingerprint(f.fd, saved->fp_len) != std::pair{saved->fp_len, saved->fingerprint})) {
    ctx.log().info("{} has other content than when its position was committed (a reused inode, or a file rewritten in place); "
                   "reading it from the start",
                   f.path);
    saved.reset();
  }
  if (saved) {
    f.parquet->resume(*saved, st.st_mtim);
  } else if (options_.start_at == StartAt::end && initial_scan) {
    f.parquet->skip_existing(uint64_t(st.st_size));
  }
}

bool FileSource::read_chunk(TailedFile& f, core::Records& out, bool at_end_is_final) {
  if (f.abandoned) return false;
  // Truncation in place (copytruncate): the file is now shorter than what was read.
  if (!f.gzip) {
    struct stat st {};
    if (::fstat(f.fd, &st) == 0 && uint64_t(st.st_size) < f.raw_offset) {
      log_->warn("{} was truncated to {} bytes; reading it again from the start", f.path, st.st_size);
      f.offset = f.line = f.raw_offset = f.stream_pos = f.skip_to = 0;
      f.buffer.clear();
      f.consumed = 0;
      f.csv_header_read = false;
      f.fp_len = 0;
    }
  }
  // Drop what is consumed, then read the next chunk: straight into the buffer for plain files, through a
  // reused scratch buffer for gzip.
  f.buffer.erase(0, f.consumed);
  f.stream_pos += f.consumed;
  f.consumed = 0;
  size_t before = f.buffer.size();
  std::string& target = f.gzip ? f.compressed : f.buffer;
  size_t target_start = f.gzip ? 0 : before;
  target.resize(target_start + kChunkBytes);
  ssize_t n = ::pread(f.fd, target.data() + target_start, kChunkBytes, off_t(f.raw_offset));
  if (n < 0) {
    target.resize(target_start);
    throw std::runtime_error("cannot read " + f.path + ": " + std::strerror(errno));
  }
  target.resize(target_start + size_t(n));
  f.raw_offset += uint64_t(n);
  bool eof = n == 0;
  if (f.fp_len < kFingerprintBytes && f.raw_offset > f.fp_len) {
    auto [len, fp] = read_fingerprint(f.fd, uint32_t(std::min<uint64_t>(kFingerprintBytes, f.raw_offset)));
    f.fp_len = len;
    f.fingerprint = fp;
  }
  if (f.gzip) {
    try {
      f.decoder->feed(f.compressed, f.buffer);
    } catch (const formats::FormatError& e) {
      append_dead_letter(out, f, f.line + 1, std::string(e.what()) + " at compressed byte " + std::to_string(f.raw_offset),
                         std::string_view());
      f.abandoned = true;
      out.back().position = f.position();
      return true;
    }
    if (eof && !f.decoder->at_member_boundary()) {
      if (at_end_is_final) {
        append_dead_letter(out, f, f.line + 1, "truncated gzip data at end of file", std::string_view());
        f.abandoned = true;
        out.back().position = f.position();
        return true;
      }
      return false;
    }
  }
  bool grew = f.buffer.size() > before;
  const bool final_chunk = eof && at_end_is_final;

  // CSV needs its header before anything else, also when resuming mid-file.
  size_t pos = 0;
  if (f.kind == Kind::csv && !f.csv_header_read) {
    pos = formats::utf8_bom_length(f.buffer);
    auto parsed = formats::parse_csv_record(f.buffer, pos, final_chunk, f.fields);
    if (parsed.status == formats::CsvStatus::need_more) return grew;
    if (parsed.status == formats::CsvStatus::error || formats::check_csv_header(f.fields)) {
      std::string reason = parsed.status == formats::CsvStatus::error ? parsed.error : *formats::check_csv_header(f.fields);
      append_dead_letter(out, f, 1, "unusable CSV header: " + reason, std::string_view(f.buffer).substr(0, parsed.end));
      f.abandoned = true;
      out.back().position = f.position();
      return true;
    }
    f.header = f.fields;
    f.csv_header_read = true;
    if (f.offset == 0) {
      f.line += std::max<size_t>(parsed.newlines, 1);
      f.offset = f.stream_pos + parsed.end;
    } else if (!f.gzip && f.skip_to > 0) {
      // Plain CSV resuming: the header is known; continue at the committed offset.
      f.buffer.clear();
      f.stream_pos = f.raw_offset = f.skip_to;
      f.skip_to = 0;
      return true;
    }
    pos = parsed.end;
  }
  // Discard what an earlier run delivered.
  if (f.skip_to > f.stream_pos + pos) {
    uint64_t drop = std::min<uint64_t>(f.skip_to - f.stream_pos, f.buffer.size());
    pos = size_t(drop);
    if (f.stream_pos + drop < f.skip_to) {
      f.consumed = pos;
      return grew;
    }
  }
  f.skip_to = 0;

  size_t records_before = out.size();
  while (pos < f.buffer.size()) {
    std::string_view rest = std::string_view(f.buffer).substr(pos);
    if (f.kind == Kind::jsonl) {
      size_t nl = rest.find('\n');
      if (f.skipping_long_line) {
        // The rest of a line already dead-lettered as too long: discard it up to its end.
        if (nl == std::string_view::npos && !final_chunk) {
          pos = f.buffer.size();
          f.consumed = pos;
          break;
        }
        f.skipping_long_line = false;
        pos += nl == std::string_view::npos ? rest.size() : nl + 1;
        f.offset = f.stream_pos + pos;
        continue;
      }
      if (nl == std::string_view::npos) {
        if (rest.size() > options_.max_line_bytes.bytes && !final_chunk) {
          // Dead-letter it once, with its first bytes, and skip the rest as it arrives. The offset stays at the
          // line's start until its end is read; the position's skip mark keeps a restart from reporting it again.
          append_dead_letter(out, f, ++f.line, "line longer than max_line_bytes (first 1024 bytes kept)", rest.substr(0, 1024));
          f.skipping_long_line = true;
          pos = f.buffer.size();
          f.consumed = pos;
          break;
        }
        if (!final_chunk) break;
        nl = rest.size();
      }
      std::string_view line = formats::trim_line(rest.substr(0, nl));
      ++f.line;
      if (!line.empty()) {
        if (line.size() > options_.max_line_bytes.bytes) {
          append_dead_letter(out, f, f.line, "line longer than max_line_bytes (first 1024 bytes kept)", line.substr(0, 1024));
        } else if (auto err = f.checker.check_object(line)) {
          append_dead_letter(out, f, f.line, *err, line);
        } else {
          core::Record& r = out.emplace_back();
          r.value.assign(line);
          r.partition = f.partition;
        }
      }
      pos += std::min(nl + 1, rest.size());
    } else {
      auto parsed = formats::parse_csv_record(f.buffer, pos, final_chunk, f.fields);
      if (parsed.status == formats::CsvStatus::need_more) break;
      uint64_t first_line = f.line + 1;
      f.line += std::max<size_t>(parsed.newlines, 1);
      if (parsed.status == formats::CsvStatus::error) {
        append_dead_letter(out, f, first_line, parsed.error, std::string_view(f.buffer).substr(pos, parsed.end - pos));
      } else {
        core::Record& r = out.emplace_back();
        if (auto err = formats::csv_row_to_json(f.header, f.fields, r.value)) {
          out.pop_back();
          append_dead_letter(out, f, first_line, *err, std::string_view(f.buffer).substr(pos, parsed.end - pos));
        } else {
          r.partition = f.partition;
        }
      }
      pos = parsed.end;
    }
    f.offset = f.stream_pos + pos;
    if (out.size() > records_before && (out.size() - records_before) % kPositionEvery == 0 && out.back().position.empty())
      out.back().position = f.position();
  }
  f.consumed = pos;
  if (out.size() > records_before) out.back().position = f.position();
  return grew || out.size() > records_before;
}

awaitable<void> FileSource::run(core::SourceContext& ctx) {
  log_ = &ctx.log();
  // How many files this pipeline is following: a glob that suddenly matches thousands shows here first.
  auto& family = prometheus::BuildGauge()
                     .Name("sluice_file_source_files")
                     .Help("files the file source is reading or following")
                     .Register(ctx.metrics());
  struct SeriesGuard {
    prometheus::Family<prometheus::Gauge>& family;
    prometheus::Gauge& gauge;
    ~SeriesGuard() { family.Remove(&gauge); }
  } files_gauge{family, family.Add({{"pipeline", ctx.pipeline()}})};
  if (!options_.watch && discover().empty())
    ctx.log().warn("no files match {}", options_.path);
  boost::asio::steady_timer timer(ctx.executor());
  core::Records records;
  bool initial = true;
  for (;;) {
    for (const auto& path : discover()) track(ctx, path, initial);
    initial = false;
    files_gauge.gauge.Set(double(files_.size()));
    bool progressed = false;
    bool waiting = false;  // a Parquet file that is not readable yet, or waits for the reader
    for (auto& [name, file] : files_) {
      // Drain a file to its current end before the next, bounded per round so one busy file cannot starve
      // the others in watch mode.
      for (int round = 0; round < 64; ++round) {
        bool got;
        if (file->parquet) {
          const bool may_open = parquet_reader_.empty() || parquet_reader_ == name;
          const auto now = clock_.now();
          const auto step = co_await core::run_blocking(ctx.blocking_executor(), [&] {
            return file->parquet->step({file->fd, file->path, file->partition}, records, may_open, now, *log_);
          });
          if (file->parquet->reader_open()) parquet_reader_ = name;
          else if (parquet_reader_ == name) parquet_reader_.clear();
          waiting |= step == ParquetInput::Step::waiting;
          got = step == ParquetInput::Step::progressed;
        } else {
          got = co_await core::run_blocking(ctx.blocking_executor(), [&] { return read_chunk(*file, records, !options_.watch); });
        }
        if (!records.empty()) co_await ctx.push(records);
        if (!got) break;
        progressed = true;
      }
    }
    // Files that were deleted and read to their end are forgotten (their positions stay committed).
    for (auto it = files_.begin(); it != files_.end();) {
      struct stat st {};
      bool gone = ::fstat(it->second->fd, &st) == 0 && st.st_nlink == 0;
      if (gone && !progressed && it->first != parquet_reader_) it = files_.erase(it);
      else ++it;
    }
    // Bounded mode ends once nothing moved and no Parquet file is still waiting to become readable.
    if (!options_.watch && !progressed && !waiting) co_return;
    if (!progressed) {
      timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(options_.poll_interval.value));
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
  }
}

core::SourceFactory factory() {
  return core::make_source_factory<FileSourceOptions, FileSource>(
      "file", "JSONL and CSV files, optionally gzipped, and Parquet files, from a directory or glob; bounded or followed");
}

}  // namespace sluice::sources::file

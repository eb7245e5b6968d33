#include "sinks/file/file_sink.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

#include "core/async.hpp"
#include "core/crash_point.hpp"
#include "formats/csv.hpp"
#include "formats/gzip.hpp"
#include "formats/timestamp.hpp"
#include "state/state_store.hpp"

namespace sluice::sinks::file {
namespace fs = std::filesystem;
namespace json = boost::json;
using core::awaitable;
using config::opt;

const config::Schema<RollOptions>& RollOptions::schema() {
  static const config::Schema<RollOptions> s{
      "sink.roll",
      {opt(&RollOptions::max_bytes, "max_bytes", "finish a part once it holds this many bytes (on disk)").min(1),
       opt(&RollOptions::max_age, "max_age", "finish a part this long after it was started, at the next commit").above(0)}};
  return s;
}

const config::Schema<FileOptions>& FileOptions::schema() {
  static const config::Schema<FileOptions> s{
      "sink (file)",
      {opt(&FileOptions::path, "path", "directory of part files (created if missing)").required(),
       opt(&FileOptions::format, "format", "jsonl: each record on its own line; csv: RFC 4180 with a header row"),
       opt(&FileOptions::compression, "compression", "gzip writes one gzip member per commit, so every committed prefix is a valid file"),
       opt(&FileOptions::prefix, "prefix", "part file names start with this").default_text("the pipeline's name"),
       opt(&FileOptions::columns, "columns",
           "csv: the header; default: the first record's fields, and a record with new fields starts a new part"),
       opt(&FileOptions::roll, "roll", "when a part is finished and a new one started"),
       opt(&FileOptions::fsync, "fsync", "fsync each commit; false trades the crash guarantee for speed (tests, benchmarks)")}};
  return s;
}

namespace {

[[noreturn]] void throw_errno(const std::string& what, const std::string& path) {
  throw std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw_errno("cannot fsync directory", dir);
}

void append_value_as_csv_field(std::string& out, const json::value* v) {
  if (!v || v->is_null()) return;
  if (v->is_string()) {
    const auto& s = v->get_string();
    formats::append_csv_field(out, std::string_view(s.data(), s.size()));
  } else if (v->is_double()) {
    // Shortest text that reads back to the same double ("2.5", not Boost.JSON's "2.5E0").
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v->get_double());
    out.append(buf, end);
  } else {
    formats::append_csv_field(out, json::serialize(*v));
  }
}

}  // namespace

FileSink::FileSink(FileOptions options) : options_(std::move(options)) {
  ext_ = options_.format == Format::csv ? ".csv" : ".jsonl";
  if (options_.compression == Compression::gzip) ext_ += ".gz";
}

FileSink::~FileSink() {
  if (fd_ >= 0) ::close(fd_);
}

const std::string& FileSink::part_prefix() const { return options_.prefix.empty() ? ctx_->pipeline() : options_.prefix; }

std::string FileSink::final_name(uint64_t number) const {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%010llu", static_cast<unsigned long long>(number));
  return part_prefix() + "-" + digits + ext_;
}

// Exactly ".<prefix>-<10 digits><ext>.inprogress": another pipeline whose prefix merely starts with ours
// ("orders" and "orders-eu") shares the directory safely.
bool FileSink::is_own_temp_name(std::string_view name) const {
  std::string head = "." + part_prefix() + "-";
  std::string tail = ext_ + ".inprogress";
  if (name.size() != head.size() + 10 + tail.size() || !name.starts_with(head) || !name.ends_with(tail)) return false;
  std::string_view digits = name.substr(head.size(), 10);
  return std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Hidden and without the final extension, so globs and readers of finished parts never match it.
std::string FileSink::temp_path(const Part& p) const { return options_.path + "/." + p.name + ".inprogress"; }
std::string FileSink::final_path(const Part& p) const { return options_.path + "/" + p.name; }

void FileSink::save(state::WriteBatch& txn) const {
  json::object o;
  o["next"] = next_number_;
  json::array parts;
  for (const auto& p : parts_) {
    json::array cols;
    for (const auto& c : p.columns) cols.emplace_back(c);
    parts.push_back(json::object{{"name", p.name}, {"length", p.length}, {"created_ms", p.created_ms}, {"sealed", p.sealed},
                                 {"columns", std::move(cols)}});
  }
  o["parts"] = std::move(parts);
  txn.put(state::Family::sink, ctx_->scope(), json::serialize(o));
}

void FileSink::load() {
  parts_.clear();
  next_number_ = 0;
  auto saved = ctx_->state().get(state::Family::sink, ctx_->scope());
  if (!saved) return;
  json::value v = json::parse(*saved);
  next_number_ = v.at("next").to_number<uint64_t>();
  for (const auto& pv : v.at("parts").as_array()) {
    Part p;
    p.name = json::value_to<std::string>(pv.at("name"));
    p.length = pv.at("length").to_number<uint64_t>();
    p.created_ms = pv.at("created_ms").to_number<int64_t>();
    p.sealed = pv.at("sealed").as_bool();
    for (const auto& c : pv.at("columns").as_array()) p.columns.push_back(json::value_to<std::string>(c));
    parts_.push_back(std::move(p));
  }
}

// Brings the directory back to the last committed state: committed parts are cut to their committed length,
// sealed ones get their final name, and in-progress files no commit ever mentioned are deleted.
void FileSink::recover_files() {
  std::error_code ec;
  fs::create_directories(options_.path, ec);
  if (ec) throw std::runtime_error("cannot create sink directory " + options_.path + ": " + ec.message());
  for (auto& p : parts_) {
    std::string tmp = temp_path(p);
    struct stat st {};
    if (::stat(tmp.c_str(), &st) == 0 && uint64_t(st.st_size) < p.length)
      throw std::runtime_error("part " + tmp + " holds " + std::to_string(st.st_size) + " bytes but " +
                               std::to_string(p.length) + " were committed: the file was changed outside sluice");
    if (::truncate(tmp.c_str(), off_t(p.length)) == 0) {
      int fd = ::open(tmp.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::fsync(fd) != 0) throw_errno("cannot fsync", tmp);
      ::close(fd);
    } else if (errno == ENOENT && fs::exists(final_path(p))) {
      p.sealed = true;  // renamed before the crash; only the state update was lost
    } else {
      throw_errno("committed part is missing or cannot be truncated:", tmp);
    }
  }
  for (const auto& entry : fs::directory_iterator(options_.path)) {
    std::string name = entry.path().filename().string();
    if (!is_own_temp_name(name)) continue;
    bool listed = false;
    for (const auto& p : parts_) listed |= name == "." + p.name + ".inprogress";
    if (!listed) {
      ctx_->log().info("removing uncommitted part {}", name);
      fs::remove(entry.path());
    }
  }
  fsync_dir(options_.path);
}

awaitable<std::optional<core::Checkpoint>> FileSink::open(core::SinkContext& ctx) {
  ctx_ = &ctx;
  co_await core::run_blocking(ctx.blocking_executor(), [&] {
    load();
    recover_files();
    if (finish_sealed()) {
      state::WriteBatch txn;
      save(txn);
      ctx.state().write(txn, true);
    }
    if (has_open_part()) {
      fd_ = ::open(temp_path(parts_.back()).c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
      if (fd_ < 0) throw_errno("cannot open", temp_path(parts_.back()));
    }
    return 0;
  });
  if (options_.compression == Compression::gzip) gzip_ = std::make_unique<formats::GzipEncoder>();
  co_return std::nullopt;
}

bool FileSink::has_open_part() const { return !parts_.empty() && !parts_.back().sealed; }

void FileSink::open_new_part(const std::vector<std::string>& columns) {
  if (has_open_part()) {
    ::close(fd_);
    fd_ = -1;
    parts_.back().sealed = true;
  }
  Part p;
  // Skip numbers whose files exist: a state_dir that was wiped must not overwrite earlier output.
  do p.name = final_name(next_number_++);
  while (fs::exists(final_path(p)) || fs::exists(temp_path(p)));
  p.created_ms = formats::unix_ms_now();
  p.columns = columns;
  fd_ = ::open(temp_path(p).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_errno("cannot create", temp_path(p));
  core::crash_point("file_sink.after_create");
  // The commit will name this file: its directory entry must be durable first.
  if (options_.fsync) fsync_dir(options_.path);
  parts_.push_back(std::move(p));
}

void FileSink::append_pending() {
  if (buffer_.empty()) return;
  std::string_view data = buffer_;
  if (gzip_) {
    // One complete member per append: every committed length ends on a member boundary.
    compressed_.clear();
    gzip_->write(buffer_, compressed_);
    gzip_->finish_member(compressed_);
    data = compressed_;
  }
  const std::string path = temp_path(parts_.back());
  for (size_t done = 0; done < data.size();) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("cannot write", path);
    done += size_t(n);
  }
  core::crash_point("file_sink.after_append");
  if (options_.fsync && ::fdatasync(fd_) != 0) throw_errno("cannot fsync", path);
  core::crash_point("file_sink.after_fsync");
  parts_.back().length += data.size();
  buffer_.clear();
}

// CSV: the header is the declared columns, or the fields seen so far in this part; a record with a new
// field starts a new part with the wider header instead of losing the field.
void FileSink::encode_csv(const core::Record& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.value, ec);
  const json::object* obj = !ec && v.is_object() ? &v.as_object() : nullptr;
  std::vector<std::string> columns = has_open_part() ? parts_.back().columns : options_.columns;
  bool widen = !has_open_part();
  if (options_.columns.empty()) {
    if (obj) {
      for (const auto& kv : *obj)
        if (std::find(columns.begin(), columns.end(), std::string_view(kv.key())) == columns.end()) {
          columns.emplace_back(kv.key());
          widen = true;
        }
    } else if (columns.empty()) {
      columns = {"value"};
    }
  }
  if (widen) {
    if (has_open_part()) append_pending();
    open_new_part(columns);
    for (size_t i = 0; i < columns.size(); ++i) {
      if (i) buffer_.push_back(',');
      formats::append_csv_field(buffer_, columns[i]);
    }
    buffer_.push_back('\n');
  }
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) buffer_.push_back(',');
    if (obj)
      append_value_as_csv_field(buffer_, obj->if_contains(columns[i]));
    else if (columns[i] == "value")
      formats::append_csv_field(buffer_, r.value);
  }
  buffer_.push_back('\n');
}

awaitable<void> FileSink::write(core::Batch& batch, state::WriteBatch& txn) {
  co_await core::run_blocking(ctx_->blocking_executor(), [&] {
    buffer_.clear();
    if (options_.format == Format::csv) {
      for (const auto& r : batch.records) encode_csv(r);
    } else {
      if (!has_open_part()) open_new_part({});
      for (const auto& r : batch.records) {
        buffer_.append(r.value);
        buffer_.push_back('\n');
      }
    }
    append_pending();
    save(txn);
    return 0;
  });
}

// Gives sealed parts their final names. Renaming before the state says so is safe: recovery recognises a
// part whose in-progress file is gone but whose final file exists.
bool FileSink::finish_sealed() {
  bool changed = false;
  while (!parts_.empty() && parts_.front().sealed) {
    Part& p = parts_.front();
    if (p.length == 0) {
      fs::remove(temp_path(p));
    } else if (!fs::exists(final_path(p))) {
      if (::rename(temp_path(p).c_str(), final_path(p).c_str()) != 0) throw_errno("cannot rename", temp_path(p));
      core::crash_point("file_sink.after_rename");
    }
    ctx_->log().debug("finished part {} ({} bytes)", p.name, p.length);
    parts_.erase(parts_.begin());
    changed = true;
  }
  if (changed && options_.fsync) fsync_dir(options_.path);
  return changed;
}

void FileSink::seal_open_part() {
  if (!has_open_part()) return;
  ::close(fd_);
  fd_ = -1;
  parts_.back().sealed = true;
}

awaitable<void> FileSink::committed() {
  if (parts_.empty()) co_return;  // nothing to roll or finish: no trip to the blocking pool
  co_await core::run_blocking(ctx_->blocking_executor(), [&] {
    if (has_open_part()) {
      const Part& p = parts_.back();
      bool full = p.length >= options_.roll.max_bytes.bytes;
      bool old = formats::unix_ms_now() - p.created_ms >= std::chrono::duration_cast<std::chrono::milliseconds>(options_.roll.max_age.value).count();
      if (full || old) seal_open_part();
    }
    if (finish_sealed()) {
      state::WriteBatch txn;
      save(txn);
      ctx_->state().write(txn, true);
    }
    return 0;
  });
}

awaitable<void> FileSink::close(state::WriteBatch& txn) {
  co_await core::run_blocking(ctx_->blocking_executor(), [&] {
    seal_open_part();
    finish_sealed();
    save(txn);
    return 0;
  });
}

void FileSink::abort() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

core::SinkFactory factory() {
  return core::make_sink_factory<FileOptions, FileSink>("file", "A directory of JSONL or CSV part files, optionally gzipped");
}

}  // namespace sluice::sinks::file

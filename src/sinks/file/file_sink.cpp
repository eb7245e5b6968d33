#include "sinks/file/file_sink.hpp"

#include <fcntl.h>
#include <prometheus/counter.h>
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
#include "formats/json_check.hpp"
#include "formats/parquet/infer.hpp"
#include "formats/timestamp.hpp"
#include "metrics/owned_series.hpp"
#include "state/state_store.hpp"

namespace sluice::config {

bool Codec<sinks::file::ColumnDecl>::parse(const Value& v, sinks::file::ColumnDecl& out, Context& ctx) {
  out = {};
  out.mark = v.mark;
  if (v.is_scalar()) {
    out.name = v.text;
    return true;
  }
  if (!v.is_map()) {
    ctx.error(v.mark, "expected a column name or a mapping {name, type, nullable}, got " + std::string(v.kind_name()));
    return false;
  }
  bool ok = true;
  for (const auto& e : v.entries) {
    if (e.key == "name") {
      ok &= parse_string(e.value, out.name, ctx);
    } else if (e.key == "type") {
      ok &= parse_string(e.value, out.type, ctx);
      if (ok) {
        try {
          (void)formats::parquet::parse_column_type(out.type);
        } catch (const std::invalid_argument& err) {
          ctx.error(e.value.mark, err.what());
          ok = false;
        }
      }
    } else if (e.key == "nullable") {
      ok &= parse_bool(e.value, out.nullable, ctx);
    } else {
      ctx.error(e.key_mark, "unknown key '" + e.key + "' in a column; valid keys: 'name', 'type', 'nullable'");
      ok = false;
    }
  }
  if (out.name.empty()) {
    ctx.error(v.mark, "a column needs a name");
    ok = false;
  }
  return ok;
}

}  // namespace sluice::config

namespace sluice::sinks::file {
namespace fs = std::filesystem;
namespace json = boost::json;
using core::awaitable;
using config::opt;

namespace {

formats::parquet::Codec codec_of(Compression c) {
  switch (c) {
    case Compression::none: return formats::parquet::Codec::uncompressed;
    case Compression::gzip: return formats::parquet::Codec::gzip;
    case Compression::zstd: return formats::parquet::Codec::zstd;
    case Compression::snappy: return formats::parquet::Codec::snappy;
  }
  return formats::parquet::Codec::zstd;
}

}  // namespace

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
       opt(&FileOptions::format, "format",
           "jsonl: each record on its own line; csv: RFC 4180 with a header row; parquet: columnar, see docs/formats/parquet.md"),
       opt(&FileOptions::compression, "compression",
           "jsonl, csv: none or gzip (one gzip member per commit, so every committed prefix is a valid file); parquet: "
           "zstd, snappy, gzip or none, per page")
           .default_text("none (jsonl, csv), zstd (parquet)"),
       opt(&FileOptions::compression_level, "compression_level", "the codec's level (gzip 1-9, zstd 1-22); default: the codec's own")
           .default_text("the codec's default"),
       opt(&FileOptions::prefix, "prefix", "part file names start with this").default_text("the pipeline's name"),
       opt(&FileOptions::columns, "columns",
           "csv: the header (names); default: the first record's fields, and a record with new fields starts a new part. "
           "parquet: the schema, each {name, type, nullable} (types in docs/formats/parquet.md)"),
       opt(&FileOptions::schema_mode, "schema",
           "parquet: columns (declared by columns:) or infer (from the first batch; a record with a new field, or a whole "
           "number column that gets a fraction, starts a new part with the wider schema)"),
       opt(&FileOptions::row_group_bytes, "row_group_bytes",
           "parquet: a row group is written once its rows take this many bytes in the file, whatever the commit rate")
           .min(64 * 1024),
       opt(&FileOptions::roll, "roll", "when a part is finished and a new one started"),
       opt(&FileOptions::fsync, "fsync", "fsync each commit; false trades the crash guarantee for speed (tests, benchmarks)")},
      [](const FileOptions& o, const config::Value& node, config::Context& ctx) {
        auto where = [&](const char* key) {
          const config::Value* v = node.find(key);
          return v ? v->mark : node.mark;
        };
        const auto compression = o.effective_compression();
        if (o.format != Format::parquet) {
          if (compression != Compression::none && compression != Compression::gzip)
            ctx.error(where("compression"), "compression for jsonl and csv parts is none or gzip");
          for (const auto& c : o.columns)
            if (!c.type.empty()) ctx.error(c.mark, "column '" + c.name + "': a type is for parquet; csv columns are names");
          if (o.schema_mode == SchemaMode::infer) ctx.error(where("schema"), "schema: infer is for parquet");
          if (o.compression_level && (compression != Compression::gzip || *o.compression_level < 1 || *o.compression_level > 9))
            ctx.error(where("compression_level"), "compression_level for jsonl and csv parts is a gzip level, 1 to 9");
          return;
        }
        if (o.schema_mode == SchemaMode::columns && o.columns.empty())
          ctx.error(node.mark, "format parquet needs its columns declared (columns: [{name, type}, ...]) or schema: infer");
        if (o.schema_mode == SchemaMode::infer && !o.columns.empty())
          ctx.error(where("columns"), "schema: infer takes no columns; declare them, or let them be inferred");
        std::vector<std::string> names;
        for (const auto& c : o.columns) {
          if (c.type.empty()) ctx.error(c.mark, "column '" + c.name + "' needs a type for parquet (for example: type: int64)");
          if (std::find(names.begin(), names.end(), c.name) != names.end()) ctx.error(c.mark, "column '" + c.name + "' declared twice");
          names.push_back(c.name);
        }
        try {
          formats::parquet::Compressor check(codec_of(compression), o.compression_level.value_or(0));
        } catch (const std::invalid_argument& e) {
          ctx.error(where("compression_level"), e.what());
        }
      }};
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
  if (options_.format == Format::parquet) {
    // Parquet compresses inside, page by page: the file keeps its one extension.
    ext_ = ".parquet";
    parquet_options_.codec = codec_of(options_.effective_compression());
    parquet_options_.level = options_.compression_level.value_or(0);
    // Many pages to a row group, so that its size on disk can be told from its pages as they are compressed.
    parquet_options_.page_bytes = std::min<size_t>(parquet_options_.page_bytes, options_.row_group_bytes.bytes / 16);
    // The sink's thread shreds and encodes while another compresses: compression is a third of the work.
    parquet_options_.background_compression = true;
    for (const auto& c : options_.columns) {
      formats::parquet::ColumnType type = formats::parquet::parse_column_type(c.type);
      type.nullable = type.nullable && c.nullable;
      declared_columns_.push_back({c.name, std::move(type)});
    }
  } else {
    ext_ = options_.format == Format::csv ? ".csv" : ".jsonl";
    if (options_.effective_compression() == Compression::gzip) ext_ += ".gz";
    for (const auto& c : options_.columns) csv_columns_.push_back(c.name);
  }
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
std::string FileSink::stage_prefix(const Part& p) const { return options_.path + "/." + p.name + ".stage-"; }

// ".<prefix>-<10 digits><ext>.stage-<generation>": a Parquet part's staged rows.
bool FileSink::is_own_stage_name(std::string_view name) const {
  const size_t mark = name.rfind(".stage-");
  if (mark == std::string_view::npos || mark + 7 == name.size()) return false;
  const std::string_view generation = name.substr(mark + 7);
  return std::all_of(generation.begin(), generation.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
         is_own_temp_name(std::string(name.substr(0, mark)) + ".inprogress");
}

void FileSink::save(state::WriteBatch& txn) const {
  json::object o;
  o["next"] = next_number_;
  json::array parts;
  for (const auto& p : parts_) {
    json::array cols;
    for (const auto& c : p.columns) cols.emplace_back(c);
    json::object part{{"name", p.name}, {"length", p.length}, {"created_ms", p.created_ms}, {"sealed", p.sealed},
                      {"columns", std::move(cols)}};
    if (p.parquet) part["parquet"] = parquet_state_to_json(*p.parquet);
    parts.push_back(std::move(part));
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
    if (const auto* pq = pv.as_object().if_contains("parquet")) p.parquet = parquet_state_from_json(pq->as_object());
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
    if (is_own_stage_name(name)) {
      // Only the open part's current stage holds committed rows; older generations are in its row groups.
      const Part* open = has_open_part() && parts_.back().parquet ? &parts_.back() : nullptr;
      if (!open || name != "." + open->name + ".stage-" + std::to_string(open->parquet->stage_generation)) fs::remove(entry.path());
      continue;
    }
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
      if (const Part& p = parts_.back(); p.parquet) {
        parquet_ = std::make_unique<ParquetPart>(temp_path(p), stage_prefix(p), *p.parquet, parquet_options_,
                                                 options_.row_group_bytes.bytes, options_.fsync);
        parquet_->recover();
        ctx.log().info("resumed part {}: {} row groups, {} staged rows", p.name, p.parquet->row_groups.size(),
                       parquet_->rows_in_memory());
      }
    }
    return 0;
  });
  if (options_.format == Format::parquet && options_.schema_mode == SchemaMode::infer) {
    series_ = std::make_unique<metrics::OwnedSeries>(ctx.metrics(), metrics::Labels{{"pipeline", ctx.pipeline()}});
    schema_drift_ = &series_->counter("sluice_file_sink_schema_drift_total",
                                      "parts started early because a record brought fields or types the part's schema lacked");
  }
  if (options_.format != Format::parquet && options_.effective_compression() == Compression::gzip) gzip_ = std::make_unique<formats::GzipEncoder>(options_.compression_level.value_or(6));
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
  std::vector<std::string> columns = has_open_part() ? parts_.back().columns : csv_columns_;
  bool widen = !has_open_part();
  if (csv_columns_.empty()) {
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

void FileSink::reject(core::Record& r, const std::string& reason, core::Records& rejected) const {
  core::Record& out = rejected.emplace_back(std::move(r));
  out.rejected = true;
  std::string value = "{\"sink\":\"file\",\"reason\":";
  formats::append_json_string(value, reason);
  value += ",\"original\":";
  formats::append_json_string(value, out.value);
  value += "}";
  out.value = std::move(value);
}

void FileSink::open_parquet_part(std::vector<formats::parquet::ColumnSpec> columns) {
  open_new_part({});
  Part& p = parts_.back();
  p.parquet = ParquetPart::State{std::move(columns), {}, 0, 0};
  parquet_ = std::make_unique<ParquetPart>(temp_path(p), stage_prefix(p), *p.parquet, parquet_options_,
                                           options_.row_group_bytes.bytes, options_.fsync);
  p.length = parquet_->start(fd_);
  if (options_.fsync && ::fdatasync(fd_) != 0) throw_errno("cannot fsync", temp_path(p));
}

// The rows left in memory become the last row group, then the footer; the part is sealed (renamed after the
// commit that records it).
void FileSink::finish_parquet_part() {
  Part& p = parts_.back();
  json::object about{{"pipeline", ctx_->pipeline()}, {"writer", "sluice " SLUICE_VERSION}};
  p.length = parquet_->finish(fd_, p.length, {{"sluice", json::serialize(about)}}, "sluice version " SLUICE_VERSION);
  *p.parquet = parquet_->state();
  parquet_.reset();
  seal_open_part();
}

void FileSink::write_parquet(core::Batch& batch) {
  using formats::parquet::ColumnSpec;
  const bool infer = options_.schema_mode == SchemaMode::infer;
  if (has_open_part() && !parquet_) seal_open_part();  // a part of another format, from before a config change
  if (!has_open_part()) {
    std::vector<ColumnSpec> columns = declared_columns_;
    if (infer)
      for (const auto& r : batch.records) formats::parquet::widen_columns(columns, r.value);
    if (columns.empty()) {
      // Not one value to take a column's type from (only nulls, empty objects or arrays): nothing to write.
      for (auto& r : batch.records) reject(r, "no field with a value to infer a column from", batch.rejected);
      batch.records.clear();
      return;
    }
    open_parquet_part(std::move(columns));
  }
  size_t kept = 0;
  for (size_t i = 0; i < batch.records.size(); ++i) {
    core::Record& r = batch.records[i];
    std::optional<std::string> refused = parquet_->add(r.value, !infer);
    if (refused && infer) {
      std::vector<ColumnSpec> wider = parquet_->columns();
      formats::parquet::widen_columns(wider, r.value);
      if (wider != parquet_->columns()) {
        ctx_->log().info("schema drift: {}; finishing part {} and starting one with {} columns", *refused, parts_.back().name,
                         wider.size());
        schema_drift_->Increment();
        finish_parquet_part();
        open_parquet_part(std::move(wider));
        refused = parquet_->add(r.value, false);
      } else if (parquet_->new_field()) {
        refused = parquet_->add(r.value, true);  // its new fields hold nothing to type them by: left out
      }
    }
    if (refused) {
      reject(r, *refused, batch.rejected);
      continue;
    }
    if (kept != i) batch.records[kept] = std::move(r);
    ++kept;
  }
  batch.records.resize(kept);
  Part& p = parts_.back();
  p.length = parquet_->persist(fd_, p.length);
  *p.parquet = parquet_->state();
}

awaitable<void> FileSink::write(core::Batch& batch, state::WriteBatch& txn) {
  co_await core::run_blocking(ctx_->blocking_executor(), [&] {
    buffer_.clear();
    if (options_.format == Format::parquet) {
      write_parquet(batch);
      save(txn);
      return 0;
    }
    if (parquet_) finish_parquet_part();  // a Parquet part from before a config change
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
    if (p.parquet)
      for (uint64_t g = 0; g <= p.parquet->stage_generation; ++g) ::unlink((stage_prefix(p) + std::to_string(g)).c_str());
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
      if (full || old) {
        if (parquet_) finish_parquet_part();
        else seal_open_part();
      }
    }
    if (parquet_) parquet_->remove_stale_stages();
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
    if (parquet_) finish_parquet_part();
    else seal_open_part();
    finish_sealed();
    save(txn);
    return 0;
  });
}

void FileSink::abort() {
  parquet_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

core::SinkFactory factory() {
  return core::make_sink_factory<FileOptions, FileSink>("file", "A directory of JSONL, CSV or Parquet part files");
}

}  // namespace sluice::sinks::file

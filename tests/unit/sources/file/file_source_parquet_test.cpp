// The file source reading Parquet files, driven through its real interface (run() with a SourceContext that
// collects what is pushed and hands in the checkpoint a test chooses, as the engine does after a commit).
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <prometheus/registry.h>

#include "formats/parquet/column_spec.hpp"
#include "formats/parquet/writer.hpp"
#include "sources/file/file_source.hpp"
#include "sources/file/parquet_input.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using sluice::testing::TempDir;
namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
namespace pq = sluice::formats::parquet;
using sources::file::FileSource;
using sources::file::FileSourceOptions;
using sources::file::ParquetPosition;

namespace {

// Collects what the source pushes; partitions keep their names so that a checkpoint can be built from them.
struct CollectingContext final : core::SourceContext {
  asio::io_context& io;
  core::Checkpoint saved;
  std::vector<core::Record> records;
  std::vector<std::string> partitions;
  std::string name = "test";
  prometheus::Registry registry;
  explicit CollectingContext(asio::io_context& io_) : io(io_) {}
  const std::string& pipeline() const override { return name; }
  const core::Checkpoint& checkpoint() const override { return saved; }
  uint32_t partition(std::string_view p) override {
    for (size_t i = 0; i < partitions.size(); ++i)
      if (partitions[i] == p) return uint32_t(i);
    partitions.emplace_back(p);
    return uint32_t(partitions.size() - 1);
  }
  asio::awaitable<void> push(core::Records& rs) override {
    for (auto& r : rs) records.push_back(std::move(r));
    rs.clear();
    co_return;
  }
  spdlog::logger& log() override { return *spdlog::default_logger(); }
  asio::any_io_executor executor() override { return io.get_executor(); }
  asio::any_io_executor blocking_executor() override { return io.get_executor(); }
  prometheus::Registry& metrics() override { return registry; }
  void set_degraded(std::string_view) override {}
  const std::string& instance() const override { return name; }
  asio::awaitable<void> withdraw(const std::vector<uint32_t>&) override { co_return; }
};

// Each reading of the time moves it on by `step`: a file that stays invalid is given up on after a known
// number of polls, without the test sleeping through the settle time.
struct SteppingClock final : core::Clock {
  explicit SteppingClock(duration step_) : step(step_) {}
  time_point now() const override { return t += step; }
  duration step;
  mutable time_point t{};
};

// One source run on its own io_context. Bounded runs go to the end with finish(); watch runs are driven
// with run_until() and stopped through the cancellation slot, as the pipeline stops a source.
struct SourceRun {
  asio::io_context io;
  CollectingContext ctx{io};
  FileSource source;
  asio::cancellation_signal stop;
  std::exception_ptr error;
  bool finished = false;

  SourceRun(const FileSourceOptions& o, const core::Clock& clock, core::Checkpoint from = {}) : source(o, clock) {
    ctx.saved = std::move(from);
    asio::co_spawn(io, source.run(ctx), asio::bind_cancellation_slot(stop.slot(), [this](std::exception_ptr e) {
                     error = e;
                     finished = true;
                   }));
  }
  // Runs until `done` holds (true) or the timeout passes (false).
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 20s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && !finished && std::chrono::steady_clock::now() < deadline) io.run_for(5ms);
    return done();
  }
  void cancel() {
    stop.emit(asio::cancellation_type::terminal);
    io.run();
  }
  // A bounded run to its end: the source must return by itself.
  void finish() {
    io.run_for(60s);
    REQUIRE(finished);
    if (error) std::rethrow_exception(error);
  }
  std::vector<core::Record> data() const {
    std::vector<core::Record> out;
    for (const auto& r : ctx.records)
      if (!r.rejected && !r.position_only) out.push_back(r);
    return out;
  }
  std::vector<core::Record> dead_letters() const {
    std::vector<core::Record> out;
    for (const auto& r : ctx.records)
      if (r.rejected) out.push_back(r);
    return out;
  }
};

FileSourceOptions options(const std::string& path, bool watch) {
  FileSourceOptions o;
  o.path = path;
  o.watch = watch;
  o.poll_interval.value = std::chrono::milliseconds(1);
  return o;
}

const core::ManualClock& frozen_clock() {
  static const core::ManualClock clock;
  return clock;
}

std::vector<pq::ColumnSpec> test_columns() {
  std::vector<pq::ColumnSpec> out;
  for (const auto& [name, type] : std::vector<std::pair<const char*, const char*>>{
           {"id", "int64 not null"},
           {"name", "string"},
           {"flag", "bool"},
           {"tags", "list<string>"},
           {"point", "struct{x: int32, y: int32, label: string}"},
           {"items", "list<struct{k: string, v: list<int64>}>"}})
    out.push_back({name, pq::parse_column_type(type)});
  return out;
}

// Row `id` as the JSON object the reader returns (every column present, nulls explicit): nested lists and
// structs, null and empty lists, null structs and null fields inside them.
std::string row_json(uint64_t id) {
  const std::string n = std::to_string(id);
  std::string s = "{\"id\":" + n;
  s += ",\"name\":" + (id % 7 == 3 ? std::string("null") : "\"name \\\"" + n + "\\\" ü\"");
  s += ",\"flag\":" + std::string(id % 5 == 0 ? "null" : id % 2 ? "true" : "false");
  s += ",\"tags\":" + std::string(id % 6 == 1 ? "null" : id % 6 == 2 ? "[]" : "[\"a\",null,\"t" + n + "\"]");
  s += ",\"point\":" + (id % 4 == 2 ? std::string("null")
                                    : "{\"x\":" + std::to_string(id % 1000) + ",\"y\":" + (id % 3 ? "-7" : "null") +
                                          ",\"label\":" + (id % 9 ? "\"p\"" : "null") + "}");
  s += ",\"items\":" + (id % 8 == 5 ? std::string("null")
                                    : "[{\"k\":\"k" + n + "\",\"v\":[1,null," + n + "]},null,{\"k\":null,\"v\":[]}]");
  return s + "}";
}

struct TestFile {
  std::string bytes;
  std::vector<pq::RowGroup> groups;
};

// Rows first_id .. first_id+count-1, a row group every `per_group` rows.
TestFile make_parquet(uint64_t first_id, uint64_t count, uint64_t per_group, bool dictionary = true) {
  pq::WriterOptions wo;
  wo.dictionary = dictionary;
  wo.page_bytes = 8 << 10;  // several pages per column chunk
  pq::Writer writer(test_columns(), wo);
  TestFile f{std::string(pq::kParquetMagic), {}};
  for (uint64_t id = first_id; id < first_id + count; ++id) {
    auto why = writer.add(row_json(id));
    REQUIRE_FALSE(why);
    if (writer.rows() == per_group) f.groups.push_back(writer.flush(f.bytes.size(), f.bytes));
  }
  if (writer.rows()) f.groups.push_back(writer.flush(f.bytes.size(), f.bytes));
  f.bytes += writer.footer(f.groups, {}, "sluice file source test");
  return f;
}

// Written elsewhere, then renamed into place, as sluice's own sink finishes a part.
void place(const TempDir& dir, const std::string& name, const std::string& bytes) {
  sluice::testing::write_file(dir / ("tmp/" + name), bytes);
  fs::create_directories(dir / "in");
  fs::rename(dir / ("tmp/" + name), dir / ("in/" + name));
}

uint64_t id_of(const core::Record& r) { return uint64_t(json::parse(r.value).at("id").as_int64()); }

// Every row of [first, first+count) exactly once, in order, with the JSON it was written with.
void require_rows(const std::vector<core::Record>& records, uint64_t first, uint64_t count) {
  REQUIRE(records.size() == count);
  for (uint64_t i = 0; i < count; ++i) {
    INFO("row " << i << ": " << records[i].value);
    REQUIRE(json::parse(records[i].value) == json::parse(row_json(first + i)));
  }
}

// The checkpoint the engine would commit after delivering records[0..last]: each partition at the position
// of its last record that carries one.
core::Checkpoint checkpoint_after(const SourceRun& run, const std::vector<core::Record>& records, size_t last,
                                  core::Checkpoint base = {}) {
  for (size_t i = 0; i <= last; ++i)
    if (!records[i].position.empty()) base[run.ctx.partitions.at(records[i].partition)] = records[i].position;
  return base;
}

}  // namespace

TEST_CASE("every Parquet row becomes one record with the row's JSON object, in file order", "[file_source][parquet]") {
  TempDir dir;
  place(dir, "data.parquet", make_parquet(0, 5000, 1000).bytes);
  SourceRun run(options(dir / "in", false), frozen_clock());
  run.finish();
  const auto records = run.data();
  require_rows(records, 0, 5000);
  CHECK(run.dead_letters().empty());
  // Positions as often as for JSONL lines: at least every 128 records, and on the last.
  size_t since = 0;
  for (const auto& r : records) {
    since = r.position.empty() ? since + 1 : 0;
    REQUIRE(since < 128);
  }
  REQUIRE_FALSE(records.back().position.empty());
  auto last = ParquetPosition::parse(records.back().position);
  REQUIRE(last);
  CHECK(last->rows == 5000);
  CHECK_FALSE(last->abandoned);
  CHECK(last->size == fs::file_size(dir / "in/data.parquet"));
}

TEST_CASE("a Parquet position reads back as written and rejects other position texts", "[file_source][parquet]") {
  ParquetPosition p{3, 1200, 31200, 256, 11400714819323198485ull, 52428800, false};
  CHECK(p.text() == "parquet 3 1200 31200 256 11400714819323198485 52428800");
  auto back = ParquetPosition::parse(p.text());
  REQUIRE(back);
  CHECK(back->row_group == 3);
  CHECK(back->row == 1200);
  CHECK(back->rows == 31200);
  CHECK(back->fingerprint == 11400714819323198485ull);
  CHECK_FALSE(back->abandoned);
  p.abandoned = true;
  CHECK(ParquetPosition::parse(p.text())->abandoned);
  CHECK_FALSE(ParquetPosition::parse("1048123 18072 256 11400714819323198485"));
  CHECK_FALSE(ParquetPosition::parse("parquet 3 1200 31200 256 1 2 skip"));
  CHECK_FALSE(ParquetPosition::parse("parquet 3 x 31200 256 1 2"));
}

TEST_CASE("a Parquet checkpoint mid-row-group, at a row-group boundary and at the end resumes with no row lost or repeated",
          "[file_source][parquet]") {
  TempDir dir;
  // Row groups of 1024 rows: a position every 128 records falls inside row groups and on their boundaries.
  place(dir, "data.parquet", make_parquet(0, 4500, 1024).bytes);
  SourceRun full(options(dir / "in", false), frozen_clock());
  full.finish();
  const auto all = full.data();
  require_rows(all, 0, 4500);

  auto resume_after = [&](size_t last) {
    INFO("resuming after row " << last << " at " << all[last].position);
    REQUIRE_FALSE(all[last].position.empty());
    SourceRun again(options(dir / "in", false), frozen_clock(), checkpoint_after(full, all, last));
    again.finish();
    require_rows(again.data(), last + 1, 4500 - last - 1);
    CHECK(again.dead_letters().empty());
  };
  SECTION("mid-row-group") {
    CHECK(ParquetPosition::parse(all[1151].position)->row_group == 1);
    CHECK(ParquetPosition::parse(all[1151].position)->row == 128);
    resume_after(1151);
  }
  SECTION("at a row-group boundary") {
    // Written as the start of the next row group.
    CHECK(ParquetPosition::parse(all[2047].position)->row_group == 2);
    CHECK(ParquetPosition::parse(all[2047].position)->row == 0);
    resume_after(2047);
  }
  SECTION("at a row-group boundary written as the end of the row group") {
    ParquetPosition p = *ParquetPosition::parse(all[2047].position);
    p.row_group = 1;
    p.row = 1024;
    SourceRun again(options(dir / "in", false), frozen_clock(), {{full.ctx.partitions.at(0), p.text()}});
    again.finish();
    require_rows(again.data(), 2048, 4500 - 2048);
  }
  SECTION("at the end of the file") { resume_after(all.size() - 1); }
  SECTION("through a chain of restarts, each from the previous run's checkpoint") {
    // As repeated crashes do: each run delivers a while, its checkpoint is taken at some position, and the
    // next run starts from there; together they deliver every row once.
    std::vector<core::Record> delivered;
    core::Checkpoint checkpoint;
    for (size_t cut : {300u, 1u, 1023u, 777u, 129u}) {
      SourceRun part(options(dir / "in", false), frozen_clock(), checkpoint);
      part.finish();
      auto got = part.data();
      size_t last = std::min(size_t(cut), got.size() - 1);
      while (got[last].position.empty()) ++last;  // a batch only ends where a position is
      checkpoint = checkpoint_after(part, got, last, checkpoint);
      delivered.insert(delivered.end(), got.begin(), got.begin() + std::ptrdiff_t(last + 1));
    }
    SourceRun rest(options(dir / "in", false), frozen_clock(), checkpoint);
    rest.finish();
    auto got = rest.data();
    delivered.insert(delivered.end(), got.begin(), got.end());
    require_rows(delivered, 0, 4500);
  }
}

TEST_CASE("format auto reads .parquet and .parq files as Parquet and leaves .parquet.gz alone", "[file_source][parquet]") {
  TempDir dir;
  place(dir, "a.parquet", make_parquet(0, 300, 100).bytes);
  place(dir, "b.parq", make_parquet(300, 200, 64).bytes);
  place(dir, "c.jsonl", "{\"id\":500}\n{\"id\":501}\n");
  place(dir, "d.parquet.gz", make_parquet(1000, 10, 10).bytes);
  place(dir, "e.dat", make_parquet(2000, 10, 10).bytes);
  {
    SourceRun run(options(dir / "in", false), frozen_clock());
    run.finish();
    std::vector<uint64_t> ids;
    for (const auto& r : run.data()) ids.push_back(id_of(r));
    std::sort(ids.begin(), ids.end());
    REQUIRE(ids.size() == 502);
    for (uint64_t i = 0; i < 502; ++i) REQUIRE(ids[i] == i);
    CHECK(run.dead_letters().empty());
  }
  // format: parquet reads whatever the glob yields as Parquet.
  FileSourceOptions o = options(dir / "in/*.dat", false);
  o.format = sources::file::InputFormat::parquet;
  SourceRun run(o, frozen_clock());
  run.finish();
  require_rows(run.data(), 2000, 10);
}

TEST_CASE("a Parquet file still being written is retried and read once complete, with no dead letter",
          "[file_source][parquet]") {
  TempDir dir;
  const TestFile file = make_parquet(0, 3000, 700);
  fs::create_directories(dir / "in");
  // Written in place in two steps, as a copy does: first most of the data, then the rest and the footer.
  const size_t half = file.bytes.size() / 2;
  sluice::testing::write_file(dir / "in/copy.parquet", file.bytes.substr(0, half));
  SourceRun run(options(dir / "in", true), frozen_clock());
  run.run_until([] { return false; }, 300ms);  // many polls of the incomplete file
  CHECK(run.ctx.records.empty());
  REQUIRE_FALSE(run.finished);
  sluice::testing::append_file(dir / "in/copy.parquet", file.bytes.substr(half));
  REQUIRE(run.run_until([&] { return run.ctx.records.size() >= 3000; }));
  run.run_until([] { return false; }, 100ms);
  run.cancel();
  require_rows(run.data(), 0, 3000);
  CHECK(run.dead_letters().empty());
}

TEST_CASE("a file that stays invalid Parquet is dead-lettered once after the settle time, and only once across restarts",
          "[file_source][parquet]") {
  TempDir dir;
  const TestFile good = make_parquet(0, 400, 128);
  place(dir, "good.parquet", good.bytes);
  place(dir, "cut.parquet", good.bytes.substr(0, good.bytes.size() - 100));  // a copy that stopped
  SteppingClock clock(1s);
  SourceRun run(options(dir / "in", false), clock);
  run.finish();
  require_rows(run.data(), 0, 400);
  const auto dead = run.dead_letters();
  REQUIRE(dead.size() == 1);
  const auto entry = json::parse(dead[0].value).as_object();
  CHECK(entry.at("file").as_string() == dir / "in/cut.parquet");
  CHECK_THAT(std::string(entry.at("reason").as_string()),
             Catch::Contains("not a valid Parquet file, unchanged for 10s") && Catch::Contains("PAR1"));
  CHECK(ParquetPosition::parse(dead[0].position)->abandoned);
  // The settle time passed on sluice's clock: at least ten seconds of it between the first look and the report.
  CHECK(clock.t >= core::Clock::time_point(10s));

  // A restart from the committed positions reads nothing again and reports nothing again.
  core::Checkpoint checkpoint;
  for (const auto& r : run.ctx.records)
    if (!r.position.empty()) checkpoint[run.ctx.partitions.at(r.partition)] = r.position;
  SourceRun again(options(dir / "in", false), clock, checkpoint);
  again.finish();
  CHECK(again.ctx.records.empty());

  // Completed later (its size changes), the file is read after all.
  fs::resize_file(dir / "in/cut.parquet", 0);
  sluice::testing::write_file(dir / "in/cut.parquet", make_parquet(400, 50, 20).bytes);
  SourceRun completed(options(dir / "in", false), clock, checkpoint);
  completed.finish();
  require_rows(completed.data(), 400, 50);
  CHECK(completed.dead_letters().empty());
}

TEST_CASE("a Parquet file with corrupt pages keeps the rows before the damage, gives one dead letter and is not retried",
          "[file_source][parquet]") {
  TempDir dir;
  TestFile bad = make_parquet(0, 4000, 1000);
  // The footer stays valid; row group 2 is damaged.
  SECTION("garbage over a page header") {
    const auto& meta = *bad.groups.at(2).columns.at(0).meta_data;
    const size_t at = size_t(meta.dictionary_page_offset.value_or(meta.data_page_offset));
    bad.bytes.replace(at, 24, std::string(24, '\xff'));
  }
  SECTION("garbage inside compressed page data") {
    const auto& meta = *bad.groups.at(2).columns.at(3).meta_data;  // tags: a list of strings, zstd pages
    const size_t at = size_t(meta.dictionary_page_offset.value_or(meta.data_page_offset));
    for (size_t i = at + 40; i < at + 104; ++i) bad.bytes[i] = char(0x5a ^ i);
  }
  place(dir, "bad.parquet", bad.bytes);
  place(dir, "next.parquet", make_parquet(10000, 1500, 500).bytes);

  SourceRun run(options(dir / "in", false), frozen_clock());
  run.finish();
  std::vector<core::Record> from_bad, from_next;
  for (const auto& r : run.data()) (id_of(r) < 10000 ? from_bad : from_next).push_back(r);
  require_rows(from_bad, 0, 2000);  // row groups 0 and 1
  require_rows(from_next, 10000, 1500);
  const auto dead = run.dead_letters();
  REQUIRE(dead.size() == 1);
  const auto entry = json::parse(dead[0].value).as_object();
  CHECK(entry.at("file").as_string() == dir / "in/bad.parquet");
  CHECK(entry.at("row_group").as_int64() == 2);
  CHECK(entry.at("row").as_int64() == 0);
  INFO("reason: " << entry.at("reason"));
  CHECK_THAT(std::string(entry.at("reason").as_string()), Catch::Contains("row group 2"));
  CHECK(std::string(entry.at("reason").as_string()).find("/proc/") == std::string::npos);
  const auto position = ParquetPosition::parse(dead[0].position);
  REQUIRE(position);
  CHECK(position->abandoned);
  CHECK(position->rows == 2000);

  // Restarted from what was committed, the source neither retries the bad file nor repeats anything.
  core::Checkpoint checkpoint;
  for (const auto& r : run.ctx.records)
    if (!r.position.empty()) checkpoint[run.ctx.partitions.at(r.partition)] = r.position;
  SourceRun again(options(dir / "in", false), frozen_clock(), checkpoint);
  again.finish();
  CHECK(again.ctx.records.empty());
}

TEST_CASE("watch false reads the Parquet files that exist, then the source is exhausted", "[file_source][parquet]") {
  TempDir dir;
  place(dir, "one.parquet", make_parquet(0, 100, 30).bytes);
  place(dir, "two.parquet", make_parquet(100, 0, 30).bytes);  // no rows at all
  SourceRun run(options(dir / "in", false), frozen_clock());
  run.finish();  // returns by itself
  require_rows(run.data(), 0, 100);
  CHECK(run.dead_letters().empty());
}

TEST_CASE("start_at end skips the rows of Parquet files present at start and reads files that appear later",
          "[file_source][parquet]") {
  TempDir dir;
  place(dir, "old.parquet", make_parquet(0, 500, 100).bytes);
  FileSourceOptions o = options(dir / "in", true);
  o.start_at = sources::file::StartAt::end;
  SourceRun run(o, frozen_clock());
  run.run_until([] { return false; }, 200ms);
  CHECK(run.ctx.records.empty());
  place(dir, "new.parquet", make_parquet(500, 300, 100).bytes);
  REQUIRE(run.run_until([&] { return run.ctx.records.size() >= 300; }));
  run.run_until([] { return false; }, 100ms);
  run.cancel();
  require_rows(run.data(), 500, 300);
}

TEST_CASE("a committed Parquet position whose file now has other content reads the file from the start",
          "[file_source][parquet]") {
  TempDir dir;
  place(dir, "data.parquet", make_parquet(0, 600, 200).bytes);
  SourceRun first(options(dir / "in", false), frozen_clock());
  first.finish();
  const auto rows = first.data();
  core::Checkpoint checkpoint = checkpoint_after(first, rows, 255);
  // The same inode rewritten with other rows, as `cp other.parquet data.parquet` does.
  sluice::testing::write_file(dir / "in/data.parquet", make_parquet(1000, 300, 200).bytes);
  SourceRun again(options(dir / "in", false), frozen_clock(), checkpoint);
  again.finish();
  require_rows(again.data(), 1000, 300);
}

TEST_CASE("a resume deep inside a large row group delivers exactly the rows after the position", "[file_source][parquet]") {
  TempDir dir;
  // One row group of about 8 MiB of row text: the rows before the position take several steps to drop.
  place(dir, "big.parquet", make_parquet(0, 30000, 30000).bytes);
  SourceRun full(options(dir / "in", false), frozen_clock());
  full.finish();
  const auto all = full.data();
  require_rows(all, 0, 30000);
  size_t last = 26000;
  while (all[last].position.empty()) ++last;
  CHECK(ParquetPosition::parse(all[last].position)->row_group == 0);
  SourceRun again(options(dir / "in", false), frozen_clock(), checkpoint_after(full, all, last));
  again.finish();
  require_rows(again.data(), last + 1, 30000 - last - 1);
}

TEST_CASE("damage in a later page of a row group keeps the rows before it and names the row where reading stopped",
          "[file_source][parquet]") {
  TempDir dir;
  TestFile bad = make_parquet(0, 6000, 3000, false);
  // The last bytes of row group 1's `name` column chunk (PLAIN, several pages): its last page, well after the
  // row group's start.
  const auto& meta = *bad.groups.at(1).columns.at(1).meta_data;
  const size_t start = size_t(meta.dictionary_page_offset.value_or(meta.data_page_offset));
  const size_t end = start + size_t(meta.total_compressed_size);
  for (size_t i = end - 40; i < end; ++i) bad.bytes[i] = char(0xa5 ^ i);
  place(dir, "bad.parquet", bad.bytes);
  SourceRun run(options(dir / "in", false), frozen_clock());
  run.finish();
  const auto dead = run.dead_letters();
  REQUIRE(dead.size() == 1);
  const auto entry = json::parse(dead[0].value).as_object();
  INFO("dead letter: " << dead[0].value);
  CHECK(entry.at("row_group").as_int64() == 1);
  const auto row = uint64_t(entry.at("row").as_int64());
  CHECK(row > 0);
  CHECK(row < 3000);
  // Every row before the damaged one, in order, and nothing after it.
  require_rows(run.data(), 0, 3000 + row);
  CHECK(ParquetPosition::parse(dead[0].position)->rows == 3000 + row);
}

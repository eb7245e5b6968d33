#include "sources/postgres_cdc/session.hpp"

// g++ 12 false positive once it inlines Asio's coroutine frames: it pairs the frame's aligned_alloc with the
// frame's operator delete, which Asio's recycling allocator routes back to free (boost/asio/detail/memory.hpp).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <spdlog/spdlog.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <random>

#include "core/async.hpp"
#include "core/task.hpp"
#include "formats/timestamp.hpp"
#include "sources/postgres_cdc/pg_connection.hpp"

namespace sluice::sources::postgres_cdc {
namespace asio = boost::asio;
using core::awaitable;

namespace {

// Records handed to the pipeline at once at most: a large transaction flows instead of piling up here.
constexpr size_t kPushEvery = 1024;
// Changes of one transaction between its resumable points: what a batch may end on once the transaction
// alone has outgrown the batch limits.
constexpr uint64_t kMidGroupEvery = 1024;
// Reads of fewer messages than this mean changes arrive one by one: the reader then lets them gather for
// kGatherFor instead of waking up for each (see read_stream).
constexpr size_t kSmallRead = 256;
constexpr auto kGatherFor = std::chrono::microseconds(150);
constexpr const char* kWatermarkPrefix = "sluice.watermark";
// How many decoded transactions a chunk's snapshot is checked against (Chunk::read_again). One that committed before
// L and is still running for S has been stuck between its commit record and its end for as long as the chunk's
// first statements took; thousands of transactions decoded in that time are more than any server commits in it.
constexpr size_t kRecentXids = 4096;
constexpr const char* kHeartbeatPrefix = "sluice.heartbeat";

std::chrono::steady_clock::duration ticks(const config::Duration& d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(d.value);
}

std::string show_bytes(uint64_t n) {
  char buf[32];
  if (n >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.1f GiB", double(n) / double(1ull << 30));
  else if (n >= (1ull << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", double(n) / double(1ull << 20));
  else if (n >= (1ull << 10)) std::snprintf(buf, sizeof buf, "%.1f KiB", double(n) / double(1ull << 10));
  else std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  return buf;
}

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace

SourceState::SourceState(const CdcOptions& o, core::SourceContext& c) : options(o), ctx(c), status_wanted(c.executor()) {}

Session::Session(SourceState& s) : s_(s) {
  // Watermarks of an earlier session may still be ahead in the stream: each session knows its own by this.
  std::random_device random;
  watermark_nonce_ = (uint64_t(random()) << 32) ^ random();
}

Session::~Session() = default;

void Session::fatal(const std::string& why) const {
  throw std::runtime_error("postgres_cdc replication slot '" + s_.options.slot + "': " + why);
}

awaitable<void> Session::run() {
  co_await connect();
  co_await prepare();
  if (export_snapshot_) co_await export_snapshot();
  co_await stream();
}

awaitable<void> Session::connect() {
  auto params = parse_dsn(s_.options.dsn);
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(s_.options.connect_timeout.value);
  std::string name = "sluice " + s_.ctx.pipeline();
  control_ = co_await PgConnection::connect(session_params(params, name, false), timeout);
  replication_ = co_await PgConnection::connect(session_params(params, name, true), timeout);
}

std::vector<TableInfo> Session::wanted_tables(std::vector<TableInfo> published) const {
  std::vector<TableInfo> out;
  for (auto& t : published) {
    if (!wanted(t.name.qualified())) continue;
    if (t.key.empty())
      fatal("table " + t.name.qualified() +
            " has no primary key (nor a replica identity index), so its snapshot cannot be read in key order: add a primary key, "
            "or set snapshot: never");
    out.push_back(std::move(t));
  }
  return out;
}

bool Session::wanted(const std::string& qualified) const {
  if (s_.tables.empty()) return true;
  for (const auto& t : s_.tables)
    if (t.qualified() == qualified) return true;
  return false;
}

awaitable<void> Session::prepare() {
  const auto& o = s_.options;
  auto& log = s_.ctx.log();
  slot_ = co_await slot_info(*control_, o.slot);
  if (slot_ && slot_->plugin != "pgoutput")
    fatal("it uses the output plugin '" + slot_->plugin + "'; this source reads pgoutput: use another slot name");
  if (s_.pushed) {
    cursor_ = *s_.pushed;
    if (!slot_)
      fatal("the slot no longer exists, but this pipeline has a committed position (" + cursor_.format() +
            "): the changes since are gone. Refusing to take a new snapshot silently; to start over, delete the pipeline's state "
            "(or rename it) so that it starts afresh, or point slot: at a new slot");
    if (slot_->wal_status == "lost")
      fatal("the slot is invalid (wal_status lost): the server removed WAL it still needed (see max_slot_wal_keep_size), so the "
            "changes since " + format_lsn(cursor_.lsn) + " are gone; drop the slot and start the pipeline afresh");
    if (slot_->confirmed_flush > cursor_.lsn)
      fatal("the slot's confirmed position " + format_lsn(slot_->confirmed_flush) + " is ahead of this pipeline's committed position " +
            format_lsn(cursor_.lsn) + ": another consumer of the slot took the changes in between");
    co_await ensure_publication(*control_, o.publication_name(), s_.tables, false, log);
    co_return;
  }
  co_await ensure_publication(*control_, o.publication_name(), s_.tables, true, log);
  // A table the snapshot cannot read fails the pipeline before a slot exists to hold WAL for it.
  if (o.snapshot == SnapshotMode::initial) wanted_tables(co_await published_tables(*control_, o.publication_name()));
  if (!slot_) {
    if (!o.create_slot)
      fatal("the slot does not exist and create_slot is false: create it (SELECT pg_create_logical_replication_slot('" + o.slot +
            "', 'pgoutput')) or set create_slot: true");
    if (o.snapshot == SnapshotMode::initial) {
      export_snapshot_ = true;
      co_return;
    }
    auto r = co_await replication_->exec("CREATE_REPLICATION_SLOT " + replication_->quote_identifier(o.slot) +
                                         " LOGICAL pgoutput (SNAPSHOT 'nothing')");
    cursor_.lsn = parse_lsn(r.get(0, 1)).value_or(0);
    log.info("created replication slot {} at {}; streaming from there without a snapshot", o.slot, format_lsn(cursor_.lsn));
    co_return;
  }
  cursor_.lsn = slot_->confirmed_flush;
  // The slot was made before this pipeline committed anything (by an operator, or by a start of ours that
  // died before its first commit): its exported snapshot is long gone, so the tables are read alongside the
  // stream, reconciled by watermarks.
  if (o.snapshot == SnapshotMode::initial) cursor_.snapshot = SnapshotProgress{"", std::nullopt};
  log.info("replication slot {} exists and this pipeline has no committed position: streaming from its confirmed position {}{}", o.slot,
           format_lsn(cursor_.lsn), cursor_.snapshot ? ", with a snapshot of its tables read alongside" : "");
}

awaitable<void> Session::export_snapshot() {
  const auto& o = s_.options;
  auto& log = s_.ctx.log();
  auto created = co_await replication_->exec("CREATE_REPLICATION_SLOT " + replication_->quote_identifier(o.slot) +
                                              " LOGICAL pgoutput (SNAPSHOT 'export')");
  Lsn consistent = parse_lsn(created.get(0, 1)).value_or(0);
  std::string snapshot_name(created.get(0, 2));
  // The exported snapshot lives while the replication connection stays idle: read it on another one.
  reader_ = co_await PgConnection::connect(session_params(parse_dsn(o.dsn), "sluice " + s_.ctx.pipeline(), false),
                                           std::chrono::duration_cast<std::chrono::milliseconds>(o.connect_timeout.value));
  co_await reader_->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  co_await reader_->exec("SET TRANSACTION SNAPSHOT " + reader_->quote_literal(snapshot_name));
  auto tables = wanted_tables(co_await published_tables(*reader_, o.publication_name()));
  log.info("created replication slot {} at {}; reading the initial snapshot of {} table(s) in chunks of {} rows", o.slot,
           format_lsn(consistent), tables.size(), o.snapshot_chunk_rows);
  cursor_.lsn = consistent;
  int64_t read_ms = formats::unix_ms_now();
  uint64_t rows_total = 0;
  for (size_t i = 0; i < tables.size(); ++i) {
    const auto& t = tables[i];
    if (s_.series.snapshot_tables_left) s_.series.snapshot_tables_left->Set(double(tables.size() - i));
    cursor_.snapshot = SnapshotProgress{t.name.qualified(), std::nullopt};
    for (bool more = true; more;) {
      std::vector<std::optional<std::string>> params;
      if (cursor_.snapshot->after)
        for (const auto& k : *cursor_.snapshot->after) params.emplace_back(k);
      auto rows = co_await reader_->exec(chunk_query(*reader_, t, cursor_.snapshot->after.has_value(), o.snapshot_chunk_rows), params);
      add_snapshot_rows(t, rows, consistent, read_ms);
      rows_total += uint64_t(rows.rows());
      if (s_.series.snapshot_rows) s_.series.snapshot_rows->Increment(double(rows.rows()));
      more = uint64_t(rows.rows()) == o.snapshot_chunk_rows;
      if (more) {
        std::vector<std::string> last;
        for (size_t k : t.key) last.emplace_back(rows.get(rows.rows() - 1, int(k)));
        cursor_.snapshot->after = std::move(last);
      } else if (i + 1 < tables.size()) {
        cursor_.snapshot = SnapshotProgress{tables[i + 1].name.qualified(), std::nullopt};
      } else {
        cursor_.snapshot.reset();
      }
      // Each chunk is a resumable point of its own; a chunk is never split.
      if (!pending_.empty() && !pending_.back().position_only) pending_.back().position = cursor_.format();
      else emit_position_only();
      co_await push();
    }
  }
  if (tables.empty()) {
    cursor_.snapshot.reset();
    emit_position_only();
    co_await push();
  }
  if (s_.series.snapshot_tables_left) s_.series.snapshot_tables_left->Set(0);
  co_await reader_->exec("COMMIT");
  reader_.reset();
  log.info("initial snapshot done: {} row(s) of {} table(s); streaming from {}", rows_total, tables.size(), format_lsn(consistent));
}

awaitable<void> Session::stream() {
  const auto& o = s_.options;
  auto& log = s_.ctx.log();
  auto published = co_await published_tables(*control_, o.publication_name());
  std::map<std::string, std::vector<std::string>> keys;
  for (const auto& t : published) keys[t.name.qualified()] = t.key_names();
  changes_.set_primary_keys(std::move(keys));
  changes_.set_domain_types(co_await domain_base_types(*control_));
  co_await replication_->exec("START_REPLICATION SLOT " + replication_->quote_identifier(o.slot) + " LOGICAL " + format_lsn(cursor_.lsn) +
                              " (proto_version '1', publication_names " +
                              replication_->quote_literal(replication_->quote_identifier(o.publication_name())) +
                              ", messages 'true')");
  s_.streamed = true;
  if (cursor_.snapshot) {
    reader_ = co_await PgConnection::connect(session_params(parse_dsn(o.dsn), "sluice " + s_.ctx.pipeline(), false),
                                             std::chrono::duration_cast<std::chrono::milliseconds>(o.connect_timeout.value));
    snapshot_tables_ = wanted_tables(std::move(published));
    log.info("streaming from {} at {}; the snapshot continues at {} with watermarked chunks", o.slot, format_lsn(cursor_.lsn),
             cursor_.snapshot->table.empty() ? "the first table" : cursor_.snapshot->table);
  } else {
    log.info("streaming from {} at {}", o.slot, format_lsn(cursor_.lsn));
  }
  s_.status_due = true;

  // The status writer and the slot watcher run beside the reader. A failure of theirs ends the session where
  // the reader stands between two hand-overs, never in the middle of one: records half handed over would
  // leave the next session unsure where to resume.
  auto ex = s_.ctx.executor();
  core::Notifier ended(ex);
  core::Task status, watch;
  status.start(ex, side_loop(send_status()), ended);
  watch.start(ex, side_loop(watch_slot()), ended);
  std::exception_ptr failure;
  try {
    co_await read_stream();
  } catch (...) {
    failure = std::current_exception();
  }
  status.stop();
  watch.stop();
  // Both hold references into this session: wait for their ends, also when a stop cancelled us (then the
  // cancellation stays recorded and the next co_await after these rethrows it).
  co_await asio::this_coro::throw_if_cancelled(false);
  asio::steady_timer poll(ex);
  while (!(status.done && watch.done)) {
    poll.expires_after(std::chrono::milliseconds(1));
    boost::system::error_code ignored;
    co_await poll.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  co_await asio::this_coro::throw_if_cancelled(true);
  std::rethrow_exception(failure);
}

awaitable<void> Session::side_loop(awaitable<void> body) {
  try {
    co_await std::move(body);
  } catch (...) {
    if (!side_failure_) side_failure_ = std::current_exception();
    replication_->interrupt();  // wakes the reader if it waits for input
    throw;
  }
}

void Session::check_side_loops() const {
  if (side_failure_) std::rethrow_exception(side_failure_);
}

awaitable<void> Session::read_stream() {
  CopyMessage message;
  size_t read = 0;  // messages since the last wait for input
  asio::steady_timer gather(s_.ctx.executor());
  for (;;) {
    check_side_loops();
    if (cursor_.snapshot && !chunk_ && !in_txn_) co_await start_chunk();
    switch (replication_->try_read_copy(message)) {
      case PgConnection::Read::message:
        handle(message.bytes());
        ++read;
        if (pending_.size() >= kPushEvery) co_await push();
        break;
      case PgConnection::Read::ended:
        co_await replication_->stream_ended();
        break;
      case PgConnection::Read::need_input: {
        // Nothing more is buffered: hand over what was decoded before waiting, so that latency stays low
        // when changes trickle and batches stay large when they pour.
        co_await push();
        check_side_loops();
        // The server sends every change as a message of its own and flushes it, so a reader on an idle core
        // wakes for each one, and the wake-ups cost both processes more than the changes (measured: a
        // quarter less throughput). While changes come in such small reads, let them gather for kGatherFor
        // before reading again; an empty read ends that until the next small one.
        bool small = read > 0 && read < kSmallRead;
        read = 0;
        try {
          if (small) {
            gather.expires_after(kGatherFor);
            co_await gather.async_wait(asio::use_awaitable);
            replication_->consume_input();
          } else {
            co_await replication_->wait_for_input();
          }
        } catch (const boost::system::system_error& e) {
          if (e.code() == asio::error::operation_aborted) check_side_loops();  // interrupted by a side loop's failure
          throw;
        }
        break;
      }
    }
  }
}

awaitable<void> Session::send_status() {
  // Sent on every flush advance and every status_interval, also while the source is suspended by a full
  // queue: the server must keep hearing from us or it ends the connection (wal_sender_timeout).
  for (;;) {
    s_.status_due = false;
    replication_->put_copy(standby_status_update(s_.received, s_.flushed, unix_ms_to_pg_timestamp(formats::unix_ms_now())));
    co_await replication_->flush();
    if (s_.series.flushed_lsn) s_.series.flushed_lsn->Set(double(s_.flushed));
    if (s_.series.received_lsn) s_.series.received_lsn->Set(double(s_.received));
    auto deadline = std::chrono::steady_clock::now() + ticks(s_.options.status_interval);
    while (!s_.status_due && std::chrono::steady_clock::now() < deadline) co_await s_.status_wanted.wait_until(deadline);
  }
}

awaitable<void> Session::watch_slot() {
  const auto& o = s_.options;
  auto& log = s_.ctx.log();
  using clock = std::chrono::steady_clock;
  const bool heartbeats = o.heartbeat_interval.value.count() > 0;
  auto next_heartbeat = clock::now() + ticks(o.heartbeat_interval);
  auto next_lag = clock::now();
  asio::steady_timer timer(s_.ctx.executor());
  for (;;) {
    if (heartbeats && clock::now() >= next_heartbeat) {
      // A transaction of our own in the stream: on an idle publication of a busy server the slot's position
      // still advances (the commit of this message is a position the sink commits and we confirm).
      co_await control_->exec_params("SELECT pg_logical_emit_message(true, $1, $2)", std::string(kHeartbeatPrefix), o.slot);
      if (s_.series.heartbeats) s_.series.heartbeats->Increment();
      next_heartbeat = clock::now() + ticks(o.heartbeat_interval);
    }
    if (clock::now() >= next_lag) {
      auto lag = co_await slot_lag(*control_, o.slot);
      if (!lag.exists) fatal("the slot was dropped while this pipeline streamed from it");
      if (lag.wal_status == "lost") fatal("the slot became invalid (wal_status lost): the server removed WAL it still needed");
      if (s_.series.slot_lag) s_.series.slot_lag->Set(double(lag.bytes));
      uint64_t max = o.max_slot_lag.bytes;
      if (max > 0 && lag.bytes > max && !s_.degraded) {
        s_.degraded = true;
        std::string why = "replication slot " + o.slot + " holds " + show_bytes(lag.bytes) + " of WAL, more than max_slot_lag " + show_bytes(max);
        log.warn("{}: the server keeps that WAL until the sink catches up", why);
        s_.ctx.set_degraded(why);
      } else if (s_.degraded && (max == 0 || lag.bytes <= max)) {
        s_.degraded = false;
        log.info("replication slot {} lag {} is back within max_slot_lag", o.slot, show_bytes(lag.bytes));
        s_.ctx.set_degraded("");
      }
      next_lag = clock::now() + ticks(o.status_interval);
    }
    timer.expires_at(heartbeats ? std::min(next_heartbeat, next_lag) : next_lag);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

awaitable<void> Session::push() {
  if (pending_.empty()) co_return;
  CdcPosition after = cursor_;
  co_await s_.ctx.push(pending_);
  s_.pushed = std::move(after);
  txn_pending_ = false;
}

void Session::emit_position_only() {
  // The last record waiting can carry a later position as well when nothing came between.
  if (!pending_.empty() && !pending_.back().position.empty() && !pending_.back().mid_group) {
    pending_.back().position = cursor_.format();
    return;
  }
  core::Record& r = pending_.emplace_back();
  r.position_only = true;
  r.partition = s_.partition;
  r.position = cursor_.format();
}

void Session::add_snapshot_rows(const TableInfo& t, const PgResult& rows, Lsn lsn, int64_t read_ms) {
  std::vector<uint32_t> types;
  for (int c = 0; c < rows.columns(); ++c) types.push_back(rows.type(c));
  auto columns = snapshot_columns(t.name.schema, t.name.name, t.columns, types, t.key);
  std::vector<std::optional<std::string_view>> values(size_t(rows.columns()));
  for (int r = 0; r < rows.rows(); ++r) {
    for (int c = 0; c < rows.columns(); ++c) values[size_t(c)] = rows.is_null(r, c) ? std::nullopt : std::optional(rows.get(r, c));
    core::Record& rec = pending_.emplace_back();
    snapshot_record(columns, values, lsn, read_ms, rec);
    rec.partition = s_.partition;
  }
}

void Session::handle(std::string_view bytes) {
  auto copy = decode_copy_message(bytes);
  if (const auto* keepalive = std::get_if<Keepalive>(&copy)) {
    // The server has decoded everything up to wal_end and sent what concerns us (a transaction is sent at its
    // commit): outside a transaction that is a position to resume from. Confirming it lets the slot pass WAL
    // of other tables, and lets a fast shutdown finish: the server waits until its walsenders' clients
    // confirm all it sent.
    if (!in_txn_ && keepalive->wal_end > cursor_.lsn) {
      cursor_.lsn = keepalive->wal_end;
      emit_position_only();
    }
    if (keepalive->reply_requested) {
      s_.status_due = true;
      s_.status_wanted.notify_all();
    }
    return;
  }
  const auto& data = std::get<XLogData>(copy);
  s_.received = std::max(s_.received, data.start);
  const Lsn lsn = data.start;
  std::visit(Overloaded{
                 [&](const Begin& b) {
                   changes_.begin(b);
                   in_txn_ = true;
                   txn_xid_ = b.xid;
                   recent_xids_.push_back(b.xid);
                   if (recent_xids_.size() > kRecentXids) recent_xids_.pop_front();
                   txn_changes_ = 0;
                   txn_pending_ = false;
                   // The transaction an earlier session delivered in part: skip what it delivered.
                   txn_skip_ = cursor_.partial_txn == b.final_lsn ? cursor_.partial_done : 0;
                   cursor_.partial_txn = b.final_lsn;
                   cursor_.partial_done = 0;
                 },
                 [&](const Commit& c) { commit(c.end_lsn); },
                 [&](const Relation& r) { changes_.relation(r); },
                 [&](const Insert& m) {
                   const auto& rel = changes_.find(m.relation);
                   if (!take_change(rel)) return;
                   window_change(rel, m.after, false);
                   core::Record rec;
                   changes_.insert(m, lsn, rec);
                   deliver(std::move(rec));
                 },
                 [&](const Update& m) {
                   const auto& rel = changes_.find(m.relation);
                   if (!take_change(rel)) return;
                   bool toast = false;
                   for (const auto& d : m.after) toast |= d.kind == Datum::Kind::unchanged_toast;
                   if (m.old_kind) window_change(rel, m.before, false);
                   window_change(rel, m.after, toast);
                   core::Record rec;
                   changes_.update(m, lsn, rec);
                   deliver(std::move(rec));
                 },
                 [&](const Delete& m) {
                   const auto& rel = changes_.find(m.relation);
                   if (!take_change(rel)) return;
                   window_change(rel, m.before, false);
                   core::Record rec;
                   changes_.remove(m, lsn, rec);
                   deliver(std::move(rec));
                 },
                 [&](const Truncate& m) {
                   for (uint32_t id : m.relations) {
                     const auto& rel = changes_.find(id);
                     if (!take_change(rel)) continue;
                     if (chunk_counts(rel)) chunk_->rows->truncated();
                     core::Record rec;
                     changes_.truncate(m, id, lsn, rec);
                     deliver(std::move(rec));
                   }
                 },
                 [&](const Message& m) {
                   if (m.prefix == kWatermarkPrefix) handle_watermark(m.content);
                 },
                 [](const Type&) {},
                 [](const Origin&) {},
             },
             decode_pgoutput(data.payload));
}

bool Session::take_change(const CachedRelation& rel) {
  ++txn_changes_;
  cursor_.partial_done = txn_changes_;
  return txn_changes_ > txn_skip_ && wanted(rel.qualified);
}

void Session::deliver(core::Record&& rec) {
  rec.partition = s_.partition;
  if (txn_changes_ % kMidGroupEvery == 0) {
    rec.position = cursor_.format();
    rec.mid_group = true;
  }
  pending_.push_back(std::move(rec));
  txn_pending_ = true;
}

bool Session::chunk_counts(const CachedRelation& rel) const {
  return chunk_ && (chunk_->in_window || chunk_->unseen.count(txn_xid_)) && chunk_->table.name.qualified() == rel.qualified;
}

void Session::window_change(const CachedRelation& rel, const Tuple& t, bool unchanged_toast) {
  if (!chunk_counts(rel)) return;
  std::vector<std::string_view> key;
  for (size_t k : chunk_->table.key) {
    const std::string& name = chunk_->table.columns[k];
    const Datum* d = nullptr;
    for (size_t c = 0; c < rel.relation.columns.size() && c < t.size(); ++c)
      if (rel.relation.columns[c].name == name) d = &t[c];
    if (!d || d->kind != Datum::Kind::text) return;  // not a tuple that names the row (a key-less old image)
    key.emplace_back(d->text);
  }
  chunk_->rows->changed(WatermarkChunk::join_key(key), unchanged_toast);
}

void Session::commit(Lsn end_lsn) {
  in_txn_ = false;
  cursor_.lsn = end_lsn;
  cursor_.partial_txn = 0;
  cursor_.partial_done = 0;
  if (s_.series.transactions) s_.series.transactions->Increment();
  if (txn_pending_) {
    pending_.back().position = cursor_.format();
    pending_.back().mid_group = false;
  } else {
    emit_position_only();
  }
  txn_pending_ = false;
}

void Session::handle_watermark(const std::string& content) {
  if (!chunk_) return;
  if (content == chunk_->low) chunk_->in_window = true;
  else if (content == chunk_->high && chunk_->in_window) emit_chunk();
}

void Session::emit_chunk() {
  if (chunk_->read_again) {
    // Nothing emitted and no progress: the next chunk reads the same rows again, with a later snapshot.
    chunk_.reset();
    return;
  }
  int64_t read_ms = formats::unix_ms_now();
  auto rows = chunk_->rows->surviving();
  std::vector<std::optional<std::string_view>> values;
  for (const Row* row : rows) {
    values.assign(row->size(), std::nullopt);
    for (size_t c = 0; c < row->size(); ++c)
      if ((*row)[c]) values[c] = std::string_view(*(*row)[c]);
    core::Record& rec = pending_.emplace_back();
    snapshot_record(chunk_->columns, values, cursor_.lsn, read_ms, rec);
    rec.partition = s_.partition;
    txn_pending_ = true;
  }
  if (s_.series.snapshot_rows) s_.series.snapshot_rows->Increment(double(rows.size()));
  std::string table = chunk_->table.name.qualified();
  if (chunk_->rows->table_done()) advance_snapshot(table);
  else if (auto last = chunk_->rows->last_key()) cursor_.snapshot = SnapshotProgress{table, std::move(*last)};
  chunk_.reset();
}

void Session::advance_snapshot(const std::string& done) {
  for (const auto& t : snapshot_tables_)
    if (t.name.qualified() > done) {
      cursor_.snapshot = SnapshotProgress{t.name.qualified(), std::nullopt};
      return;
    }
  cursor_.snapshot.reset();
  s_.ctx.log().info("snapshot done: every table read, reconciled with the stream");
  if (s_.series.snapshot_tables_left) s_.series.snapshot_tables_left->Set(0);
}

awaitable<void> Session::start_chunk() {
  const auto& o = s_.options;
  // The table's columns now, not at the session's start: an ALTER TABLE between chunks is read as it is.
  snapshot_tables_ = wanted_tables(co_await published_tables(*reader_, o.publication_name()));
  SnapshotProgress progress = *cursor_.snapshot;
  const TableInfo* table = nullptr;
  size_t left = 0;
  for (const auto& t : snapshot_tables_)
    if (t.name.qualified() >= progress.table) {
      if (!table) table = &t;
      ++left;
    }
  if (s_.series.snapshot_tables_left) s_.series.snapshot_tables_left->Set(double(left));
  if (!table) {
    // The last table was done, or left the publication.
    advance_snapshot(progress.table);
    emit_position_only();
    co_return;
  }
  if (table->name.qualified() != progress.table) {
    progress = SnapshotProgress{table->name.qualified(), std::nullopt};
    cursor_.snapshot = progress;
  }
  ++chunk_seq_;
  std::string id = o.slot + " " + std::to_string(watermark_nonce_) + " " + std::to_string(chunk_seq_);
  Chunk chunk{*table, nullptr, {}, id + " low", id + " high", false, {}, false};
  co_await reader_->exec_params("SELECT pg_logical_emit_message(true, $1, $2)", std::string(kWatermarkPrefix), chunk.low);
  std::vector<std::optional<std::string>> params;
  if (progress.after)
    for (const auto& k : *progress.after) params.emplace_back(k);
  // The snapshot is taken by the first statement after BEGIN, and the SELECT reads in the same one.
  co_await reader_->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  auto snapshot = co_await reader_->exec("SELECT pg_current_snapshot()::text");
  auto result = co_await reader_->exec(chunk_query(*reader_, *table, progress.after.has_value(), o.snapshot_chunk_rows), params);
  co_await reader_->exec("COMMIT");
  co_await reader_->exec_params("SELECT pg_logical_emit_message(true, $1, $2)", std::string(kWatermarkPrefix), chunk.high);
  chunk.unseen = snapshot_in_progress(snapshot.rows() == 1 ? snapshot.get(0, 0) : "");
  for (uint32_t xid : recent_xids_)
    if (chunk.unseen.count(xid)) {
      chunk.read_again = true;
      s_.ctx.log().info("snapshot chunk of {} read again: transaction {}, decoded before the chunk, was not yet visible to its SELECT",
                        table->name.qualified(), xid);
      break;
    }
  std::vector<Row> rows(size_t(result.rows()));
  for (int r = 0; r < result.rows(); ++r) {
    rows[size_t(r)].resize(size_t(result.columns()));
    for (int c = 0; c < result.columns(); ++c)
      if (!result.is_null(r, c)) rows[size_t(r)][size_t(c)] = std::string(result.get(r, c));
  }
  std::vector<uint32_t> types;
  for (int c = 0; c < result.columns(); ++c) types.push_back(result.type(c));
  chunk.columns = snapshot_columns(table->name.schema, table->name.name, table->columns, types, table->key);
  chunk.rows = std::make_unique<WatermarkChunk>(std::move(rows), table->key, o.snapshot_chunk_rows);
  chunk_ = std::move(chunk);
}

}  // namespace sluice::sources::postgres_cdc

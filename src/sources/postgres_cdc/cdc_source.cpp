#include "sources/postgres_cdc/cdc_source.hpp"

#include <prometheus/counter.h>
#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <cctype>

#include "core/async.hpp"
#include "metrics/owned_series.hpp"
#include "sources/postgres_cdc/pg_connection.hpp"
#include "sources/postgres_cdc/session.hpp"

namespace sluice::sources::postgres_cdc {
namespace asio = boost::asio;
using config::opt;
using core::awaitable;

std::optional<TableName> parse_table_name(std::string_view text) {
  // Identifiers as PostgreSQL reads them: "quoted" kept as written (a "" inside is one "), unquoted folded
  // to lower case.
  std::vector<std::string> parts(1);
  bool quoted_part = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      if (!parts.back().empty() || quoted_part) return std::nullopt;
      quoted_part = true;
      for (++i;; ++i) {
        if (i >= text.size()) return std::nullopt;
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            parts.back() += '"';
            ++i;
            continue;
          }
          break;
        }
        parts.back() += text[i];
      }
      if (parts.back().empty()) return std::nullopt;
      continue;
    }
    if (c == '.') {
      if (parts.back().empty() || parts.size() == 2) return std::nullopt;
      parts.emplace_back();
      quoted_part = false;
      continue;
    }
    if (quoted_part) return std::nullopt;  // text after a closing quote
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$')) return std::nullopt;
    parts.back() += char(std::tolower(static_cast<unsigned char>(c)));
  }
  if (parts.back().empty()) return std::nullopt;
  TableName t;
  t.schema = parts.size() == 2 ? parts[0] : "public";
  t.name = parts.back();
  return t;
}

const config::Schema<CdcOptions>& CdcOptions::schema() {
  static const config::Schema<CdcOptions> s{
      "source (postgres_cdc)",
      {opt(&CdcOptions::dsn, "dsn",
           "libpq connection string or URI of the database (host=... dbname=... user=...); put secrets in ${ENV} or ${file:...}")
           .required(),
       opt(&CdcOptions::slot, "slot", "logical replication slot this pipeline streams from (one slot per pipeline; a-z, 0-9, _)").required(),
       opt(&CdcOptions::publication, "publication", "publication whose tables are captured; default: the slot's name")
           .default_text("the slot's name"),
       opt(&CdcOptions::tables, "tables",
           "tables to capture ([schema.]name); the publication is created for them if it does not exist. Empty: every table of the "
           "publication"),
       opt(&CdcOptions::create_slot, "create_slot", "create the slot (and take the initial snapshot) when it does not exist"),
       opt(&CdcOptions::snapshot, "snapshot",
           "initial: read the tables' current rows (op r) before streaming, handed off without a gap or a double; never: changes only"),
       opt(&CdcOptions::snapshot_chunk_rows, "snapshot_chunk_rows", "rows per snapshot chunk: the unit a snapshot resumes from").min(1),
       opt(&CdcOptions::heartbeat_interval, "heartbeat_interval",
           "how often a heartbeat message is written to the WAL so that the slot advances while the captured tables are idle; 0 = off"),
       opt(&CdcOptions::status_interval, "status_interval",
           "how often a standby status update is sent (keep it well under the server's wal_sender_timeout) and the slot's lag measured")
           .min(0.1),
       opt(&CdcOptions::max_slot_lag, "max_slot_lag",
           "WAL the slot may hold back (server WAL position minus confirmed flush) before the pipeline is marked degraded; 0 = no limit"),
       opt(&CdcOptions::connect_timeout, "connect_timeout", "time allowed for each connection attempt").min(0.1),
       opt(&CdcOptions::max_reconnect_backoff, "max_reconnect_backoff",
           "longest wait between reconnection attempts after the server went away (waits start at 100ms and double)")
           .min(0.1)},
      [](const CdcOptions& o, const config::Value& node, config::Context& ctx) {
        auto mark_of = [&](const char* key) {
          const config::Value* v = node.find(key);
          return v ? v->mark : node.mark;
        };
        try {
          for (const auto& [key, value] : parse_dsn(o.dsn))
            if (key == "replication")
              ctx.error(mark_of("dsn"), "dsn must not set replication: the source opens its replication connection itself");
        } catch (const std::invalid_argument& e) {
          // libpq quotes the text it could not read; after ${...} substitution that may be a secret.
          const config::Value* v = node.find("dsn");
          bool substituted = v && v->raw != v->text;
          ctx.error(mark_of("dsn"), std::string("dsn is not a libpq connection string") + (substituted ? "" : std::string(": ") + e.what()));
        }
        auto valid_name = [](const std::string& name) {
          if (name.empty() || name.size() > 63) return false;
          for (char c : name)
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
          return true;
        };
        if (!valid_name(o.slot))
          ctx.error(mark_of("slot"), "invalid slot name '" + o.slot + "': 1 to 63 of lower-case letters, digits and _ (PostgreSQL's rule)");
        if (o.publication.size() > 63) ctx.error(mark_of("publication"), "publication name longer than 63 bytes");
        const config::Value* tables = node.find("tables");
        for (size_t i = 0; i < o.tables.size(); ++i)
          if (!parse_table_name(o.tables[i]))
            ctx.error(tables && i < tables->items.size() ? tables->items[i].mark : mark_of("tables"),
                      "invalid table name '" + o.tables[i] + "': use name or schema.name (\"quoted\" for other characters)");
        if (o.heartbeat_interval.value.count() > 0 && o.heartbeat_interval.value < std::chrono::milliseconds(100))
          ctx.error(mark_of("heartbeat_interval"), "heartbeat_interval must be 0 (off) or at least 100ms");
      }};
  return s;
}

namespace {

// The connector's series, each labelled with the pipeline and removed with the source.
class Series {
 public:
  Series(prometheus::Registry& registry, const std::string& pipeline, CdcSeries& out) : owned_(registry, {{"pipeline", pipeline}}) {
    out.slot_lag = &owned_.gauge("sluice_postgres_cdc_slot_lag_bytes",
                                 "WAL the replication slot holds back: the server's WAL position minus the slot's confirmed flush position");
    out.flushed_lsn = &owned_.gauge("sluice_postgres_cdc_flushed_lsn_bytes",
                                    "the last position confirmed to the server (committed durably), as a WAL byte offset");
    out.received_lsn = &owned_.gauge("sluice_postgres_cdc_received_lsn_bytes", "the last WAL position received, as a byte offset");
    out.snapshot_tables_left = &owned_.gauge("sluice_postgres_cdc_snapshot_tables_remaining",
                                             "tables the snapshot has still to read, the one in progress included; 0 when done");
    out.reconnects = &owned_.counter("sluice_postgres_cdc_reconnects_total", "reconnections after the server or the network went away");
    out.transactions = &owned_.counter("sluice_postgres_cdc_transactions_total", "transactions received from the replication stream");
    out.snapshot_rows = &owned_.counter("sluice_postgres_cdc_snapshot_rows_total", "rows read by the snapshot (op r)");
    out.heartbeats = &owned_.counter("sluice_postgres_cdc_heartbeats_total", "heartbeat messages written to the WAL");
  }

 private:
  metrics::OwnedSeries owned_;
};

}  // namespace

CdcSource::CdcSource(const CdcOptions& options) : options_(options) {}
CdcSource::~CdcSource() = default;

awaitable<void> CdcSource::run(core::SourceContext& ctx) {
  state_ = std::make_unique<SourceState>(options_, ctx);
  auto& s = *state_;
  for (const auto& t : options_.tables) s.tables.push_back(*parse_table_name(t));
  s.partition = ctx.partition(options_.slot);
  if (auto it = ctx.checkpoint().find(options_.slot); it != ctx.checkpoint().end()) {
    s.pushed = CdcPosition::parse(it->second);
    s.flushed = s.pushed->lsn;
  }
  Series series(ctx.metrics(), ctx.pipeline(), s.series);
  const auto first_backoff = std::chrono::milliseconds(100);
  auto backoff = std::chrono::steady_clock::duration(first_backoff);
  asio::steady_timer timer(ctx.executor());
  for (;;) {
    std::string why;
    s.streamed = false;
    try {
      Session session(s);
      co_await session.run();
    } catch (const PgError& e) {
      if (!e.transient()) throw;
      why = e.what();
    }
    // A session that reached the stream was healthy: the server went away since, so start the waits over.
    if (s.streamed) backoff = first_backoff;
    s.series.reconnects->Increment();
    ctx.log().warn("{}; reconnecting in {} ms", why, std::chrono::duration_cast<std::chrono::milliseconds>(backoff).count());
    timer.expires_after(backoff);
    co_await timer.async_wait(asio::use_awaitable);
    backoff = std::min<std::chrono::steady_clock::duration>(backoff * 2, options_.max_reconnect_backoff.value);
  }
}

void CdcSource::on_committed(const core::Checkpoint& checkpoint) {
  if (!state_) return;
  auto it = checkpoint.find(options_.slot);
  if (it == checkpoint.end()) return;
  // Our own text, written by this source: it parses, or the commit before would not have happened.
  Lsn lsn = CdcPosition::parse(it->second).lsn;
  if (lsn <= state_->flushed) return;
  state_->flushed = lsn;
  state_->status_due = true;
  state_->status_wanted.notify_all();
}

core::SourceFactory factory() {
  return core::make_source_factory<CdcOptions, CdcSource>(
      "postgres_cdc", "PostgreSQL change data capture (logical replication, pgoutput) with an initial snapshot");
}

}  // namespace sluice::sources::postgres_cdc

#pragma once
// One connected life of the CDC source: connections, slot and publication checks, the initial snapshot,
// then the stream with its watermark chunks. A session ends by throwing; the source decides whether to
// reconnect (a transient PgError) and starts the next one from what the last one pushed.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/notifier.hpp"
#include "core/record.hpp"
#include "core/source.hpp"
#include "sources/postgres_cdc/catalog.hpp"
#include "sources/postgres_cdc/change_records.hpp"
#include "sources/postgres_cdc/options.hpp"
#include "sources/postgres_cdc/position.hpp"
#include "sources/postgres_cdc/watermark_chunk.hpp"

namespace prometheus {
class Gauge;
class Counter;
}  // namespace prometheus

namespace sluice::sources::postgres_cdc {

class PgConnection;
class PgResult;

struct CdcSeries {
  prometheus::Gauge* slot_lag = nullptr;
  prometheus::Gauge* flushed_lsn = nullptr;
  prometheus::Gauge* received_lsn = nullptr;
  prometheus::Gauge* snapshot_tables_left = nullptr;
  prometheus::Counter* reconnects = nullptr;
  prometheus::Counter* transactions = nullptr;
  prometheus::Counter* snapshot_rows = nullptr;
  prometheus::Counter* heartbeats = nullptr;
};

// What outlives a session: the source's view of its progress.
struct SourceState {
  SourceState(const CdcOptions& o, core::SourceContext& c);
  const CdcOptions& options;
  core::SourceContext& ctx;
  std::vector<TableName> tables;  // the configured filter; empty: every table of the publication
  uint32_t partition = 0;
  std::optional<CdcPosition> pushed;  // after everything handed to the pipeline; nullopt: nothing ever was
  Lsn flushed = 0;                    // durably committed (on_committed): what status updates confirm
  Lsn received = 0;
  bool streamed = false;  // the last session reached the stream (its failure resets the backoff)
  bool status_due = false;  // flushed moved, or the server asked for a reply
  bool degraded = false;
  core::Notifier status_wanted;
  CdcSeries series;
};

class Session {
 public:
  explicit Session(SourceState& s);
  ~Session();
  boost::asio::awaitable<void> run();

 private:
  boost::asio::awaitable<void> connect();
  boost::asio::awaitable<void> prepare();
  boost::asio::awaitable<void> export_snapshot();
  boost::asio::awaitable<void> stream();
  boost::asio::awaitable<void> read_stream();
  boost::asio::awaitable<void> send_status();
  // Runs a loop beside the reader; its failure is kept for the reader to end the session with.
  boost::asio::awaitable<void> side_loop(boost::asio::awaitable<void> body);
  void check_side_loops() const;
  boost::asio::awaitable<void> watch_slot();
  boost::asio::awaitable<void> start_chunk();
  boost::asio::awaitable<void> push();

  void handle(std::string_view copy_message);
  void add_snapshot_rows(const TableInfo& t, const PgResult& rows, Lsn lsn, int64_t read_ms);
  // Counts a change of the open transaction; true when it is to be delivered (not delivered by an earlier
  // session, and of a wanted table).
  bool take_change(const CachedRelation& rel);
  void deliver(core::Record&& record);
  // Whether a change of this relation in the transaction being decoded counts for the chunk in flight.
  bool chunk_counts(const CachedRelation& rel) const;
  void window_change(const CachedRelation& rel, const Tuple& t, bool unchanged_toast);
  void handle_watermark(const std::string& content);
  void emit_chunk();
  void commit(Lsn end_lsn);
  void emit_position_only();
  bool wanted(const std::string& qualified) const;
  std::vector<TableInfo> wanted_tables(std::vector<TableInfo> published) const;
  void advance_snapshot(const std::string& done);
  [[noreturn]] void fatal(const std::string& why) const;

  SourceState& s_;
  std::unique_ptr<PgConnection> control_, replication_, reader_;
  ChangeRecords changes_;
  CdcPosition cursor_;  // after everything decoded into pending_
  core::Records pending_;
  std::vector<TableInfo> snapshot_tables_;
  std::optional<SlotInfo> slot_;
  bool export_snapshot_ = false;

  bool in_txn_ = false;
  uint32_t txn_xid_ = 0;  // the open transaction's
  // The xids of the transactions decoded last, newest at the back: a chunk's snapshot must not miss one of them.
  std::deque<uint32_t> recent_xids_;
  uint64_t txn_changes_ = 0, txn_skip_ = 0;
  bool txn_pending_ = false;  // a record of the open transaction is still in pending_

  // The watermark chunk in flight.
  struct Chunk {
    TableInfo table;
    std::unique_ptr<WatermarkChunk> rows;
    SnapshotColumns columns;
    std::string low, high;  // the watermarks' contents
    bool in_window = false;
    // The transactions the chunk's snapshot does not see (its xip list, as 32-bit xids). One of them may
    // have committed before L all the same (see README, "The watermark protocol"): its changes to the chunk
    // count as the window's.
    std::unordered_set<uint32_t> unseen;
    // One of the unseen transactions was decoded before the chunk existed: its changes were not looked at,
    // so none of the chunk's rows can be trusted. It is read again.
    bool read_again = false;
  };
  std::optional<Chunk> chunk_;
  uint64_t watermark_nonce_ = 0, chunk_seq_ = 0;
  std::exception_ptr side_failure_;
};

}  // namespace sluice::sources::postgres_cdc

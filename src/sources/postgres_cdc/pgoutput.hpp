#pragma once
// Decoding of PostgreSQL's pgoutput logical-replication messages (protocol version 1), as they arrive in the
// XLogData payloads of START_REPLICATION. Pure: no libpq, no I/O, so every message kind is unit-tested from
// bytes. Malformed input throws PgOutputError naming the message kind and the byte offset.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sluice::sources::postgres_cdc {

struct PgOutputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using Lsn = uint64_t;
// Microseconds since 2000-01-01 00:00:00 UTC, PostgreSQL's epoch.
using PgTimestamp = int64_t;

std::string format_lsn(Lsn lsn);                       // "16/B374D848"
void append_lsn(std::string& out, Lsn lsn);
std::optional<Lsn> parse_lsn(std::string_view text);  // the inverse; nullopt if malformed
int64_t pg_timestamp_to_unix_ms(PgTimestamp ts);

struct Column {
  bool key = false;  // part of the replica identity
  std::string name;
  uint32_t type_oid = 0;
  int32_t type_modifier = -1;
};

// One column of a tuple as sent: a NULL, a TOASTed value the update left alone (not sent), or its text.
struct Datum {
  enum class Kind : uint8_t { null, unchanged_toast, text };
  Kind kind = Kind::null;
  std::string text;
};
using Tuple = std::vector<Datum>;

struct Begin {
  Lsn final_lsn = 0;
  PgTimestamp commit_time = 0;
  uint32_t xid = 0;
};
struct Commit {
  uint8_t flags = 0;
  Lsn commit_lsn = 0;
  Lsn end_lsn = 0;
  PgTimestamp commit_time = 0;
};
struct Origin {
  Lsn commit_lsn = 0;
  std::string name;
};
struct Relation {
  uint32_t id = 0;
  std::string schema;  // "" means pg_catalog, as the protocol sends it
  std::string name;
  char replica_identity = 'd';  // d default, n nothing, f full, i index
  std::vector<Column> columns;
};
struct Type {
  uint32_t oid = 0;
  std::string schema;
  std::string name;
};
struct Insert {
  uint32_t relation = 0;
  Tuple after;
};
struct Update {
  uint32_t relation = 0;
  // 'K': the old key (the key changed); 'O': the whole old row (REPLICA IDENTITY FULL); 0: no old image.
  char old_kind = 0;
  Tuple before;
  Tuple after;
};
struct Delete {
  uint32_t relation = 0;
  char old_kind = 'K';  // 'K' or 'O', as for Update
  Tuple before;
};
struct Truncate {
  bool cascade = false;
  bool restart_identity = false;
  std::vector<uint32_t> relations;
};
struct Message {
  bool transactional = false;
  Lsn lsn = 0;
  std::string prefix;
  std::string content;
};

using PgOutputMessage = std::variant<Begin, Commit, Origin, Relation, Type, Insert, Update, Delete, Truncate, Message>;

// Decodes one pgoutput message (the payload of one XLogData).
PgOutputMessage decode_pgoutput(std::string_view bytes);

// The streaming replication protocol's own messages inside COPY BOTH.
struct XLogData {
  Lsn start = 0;     // where the payload's WAL record starts
  Lsn wal_end = 0;   // the server's current end of WAL
  PgTimestamp sent = 0;
  std::string_view payload;  // a pgoutput message; points into the decoded bytes
};
struct Keepalive {
  Lsn wal_end = 0;
  PgTimestamp sent = 0;
  bool reply_requested = false;  // the server will time us out unless a status update follows soon
};
std::variant<XLogData, Keepalive> decode_copy_message(std::string_view bytes);
// A standby status update: what was received, and what is durably committed (flushed and applied alike:
// the slot's confirmed_flush_lsn follows `flushed`).
std::string standby_status_update(Lsn received, Lsn flushed, PgTimestamp now);
PgTimestamp unix_ms_to_pg_timestamp(int64_t unix_ms);

}  // namespace sluice::sources::postgres_cdc

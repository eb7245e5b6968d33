#pragma once
// pgoutput changes (and snapshot rows) turned into change records, one JSON object each:
//   {"op":"u",
//    "source":{"lsn":"0/16B3760","commit_lsn":"0/16B3800","xid":742,"commit_time":"2026-11-25T10:00:00.123Z",
//              "schema":"public","table":"orders"},
//    "before":{"id":7},"after":{"id":8,"note":"x"},"unchanged_toast":["big"]}
// op: c insert, u update, d delete, t truncate, r snapshot read. `before` is the old row with REPLICA IDENTITY
// FULL, the old key when an update changed it (or for a delete), else null. A TOASTed column an update left
// alone is not sent by the server: it is missing from `after` and named in `unchanged_toast`, never null.
// Pure: no I/O, so every shape is unit-tested from built messages.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/record.hpp"
#include "sources/postgres_cdc/pgoutput.hpp"

namespace sluice::sources::postgres_cdc {

// A relation as the stream last described it, with what each record of it repeats, prepared once.
struct CachedRelation {
  Relation relation;
  std::string qualified;                // schema.name
  std::string source_tail;              // ,"schema":"...","table":"..."}
  std::vector<std::string> json_names;  // "\"name\":" per column
  std::vector<size_t> key_columns;      // what Record::key holds: the primary key, else the identity columns
};

class ChangeRecords {
 public:
  // Primary keys by schema.name: the key of a table whose replica identity is FULL (its stream marks every
  // column as identity).
  void set_primary_keys(std::map<std::string, std::vector<std::string>> keys) { primary_keys_ = std::move(keys); }
  // Domains by OID → their base type: the stream names a column's domain, a query result its base type, and
  // both are rendered as the base type.
  void set_domain_types(std::map<uint32_t, uint32_t> domains) { domains_ = std::move(domains); }
  // A Relation message: new, or a changed table (ALTER TABLE) that replaces what was known.
  void relation(const Relation& r);
  const CachedRelation& find(uint32_t id) const;  // throws PgOutputError for an unannounced relation
  void begin(const Begin& b);

  // Each fills `out` (value, key, op, event time); a value that does not parse as its column's type makes
  // `out` a dead-letter entry naming the table, column, LSN and reason.
  void insert(const Insert& m, Lsn lsn, core::Record& out) const;
  void update(const Update& m, Lsn lsn, core::Record& out) const;
  void remove(const Delete& m, Lsn lsn, core::Record& out) const;
  void truncate(const Truncate& m, uint32_t relation, Lsn lsn, core::Record& out) const;

 private:
  void start(core::Record& out, char op, Lsn lsn, const CachedRelation& rel) const;
  void reject(core::Record& out, const CachedRelation& rel, char op, Lsn lsn, const std::string& why) const;

  std::unordered_map<uint32_t, CachedRelation> relations_;
  std::map<std::string, std::vector<std::string>> primary_keys_;
  std::map<uint32_t, uint32_t> domains_;
  std::string txn_source_;  // ,"commit_lsn":"...","xid":N,"commit_time":"..."
  int64_t commit_unix_ms_ = 0;
};

// A snapshot row (from a SELECT in the connection settings of the stream) as an `r` change record.
struct SnapshotColumns {
  std::string qualified;    // schema.name
  std::vector<std::string> names;
  std::string source_tail;  // as CachedRelation's
  std::vector<std::string> json_names;
  std::vector<uint32_t> types;
  std::vector<size_t> key_columns;
};
SnapshotColumns snapshot_columns(std::string_view schema, std::string_view table, const std::vector<std::string>& names,
                                 const std::vector<uint32_t>& types, const std::vector<size_t>& key_columns);
// values: one per column, nullopt for NULL.
void snapshot_record(const SnapshotColumns& columns, const std::vector<std::optional<std::string_view>>& values, Lsn lsn,
                     int64_t read_unix_ms, core::Record& out);

}  // namespace sluice::sources::postgres_cdc

#pragma once
// What the CDC source asks the server's catalog, over an ordinary (non-replication) connection: the
// publication and its tables, their columns and keys, and the slot's state.
#include <boost/asio/awaitable.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sources/postgres_cdc/options.hpp"
#include "sources/postgres_cdc/pgoutput.hpp"

namespace spdlog {
class logger;
}

namespace sluice::sources::postgres_cdc {

class PgConnection;

struct TableInfo {
  TableName name;
  std::vector<std::string> columns;  // the published columns, in table order
  std::vector<size_t> key;           // the replica identity index, or else the primary key: positions in columns
  std::vector<std::string> key_names() const;
};

// The publication's tables, sorted by their schema.name text (the snapshot's order).
boost::asio::awaitable<std::vector<TableInfo>> published_tables(PgConnection& c, const std::string& publication);

// Creates the publication for `tables` if it does not exist (and `may_create`); fails when it does not exist
// otherwise, or when a configured table is not in it (its changes would never arrive).
boost::asio::awaitable<void> ensure_publication(PgConnection& c, const std::string& publication, const std::vector<TableName>& tables,
                                                bool may_create, spdlog::logger& log);

struct SlotInfo {
  std::string plugin;
  std::string database;
  Lsn confirmed_flush = 0;
  std::string wal_status;  // reserved | extended | unreserved | lost
  int active_pid = 0;      // 0: nobody streams from it
};
boost::asio::awaitable<std::optional<SlotInfo>> slot_info(PgConnection& c, const std::string& slot);

// WAL the slot holds back: the server's current WAL position minus the slot's confirmed_flush_lsn.
struct SlotLag {
  bool exists = false;
  uint64_t bytes = 0;
  std::string wal_status;
};
boost::asio::awaitable<SlotLag> slot_lag(PgConnection& c, const std::string& slot);

// Every domain type of the database → its base type (through domains over domains).
boost::asio::awaitable<std::map<uint32_t, uint32_t>> domain_base_types(PgConnection& c);

// SELECT of up to `limit` rows of `t` in key order, after the key given as parameters $1.. when `after`.
std::string chunk_query(const PgConnection& c, const TableInfo& t, bool after, uint64_t limit);

}  // namespace sluice::sources::postgres_cdc

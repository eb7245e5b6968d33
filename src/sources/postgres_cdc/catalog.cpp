#include "sources/postgres_cdc/catalog.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "sources/postgres_cdc/pg_connection.hpp"

namespace sluice::sources::postgres_cdc {
using boost::asio::awaitable;

std::vector<std::string> TableInfo::key_names() const {
  std::vector<std::string> names;
  for (size_t k : key) names.push_back(columns[k]);
  return names;
}

namespace {

// Rows of (schema, table, column, position in the key or NULL) into tables.
std::vector<TableInfo> tables_of(const PgResult& r) {
  std::vector<TableInfo> tables;
  std::vector<std::map<int, size_t>> keys;
  for (int row = 0; row < r.rows(); ++row) {
    TableName name{std::string(r.get(row, 0)), std::string(r.get(row, 1))};
    if (tables.empty() || tables.back().name != name) {
      tables.push_back({name, {}, {}});
      keys.emplace_back();
    }
    if (!r.is_null(row, 3)) keys.back()[std::stoi(std::string(r.get(row, 3)))] = tables.back().columns.size();
    tables.back().columns.emplace_back(r.get(row, 2));
  }
  for (size_t i = 0; i < tables.size(); ++i)
    for (const auto& [ord, column] : keys[i]) tables[i].key.push_back(column);
  // The snapshot's order, and the order its progress ("tables before this one are done") is compared in.
  std::sort(tables.begin(), tables.end(), [](const TableInfo& a, const TableInfo& b) { return a.name.qualified() < b.name.qualified(); });
  return tables;
}

}  // namespace

awaitable<std::vector<TableInfo>> published_tables(PgConnection& c, const std::string& publication) {
  // One row per published column. Generated columns are never published (PostgreSQL 15), and a
  // publication's column list narrows what is (pg_publication_tables.attnames).
  static const std::string sql =
      "SELECT n.nspname, cl.relname, a.attname,"
      "  (SELECT k.ord FROM pg_index i, unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)"
      "    WHERE i.indrelid = cl.oid AND k.attnum = a.attnum"
      "      AND CASE WHEN cl.relreplident = 'i' THEN i.indisreplident ELSE i.indisprimary END)"
      " FROM pg_publication_tables pt"
      " JOIN pg_namespace n ON n.nspname = pt.schemaname"
      " JOIN pg_class cl ON cl.relnamespace = n.oid AND cl.relname = pt.tablename"
      " JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''"
      "   AND a.attname = ANY (pt.attnames)"
      " WHERE pt.pubname = $1"
      " ORDER BY n.nspname, cl.relname, a.attnum";
  auto r = co_await c.exec_params(sql, publication);
  co_return tables_of(r);
}

awaitable<void> ensure_publication(PgConnection& c, const std::string& publication, const std::vector<TableName>& tables,
                                   bool may_create, spdlog::logger& log) {
  auto exists = co_await c.exec_params("SELECT 1 FROM pg_publication WHERE pubname = $1", publication);
  if (exists.rows() == 0 && !may_create)
    // Created by our first start, or by an operator: without it the slot's changes cannot be decoded, and a
    // new one would not cover the WAL written while it was gone.
    throw std::runtime_error("publication '" + publication +
                             "' no longer exists, but this pipeline has streamed from it: its changes since cannot be decoded. "
                             "Recreate it and start the pipeline afresh");
  if (exists.rows() == 0) {
    if (tables.empty())
      throw std::runtime_error("publication '" + publication +
                               "' does not exist, and no tables are configured to create it for (set tables:, or create it: "
                               "CREATE PUBLICATION ... FOR TABLE ...)");
    std::string sql = "CREATE PUBLICATION " + c.quote_identifier(publication) + " FOR TABLE ";
    for (size_t i = 0; i < tables.size(); ++i)
      sql += (i ? ", " : "") + c.quote_identifier(tables[i].schema) + "." + c.quote_identifier(tables[i].name);
    co_await c.exec(sql);
    log.info("created publication {} for {} table(s)", publication, tables.size());
    co_return;
  }
  auto published = co_await c.exec_params("SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1", publication);
  for (const auto& t : tables) {
    bool found = false;
    for (int row = 0; row < published.rows() && !found; ++row)
      found = published.get(row, 0) == t.schema && published.get(row, 1) == t.name;
    if (!found)
      throw std::runtime_error("table " + t.qualified() + " is configured but not in publication '" + publication +
                               "', so its changes would never arrive: ALTER PUBLICATION " + c.quote_identifier(publication) +
                               " ADD TABLE " + c.quote_identifier(t.schema) + "." + c.quote_identifier(t.name));
  }
}

awaitable<std::optional<SlotInfo>> slot_info(PgConnection& c, const std::string& slot) {
  auto r = co_await c.exec_params(
      "SELECT plugin, database, confirmed_flush_lsn::text, wal_status, coalesce(active_pid, 0) FROM pg_replication_slots WHERE slot_name = $1",
      slot);
  if (r.rows() == 0) co_return std::nullopt;
  SlotInfo s;
  s.plugin = r.is_null(0, 0) ? "" : std::string(r.get(0, 0));
  s.database = r.is_null(0, 1) ? "" : std::string(r.get(0, 1));
  if (!r.is_null(0, 2)) s.confirmed_flush = parse_lsn(r.get(0, 2)).value_or(0);
  s.wal_status = r.is_null(0, 3) ? "" : std::string(r.get(0, 3));
  s.active_pid = std::stoi(std::string(r.get(0, 4)));
  co_return s;
}

awaitable<SlotLag> slot_lag(PgConnection& c, const std::string& slot) {
  auto r = co_await c.exec_params(
      "SELECT coalesce(pg_current_wal_lsn() - confirmed_flush_lsn, 0)::bigint, coalesce(wal_status, '') FROM pg_replication_slots "
      "WHERE slot_name = $1",
      slot);
  SlotLag lag;
  if (r.rows() == 0) co_return lag;
  lag.exists = true;
  lag.bytes = uint64_t(std::max<int64_t>(0, std::stoll(std::string(r.get(0, 0)))));
  lag.wal_status = r.get(0, 1);
  co_return lag;
}

awaitable<std::map<uint32_t, uint32_t>> domain_base_types(PgConnection& c) {
  auto r = co_await c.exec("SELECT oid, typbasetype FROM pg_type WHERE typtype = 'd'");
  std::map<uint32_t, uint32_t> base;
  for (int row = 0; row < r.rows(); ++row)
    base[uint32_t(std::stoul(std::string(r.get(row, 0))))] = uint32_t(std::stoul(std::string(r.get(row, 1))));
  for (auto& [domain, type] : base)
    for (int depth = 0; depth < 32 && base.count(type); ++depth) type = base.at(type);
  co_return base;
}

std::string chunk_query(const PgConnection& c, const TableInfo& t, bool after, uint64_t limit) {
  std::string columns, key, params;
  for (size_t i = 0; i < t.columns.size(); ++i) columns += (i ? ", " : "") + c.quote_identifier(t.columns[i]);
  for (size_t i = 0; i < t.key.size(); ++i) {
    key += (i ? ", " : "") + c.quote_identifier(t.columns[t.key[i]]);
    params += (i ? ", $" : "$") + std::to_string(i + 1);
  }
  std::string sql = "SELECT " + columns + " FROM " + c.quote_identifier(t.name.schema) + "." + c.quote_identifier(t.name.name);
  // A row comparison orders exactly as ORDER BY on the same columns does, collations included.
  if (after) sql += " WHERE (" + key + ") > (" + params + ")";
  return sql + " ORDER BY " + key + " LIMIT " + std::to_string(limit);
}

}  // namespace sluice::sources::postgres_cdc

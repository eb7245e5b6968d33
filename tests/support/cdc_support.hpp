#pragma once
// Helpers for the tests of the postgres_cdc source: replaying its change stream onto a copy of the tables
// and comparing, counting what a workload changed, and watching the slot.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "support/postgres_server.hpp"

namespace sluice::testing {

// Key columns by table name (without schema), as both the source and the copy have them.
using TableKeys = std::map<std::string, std::vector<std::string>>;

// Applies a change stream (the JSON lines a postgres_cdc pipeline wrote, in order) to tables of the same
// shape in `schema` of the same server, the way a consumer would: r and c insert or overwrite, u overwrites
// the columns it carries (after deleting the old row when the key changed), d deletes by the old key, t
// truncates. Throws naming the line that does not apply.
void replay_changes(const PostgresServer& pg, const std::vector<std::string>& lines, const std::string& schema, const TableKeys& keys);

// Creates `schema` with an empty copy (LIKE ... INCLUDING ALL) of each public table.
void create_copies(const PostgresServer& pg, const std::string& schema, const TableKeys& keys);

// Fails (REQUIRE) unless public.t and schema.t hold the same rows, for every table: EXCEPT both ways,
// showing a few rows that differ.
void require_same_tables(const PostgresServer& pg, const std::string& schema, const TableKeys& keys);

// The whole check: the change stream replayed onto empty copies (schema `replay`) equals the tables.
void require_replay_equals_tables(const PostgresServer& pg, const std::vector<std::string>& lines, const TableKeys& keys);

// Changes by table and op letter (c u d t r) in a change stream.
using ChangeCounts = std::map<std::string, std::map<char, uint64_t>>;
ChangeCounts count_changes(const std::vector<std::string>& lines);
// Fails naming the first change that appears twice: a stream change is identified by its WAL position and
// table (one TRUNCATE names several tables), a snapshot row by its table and key.
void require_no_duplicate_changes(const std::vector<std::string>& lines, const TableKeys& keys);

// Runs a workload script through psql, each statement preceded by a line "\echo @TABLE" naming the table it
// changes; returns the rows the server reported changed (command tags INSERT 0 n, UPDATE n, DELETE n) by
// table and op letter.
ChangeCounts run_counted_workload(const PostgresServer& pg, const std::string& script);

uint64_t current_wal_lsn(const PostgresServer& pg);
// The slot's confirmed_flush_lsn; 0 when the slot does not exist.
uint64_t confirmed_flush_lsn(const PostgresServer& pg, const std::string& slot);

}  // namespace sluice::testing

#include "sources/postgres_cdc/change_records.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "formats/json_check.hpp"
#include "formats/timestamp.hpp"
#include "sources/postgres_cdc/values.hpp"

namespace sluice::sources::postgres_cdc {
namespace {

// A value the server sent that does not parse as its column's type.
struct BadValue : std::runtime_error {
  BadValue(const std::string& column, const std::string& why) : std::runtime_error("column " + column + ": " + why) {}
};

void append_number(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void append_quoted_lsn(std::string& out, Lsn lsn) {
  out += '"';
  append_lsn(out, lsn);
  out += '"';
}

std::string json_name(const std::string& name) {
  std::string s;
  formats::append_json_string(s, name);
  return s + ":";
}

std::string source_tail(std::string_view schema, std::string_view table) {
  std::string s = ",\"schema\":";
  formats::append_json_string(s, schema);
  s += ",\"table\":";
  formats::append_json_string(s, table);
  return s + "}";
}

enum class Columns { all, key_only };

// Appends {"col":value,...}; with `unchanged`, TOASTed columns the update did not send are left out and
// collected there instead.
void append_tuple(std::string& out, const CachedRelation& rel, const Tuple& t, Columns which, std::vector<size_t>* unchanged) {
  const auto& columns = rel.relation.columns;
  if (t.size() != columns.size())
    throw PgOutputError("a tuple of " + rel.qualified + " has " + std::to_string(t.size()) + " columns; its Relation message said " +
                        std::to_string(columns.size()));
  out += '{';
  bool first = true;
  for (size_t c = 0; c < t.size(); ++c) {
    if (which == Columns::key_only && !columns[c].key) continue;
    const Datum& d = t[c];
    if (d.kind == Datum::Kind::unchanged_toast) {
      if (unchanged) unchanged->push_back(c);
      continue;
    }
    if (!first) out += ',';
    first = false;
    out += rel.json_names[c];
    if (d.kind == Datum::Kind::null) {
      out += "null";
      continue;
    }
    try {
      append_json_value(out, columns[c].type_oid, d.text);
    } catch (const std::invalid_argument& e) {
      throw BadValue(columns[c].name, e.what());
    }
  }
  out += '}';
}

// Record::key: the key columns of a tuple that holds them all (a new row, or a full old row).
void append_key(std::string& out, const CachedRelation& rel, const Tuple& t) {
  out += '{';
  for (size_t i = 0; i < rel.key_columns.size(); ++i) {
    size_t c = rel.key_columns[i];
    if (i) out += ',';
    out += rel.json_names[c];
    const Datum& d = t.at(c);
    if (d.kind == Datum::Kind::text) append_json_value(out, rel.relation.columns[c].type_oid, d.text);
    else out += "null";
  }
  out += '}';
}

void append_unchanged(std::string& out, const CachedRelation& rel, const std::vector<size_t>& unchanged) {
  if (unchanged.empty()) return;
  out += ",\"unchanged_toast\":[";
  for (size_t i = 0; i < unchanged.size(); ++i) {
    if (i) out += ',';
    formats::append_json_string(out, rel.relation.columns[unchanged[i]].name);
  }
  out += ']';
}

core::Op op_of(char letter) {
  switch (letter) {
    case 'c': return core::Op::insert;
    case 'u': return core::Op::update;
    case 'd': return core::Op::remove;
    case 't': return core::Op::truncate;
    default: return core::Op::snapshot_read;
  }
}

}  // namespace

void ChangeRecords::relation(const Relation& r) {
  CachedRelation c;
  c.relation = r;
  for (auto& column : c.relation.columns)
    if (auto d = domains_.find(column.type_oid); d != domains_.end()) column.type_oid = d->second;
  // pgoutput sends an empty namespace for pg_catalog.
  std::string schema = r.schema.empty() ? "pg_catalog" : r.schema;
  c.qualified = schema + "." + r.name;
  c.source_tail = source_tail(schema, r.name);
  for (const auto& col : r.columns) c.json_names.push_back(json_name(col.name));
  auto pk = primary_keys_.find(c.qualified);
  if (r.replica_identity == 'f' && pk != primary_keys_.end()) {
    for (const auto& name : pk->second)
      for (size_t i = 0; i < r.columns.size(); ++i)
        if (r.columns[i].name == name) c.key_columns.push_back(i);
  }
  if (c.key_columns.empty())
    for (size_t i = 0; i < r.columns.size(); ++i)
      if (r.columns[i].key) c.key_columns.push_back(i);
  relations_[r.id] = std::move(c);
}

const CachedRelation& ChangeRecords::find(uint32_t id) const {
  auto it = relations_.find(id);
  if (it == relations_.end()) throw PgOutputError("a change of relation " + std::to_string(id) + " before its Relation message");
  return it->second;
}

void ChangeRecords::begin(const Begin& b) {
  txn_source_ = ",\"commit_lsn\":";
  append_quoted_lsn(txn_source_, b.final_lsn);
  txn_source_ += ",\"xid\":";
  append_number(txn_source_, b.xid);
  txn_source_ += ",\"commit_time\":\"";
  commit_unix_ms_ = pg_timestamp_to_unix_ms(b.commit_time);
  formats::append_iso8601_ms(txn_source_, commit_unix_ms_);
  txn_source_ += '"';
}

void ChangeRecords::start(core::Record& out, char op, Lsn lsn, const CachedRelation& rel) const {
  out.value.clear();
  out.value.reserve(256);
  out.value += "{\"op\":\"";
  out.value += op;
  out.value += "\",\"source\":{\"lsn\":";
  append_quoted_lsn(out.value, lsn);
  out.value += txn_source_;
  out.value += rel.source_tail;
  out.op = op_of(op);
  out.event_time_ms = commit_unix_ms_;
  out.rejected = false;
}

void ChangeRecords::reject(core::Record& out, const CachedRelation& rel, char op, Lsn lsn, const std::string& why) const {
  out.value = "{\"reason\":";
  formats::append_json_string(out.value, why);
  out.value += ",\"op\":\"";
  out.value += op;
  out.value += "\",\"lsn\":";
  append_quoted_lsn(out.value, lsn);
  out.value += ",\"table\":";
  formats::append_json_string(out.value, rel.qualified);
  out.value += '}';
  out.key.clear();
  out.rejected = true;
}

void ChangeRecords::insert(const Insert& m, Lsn lsn, core::Record& out) const {
  const auto& rel = find(m.relation);
  try {
    start(out, 'c', lsn, rel);
    out.value += ",\"before\":null,\"after\":";
    append_tuple(out.value, rel, m.after, Columns::all, nullptr);
    out.value += '}';
    out.key.clear();
    append_key(out.key, rel, m.after);
  } catch (const BadValue& e) {
    reject(out, rel, 'c', lsn, e.what());
  }
}

void ChangeRecords::update(const Update& m, Lsn lsn, core::Record& out) const {
  const auto& rel = find(m.relation);
  try {
    start(out, 'u', lsn, rel);
    out.value += ",\"before\":";
    if (m.old_kind == 'O') append_tuple(out.value, rel, m.before, Columns::all, nullptr);
    else if (m.old_kind == 'K') append_tuple(out.value, rel, m.before, Columns::key_only, nullptr);
    else out.value += "null";
    out.value += ",\"after\":";
    std::vector<size_t> unchanged;
    append_tuple(out.value, rel, m.after, Columns::all, &unchanged);
    append_unchanged(out.value, rel, unchanged);
    out.value += '}';
    out.key.clear();
    append_key(out.key, rel, m.after);
  } catch (const BadValue& e) {
    reject(out, rel, 'u', lsn, e.what());
  }
}

void ChangeRecords::remove(const Delete& m, Lsn lsn, core::Record& out) const {
  const auto& rel = find(m.relation);
  try {
    start(out, 'd', lsn, rel);
    out.value += ",\"before\":";
    // With the default identity the non-key columns of the old row are nulls that are not real values.
    append_tuple(out.value, rel, m.before, m.old_kind == 'O' ? Columns::all : Columns::key_only, nullptr);
    out.value += ",\"after\":null}";
    out.key.clear();
    append_key(out.key, rel, m.before);
  } catch (const BadValue& e) {
    reject(out, rel, 'd', lsn, e.what());
  }
}

void ChangeRecords::truncate(const Truncate& m, uint32_t relation, Lsn lsn, core::Record& out) const {
  const auto& rel = find(relation);
  start(out, 't', lsn, rel);
  out.value += ",\"before\":null,\"after\":null,\"cascade\":";
  out.value += m.cascade ? "true" : "false";
  out.value += ",\"restart_identity\":";
  out.value += m.restart_identity ? "true" : "false";
  out.value += '}';
  out.key.clear();
}

SnapshotColumns snapshot_columns(std::string_view schema, std::string_view table, const std::vector<std::string>& names,
                                 const std::vector<uint32_t>& types, const std::vector<size_t>& key_columns) {
  SnapshotColumns c;
  c.qualified = std::string(schema) + "." + std::string(table);
  c.names = names;
  c.source_tail = source_tail(schema, table);
  for (const auto& n : names) c.json_names.push_back(json_name(n));
  c.types = types;
  c.key_columns = key_columns;
  return c;
}

void snapshot_record(const SnapshotColumns& columns, const std::vector<std::optional<std::string_view>>& values, Lsn lsn,
                     int64_t read_unix_ms, core::Record& out) {
  out.value.clear();
  out.value += "{\"op\":\"r\",\"source\":{\"lsn\":";
  append_quoted_lsn(out.value, lsn);
  out.value += ",\"snapshot\":true,\"read_time\":\"";
  formats::append_iso8601_ms(out.value, read_unix_ms);
  out.value += '"';
  out.value += columns.source_tail;
  out.value += ",\"before\":null,\"after\":{";
  out.op = core::Op::snapshot_read;
  out.event_time_ms = read_unix_ms;
  out.rejected = false;
  size_t c = 0;
  try {
    for (; c < values.size(); ++c) {
      if (c) out.value += ',';
      out.value += columns.json_names[c];
      if (values[c]) append_json_value(out.value, columns.types[c], *values[c]);
      else out.value += "null";
    }
  } catch (const std::invalid_argument& e) {
    // The same shape as a stream change's dead-letter entry.
    out.value = "{\"reason\":";
    formats::append_json_string(out.value, "column " + columns.names[c] + ": " + e.what());
    out.value += ",\"op\":\"r\",\"lsn\":";
    append_quoted_lsn(out.value, lsn);
    out.value += ",\"table\":";
    formats::append_json_string(out.value, columns.qualified);
    out.value += '}';
    out.key.clear();
    out.rejected = true;
    return;
  }
  out.value += "}}";
  out.key = "{";
  for (size_t i = 0; i < columns.key_columns.size(); ++i) {
    size_t k = columns.key_columns[i];
    if (i) out.key += ',';
    out.key += columns.json_names[k];
    if (values[k]) append_json_value(out.key, columns.types[k], *values[k]);
    else out.key += "null";
  }
  out.key += '}';
}

}  // namespace sluice::sources::postgres_cdc

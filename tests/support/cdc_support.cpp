#include "support/cdc_support.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "sources/postgres_cdc/pgoutput.hpp"

namespace sluice::testing {
namespace json = boost::json;

namespace {

std::string quote_json(const json::value& v) {
  std::string s = json::serialize(v);
  if (s.find("$j$") != std::string::npos) throw std::runtime_error("a value holds $j$, which the replay cannot quote");
  return "$j$" + s + "$j$";
}

std::string join(const std::vector<std::string>& names, const std::string& prefix = "") {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + prefix + names[i];
  return s;
}

// Statements that change rows of one table with distinct keys and the same columns go out as one
// json_populate_recordset statement: a stream of 200k changes replays in seconds rather than minutes.
struct Pending {
  std::string kind;  // "upsert" or "delete"
  std::string table;
  std::vector<std::string> columns;  // upsert: the columns carried
  json::array rows;
  std::set<std::string> keys;
};

class Replay {
 public:
  Replay(std::string schema, const TableKeys& keys) : schema_(std::move(schema)), keys_(keys) {}

  void add(const std::string& line) {
    json::object o = json::parse(line).as_object();
    std::string op(o.at("op").as_string());
    std::string table(o.at("source").as_object().at("table").as_string());
    auto k = keys_.find(table);
    if (k == keys_.end()) throw std::runtime_error("a change of a table the test does not know: " + line);
    if (op == "t") {
      flush();
      sql_ += "TRUNCATE " + target(table) + ";\n";
    } else if (op == "d") {
      queue("delete", table, {}, o.at("before").as_object());
    } else if (op == "r" || op == "c" || op == "u") {
      const auto& after = o.at("after").as_object();
      if (op == "u" && o.at("before").is_object() && key_of(table, o.at("before").as_object()) != key_of(table, after))
        queue("delete", table, {}, o.at("before").as_object());
      std::vector<std::string> columns;
      for (const auto& [name, value] : after) columns.emplace_back(name);
      queue("upsert", table, columns, after);
    } else {
      throw std::runtime_error("unknown op in " + line);
    }
  }

  std::string finish() {
    flush();
    return std::move(sql_);
  }

 private:
  std::string target(const std::string& table) const { return schema_ + "." + table; }
  std::string key_of(const std::string& table, const json::object& row) const {
    std::string key;
    for (const auto& c : keys_.at(table)) key += json::serialize(row.at(c)) + "\x1f";
    return key;
  }
  void queue(const std::string& kind, const std::string& table, const std::vector<std::string>& columns, const json::object& row) {
    std::string key = key_of(table, row);
    if (!pending_ || pending_->kind != kind || pending_->table != table || pending_->columns != columns || pending_->keys.count(key) ||
        pending_->rows.size() >= 1000)
      flush();
    if (!pending_) pending_ = Pending{kind, table, columns, {}, {}};
    pending_->rows.push_back(row);
    pending_->keys.insert(key);
  }
  void flush() {
    if (!pending_) return;
    const auto& p = *pending_;
    const auto& key = keys_.at(p.table);
    std::string rows = "json_populate_recordset(NULL::" + target(p.table) + ", " + quote_json(p.rows) + ")";
    if (p.kind == "delete") {
      std::string match;
      for (size_t i = 0; i < key.size(); ++i) match += (i ? " AND " : "") + std::string("t.") + key[i] + " = o." + key[i];
      sql_ += "DELETE FROM " + target(p.table) + " t USING " + rows + " o WHERE " + match + ";\n";
    } else {
      std::vector<std::string> set;
      for (const auto& c : p.columns)
        if (std::find(key.begin(), key.end(), c) == key.end()) set.push_back(c);
      sql_ += "INSERT INTO " + target(p.table) + " (" + join(p.columns) + ") SELECT " + join(p.columns) + " FROM " + rows +
              " ON CONFLICT (" + join(key) + ") DO " +
              (set.empty() ? "NOTHING" : "UPDATE SET (" + join(set) + ") = ROW(" + join(set, "EXCLUDED.") + ")") + ";\n";
    }
    pending_.reset();
  }

  std::string schema_;
  const TableKeys& keys_;
  std::optional<Pending> pending_;
  std::string sql_;
};

}  // namespace

void replay_changes(const PostgresServer& pg, const std::vector<std::string>& lines, const std::string& schema, const TableKeys& keys) {
  Replay replay(schema, keys);
  for (size_t i = 0; i < lines.size(); ++i) {
    try {
      replay.add(lines[i]);
    } catch (const std::exception& e) {
      throw std::runtime_error("change " + std::to_string(i) + " does not replay (" + e.what() + "): " + lines[i].substr(0, 400));
    }
  }
  pg.sql("BEGIN;\n" + replay.finish() + "COMMIT;\n");
}

void create_copies(const PostgresServer& pg, const std::string& schema, const TableKeys& keys) {
  std::string sql = "CREATE SCHEMA " + schema + ";\n";
  for (const auto& [table, key] : keys) sql += "CREATE TABLE " + schema + "." + table + " (LIKE public." + table + " INCLUDING ALL);\n";
  pg.sql(sql);
}

void require_same_tables(const PostgresServer& pg, const std::string& schema, const TableKeys& keys) {
  for (const auto& [table, key] : keys) {
    std::string only_source = pg.sql("SELECT count(*) FROM (TABLE public." + table + " EXCEPT TABLE " + schema + "." + table + ") x;");
    std::string only_copy = pg.sql("SELECT count(*) FROM (TABLE " + schema + "." + table + " EXCEPT TABLE public." + table + ") x;");
    std::string rows = pg.sql("SELECT count(*) FROM public." + table + ";");
    INFO("table " << table << " (" << rows.substr(0, rows.size() - 1) << " rows): rows only in the source: "
                  << pg.sql("SELECT * FROM (TABLE public." + table + " EXCEPT TABLE " + schema + "." + table + ") x LIMIT 3;").substr(0, 1500)
                  << "\nrows only in the replay: "
                  << pg.sql("SELECT * FROM (TABLE " + schema + "." + table + " EXCEPT TABLE public." + table + ") x LIMIT 3;").substr(0, 1500));
    CHECK(only_source == "0\n");
    CHECK(only_copy == "0\n");
    REQUIRE((only_source == "0\n" && only_copy == "0\n"));
  }
}

void require_replay_equals_tables(const PostgresServer& pg, const std::vector<std::string>& lines, const TableKeys& keys) {
  create_copies(pg, "replay", keys);
  replay_changes(pg, lines, "replay", keys);
  require_same_tables(pg, "replay", keys);
}

ChangeCounts count_changes(const std::vector<std::string>& lines) {
  ChangeCounts counts;
  for (const auto& line : lines) {
    auto o = json::parse(line).as_object();
    counts[std::string(o.at("source").as_object().at("table").as_string())][o.at("op").as_string()[0]]++;
  }
  return counts;
}

void require_no_duplicate_changes(const std::vector<std::string>& lines, const TableKeys& keys) {
  std::set<std::string> seen;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto o = json::parse(lines[i]).as_object();
    const auto& s = o.at("source").as_object();
    std::string op(o.at("op").as_string()), table(s.at("table").as_string());
    std::string id = op + " " + table + " ";
    if (op == "r") {
      for (const auto& c : keys.at(table)) id += json::serialize(o.at("after").as_object().at(c)) + " ";
    } else {
      id += std::string(s.at("lsn").as_string());
    }
    INFO("change " << i << " appears twice: " << lines[i].substr(0, 300));
    REQUIRE(seen.insert(id).second);
  }
}

ChangeCounts run_counted_workload(const PostgresServer& pg, const std::string& script) {
  std::string out = pg.sql_with_tags(script);
  ChangeCounts counts;
  static const std::regex tag(R"(^(INSERT 0|UPDATE|DELETE) (\d+)$)");
  std::string table;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("@")) {
      table = line.substr(1);
      continue;
    }
    std::smatch m;
    if (!std::regex_match(line, m, tag)) continue;
    if (table.empty()) throw std::runtime_error("a workload statement without its \\echo @table line: " + line);
    char op = m[1] == "UPDATE" ? 'u' : m[1] == "DELETE" ? 'd' : 'c';
    counts[table][op] += std::stoull(m[2]);
  }
  return counts;
}

uint64_t current_wal_lsn(const PostgresServer& pg) {
  std::string text = pg.sql("SELECT pg_current_wal_lsn();");
  return sources::postgres_cdc::parse_lsn(text.substr(0, text.size() - 1)).value();
}

uint64_t confirmed_flush_lsn(const PostgresServer& pg, const std::string& slot) {
  std::string text = pg.sql("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" + slot + "';");
  if (text.empty()) return 0;
  return sources::postgres_cdc::parse_lsn(text.substr(0, text.size() - 1)).value_or(0);
}

}  // namespace sluice::testing

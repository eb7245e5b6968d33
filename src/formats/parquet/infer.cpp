#include "formats/parquet/infer.hpp"

#include <boost/json.hpp>

namespace sluice::formats::parquet {

namespace json = boost::json;
using Kind = ColumnType::Kind;

namespace {

// The type a value shows, or nullopt when it shows none (null, [], a list of nulls).
std::optional<ColumnType> type_of(const json::value& v);

void widen(ColumnType& into, const ColumnType& seen);

void widen_fields(std::vector<std::string>& names, std::vector<ColumnType>& types, const json::object& o) {
  for (const auto& kv : o) {
    const auto shown = type_of(kv.value());
    if (!shown) continue;
    const std::string key(kv.key());
    const auto it = std::find(names.begin(), names.end(), key);
    if (it == names.end()) {
      names.push_back(key);
      types.push_back(*shown);
    } else {
      widen(types[size_t(it - names.begin())], *shown);
    }
  }
}

std::optional<ColumnType> type_of(const json::value& v) {
  ColumnType t;
  switch (v.kind()) {
    case json::kind::null: return std::nullopt;
    case json::kind::bool_: t.kind = Kind::boolean; return t;
    case json::kind::int64:
    case json::kind::uint64: t.kind = Kind::int64; return t;
    case json::kind::double_: t.kind = Kind::float64; return t;
    case json::kind::string: t.kind = Kind::string; return t;
    case json::kind::array: {
      std::optional<ColumnType> element;
      for (const auto& item : v.get_array()) {
        const auto shown = type_of(item);
        if (!shown) continue;
        if (element) widen(*element, *shown);
        else element = shown;
      }
      if (!element) return std::nullopt;
      t.kind = Kind::list;
      t.children.push_back(*element);
      return t;
    }
    case json::kind::object: {
      t.kind = Kind::structure;
      widen_fields(t.field_names, t.children, v.get_object());
      if (t.children.empty()) return std::nullopt;
      return t;
    }
  }
  return std::nullopt;
}

void widen(ColumnType& into, const ColumnType& seen) {
  if (into.kind == Kind::int64 && seen.kind == Kind::float64) {
    into.kind = Kind::float64;
  } else if (into.kind == Kind::list && seen.kind == Kind::list) {
    widen(into.children[0], seen.children[0]);
  } else if (into.kind == Kind::structure && seen.kind == Kind::structure) {
    for (size_t i = 0; i < seen.children.size(); ++i) {
      const auto it = std::find(into.field_names.begin(), into.field_names.end(), seen.field_names[i]);
      if (it == into.field_names.end()) {
        into.field_names.push_back(seen.field_names[i]);
        into.children.push_back(seen.children[i]);
      } else {
        widen(into.children[size_t(it - into.field_names.begin())], seen.children[i]);
      }
    }
  }
  // Anything else conflicts or already agrees: the column stays, and a value that does not fit it is refused.
}

}  // namespace

bool widen_columns(std::vector<ColumnSpec>& columns, std::string_view text) {
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return false;
  std::vector<std::string> names;
  std::vector<ColumnType> types;
  for (const auto& c : columns) {
    names.push_back(c.name);
    types.push_back(c.type);
  }
  widen_fields(names, types, v.get_object());
  columns.clear();
  for (size_t i = 0; i < names.size(); ++i) columns.push_back({names[i], types[i]});
  return true;
}

}  // namespace sluice::formats::parquet

#pragma once
// A parsed configuration document: a small tree that remembers where every node came from, so that every
// error can name path:line:col. yaml-cpp stays inside loader.cpp; everything else reads this tree.
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sluice::config {

struct Mark {
  int line = 0;  // 1-based; 0 = unknown
  int col = 0;   // 1-based
};

struct Value {
  enum class Kind { null, scalar, map, seq };
  struct Entry;

  Kind kind = Kind::null;
  Mark mark;
  std::string text;  // scalar after ${...} substitution
  std::string raw;   // scalar as written: what error messages quote, so substituted secrets never leak
  std::vector<Entry> entries;  // map, in document order
  std::vector<Value> items;    // seq

  bool is_null() const { return kind == Kind::null; }
  bool is_scalar() const { return kind == Kind::scalar; }
  bool is_map() const { return kind == Kind::map; }
  bool is_seq() const { return kind == Kind::seq; }
  const Value* find(std::string_view key) const;
  std::string_view kind_name() const;
};

struct Value::Entry {
  std::string key;
  Mark key_mark;
  Value value;
};

struct Document {
  std::string path;
  Value root;
};

}  // namespace sluice::config

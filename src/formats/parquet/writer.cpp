#include "formats/parquet/writer.hpp"

#include <simdjson.h>

#include <cmath>
#include <cstring>
#include <unordered_map>

#include "formats/base64.hpp"
#include "formats/parquet/background_compressor.hpp"
#include "formats/parquet/value_parse.hpp"

namespace sluice::formats::parquet {

namespace ondemand = simdjson::ondemand;
using Kind = ColumnType::Kind;

namespace {

// A column's type with the levels the shredder needs at each node.
struct Node {
  const ColumnType* type = nullptr;
  std::string path;       // "a.b.element", for errors
  int16_t def = 0;         // definition level of a present value of this node
  int16_t null_def = 0;    // definition level written when this node is null (its parent's)
  int16_t rep = 0;         // repetition level of this node's entries
  int16_t entry_def = 0, entry_rep = 0;  // list: levels of its entries
  int32_t leaf = -1;
  int32_t first_leaf = 0, leaf_count = 0;
  std::vector<Node> children;
  std::vector<std::string_view> names;                   // struct: field names, in order
  std::unordered_map<std::string_view, size_t> by_name;  // struct: field lookup, when it has many
  mutable std::vector<uint64_t> seen;                    // struct: the visit that last saw each field
  // struct: whether each name can be compared with a key's raw JSON text (no quote or backslash in it), and
  // the field each position held in the last object: records of one source keep their fields in one order.
  std::vector<uint8_t> raw_comparable;
  mutable std::vector<uint32_t> last_order;
};

const char* json_type_name(ondemand::json_type t) {
  switch (t) {
    case ondemand::json_type::array: return "an array";
    case ondemand::json_type::object: return "an object";
    case ondemand::json_type::number: return "a number";
    case ondemand::json_type::string: return "a string";
    case ondemand::json_type::boolean: return "a boolean";
    case ondemand::json_type::null: return "null";
  }
  return "something else";
}

}  // namespace

// How often, in rows, the columns look whether their open page is full.
constexpr uint64_t kPageCheckRows = 8;

struct Writer::Impl {
  std::vector<ColumnSpec> specs;
  WriterOptions options;
  // Before the columns, which hold its tickets: it outlives them.
  std::unique_ptr<BackgroundCompressor> background;
  Node root;
  std::vector<ColumnWriter> columns;
  std::vector<ColumnWriter::Mark> marks;
  std::vector<SchemaElement> elements;
  uint64_t rows = 0;
  uint64_t visit = 0;
  ondemand::parser parser;
  std::string padded;
  std::string scratch;
  std::string error;
  bool ignore_new_fields = true;
  bool new_field = false;

  Impl(std::vector<ColumnSpec> s, const WriterOptions& o) : specs(std::move(s)), options(o) {
    // Four pages in waiting keep the compressing thread busy without holding much more than a page per column.
    if (options.background_compression && options.codec != Codec::uncompressed)
      background = std::make_unique<BackgroundCompressor>(options.codec, options.level, 4);
    elements = schema_elements(specs);
    root.type = nullptr;
    for (const auto& spec : specs) {
      root.names.push_back(spec.name);
      root.children.push_back(build(spec.type, spec.name, 0, 0));
    }
    index_names(root);
    root.leaf_count = int32_t(columns.size());
  }

  Node build(const ColumnType& t, const std::string& path, int16_t parent_def, int16_t rep) {
    Node n;
    n.type = &t;
    n.path = path;
    n.null_def = parent_def;
    n.def = int16_t(parent_def + (t.nullable ? 1 : 0));
    n.rep = rep;
    n.first_leaf = int32_t(columns.size());
    switch (t.kind) {
      case Kind::list:
        n.entry_def = int16_t(n.def + 1);
        n.entry_rep = int16_t(rep + 1);
        n.children.push_back(build(t.children[0], path + ".element", n.entry_def, n.entry_rep));
        break;
      case Kind::structure:
        for (size_t i = 0; i < t.children.size(); ++i) {
          n.names.push_back(t.field_names[i]);
          n.children.push_back(build(t.children[i], path + "." + t.field_names[i], n.def, rep));
        }
        index_names(n);
        break;
      default: {
        n.leaf = int32_t(columns.size());
        columns.emplace_back(physical_type(t), t.kind == Kind::decimal && t.precision > 18 ? decimal_bytes(t.precision) : 0,
                             n.def, rep, leaf_path(path), options, background.get());
        break;
      }
    }
    n.leaf_count = int32_t(columns.size()) - n.first_leaf;
    return n;
  }

  static void index_names(Node& n) {
    n.seen.assign(n.children.size(), 0);
    n.last_order.assign(n.children.size(), 0);
    for (std::string_view name : n.names)
      n.raw_comparable.push_back(name.find_first_of("\"\\") == std::string_view::npos);
    if (n.children.size() > 8)
      for (size_t i = 0; i < n.names.size(); ++i) n.by_name.emplace(n.names[i], i);
  }

  // The path_in_schema of a leaf: lists add their "list" level, which the dotted error path leaves out.
  static std::vector<std::string> leaf_path(const std::string& dotted) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
      const size_t dot = dotted.find('.', start);
      const std::string part = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (part == "element") parts.push_back("list");
      parts.push_back(part);
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return parts;
  }

  static Type physical_type(const ColumnType& t) {
    switch (t.kind) {
      case Kind::int32:
      case Kind::date: return Type::int32;
      case Kind::int64:
      case Kind::timestamp: return Type::int64;
      case Kind::float32: return Type::float32;
      case Kind::float64: return Type::float64;
      case Kind::boolean: return Type::boolean;
      case Kind::string:
      case Kind::bytes: return Type::byte_array;
      case Kind::decimal:
        return t.precision <= 9 ? Type::int32 : t.precision <= 18 ? Type::int64 : Type::fixed_len_byte_array;
      case Kind::list:
      case Kind::structure: break;
    }
    throw std::logic_error("parquet writer: a group has no physical type");
  }

  void null_all(const Node& n, int16_t def, int16_t rep) {
    for (int32_t leaf = n.first_leaf; leaf < n.first_leaf + n.leaf_count; ++leaf) columns[size_t(leaf)].add_null(def, rep);
  }

  bool fail(const Node& n, const std::string& what) {
    error = "field '" + n.path + "': " + what;
    return false;
  }

  // A field's value, which may be null.
  bool shred_field(const Node& n, ondemand::value& v, int16_t rep) {
    ondemand::json_type type;
    if (v.type().get(type)) return fail(n, "invalid JSON");
    if (type == ondemand::json_type::null) {
      if (!n.type->nullable) return fail(n, "null in a column that is not nullable");
      null_all(n, n.null_def, rep);
      return true;
    }
    return shred(n, v, type, rep);
  }

  bool shred(const Node& n, ondemand::value& v, ondemand::json_type type, int16_t rep) {
    switch (n.type->kind) {
      case Kind::structure: {
        ondemand::object object;
        if (type != ondemand::json_type::object || v.get_object().get(object))
          return fail(n, std::string("expected an object, got ") + json_type_name(type));
        return shred_object(n, object, rep);
      }
      case Kind::list: {
        ondemand::array array;
        if (type != ondemand::json_type::array || v.get_array().get(array))
          return fail(n, std::string("expected an array, got ") + json_type_name(type));
        const Node& element = n.children[0];
        size_t count = 0;
        for (auto item : array) {
          ondemand::value value;
          if (item.get(value)) return fail(n, "invalid JSON");
          if (!shred_field(element, value, count == 0 ? rep : n.entry_rep)) return false;
          ++count;
        }
        if (count == 0) null_all(n, n.def, rep);  // present and empty: defined down to the list itself
        return true;
      }
      default: return shred_value(n, v, type, rep);
    }
  }

  bool shred_object(const Node& n, ondemand::object& object, int16_t rep) {
    const uint64_t stamp = ++visit;
    size_t position = 0;
    for (auto result : object) {
      if (result.error()) return fail(n, "invalid JSON");
      // The field in place: get() would copy it, and that copy stalled the same way as a value's.
      ondemand::field& field = result.value_unsafe();
      size_t index = n.children.size();
      std::string_view key;  // unescaped, when the guess below did not hold
      // The field this position held last time, checked against the key's raw text without unescaping it.
      if (position < n.last_order.size()) {
        const uint32_t guess = n.last_order[position];
        if (n.raw_comparable[guess] && field.key().unsafe_is_equal(n.names[guess])) index = guess;
      }
      if (index == n.children.size()) {
        if (field.unescaped_key().get(key)) return fail(n, "invalid JSON");
        index = find_field(n, key);
      }
      if (index < n.children.size() && position < n.last_order.size()) n.last_order[position] = uint32_t(index);
      ++position;
      if (index == n.children.size()) {  // not a column
        if (ignore_new_fields) continue;
        ondemand::value value = field.value();
        ondemand::json_type type;
        if (value.type().get(type)) return fail(n, "invalid JSON");
        if (type == ondemand::json_type::null) continue;
        new_field = true;
        error = "new field '" + (n.path.empty() ? std::string(key) : n.path + "." + std::string(key)) + "'";
        return false;
      }
      if (n.seen[index] == stamp) return fail(n.children[index], "appears twice in one object");
      n.seen[index] = stamp;
      // By reference: a copy of the value (a 24-byte iterator) stalled on store forwarding at every field.
      if (!shred_field(n.children[index], field.value(), rep)) return false;
    }
    for (size_t i = 0; i < n.children.size(); ++i) {
      if (n.seen[i] == stamp) continue;
      const Node& child = n.children[i];
      if (!child.type->nullable) return fail(child, "missing, and the column is not nullable");
      null_all(child, child.null_def, rep);
    }
    return true;
  }

  // The column a key names, or children.size() for none.
  static size_t find_field(const Node& n, std::string_view key) {
    if (!n.by_name.empty()) {
      const auto it = n.by_name.find(key);
      return it == n.by_name.end() ? n.children.size() : it->second;
    }
    for (size_t i = 0; i < n.names.size(); ++i)
      if (n.names[i] == key) return i;
    return n.children.size();
  }

  bool shred_value(const Node& n, ondemand::value& v, ondemand::json_type type, int16_t rep) {
    ColumnWriter& column = columns[size_t(n.leaf)];
    const ColumnType& t = *n.type;
    auto expected = [&](const char* what) { return fail(n, std::string("expected ") + what + ", got " + json_type_name(type)); };
    switch (t.kind) {
      case Kind::int32:
      case Kind::int64: {
        if (type != ondemand::json_type::number) return expected("an integer");
        int64_t i;
        if (v.get_int64().get(i)) {
          std::string_view raw = v.raw_json_token();
          return fail(n, std::string(trim(raw)) + " is not an integer within 64 bits");
        }
        if (t.kind == Kind::int32) {
          if (i < INT32_MIN || i > INT32_MAX) return fail(n, std::to_string(i) + " does not fit int32");
          column.add_int32(rep, int32_t(i));
        } else {
          column.add_int64(rep, i);
        }
        return true;
      }
      case Kind::float32:
      case Kind::float64: {
        double d;
        if (type == ondemand::json_type::string) {
          std::string_view s;
          if (v.get_string().get(s)) return fail(n, "invalid JSON string");
          if (s == "NaN") d = NAN;
          else if (s == "Infinity") d = INFINITY;
          else if (s == "-Infinity") d = -INFINITY;
          else return fail(n, "expected a number, got the string \"" + std::string(s.substr(0, 40)) + "\"");
        } else if (type != ondemand::json_type::number || v.get_double().get(d)) {
          return expected("a number");
        }
        if (t.kind == Kind::float32) {
          const float f = float(d);
          if (std::isinf(f) && !std::isinf(d)) return fail(n, "out of float's range");
          column.add(rep, std::string_view(reinterpret_cast<const char*>(&f), 4));
        } else {
          column.add(rep, std::string_view(reinterpret_cast<const char*>(&d), 8));
        }
        return true;
      }
      case Kind::boolean: {
        bool b;
        if (type != ondemand::json_type::boolean || v.get_bool().get(b)) return expected("true or false");
        const char byte = b ? 1 : 0;
        column.add(rep, std::string_view(&byte, 1));
        return true;
      }
      case Kind::string: {
        std::string_view s;
        if (type != ondemand::json_type::string) return expected("a string");
        if (v.get_string().get(s)) return fail(n, "invalid JSON string");
        column.add(rep, s);
        return true;
      }
      case Kind::bytes: {
        std::string_view s;
        if (type != ondemand::json_type::string) return expected("a base64 string");
        if (v.get_string().get(s)) return fail(n, "invalid JSON string");
        scratch.clear();
        if (!decode_base64(s, scratch)) return fail(n, "not padded standard base64");
        column.add(rep, scratch);
        return true;
      }
      case Kind::date: {
        int32_t days;
        if (type == ondemand::json_type::number) {
          int64_t i;
          if (v.get_int64().get(i) || i < INT32_MIN || i > INT32_MAX) return fail(n, "not a whole number of days");
          days = int32_t(i);
        } else {
          std::string_view s;
          if (type != ondemand::json_type::string || v.get_string().get(s)) return expected("a date");
          const auto parsed = parse_date(s);
          if (!parsed) return fail(n, "\"" + std::string(s.substr(0, 40)) + "\" is not a date (expected 2024-02-29)");
          days = *parsed;
        }
        column.add_int32(rep, days);
        return true;
      }
      case Kind::timestamp: {
        int64_t value;
        if (type == ondemand::json_type::number) {
          if (v.get_int64().get(value)) return fail(n, "not a whole number of the column's unit since 1970");
        } else {
          std::string_view s;
          if (type != ondemand::json_type::string || v.get_string().get(s)) return expected("a timestamp");
          std::string why;
          const auto parsed = parse_timestamp(s, t.unit, t.utc, why);
          if (!parsed) return fail(n, "\"" + std::string(s.substr(0, 40)) + "\": " + why);
          value = *parsed;
        }
        column.add_int64(rep, value);
        return true;
      }
      case Kind::decimal: {
        std::string_view text;
        if (type == ondemand::json_type::number) text = trim(v.raw_json_token());
        else if (type != ondemand::json_type::string || v.get_string().get(text)) return expected("a decimal number");
        std::string why;
        const auto unscaled = parse_decimal(text, t.precision, t.scale, why);
        if (!unscaled) return fail(n, std::string(text.substr(0, 50)) + ": " + why);
        if (t.precision <= 9) {
          column.add_int32(rep, int32_t(*unscaled));
        } else if (t.precision <= 18) {
          column.add_int64(rep, int64_t(*unscaled));
        } else {
          scratch.clear();
          append_big_endian(scratch, *unscaled, size_t(decimal_bytes(t.precision)));
          column.add(rep, scratch);
        }
        return true;
      }
      case Kind::list:
      case Kind::structure: break;
    }
    return fail(n, "internal: a group reached a leaf");
  }

  static std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  }

  std::optional<std::string> add(std::string_view json, bool ignore_new) {
    ignore_new_fields = ignore_new;
    new_field = false;
    padded.assign(json);
    padded.append(simdjson::SIMDJSON_PADDING, '\0');
    marks.resize(columns.size());
    for (size_t i = 0; i < columns.size(); ++i) marks[i] = columns[i].mark();
    bool ok = false;
    ondemand::document doc;
    ondemand::object object;
    ondemand::json_type type;
    if (const auto err = parser.iterate(padded.data(), json.size(), padded.size()).get(doc)) {
      error = std::string("invalid JSON: ") + simdjson::error_message(err);
    } else if (const auto type_err = doc.type().get(type)) {
      error = std::string("invalid JSON: ") + simdjson::error_message(type_err);
    } else if (type != ondemand::json_type::object) {
      error = "not a JSON object";
    } else if (const auto object_err = doc.get_object().get(object)) {
      error = std::string("invalid JSON: ") + simdjson::error_message(object_err);
    } else {
      root.path.clear();
      ok = shred_object(root, object, 0);
      const char* trailing = nullptr;
      if (ok && !doc.current_location().get(trailing)) {
        error = "text after the JSON object";
        ok = false;
      }
    }
    if (!ok) {
      for (size_t i = 0; i < columns.size(); ++i) columns[i].rollback(marks[i]);
      if (error.rfind("field '': ", 0) == 0) error.erase(0, 10);
      return error;
    }
    // Every few rows rather than after each: a page overshoots its size by a few rows' values at most, and
    // thirteen columns' checks were a measurable share of a wide row's cost.
    if (++rows % kPageCheckRows == 0)
      for (auto& c : columns) c.maybe_close_page();
    return std::nullopt;
  }
};

Writer::Writer(std::vector<ColumnSpec> columns, const WriterOptions& options)
    : impl_(std::make_unique<Impl>(std::move(columns), options)) {}
Writer::~Writer() = default;
Writer::Writer(Writer&&) noexcept = default;
Writer& Writer::operator=(Writer&&) noexcept = default;

std::optional<std::string> Writer::add(std::string_view json, bool ignore_new_fields) {
  return impl_->add(json, ignore_new_fields);
}
bool Writer::new_field() const { return impl_->new_field; }
uint64_t Writer::rows() const { return impl_->rows; }
const std::vector<ColumnSpec>& Writer::columns() const { return impl_->specs; }

size_t Writer::estimated_bytes() const {
  size_t total = 0;
  for (const auto& c : impl_->columns) total += c.estimated_bytes();
  return total;
}

RowGroup Writer::flush(uint64_t offset, std::string& out) {
  return flush(offset, [&out](std::string_view bytes) { out.append(bytes); });
}

RowGroup Writer::flush(uint64_t offset, const std::function<void(std::string_view)>& write) {
  RowGroup g;
  g.num_rows = int64_t(impl_->rows);
  g.file_offset = int64_t(offset);
  uint64_t at = offset;
  int64_t uncompressed = 0;
  for (auto& c : impl_->columns) c.close_page();  // all last pages compress while the first columns are written
  for (auto& c : impl_->columns) {
    g.columns.push_back(c.finish(at, write));
    const ColumnMetaData& meta = *g.columns.back().meta_data;
    at += uint64_t(meta.total_compressed_size);
    uncompressed += meta.total_uncompressed_size;
  }
  g.total_byte_size = uncompressed;
  g.total_compressed_size = int64_t(at - offset);
  impl_->rows = 0;
  return g;
}

std::string Writer::footer(const std::vector<RowGroup>& groups, std::vector<KeyValue> key_values, const std::string& created_by) const {
  FileMetaData m;
  m.version = 1;
  m.schema = impl_->elements;
  for (size_t i = 0; i < groups.size(); ++i) {
    m.num_rows += groups[i].num_rows;
    m.row_groups.push_back(groups[i]);
    m.row_groups.back().ordinal = int16_t(std::min<size_t>(i, INT16_MAX));
  }
  m.key_value = std::move(key_values);
  m.created_by = created_by;
  m.column_orders = impl_->columns.size();
  std::string out;
  serialize(m, out);
  const auto size = uint32_t(out.size());
  out.append(reinterpret_cast<const char*>(&size), 4);
  out.append(kParquetMagic);
  return out;
}

}  // namespace sluice::formats::parquet

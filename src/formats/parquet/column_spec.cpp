#include "formats/parquet/column_spec.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>

namespace sluice::formats::parquet {

namespace {

class TypeParser {
 public:
  explicit TypeParser(std::string_view text) : text_(text) {}

  ColumnType parse_all() {
    ColumnType t = parse(0);
    skip_space();
    if (pos_ != text_.size()) fail("unexpected '" + std::string(text_.substr(pos_, 10)) + "' after the type");
    return t;
  }

 private:
  ColumnType parse(int depth) {
    if (depth > 32) fail("types nested deeper than 32");
    const std::string word = identifier();
    ColumnType t;
    using K = ColumnType::Kind;
    if (word == "int32" || word == "int") t.kind = K::int32;
    else if (word == "int64" || word == "long" || word == "bigint") t.kind = K::int64;
    else if (word == "float") t.kind = K::float32;
    else if (word == "double") t.kind = K::float64;
    else if (word == "bool" || word == "boolean") t.kind = K::boolean;
    else if (word == "string") t.kind = K::string;
    else if (word == "bytes" || word == "binary") t.kind = K::bytes;
    else if (word == "date") t.kind = K::date;
    else if (word == "timestamp") {
      t.kind = K::timestamp;
      if (accept('(')) {
        const std::string unit = identifier();
        if (unit == "ms") t.unit = TimeUnit::millis;
        else if (unit == "us") t.unit = TimeUnit::micros;
        else if (unit == "ns") t.unit = TimeUnit::nanos;
        else fail("unknown timestamp unit '" + unit + "' (ms, us or ns)");
        t.utc = false;
        if (accept(',')) {
          const std::string flag = identifier();
          if (flag != "utc") fail("expected 'utc', got '" + flag + "'");
          t.utc = true;
        }
        expect(')');
      }
    } else if (word == "decimal") {
      t.kind = K::decimal;
      expect('(');
      t.precision = number();
      expect(',');
      t.scale = number();
      expect(')');
      if (t.precision < 1 || t.precision > 38) fail("decimal precision must be 1 to 38");
      if (t.scale > t.precision) fail("decimal scale must be at most its precision");
    } else if (word == "list") {
      t.kind = K::list;
      expect('<');
      t.children.push_back(parse(depth + 1));
      expect('>');
    } else if (word == "struct") {
      t.kind = K::structure;
      expect('{');
      do {
        const std::string name = field_name();
        for (const auto& seen : t.field_names)
          if (seen == name) fail("field '" + name + "' declared twice");
        expect(':');
        t.field_names.push_back(name);
        t.children.push_back(parse(depth + 1));
      } while (accept(','));
      expect('}');
    } else if (word.empty()) {
      fail("expected a type");
    } else {
      fail("unknown type '" + word + "'");
    }
    const size_t before = pos_;
    if (identifier() == "not") {
      if (identifier() != "null") fail("expected 'null' after 'not'");
      t.nullable = false;
    } else {
      pos_ = before;
    }
    return t;
  }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(uint8_t(text_[pos_]))) ++pos_;
  }
  std::string identifier() {
    skip_space();
    const size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(uint8_t(text_[pos_])) || text_[pos_] == '_')) ++pos_;
    std::string word(text_.substr(start, pos_ - start));
    for (auto& c : word) c = char(std::tolower(uint8_t(c)));
    return word;
  }
  // Field names keep their case, and may be quoted to hold anything.
  std::string field_name() {
    skip_space();
    if (accept('"')) {  // "" inside stands for one quote, as in SQL
      std::string name;
      for (;;) {
        if (pos_ >= text_.size()) fail("unterminated quoted field name");
        const char c = text_[pos_++];
        if (c != '"') {
          name.push_back(c);
        } else if (pos_ < text_.size() && text_[pos_] == '"') {
          name.push_back('"');
          ++pos_;
        } else {
          return name;
        }
      }
    }
    const size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(uint8_t(text_[pos_])) || text_[pos_] == '_' || text_[pos_] == '-')) ++pos_;
    if (pos_ == start) fail("expected a field name");
    return std::string(text_.substr(start, pos_ - start));
  }
  int32_t number() {
    skip_space();
    int64_t n = 0;
    const size_t start = pos_;
    while (pos_ < text_.size() && std::isdigit(uint8_t(text_[pos_])) && n < 1000) n = n * 10 + (text_[pos_++] - '0');
    if (pos_ == start) fail("expected a number");
    return int32_t(n);
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c)) fail(std::string("expected '") + c + "'");
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument("column type '" + std::string(text_) + "' at character " + std::to_string(pos_ + 1) + ": " + what);
  }

  std::string_view text_;
  size_t pos_ = 0;
};

void add_elements(const std::string& name, const ColumnType& t, std::vector<SchemaElement>& out) {
  using K = ColumnType::Kind;
  SchemaElement e;
  e.name = name;
  e.repetition = t.nullable ? Repetition::optional : Repetition::required;
  switch (t.kind) {
    case K::int32: e.type = Type::int32; break;
    case K::int64: e.type = Type::int64; break;
    case K::float32: e.type = Type::float32; break;
    case K::float64: e.type = Type::float64; break;
    case K::boolean: e.type = Type::boolean; break;
    case K::string:
      e.type = Type::byte_array;
      e.logical.kind = LogicalType::Kind::string;
      e.converted = ConvertedType::utf8;
      break;
    case K::bytes: e.type = Type::byte_array; break;
    case K::date:
      e.type = Type::int32;
      e.logical.kind = LogicalType::Kind::date;
      e.converted = ConvertedType::date;
      break;
    case K::timestamp:
      e.type = Type::int64;
      e.logical.kind = LogicalType::Kind::timestamp;
      e.logical.unit = t.unit;
      e.logical.adjusted_to_utc = t.utc;
      // The legacy annotations mean UTC instants in ms or us; anything else must have none.
      if (t.utc && t.unit == TimeUnit::millis) e.converted = ConvertedType::timestamp_millis;
      if (t.utc && t.unit == TimeUnit::micros) e.converted = ConvertedType::timestamp_micros;
      break;
    case K::decimal:
      e.type = t.precision <= 9 ? Type::int32 : t.precision <= 18 ? Type::int64 : Type::fixed_len_byte_array;
      if (*e.type == Type::fixed_len_byte_array) e.type_length = decimal_bytes(t.precision);
      e.logical.kind = LogicalType::Kind::decimal;
      e.logical.precision = t.precision;
      e.logical.scale = t.scale;
      e.converted = ConvertedType::decimal;
      e.precision = t.precision;
      e.scale = t.scale;
      break;
    case K::list: {
      e.num_children = 1;
      e.logical.kind = LogicalType::Kind::list;
      e.converted = ConvertedType::list;
      out.push_back(std::move(e));
      SchemaElement repeated;
      repeated.name = "list";
      repeated.repetition = Repetition::repeated;
      repeated.num_children = 1;
      out.push_back(std::move(repeated));
      add_elements("element", t.children[0], out);
      return;
    }
    case K::structure:
      e.num_children = int32_t(t.children.size());
      out.push_back(std::move(e));
      for (size_t i = 0; i < t.children.size(); ++i) add_elements(t.field_names[i], t.children[i], out);
      return;
  }
  out.push_back(std::move(e));
}

std::string quoted_if_needed(const std::string& name) {
  const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(uint8_t(c)) || c == '_' || c == '-';
  });
  if (plain) return name;
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

}  // namespace

ColumnType parse_column_type(std::string_view text) { return TypeParser(text).parse_all(); }

std::string describe(const ColumnType& t) {
  using K = ColumnType::Kind;
  std::string s;
  switch (t.kind) {
    case K::int32: s = "int32"; break;
    case K::int64: s = "int64"; break;
    case K::float32: s = "float"; break;
    case K::float64: s = "double"; break;
    case K::boolean: s = "bool"; break;
    case K::string: s = "string"; break;
    case K::bytes: s = "bytes"; break;
    case K::date: s = "date"; break;
    case K::timestamp:
      s = std::string("timestamp(") + (t.unit == TimeUnit::millis ? "ms" : t.unit == TimeUnit::micros ? "us" : "ns") +
          (t.utc ? ", utc)" : ")");
      break;
    case K::decimal: s = "decimal(" + std::to_string(t.precision) + ", " + std::to_string(t.scale) + ")"; break;
    case K::list: s = "list<" + describe(t.children[0]) + ">"; break;
    case K::structure:
      s = "struct{";
      for (size_t i = 0; i < t.children.size(); ++i) {
        if (i) s += ", ";
        s += quoted_if_needed(t.field_names[i]) + ": " + describe(t.children[i]);
      }
      s += "}";
      break;
  }
  if (!t.nullable) s += " not null";
  return s;
}

int32_t decimal_bytes(int32_t precision) {
  // The fewest bytes whose two's complement holds every number of `precision` digits.
  for (int32_t bytes = 1;; ++bytes)
    if (std::floor(std::log10(std::pow(2.0, 8 * bytes - 1) - 1)) >= precision) return bytes;
}

std::vector<SchemaElement> schema_elements(const std::vector<ColumnSpec>& columns) {
  std::vector<SchemaElement> out;
  SchemaElement root;
  root.name = "schema";
  root.num_children = int32_t(columns.size());
  out.push_back(std::move(root));
  for (const auto& c : columns) add_elements(c.name, c.type, out);
  return out;
}

}  // namespace sluice::formats::parquet

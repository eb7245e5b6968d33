#include "formats/parquet/metadata.hpp"

#include "formats/parquet/thrift.hpp"

#include <algorithm>
#include <array>

namespace sluice::formats::parquet {

using thrift::FieldHeader;
using thrift::Wire;

namespace {

// Required fields are tracked by bit; a struct that ends without one of them is refused by name.
template <size_t N>
class Required {
 public:
  Required(const char* structure, const char* const (&names)[N]) : structure_(structure) {
    std::copy(names, names + N, names_.begin());
  }
  void seen(size_t index) { seen_ |= 1u << index; }
  void check() const {
    for (size_t i = 0; i < N; ++i)
      if (!(seen_ & (1u << i)))
        throw ParquetError(std::string("thrift: ") + structure_ + " lacks its required field '" + names_[i] + "'");
  }

 private:
  const char* structure_;
  std::array<const char*, N> names_;
  uint32_t seen_ = 0;
};

bool is_int(const FieldHeader& f) { return f.type == Wire::i32 || f.type == Wire::i16 || f.type == Wire::i8; }
bool is_bool(const FieldHeader& f) { return f.type == Wire::bool_true || f.type == Wire::bool_false; }

int32_t read_int(thrift::Reader& r, const FieldHeader& f) {
  return f.type == Wire::i8 ? r.read_i8() : f.type == Wire::i16 ? r.read_i16() : r.read_i32();
}

// Calls on_field for every field; a field it does not take (unknown id, or a type the spec does not give that
// id) is skipped, as Thrift's own generated readers do.
template <class OnField>
void read_struct(thrift::Reader& r, OnField&& on_field) {
  r.begin_struct();
  FieldHeader f;
  while (r.next_field(f))
    if (!on_field(f)) r.skip(f.type);
  r.end_struct();
}

template <class ReadElement>
void read_list(thrift::Reader& r, Wire element, const char* what, ReadElement&& read_element) {
  const thrift::ListHeader list = r.read_list_header();
  if (list.size && list.element != element)
    throw ParquetError(std::string("thrift: ") + what + " is a list of wire type " + std::to_string(int(list.element)) +
                       ", not " + std::to_string(int(element)));
  for (size_t i = 0; i < list.size; ++i) read_element();
}

Statistics read_statistics(thrift::Reader& r) {
  Statistics s;
  read_struct(r, [&](const FieldHeader& f) {
    switch (f.id) {
      case 1: if (f.type != Wire::binary) return false; s.max = r.read_binary(); return true;
      case 2: if (f.type != Wire::binary) return false; s.min = r.read_binary(); return true;
      case 3: if (f.type != Wire::i64) return false; s.null_count = r.read_i64(); return true;
      case 4: if (f.type != Wire::i64) return false; s.distinct_count = r.read_i64(); return true;
      case 5: if (f.type != Wire::binary) return false; s.max_value = r.read_binary(); return true;
      case 6: if (f.type != Wire::binary) return false; s.min_value = r.read_binary(); return true;
      default: return false;
    }
  });
  return s;
}

TimeUnit read_time_unit(thrift::Reader& r) {
  std::optional<TimeUnit> unit;
  read_struct(r, [&](const FieldHeader& f) {
    if (f.type != Wire::structure || f.id < 1 || f.id > 3) return false;
    unit = f.id == 1 ? TimeUnit::millis : f.id == 2 ? TimeUnit::micros : TimeUnit::nanos;
    r.skip(f.type);
    return true;
  });
  if (!unit) throw ParquetError("thrift: a TimeUnit names no unit this reader knows");
  return *unit;
}

LogicalType read_logical_type(thrift::Reader& r) {
  using Kind = LogicalType::Kind;
  LogicalType t;
  read_struct(r, [&](const FieldHeader& f) {
    if (f.type != Wire::structure) return false;
    switch (f.id) {
      case 1: t.kind = Kind::string; break;
      case 2: t.kind = Kind::map; break;
      case 3: t.kind = Kind::list; break;
      case 4: t.kind = Kind::enum_; break;
      case 5: {
        t.kind = Kind::decimal;
        Required req("DecimalType", {"scale", "precision"});
        read_struct(r, [&](const FieldHeader& g) {
          if (!is_int(g) || (g.id != 1 && g.id != 2)) return false;
          (g.id == 1 ? t.scale : t.precision) = read_int(r, g);
          req.seen(g.id - 1);
          return true;
        });
        req.check();
        return true;
      }
      case 6: t.kind = Kind::date; break;
      case 7:
      case 8: {
        t.kind = f.id == 7 ? Kind::time : Kind::timestamp;
        Required req(f.id == 7 ? "TimeType" : "TimestampType", {"isAdjustedToUTC", "unit"});
        read_struct(r, [&](const FieldHeader& g) {
          if (g.id == 1 && is_bool(g)) {
            t.adjusted_to_utc = g.bool_value;
          } else if (g.id == 2 && g.type == Wire::structure) {
            t.unit = read_time_unit(r);
          } else {
            return false;
          }
          req.seen(g.id - 1);
          return true;
        });
        req.check();
        return true;
      }
      case 10: {
        t.kind = Kind::integer;
        Required req("IntType", {"bitWidth", "isSigned"});
        read_struct(r, [&](const FieldHeader& g) {
          if (g.id == 1 && is_int(g)) {
            t.bit_width = int8_t(read_int(r, g));
          } else if (g.id == 2 && is_bool(g)) {
            t.is_signed = g.bool_value;
          } else {
            return false;
          }
          req.seen(g.id - 1);
          return true;
        });
        req.check();
        return true;
      }
      case 11: t.kind = Kind::unknown; break;
      case 12: t.kind = Kind::json; break;
      case 13: t.kind = Kind::bson; break;
      case 14: t.kind = Kind::uuid; break;
      case 15: t.kind = Kind::float16; break;
      default:
        t.kind = Kind::other;
        t.other_id = f.id;
        break;
    }
    r.skip(f.type);  // the empty struct of a kind without parameters, or an unknown kind's
    return true;
  });
  return t;
}

SchemaElement read_schema_element(thrift::Reader& r) {
  SchemaElement e;
  Required req("SchemaElement", {"name"});
  read_struct(r, [&](const FieldHeader& f) {
    switch (f.id) {
      case 1: if (!is_int(f)) return false; e.type = Type(read_int(r, f)); return true;
      case 2: if (!is_int(f)) return false; e.type_length = read_int(r, f); return true;
      case 3: if (!is_int(f)) return false; e.repetition = Repetition(read_int(r, f)); return true;
      case 4: if (f.type != Wire::binary) return false; e.name = r.read_binary(); req.seen(0); return true;
      case 5: if (!is_int(f)) return false; e.num_children = read_int(r, f); return true;
      case 6: if (!is_int(f)) return false; e.converted = ConvertedType(read_int(r, f)); return true;
      case 7: if (!is_int(f)) return false; e.scale = read_int(r, f); return true;
      case 8: if (!is_int(f)) return false; e.precision = read_int(r, f); return true;
      case 9: if (!is_int(f)) return false; e.field_id = read_int(r, f); return true;
      case 10: if (f.type != Wire::structure) return false; e.logical = read_logical_type(r); return true;
      default: return false;
    }
  });
  req.check();
  return e;
}

std::vector<KeyValue> read_key_values(thrift::Reader& r) {
  std::vector<KeyValue> out;
  read_list(r, Wire::structure, "key_value_metadata", [&] {
    KeyValue kv;
    Required req("KeyValue", {"key"});
    read_struct(r, [&](const FieldHeader& f) {
      if (f.type != Wire::binary || (f.id != 1 && f.id != 2)) return false;
      if (f.id == 1) {
        kv.key = r.read_binary();
        req.seen(0);
      } else {
        kv.value = r.read_binary();
      }
      return true;
    });
    req.check();
    out.push_back(std::move(kv));
  });
  return out;
}

ColumnMetaData read_column_metadata(thrift::Reader& r) {
  ColumnMetaData m;
  Required req("ColumnMetaData", {"type", "encodings", "path_in_schema", "codec", "num_values", "total_uncompressed_size",
                                  "total_compressed_size", "data_page_offset"});
  read_struct(r, [&](const FieldHeader& f) {
    switch (f.id) {
      case 1: if (!is_int(f)) return false; m.type = Type(read_int(r, f)); req.seen(0); return true;
      case 2:
        if (f.type != Wire::list) return false;
        read_list(r, Wire::i32, "encodings", [&] { m.encodings.push_back(Encoding(r.read_i32())); });
        req.seen(1);
        return true;
      case 3:
        if (f.type != Wire::list) return false;
        read_list(r, Wire::binary, "path_in_schema", [&] { m.path.push_back(r.read_binary()); });
        req.seen(2);
        return true;
      case 4: if (!is_int(f)) return false; m.codec = Codec(read_int(r, f)); req.seen(3); return true;
      case 5: if (f.type != Wire::i64) return false; m.num_values = r.read_i64(); req.seen(4); return true;
      case 6: if (f.type != Wire::i64) return false; m.total_uncompressed_size = r.read_i64(); req.seen(5); return true;
      case 7: if (f.type != Wire::i64) return false; m.total_compressed_size = r.read_i64(); req.seen(6); return true;
      case 8: if (f.type != Wire::list) return false; m.key_value = read_key_values(r); return true;
      case 9: if (f.type != Wire::i64) return false; m.data_page_offset = r.read_i64(); req.seen(7); return true;
      case 10: if (f.type != Wire::i64) return false; m.index_page_offset = r.read_i64(); return true;
      case 11: if (f.type != Wire::i64) return false; m.dictionary_page_offset = r.read_i64(); return true;
      case 12: if (f.type != Wire::structure) return false; m.statistics = read_statistics(r); return true;
      default: return false;
    }
  });
  req.check();
  return m;
}

ColumnChunk read_column_chunk(thrift::Reader& r) {
  ColumnChunk c;
  read_struct(r, [&](const FieldHeader& f) {
    switch (f.id) {
      case 1: if (f.type != Wire::binary) return false; c.file_path = r.read_binary(); return true;
      case 2: if (f.type != Wire::i64) return false; c.file_offset = r.read_i64(); return true;
      case 3: if (f.type != Wire::structure) return false; c.meta_data = read_column_metadata(r); return true;
      case 8:
      case 9: c.encrypted = true; return false;
      default: return false;
    }
  });
  // file_offset is required by the spec, but some writers leave it out and no reader needs it: the column's
  // own data and dictionary page offsets say where its pages are.
  return c;
}

RowGroup read_row_group(thrift::Reader& r) {
  RowGroup g;
  Required req("RowGroup", {"columns", "total_byte_size", "num_rows"});
  read_struct(r, [&](const FieldHeader& f) {
    switch (f.id) {
      case 1:
        if (f.type != Wire::list) return false;
        read_list(r, Wire::structure, "columns", [&] { g.columns.push_back(read_column_chunk(r)); });
        req.seen(0);
        return true;
      case 2: if (f.type != Wire::i64) return false; g.total_byte_size = r.read_i64(); req.seen(1); return true;
      case 3: if (f.type != Wire::i64) return false; g.num_rows = r.read_i64(); req.seen(2); return true;
      case 5: if (f.type != Wire::i64) return false; g.file_offset = r.read_i64(); return true;
      case 6: if (f.type != Wire::i64) return false; g.total_compressed_size = r.read_i64(); return true;
      case 7: if (!is_int(f)) return false; g.ordinal = int16_t(read_int(r, f)); return true;
      default: return false;
    }
  });
  req.check();
  return g;
}

DataPageHeader read_data_page_header(thrift::Reader& r) {
  DataPageHeader h;
  Required req("DataPageHeader", {"num_values", "encoding", "definition_level_encoding", "repetition_level_encoding"});
  read_struct(r, [&](const FieldHeader& f) {
    if (f.id >= 1 && f.id <= 4) {
      if (!is_int(f)) return false;
      const int32_t v = read_int(r, f);
      if (f.id == 1) h.num_values = v;
      if (f.id == 2) h.encoding = Encoding(v);
      if (f.id == 3) h.definition_level_encoding = Encoding(v);
      if (f.id == 4) h.repetition_level_encoding = Encoding(v);
      req.seen(f.id - 1);
      return true;
    }
    if (f.id == 5 && f.type == Wire::structure) {
      h.statistics = read_statistics(r);
      return true;
    }
    return false;
  });
  req.check();
  return h;
}

DictionaryPageHeader read_dictionary_page_header(thrift::Reader& r) {
  DictionaryPageHeader h;
  Required req("DictionaryPageHeader", {"num_values", "encoding"});
  read_struct(r, [&](const FieldHeader& f) {
    if ((f.id == 1 || f.id == 2) && is_int(f)) {
      const int32_t v = read_int(r, f);
      if (f.id == 1) h.num_values = v;
      else h.encoding = Encoding(v);
      req.seen(f.id - 1);
      return true;
    }
    if (f.id == 3 && is_bool(f)) {
      h.is_sorted = f.bool_value;
      return true;
    }
    return false;
  });
  req.check();
  return h;
}

DataPageHeaderV2 read_data_page_header_v2(thrift::Reader& r) {
  DataPageHeaderV2 h;
  Required req("DataPageHeaderV2", {"num_values", "num_nulls", "num_rows", "encoding", "definition_levels_byte_length",
                                    "repetition_levels_byte_length"});
  read_struct(r, [&](const FieldHeader& f) {
    if (f.id >= 1 && f.id <= 6) {
      if (!is_int(f)) return false;
      const int32_t v = read_int(r, f);
      switch (f.id) {
        case 1: h.num_values = v; break;
        case 2: h.num_nulls = v; break;
        case 3: h.num_rows = v; break;
        case 4: h.encoding = Encoding(v); break;
        case 5: h.definition_levels_byte_length = v; break;
        case 6: h.repetition_levels_byte_length = v; break;
      }
      req.seen(f.id - 1);
      return true;
    }
    if (f.id == 7 && is_bool(f)) {
      h.is_compressed = f.bool_value;
      return true;
    }
    if (f.id == 8 && f.type == Wire::structure) {
      h.statistics = read_statistics(r);
      return true;
    }
    return false;
  });
  req.check();
  return h;
}

PageHeader read_page_header(thrift::Reader& r) {
  PageHeader h;
  Required req("PageHeader", {"type", "uncompressed_page_size", "compressed_page_size"});
  read_struct(r, [&](const FieldHeader& f) {
    switch (f.id) {
      case 1: if (!is_int(f)) return false; h.type = PageType(read_int(r, f)); req.seen(0); return true;
      case 2: if (!is_int(f)) return false; h.uncompressed_page_size = read_int(r, f); req.seen(1); return true;
      case 3: if (!is_int(f)) return false; h.compressed_page_size = read_int(r, f); req.seen(2); return true;
      case 4: if (!is_int(f)) return false; h.crc = read_int(r, f); return true;
      case 5: if (f.type != Wire::structure) return false; h.data_page = read_data_page_header(r); return true;
      case 7: if (f.type != Wire::structure) return false; h.dictionary_page = read_dictionary_page_header(r); return true;
      case 8: if (f.type != Wire::structure) return false; h.data_page_v2 = read_data_page_header_v2(r); return true;
      default: return false;
    }
  });
  req.check();
  if (h.uncompressed_page_size < 0 || h.compressed_page_size < 0)
    throw ParquetError("page header: negative page size (" + std::to_string(h.compressed_page_size) + " compressed, " +
                       std::to_string(h.uncompressed_page_size) + " uncompressed)");
  return h;
}

// --- writing -------------------------------------------------------------------------------------------------

void write_statistics(thrift::Writer& w, int16_t id, const Statistics& s) {
  w.field(id, Wire::structure);
  w.begin_struct();
  if (s.max) w.field_binary(1, *s.max);
  if (s.min) w.field_binary(2, *s.min);
  if (s.null_count) w.field_i64(3, *s.null_count);
  if (s.distinct_count) w.field_i64(4, *s.distinct_count);
  if (s.max_value) w.field_binary(5, *s.max_value);
  if (s.min_value) w.field_binary(6, *s.min_value);
  w.end_struct();
}

void write_empty_struct(thrift::Writer& w, int16_t id) {
  w.field(id, Wire::structure);
  w.begin_struct();
  w.end_struct();
}

void write_logical_type(thrift::Writer& w, const LogicalType& t) {
  using Kind = LogicalType::Kind;
  w.field(10, Wire::structure);
  w.begin_struct();
  switch (t.kind) {
    case Kind::string: write_empty_struct(w, 1); break;
    case Kind::map: write_empty_struct(w, 2); break;
    case Kind::list: write_empty_struct(w, 3); break;
    case Kind::enum_: write_empty_struct(w, 4); break;
    case Kind::decimal:
      w.field(5, Wire::structure);
      w.begin_struct();
      w.field_i32(1, t.scale);
      w.field_i32(2, t.precision);
      w.end_struct();
      break;
    case Kind::date: write_empty_struct(w, 6); break;
    case Kind::time:
    case Kind::timestamp:
      w.field(t.kind == Kind::time ? 7 : 8, Wire::structure);
      w.begin_struct();
      w.field_bool(1, t.adjusted_to_utc);
      w.field(2, Wire::structure);
      w.begin_struct();
      write_empty_struct(w, t.unit == TimeUnit::millis ? 1 : t.unit == TimeUnit::micros ? 2 : 3);
      w.end_struct();
      w.end_struct();
      break;
    case Kind::integer:
      w.field(10, Wire::structure);
      w.begin_struct();
      w.field_i8(1, t.bit_width);
      w.field_bool(2, t.is_signed);
      w.end_struct();
      break;
    case Kind::unknown: write_empty_struct(w, 11); break;
    case Kind::json: write_empty_struct(w, 12); break;
    case Kind::bson: write_empty_struct(w, 13); break;
    case Kind::uuid: write_empty_struct(w, 14); break;
    case Kind::float16: write_empty_struct(w, 15); break;
    case Kind::none:
    case Kind::other: throw std::logic_error("parquet: no logical type to write");
  }
  w.end_struct();
}

void write_key_values(thrift::Writer& w, int16_t id, const std::vector<KeyValue>& kvs) {
  w.field(id, Wire::list);
  w.list_header(Wire::structure, kvs.size());
  for (const auto& kv : kvs) {
    w.begin_struct();
    w.field_binary(1, kv.key);
    if (kv.value) w.field_binary(2, *kv.value);
    w.end_struct();
  }
}

void write_column_metadata(thrift::Writer& w, const ColumnMetaData& m) {
  w.field(3, Wire::structure);
  w.begin_struct();
  w.field_i32(1, int32_t(m.type));
  w.field(2, Wire::list);
  w.list_header(Wire::i32, m.encodings.size());
  for (Encoding e : m.encodings) w.write_i32(int32_t(e));
  w.field(3, Wire::list);
  w.list_header(Wire::binary, m.path.size());
  for (const auto& p : m.path) w.write_binary(p);
  w.field_i32(4, int32_t(m.codec));
  w.field_i64(5, m.num_values);
  w.field_i64(6, m.total_uncompressed_size);
  w.field_i64(7, m.total_compressed_size);
  if (!m.key_value.empty()) write_key_values(w, 8, m.key_value);
  w.field_i64(9, m.data_page_offset);
  if (m.index_page_offset) w.field_i64(10, *m.index_page_offset);
  if (m.dictionary_page_offset) w.field_i64(11, *m.dictionary_page_offset);
  if (m.statistics) write_statistics(w, 12, *m.statistics);
  w.end_struct();
}

}  // namespace

FileMetaData parse_file_metadata(std::string_view bytes, const Limits& limits) {
  if (bytes.size() > limits.max_footer_bytes)
    throw ParquetError("footer of " + std::to_string(bytes.size()) + " bytes passes the limit of " +
                       std::to_string(limits.max_footer_bytes));
  thrift::Reader r(bytes, limits);
  FileMetaData m;
  Required req("FileMetaData", {"version", "schema", "num_rows", "row_groups"});
  read_struct(r, [&](const FieldHeader& f) {
    switch (f.id) {
      case 1: if (!is_int(f)) return false; m.version = read_int(r, f); req.seen(0); return true;
      case 2: {
        if (f.type != Wire::list) return false;
        const thrift::ListHeader list = r.read_list_header();
        if (list.size > limits.max_schema_elements)
          throw ParquetError("footer: " + std::to_string(list.size) + " schema elements pass the limit of " +
                             std::to_string(limits.max_schema_elements));
        if (list.size && list.element != Wire::structure) throw ParquetError("footer: schema is not a list of structs");
        m.schema.reserve(list.size);
        for (size_t i = 0; i < list.size; ++i) m.schema.push_back(read_schema_element(r));
        req.seen(1);
        return true;
      }
      case 3: if (f.type != Wire::i64) return false; m.num_rows = r.read_i64(); req.seen(2); return true;
      case 4:
        if (f.type != Wire::list) return false;
        read_list(r, Wire::structure, "row_groups", [&] { m.row_groups.push_back(read_row_group(r)); });
        req.seen(3);
        return true;
      case 5: if (f.type != Wire::list) return false; m.key_value = read_key_values(r); return true;
      case 6: if (f.type != Wire::binary) return false; m.created_by = r.read_binary(); return true;
      case 7: {
        if (f.type != Wire::list) return false;
        const thrift::ListHeader list = r.read_list_header();
        for (size_t i = 0; i < list.size; ++i) r.skip(list.element, false);
        m.column_orders = list.size;
        return true;
      }
      case 8: m.encrypted = true; return false;
      default: return false;
    }
  });
  req.check();
  return m;
}

size_t parse_page_header(std::string_view bytes, PageHeader& header, const Limits& limits) {
  const std::string_view window = bytes.substr(0, limits.max_page_header_bytes);
  thrift::Reader r(window, limits);
  try {
    header = read_page_header(r);
  } catch (const thrift::Truncated&) {
    if (window.size() < bytes.size())
      throw ParquetError("page header longer than the limit of " + std::to_string(limits.max_page_header_bytes) + " bytes");
    return 0;  // the caller reads more and calls again
  }
  return r.position();
}

void serialize(const FileMetaData& m, std::string& out) {
  thrift::Writer w(out);
  w.begin_struct();
  w.field_i32(1, m.version);
  w.field(2, Wire::list);
  w.list_header(Wire::structure, m.schema.size());
  size_t leaves = 0;
  for (const auto& e : m.schema) {
    w.begin_struct();
    if (e.type) w.field_i32(1, int32_t(*e.type));
    if (e.type_length) w.field_i32(2, *e.type_length);
    if (e.repetition) w.field_i32(3, int32_t(*e.repetition));
    w.field_binary(4, e.name);
    if (e.num_children) w.field_i32(5, *e.num_children);
    if (e.converted) w.field_i32(6, int32_t(*e.converted));
    if (e.scale) w.field_i32(7, *e.scale);
    if (e.precision) w.field_i32(8, *e.precision);
    if (e.field_id) w.field_i32(9, *e.field_id);
    if (e.logical.kind != LogicalType::Kind::none) write_logical_type(w, e.logical);
    w.end_struct();
    leaves += !e.num_children;
  }
  w.field_i64(3, m.num_rows);
  w.field(4, Wire::list);
  w.list_header(Wire::structure, m.row_groups.size());
  for (const auto& g : m.row_groups) {
    w.begin_struct();
    w.field(1, Wire::list);
    w.list_header(Wire::structure, g.columns.size());
    for (const auto& c : g.columns) {
      w.begin_struct();
      if (c.file_path) w.field_binary(1, *c.file_path);
      w.field_i64(2, c.file_offset);
      if (c.meta_data) write_column_metadata(w, *c.meta_data);
      w.end_struct();
    }
    w.field_i64(2, g.total_byte_size);
    w.field_i64(3, g.num_rows);
    if (g.file_offset) w.field_i64(5, *g.file_offset);
    if (g.total_compressed_size) w.field_i64(6, *g.total_compressed_size);
    if (g.ordinal) w.field_i16(7, *g.ordinal);
    w.end_struct();
  }
  if (!m.key_value.empty()) write_key_values(w, 5, m.key_value);
  if (m.created_by) w.field_binary(6, *m.created_by);
  // TYPE_ORDER for every leaf: without column orders, readers must ignore min_value/max_value.
  if (m.column_orders) {
    w.field(7, Wire::list);
    w.list_header(Wire::structure, leaves);
    for (size_t i = 0; i < leaves; ++i) {
      w.begin_struct();
      write_empty_struct(w, 1);
      w.end_struct();
    }
  }
  w.end_struct();
}

void serialize(const PageHeader& h, std::string& out) {
  thrift::Writer w(out);
  w.begin_struct();
  w.field_i32(1, int32_t(h.type));
  w.field_i32(2, h.uncompressed_page_size);
  w.field_i32(3, h.compressed_page_size);
  if (h.crc) w.field_i32(4, *h.crc);
  if (h.data_page) {
    const auto& d = *h.data_page;
    w.field(5, Wire::structure);
    w.begin_struct();
    w.field_i32(1, d.num_values);
    w.field_i32(2, int32_t(d.encoding));
    w.field_i32(3, int32_t(d.definition_level_encoding));
    w.field_i32(4, int32_t(d.repetition_level_encoding));
    if (d.statistics) write_statistics(w, 5, *d.statistics);
    w.end_struct();
  }
  if (h.dictionary_page) {
    const auto& d = *h.dictionary_page;
    w.field(7, Wire::structure);
    w.begin_struct();
    w.field_i32(1, d.num_values);
    w.field_i32(2, int32_t(d.encoding));
    if (d.is_sorted) w.field_bool(3, true);
    w.end_struct();
  }
  if (h.data_page_v2) {
    const auto& d = *h.data_page_v2;
    w.field(8, Wire::structure);
    w.begin_struct();
    w.field_i32(1, d.num_values);
    w.field_i32(2, d.num_nulls);
    w.field_i32(3, d.num_rows);
    w.field_i32(4, int32_t(d.encoding));
    w.field_i32(5, d.definition_levels_byte_length);
    w.field_i32(6, d.repetition_levels_byte_length);
    if (!d.is_compressed) w.field_bool(7, false);
    if (d.statistics) write_statistics(w, 8, *d.statistics);
    w.end_struct();
  }
  w.end_struct();
}

const char* type_name(Type type) {
  switch (type) {
    case Type::boolean: return "BOOLEAN";
    case Type::int32: return "INT32";
    case Type::int64: return "INT64";
    case Type::int96: return "INT96";
    case Type::float32: return "FLOAT";
    case Type::float64: return "DOUBLE";
    case Type::byte_array: return "BYTE_ARRAY";
    case Type::fixed_len_byte_array: return "FIXED_LEN_BYTE_ARRAY";
  }
  return "unknown type";
}

std::string encoding_name(Encoding encoding) {
  switch (encoding) {
    case Encoding::plain: return "PLAIN";
    case Encoding::plain_dictionary: return "PLAIN_DICTIONARY";
    case Encoding::rle: return "RLE";
    case Encoding::bit_packed: return "BIT_PACKED";
    case Encoding::delta_binary_packed: return "DELTA_BINARY_PACKED";
    case Encoding::delta_length_byte_array: return "DELTA_LENGTH_BYTE_ARRAY";
    case Encoding::delta_byte_array: return "DELTA_BYTE_ARRAY";
    case Encoding::rle_dictionary: return "RLE_DICTIONARY";
    case Encoding::byte_stream_split: return "BYTE_STREAM_SPLIT";
  }
  return "encoding " + std::to_string(int32_t(encoding));
}

}  // namespace sluice::formats::parquet

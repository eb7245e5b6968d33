#include "formats/parquet/metadata.hpp"

#include <catch2/catch.hpp>
#include <random>

#include "formats/parquet/thrift.hpp"

using namespace sluice::formats::parquet;
using thrift::Wire;

namespace {

FileMetaData sample_metadata() {
  FileMetaData m;
  m.version = 2;
  m.num_rows = 1'000'000'000'000;
  SchemaElement root;
  root.name = "schema";
  root.num_children = 2;
  SchemaElement id;
  id.name = "id";
  id.type = Type::int64;
  id.repetition = Repetition::required;
  id.logical.kind = LogicalType::Kind::integer;
  id.logical.bit_width = 64;
  id.logical.is_signed = false;
  id.converted = ConvertedType::uint_64;
  SchemaElement price;
  price.name = "price";
  price.type = Type::fixed_len_byte_array;
  price.type_length = 16;
  price.repetition = Repetition::optional;
  price.converted = ConvertedType::decimal;
  price.scale = 10;
  price.precision = 38;
  price.field_id = 7;
  price.logical.kind = LogicalType::Kind::decimal;
  price.logical.scale = 10;
  price.logical.precision = 38;
  m.schema = {root, id, price};
  RowGroup g;
  g.num_rows = 123;
  g.total_byte_size = 1 << 30;
  g.file_offset = 4;
  g.total_compressed_size = 999;
  g.ordinal = 3;
  ColumnChunk c;
  c.file_offset = 4;
  ColumnMetaData cm;
  cm.type = Type::int64;
  cm.encodings = {Encoding::plain, Encoding::rle, Encoding::rle_dictionary};
  cm.path = {"id"};
  cm.codec = Codec::zstd;
  cm.num_values = 123;
  cm.total_uncompressed_size = 5000;
  cm.total_compressed_size = 999;
  cm.data_page_offset = 100;
  cm.dictionary_page_offset = 4;
  cm.key_value = {{"k", std::string("v")}};
  Statistics s;
  s.min_value = std::string("\x01\0\0\0\0\0\0\0", 8);
  s.max_value = std::string(8, '\xff');
  s.null_count = 0;
  cm.statistics = s;
  c.meta_data = cm;
  g.columns = {c, c};
  m.row_groups = {g};
  m.key_value = {{"sluice", std::string("{\"pipeline\":\"p\"}")}, {"no value", std::nullopt}};
  m.created_by = "sluice version 0.1.0";
  m.column_orders = 2;
  return m;
}

std::string encode(const FileMetaData& m) {
  std::string out;
  serialize(m, out);
  return out;
}

}  // namespace

TEST_CASE("a footer survives serialize and parse with every field it holds") {
  const FileMetaData m = sample_metadata();
  const FileMetaData back = parse_file_metadata(encode(m), Limits{});
  CHECK(back.version == 2);
  CHECK(back.num_rows == m.num_rows);
  REQUIRE(back.schema.size() == 3);
  CHECK(back.schema[0].num_children == 2);
  CHECK_FALSE(back.schema[0].type);
  CHECK(back.schema[1].logical.kind == LogicalType::Kind::integer);
  CHECK(back.schema[1].logical.bit_width == 64);
  CHECK_FALSE(back.schema[1].logical.is_signed);
  CHECK(back.schema[1].converted == ConvertedType::uint_64);
  CHECK(back.schema[2].type_length == 16);
  CHECK(back.schema[2].repetition == Repetition::optional);
  CHECK(back.schema[2].logical.kind == LogicalType::Kind::decimal);
  CHECK(back.schema[2].logical.precision == 38);
  CHECK(back.schema[2].logical.scale == 10);
  CHECK(back.schema[2].field_id == 7);
  REQUIRE(back.row_groups.size() == 1);
  const RowGroup& g = back.row_groups[0];
  CHECK(g.num_rows == 123);
  CHECK(g.total_byte_size == 1 << 30);
  CHECK(g.ordinal == 3);
  REQUIRE(g.columns.size() == 2);
  const ColumnMetaData& cm = *g.columns[1].meta_data;
  CHECK(cm.encodings == std::vector<Encoding>{Encoding::plain, Encoding::rle, Encoding::rle_dictionary});
  CHECK(cm.path == std::vector<std::string>{"id"});
  CHECK(cm.codec == Codec::zstd);
  CHECK(cm.dictionary_page_offset == 4);
  CHECK(cm.data_page_offset == 100);
  CHECK(cm.statistics->max_value == std::string(8, '\xff'));
  CHECK(cm.statistics->min_value->size() == 8);
  CHECK(cm.statistics->null_count == 0);
  CHECK_FALSE(cm.statistics->min);
  REQUIRE(back.key_value.size() == 2);
  CHECK(back.key_value[0].value == "{\"pipeline\":\"p\"}");
  CHECK_FALSE(back.key_value[1].value);
  CHECK(back.created_by == "sluice version 0.1.0");
  CHECK(back.column_orders == 2);
  CHECK(encode(back) == encode(m));
}

TEST_CASE("time and timestamp logical types keep their unit and UTC flag") {
  for (auto kind : {LogicalType::Kind::time, LogicalType::Kind::timestamp})
    for (auto unit : {TimeUnit::millis, TimeUnit::micros, TimeUnit::nanos})
      for (bool utc : {false, true}) {
        FileMetaData m;
        SchemaElement root, t;
        root.name = "r";
        root.num_children = 1;
        t.name = "t";
        t.type = Type::int64;
        t.repetition = Repetition::optional;
        t.logical.kind = kind;
        t.logical.unit = unit;
        t.logical.adjusted_to_utc = utc;
        m.schema = {root, t};
        const auto back = parse_file_metadata(encode(m), Limits{});
        CHECK(back.schema[1].logical.kind == kind);
        CHECK(back.schema[1].logical.unit == unit);
        CHECK(back.schema[1].logical.adjusted_to_utc == utc);
      }
}

TEST_CASE("page headers of all three kinds survive serialize and parse") {
  PageHeader v1;
  v1.type = PageType::data_page;
  v1.uncompressed_page_size = 1000;
  v1.compressed_page_size = 400;
  v1.crc = -5;
  v1.data_page = DataPageHeader{77, Encoding::rle_dictionary, Encoding::rle, Encoding::bit_packed, Statistics{}};
  v1.data_page->statistics->null_count = 3;
  PageHeader v2;
  v2.type = PageType::data_page_v2;
  v2.uncompressed_page_size = 10;
  v2.compressed_page_size = 10;
  v2.data_page_v2 = DataPageHeaderV2{10, 2, 5, Encoding::delta_binary_packed, 3, 4, false, std::nullopt};
  PageHeader dict;
  dict.type = PageType::dictionary_page;
  dict.uncompressed_page_size = 1 << 20;
  dict.compressed_page_size = 1 << 19;
  dict.dictionary_page = DictionaryPageHeader{4096, Encoding::plain, true};
  for (const PageHeader& h : {v1, v2, dict}) {
    std::string bytes;
    serialize(h, bytes);
    bytes += "page data follows";
    PageHeader back;
    const size_t length = parse_page_header(bytes, back, Limits{});
    CHECK(bytes.substr(length) == "page data follows");
    CHECK(back.type == h.type);
    CHECK(back.uncompressed_page_size == h.uncompressed_page_size);
    CHECK(back.compressed_page_size == h.compressed_page_size);
    CHECK(back.crc == h.crc);
    CHECK(back.data_page.has_value() == h.data_page.has_value());
    CHECK(back.data_page_v2.has_value() == h.data_page_v2.has_value());
    CHECK(back.dictionary_page.has_value() == h.dictionary_page.has_value());
  }
  std::string bytes;
  serialize(v2, bytes);
  PageHeader back;
  parse_page_header(bytes, back, Limits{});
  CHECK(back.data_page_v2->num_nulls == 2);
  CHECK(back.data_page_v2->num_rows == 5);
  CHECK(back.data_page_v2->encoding == Encoding::delta_binary_packed);
  CHECK(back.data_page_v2->definition_levels_byte_length == 3);
  CHECK(back.data_page_v2->repetition_levels_byte_length == 4);
  CHECK_FALSE(back.data_page_v2->is_compressed);
  bytes.clear();
  serialize(dict, bytes);
  parse_page_header(bytes, back, Limits{});
  CHECK(back.dictionary_page->num_values == 4096);
  CHECK(back.dictionary_page->is_sorted);
}

TEST_CASE("a page header cut short asks for more bytes at every cut") {
  PageHeader h;
  h.type = PageType::data_page;
  h.uncompressed_page_size = 123456;
  h.compressed_page_size = 654321;
  h.data_page = DataPageHeader{1000, Encoding::plain, Encoding::rle, Encoding::rle, Statistics{}};
  h.data_page->statistics->max_value = std::string(300, 'x');
  std::string bytes;
  serialize(h, bytes);
  PageHeader back;
  for (size_t cut = 0; cut < bytes.size(); ++cut) CHECK(parse_page_header(bytes.substr(0, cut), back, Limits{}) == 0);
  CHECK(parse_page_header(bytes, back, Limits{}) == bytes.size());
}

TEST_CASE("a page header past its size limit is refused rather than read on") {
  PageHeader h;
  h.type = PageType::data_page;
  h.data_page = DataPageHeader{1, Encoding::plain, Encoding::rle, Encoding::rle, Statistics{}};
  h.data_page->statistics->max_value = std::string(5000, 'x');
  std::string bytes;
  serialize(h, bytes);
  Limits limits;
  limits.max_page_header_bytes = 1000;
  PageHeader back;
  CHECK_THROWS_AS(parse_page_header(bytes, back, limits), ParquetError);
}

TEST_CASE("fields a reader does not know are skipped, whatever their type") {
  std::string bytes;
  thrift::Writer w(bytes);
  w.begin_struct();
  w.field_i32(1, int32_t(PageType::dictionary_page));
  // Unknown fields of every kind between the known ones.
  w.field(2, Wire::dbl);
  bytes.append(8, '\x01');
  w.field_i32(3, 16);  // compressed_page_size
  w.field(20, Wire::structure);
  w.begin_struct();
  w.field_binary(1, "nested");
  w.field(2, Wire::list);
  w.list_header(Wire::structure, 2);
  for (int i = 0; i < 2; ++i) {
    w.begin_struct();
    w.field_bool(1, true);
    w.field_i64(300, -1);
    w.end_struct();
  }
  w.field(3, Wire::map);
  w.write_varint(2);
  bytes.push_back(char((int(Wire::binary) << 4) | int(Wire::i32)));
  for (int i = 0; i < 2; ++i) {
    w.write_binary("key");
    w.write_i32(i);
  }
  w.field(4, Wire::list);
  w.list_header(Wire::bool_true, 3);
  bytes.append("\x01\x02\x01", 3);
  w.end_struct();
  w.field_i32(21, 5);
  w.field_i32(2, 32);  // a field id going backwards takes the long form
  w.field(7, Wire::structure);
  w.begin_struct();
  w.field_i32(1, 9);
  w.field_i32(2, int32_t(Encoding::plain));
  w.field_binary(50, "unknown inside a known struct");
  w.end_struct();
  w.end_struct();
  PageHeader h;
  REQUIRE(parse_page_header(bytes, h, Limits{}) == bytes.size());
  CHECK(h.type == PageType::dictionary_page);
  CHECK(h.uncompressed_page_size == 32);
  CHECK(h.compressed_page_size == 16);
  REQUIRE(h.dictionary_page);
  CHECK(h.dictionary_page->num_values == 9);
}

TEST_CASE("a struct without a required field is refused by the field's name") {
  std::string bytes;
  thrift::Writer w(bytes);
  w.begin_struct();
  w.field_i32(1, 0);
  w.field_i32(2, 10);
  w.end_struct();
  PageHeader h;
  try {
    parse_page_header(bytes, h, Limits{});
    FAIL("no error");
  } catch (const ParquetError& e) {
    CHECK_THAT(e.what(), Catch::Contains("compressed_page_size"));
  }
}

TEST_CASE("forged counts and sizes are refused before anything is sized by them") {
  SECTION("a list count far past the bytes left") {
    std::string bytes;
    thrift::Writer w(bytes);
    w.begin_struct();
    w.field_i32(1, 1);
    w.field(2, Wire::list);
    w.list_header(Wire::structure, size_t(1) << 40);
    CHECK_THROWS_AS(parse_file_metadata(bytes, Limits{}), ParquetError);
  }
  SECTION("a binary longer than the input") {
    std::string bytes;
    thrift::Writer w(bytes);
    w.begin_struct();
    w.field(6, Wire::binary);
    w.write_varint(uint64_t(1) << 62);
    CHECK_THROWS_AS(parse_file_metadata(bytes, Limits{}), ParquetError);
  }
  SECTION("more schema elements than the limit") {
    FileMetaData m = sample_metadata();
    Limits limits;
    limits.max_schema_elements = 2;
    CHECK_THROWS_AS(parse_file_metadata(encode(m), limits), ParquetError);
  }
  SECTION("a footer bigger than the limit") {
    Limits limits;
    limits.max_footer_bytes = 10;
    CHECK_THROWS_AS(parse_file_metadata(encode(sample_metadata()), limits), ParquetError);
  }
  SECTION("structures nested past the limit") {
    std::string bytes;
    thrift::Writer w(bytes);
    for (int i = 0; i < 1000; ++i) {
      w.begin_struct();
      w.field(20, Wire::structure);
    }
    CHECK_THROWS_AS(parse_file_metadata(bytes, Limits{}), ParquetError);
  }
  SECTION("a varint of more than ten bytes") {
    std::string bytes = "\x15";  // field 1, i32
    bytes.append(11, '\xff');
    CHECK_THROWS_AS(parse_file_metadata(bytes, Limits{}), ParquetError);
  }
  SECTION("an i32 field holding a 64-bit value") {
    std::string bytes;
    thrift::Writer w(bytes);
    w.begin_struct();
    w.field(1, Wire::i32);
    w.write_i64(int64_t(1) << 40);
    CHECK_THROWS_AS(parse_file_metadata(bytes, Limits{}), ParquetError);
  }
}

TEST_CASE("random and mutated footers only ever parse or throw ParquetError") {
  const std::string valid = encode(sample_metadata());
  std::mt19937_64 rng(7);
  Limits limits;
  limits.max_list_elements = 1000;
  limits.max_string_bytes = 1000;
  for (int i = 0; i < 20000; ++i) {
    std::string input = valid;
    if (i % 4 == 0) {
      input.resize(rng() % 200);
      for (auto& c : input) c = char(rng());
    } else {
      for (int flips = 1 + int(rng() % 4); flips-- > 0;) input[rng() % input.size()] = char(rng());
      if (i % 3 == 0) input.resize(rng() % input.size());
    }
    try {
      (void)parse_file_metadata(input, limits);
    } catch (const ParquetError&) {
    }
    PageHeader h;
    try {
      (void)parse_page_header(input, h, limits);
    } catch (const ParquetError&) {
    }
  }
}

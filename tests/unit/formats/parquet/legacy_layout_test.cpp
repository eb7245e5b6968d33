// Files laid out the way older writers did (2-level lists, unannotated repeated fields, MAP_KEY_VALUE maps),
// built column by column, to prove the reader follows the spec's backward-compatibility rules.
#include <catch2/catch.hpp>

#include "formats/parquet/column_writer.hpp"
#include "formats/parquet/file_reader.hpp"
#include "formats/parquet/schema.hpp"
#include "formats/parquet/writer.hpp"
#include "support/parquet_support.hpp"
#include "support/test_support.hpp"

using namespace sluice::formats::parquet;
using sluice::testing::TempDir;

namespace {

SchemaElement group(const std::string& name, std::optional<Repetition> repetition, int32_t children,
                    std::optional<ConvertedType> converted = std::nullopt) {
  SchemaElement e;
  e.name = name;
  e.repetition = repetition;
  e.num_children = children;
  e.converted = converted;
  return e;
}

SchemaElement leaf(const std::string& name, Repetition repetition, Type type, std::optional<ConvertedType> converted = std::nullopt) {
  SchemaElement e;
  e.name = name;
  e.repetition = repetition;
  e.type = type;
  e.converted = converted;
  return e;
}

// Writes one row group whose columns `fill` has populated, and reads the rows back.
std::vector<std::string> read_back(const std::string& path, std::vector<SchemaElement> schema, std::vector<ColumnWriter>& columns,
                                   int64_t rows) {
  std::string file(kParquetMagic);
  RowGroup g;
  g.num_rows = rows;
  for (auto& c : columns) g.columns.push_back(c.finish(file.size(), [&file](std::string_view bytes) { file.append(bytes); }));
  FileMetaData m;
  m.schema = std::move(schema);
  m.num_rows = rows;
  m.row_groups = {g};
  std::string footer;
  serialize(m, footer);
  const auto size = uint32_t(footer.size());
  file += footer;
  file.append(reinterpret_cast<const char*>(&size), 4);
  file += kParquetMagic;
  sluice::testing::write_file(path, file);
  return sluice::testing::parquet_rows_both_ways(path);
}

}  // namespace

TEST_CASE("a 2-level list of a repeated primitive reads as a list of it") {
  TempDir dir;
  std::vector<SchemaElement> schema = {group("schema", std::nullopt, 1), group("my_list", Repetition::optional, 1, ConvertedType::list),
                                       leaf("element", Repetition::repeated, Type::int32)};
  std::vector<ColumnWriter> columns;
  columns.emplace_back(Type::int32, 0, 2, 1, std::vector<std::string>{"my_list", "element"}, WriterOptions{});
  auto& c = columns[0];
  c.add_int32(0, 1), c.add_int32(1, 2);  // [1, 2]
  c.add_null(0, 0);                      // null
  c.add_null(1, 0);                      // []
  const auto rows = read_back(dir / "a.parquet", schema, columns, 3);
  CHECK(rows == std::vector<std::string>{R"({"my_list":[1,2]})", R"({"my_list":null})", R"({"my_list":[]})"});
}

TEST_CASE("a repeated group named array, or list_tuple, is the element itself") {
  TempDir dir;
  for (const std::string name : {"array", "l_tuple"}) {
    std::vector<SchemaElement> schema = {group("schema", std::nullopt, 1), group("l", Repetition::optional, 1, ConvertedType::list),
                                         group(name, Repetition::repeated, 1), leaf("x", Repetition::optional, Type::int32)};
    std::vector<ColumnWriter> columns;
    columns.emplace_back(Type::int32, 0, 3, 1, std::vector<std::string>{"l", name, "x"}, WriterOptions{});
    columns[0].add_int32(0, 1), columns[0].add_null(2, 1);
    const auto rows = read_back(dir / (name + ".parquet"), schema, columns, 1);
    CHECK(rows == std::vector<std::string>{R"({"l":[{"x":1},{"x":null}]})"});
  }
}

TEST_CASE("a repeated field outside any LIST group is a required list of required elements") {
  TempDir dir;
  std::vector<SchemaElement> schema = {group("schema", std::nullopt, 2), leaf("id", Repetition::required, Type::int32),
                                       leaf("nums", Repetition::repeated, Type::int32)};
  std::vector<ColumnWriter> columns;
  columns.emplace_back(Type::int32, 0, 0, 0, std::vector<std::string>{"id"}, WriterOptions{});
  columns.emplace_back(Type::int32, 0, 1, 1, std::vector<std::string>{"nums"}, WriterOptions{});
  columns[0].add_int32(0, 1), columns[0].add_int32(0, 2);
  columns[1].add_int32(0, 5), columns[1].add_int32(1, 6), columns[1].add_null(0, 0);
  const auto rows = read_back(dir / "r.parquet", schema, columns, 2);
  CHECK(rows == std::vector<std::string>{R"({"id":1,"nums":[5,6]})", R"({"id":2,"nums":[]})"});
}

TEST_CASE("maps with string keys read as objects, others as key-value arrays") {
  TempDir dir;
  std::vector<SchemaElement> schema = {group("schema", std::nullopt, 2),
                                       group("m", Repetition::optional, 1, ConvertedType::map),
                                       group("map", Repetition::repeated, 2, ConvertedType::map_key_value),
                                       leaf("key", Repetition::required, Type::byte_array, ConvertedType::utf8),
                                       leaf("value", Repetition::optional, Type::int32),
                                       group("byint", Repetition::optional, 1, ConvertedType::map),
                                       group("key_value", Repetition::repeated, 2),
                                       leaf("key", Repetition::required, Type::int32),
                                       leaf("value", Repetition::optional, Type::byte_array, ConvertedType::utf8)};
  std::vector<ColumnWriter> columns;
  columns.emplace_back(Type::byte_array, 0, 2, 1, std::vector<std::string>{"m", "map", "key"}, WriterOptions{});
  columns.emplace_back(Type::int32, 0, 3, 1, std::vector<std::string>{"m", "map", "value"}, WriterOptions{});
  columns.emplace_back(Type::int32, 0, 2, 1, std::vector<std::string>{"byint", "key_value", "key"}, WriterOptions{});
  columns.emplace_back(Type::byte_array, 0, 3, 1, std::vector<std::string>{"byint", "key_value", "value"}, WriterOptions{});
  // Row 1: {"a": 1, "b": null}, {7: "x"}. Row 2: null map, empty map.
  columns[0].add(0, "a"), columns[0].add(1, "b"), columns[0].add_null(0, 0);
  columns[1].add_int32(0, 1), columns[1].add_null(2, 1), columns[1].add_null(0, 0);
  columns[2].add_int32(0, 7), columns[2].add_null(1, 0);
  columns[3].add(0, "x"), columns[3].add_null(1, 0);
  const auto rows = read_back(dir / "m.parquet", schema, columns, 2);
  CHECK(rows == std::vector<std::string>{R"({"m":{"a":1,"b":null},"byint":[{"key":7,"value":"x"}]})",
                                         R"({"m":null,"byint":[]})"});
}

TEST_CASE("columns whose levels disagree are refused, not read into the wrong rows") {
  TempDir dir;
  std::vector<SchemaElement> schema = {group("schema", std::nullopt, 2), leaf("a", Repetition::required, Type::int32),
                                       leaf("b", Repetition::required, Type::int32)};
  std::vector<ColumnWriter> columns;
  columns.emplace_back(Type::int32, 0, 0, 0, std::vector<std::string>{"a"}, WriterOptions{});
  columns.emplace_back(Type::int32, 0, 0, 0, std::vector<std::string>{"b"}, WriterOptions{});
  columns[0].add_int32(0, 1), columns[0].add_int32(0, 2);
  columns[1].add_int32(0, 1);
  CHECK_THROWS_WITH(read_back(dir / "short.parquet", schema, columns, 2), Catch::Contains("column 'b'") && Catch::Contains("ends before"));
}

TEST_CASE("a schema whose nested children counts run past its end is refused") {
  // Found by the fuzz target: the root's count fits what is left, but a child group claims more than remains.
  const std::vector<SchemaElement> schema = {group("schema", std::nullopt, 1), group("a", Repetition::optional, 3),
                                             leaf("x", Repetition::required, Type::int32)};
  CHECK_THROWS_WITH(Schema::from_elements(schema, Limits{}), Catch::Contains("'a' claims 3 children"));
}

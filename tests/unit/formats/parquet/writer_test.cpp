#include "formats/parquet/writer.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cstring>
#include <catch2/catch.hpp>
#include <random>

#include "formats/parquet/file_reader.hpp"
#include "support/parquet_support.hpp"
#include "support/test_support.hpp"

using namespace sluice::formats::parquet;
using sluice::testing::TempDir;
namespace json = boost::json;

namespace {

std::vector<ColumnSpec> columns(std::initializer_list<std::pair<const char*, const char*>> list) {
  std::vector<ColumnSpec> out;
  for (const auto& [name, type] : list) out.push_back({name, parse_column_type(type)});
  return out;
}

// Writes the records as a file (a row group whenever `row_group_bytes` is passed) and reads every row back.
std::vector<std::string> round_trip(const std::vector<ColumnSpec>& specs, const std::vector<std::string>& records,
                                    const std::string& path, WriterOptions options = {}, size_t row_group_bytes = SIZE_MAX,
                                    std::vector<std::string>* rejections = nullptr) {
  Writer writer(specs, options);
  std::string file(kParquetMagic);
  std::vector<RowGroup> groups;
  for (const auto& r : records) {
    if (auto why = writer.add(r)) {
      if (rejections) rejections->push_back(*why);
      continue;
    }
    if (writer.estimated_bytes() >= row_group_bytes) groups.push_back(writer.flush(file.size(), file));
  }
  if (writer.rows()) groups.push_back(writer.flush(file.size(), file));
  file += writer.footer(groups, {{"sluice", std::string("{}")}}, "sluice version test");
  sluice::testing::write_file(path, file);
  return sluice::testing::parquet_rows_both_ways(path);
}

}  // namespace

TEST_CASE("records of every column type come back from the file as they went in") {
  TempDir dir;
  const auto specs = columns({{"id", "int64 not null"},
                              {"small", "int32"},
                              {"f", "float"},
                              {"d", "double"},
                              {"b", "bool"},
                              {"s", "string"},
                              {"raw", "bytes"},
                              {"day", "date"},
                              {"ms", "timestamp(ms)"},
                              {"us", "timestamp(us, utc)"},
                              {"ns", "timestamp(ns, utc)"},
                              {"d9", "decimal(9,2)"},
                              {"d18", "decimal(18,4)"},
                              {"d38", "decimal(38,10)"},
                              {"tags", "list<string not null>"},
                              {"nums", "list<int64>"},
                              {"point", "struct{x: double, y: double, label: struct{text: string}}"},
                              {"items", "list<struct{k: string, v: list<int32>}>"}});
  const std::vector<std::string> records = {
      R"({"id":1,"small":-2147483648,"f":0.1,"d":-1.5e300,"b":true,"s":"plain","raw":"AAEC/w==","day":"2024-02-29","ms":"1969-12-31T23:59:59.999","us":"2024-02-29T13:45:00.123456Z","ns":"1677-09-21T00:12:43.145224192Z","d9":"-0.05","d18":"-99999999999999.9999","d38":"-9999999999999999999999999999.9999999999","tags":["a","b"],"nums":[9223372036854775807,null,-9223372036854775808],"point":{"x":1,"y":2,"label":{"text":"p"}},"items":[{"k":"a","v":[1,null]},null,{"k":null,"v":[]}]})",
      R"({"id":2,"small":null,"f":null,"d":null,"b":null,"s":null,"raw":null,"day":null,"ms":null,"us":null,"ns":null,"d9":null,"d18":null,"d38":null,"tags":null,"nums":null,"point":null,"items":null})",
      R"({"id":3,"small":7,"f":"NaN","d":"-Infinity","b":false,"s":"ünï \"q\" \\ \n","raw":"","day":"-0001-12-31","ms":"2262-04-11T23:47:16.854","us":"0001-01-01T00:00:00.000000Z","ns":"2262-04-11T23:47:16.854775807Z","d9":"0.00","d18":"-0.0001","d38":"0.0000000001","tags":[],"nums":[],"point":{"x":null,"y":null,"label":null},"items":[]})",
      R"({"id":4,"point":{"label":{"text":null}},"items":[null]})",
  };
  const auto rows = round_trip(specs, records, dir / "all.parquet");
  REQUIRE(rows.size() == records.size());
  // Missing fields come back as explicit nulls; everything else exactly as written.
  for (size_t i = 0; i < 3; ++i) CHECK(json::parse(rows[i]) == json::parse(records[i]));
  const json::value last = json::parse(rows[3]);
  CHECK(last.at("small").is_null());
  CHECK(last.at("point") == json::parse(R"({"x":null,"y":null,"label":{"text":null}})"));
  CHECK(last.at("items") == json::parse("[null]"));
}

TEST_CASE("a record that does not fit is refused whole, and the ones around it are unharmed") {
  TempDir dir;
  const auto specs = columns({{"id", "int64 not null"}, {"amount", "decimal(9,2)"}, {"tags", "list<string>"}});
  std::vector<std::string> rejections;
  const auto rows = round_trip(specs,
                               {R"({"id":1,"amount":"1.50","tags":["a"]})",
                                R"({"id":2,"tags":["b","c"],"amount":"1.505"})",
                                R"({"tags":["d"]})",
                                R"({"id":"x"})",
                                R"({"id":5,"id":6})",
                                R"({"id":7,"amount":1.25,"tags":["e",1]})",
                                R"([1,2])",
                                R"({"id":8} trailing)",
                                R"({"id":9,"amount":1234567.9,"tags":[]})"},
                               dir / "bad.parquet", {}, SIZE_MAX, &rejections);
  REQUIRE(rows.size() == 2);
  CHECK(json::parse(rows[0]) == json::parse(R"({"id":1,"amount":"1.50","tags":["a"]})"));
  CHECK(json::parse(rows[1]) == json::parse(R"({"id":9,"amount":"1234567.90","tags":[]})"));
  REQUIRE(rejections.size() == 7);
  CHECK_THAT(rejections[0], Catch::Contains("field 'amount'") && Catch::Contains("more decimal places"));
  CHECK_THAT(rejections[1], Catch::Contains("field 'id'") && Catch::Contains("not nullable"));
  CHECK_THAT(rejections[2], Catch::Contains("field 'id'") && Catch::Contains("expected an integer, got a string"));
  CHECK_THAT(rejections[3], Catch::Contains("appears twice"));
  CHECK_THAT(rejections[4], Catch::Contains("field 'tags.element'") && Catch::Contains("expected a string"));
  CHECK_THAT(rejections[5], Catch::Contains("not a JSON object"));
  CHECK_THAT(rejections[6], Catch::Contains("text after the JSON object") || Catch::Contains("invalid JSON"));
}

TEST_CASE("fields are found by name in any order, escaped or not, whatever order the record before had") {
  TempDir dir;
  // 3 and 10 fields: a struct with few fields compares names, one with many looks them up.
  for (int width : {3, 10}) {
    std::vector<std::pair<std::string, std::string>> named;
    for (int i = 0; i < width; ++i) named.emplace_back("f" + std::to_string(i), "int32");
    named[1].first = "qu\"ote";
    named[2].first = "back\\slash";
    std::vector<ColumnSpec> specs;
    for (const auto& [name, type] : named) specs.push_back({name, parse_column_type(type)});
    std::vector<std::string> records, expected;
    std::vector<std::string> rejections;
    std::mt19937_64 rng{static_cast<uint64_t>(width)};
    for (int r = 0; r < 400; ++r) {
      std::vector<int> order(static_cast<size_t>(width), 0);
      for (int i = 0; i < width; ++i) order[size_t(i)] = i;
      if (r % 3) std::shuffle(order.begin(), order.end(), rng);  // a third keep the order of the record before
      json::object want;
      std::string text = "{";
      for (int i : order) {
        const std::string& name = named[size_t(i)].first;
        std::string key = json::serialize(json::value(name));  // escapes the quote and the backslash
        if (name == "f0" && r % 5 == 0) key = "\"\\u0066" + name.substr(1) + "\"";  // "f0" spelled with an escape
        if (text.size() > 1) text += ",";
        text += key + ":" + std::to_string(r * 100 + i);
        want[name] = r * 100 + i;
      }
      if (r % 7 == 0) text += ",\"extra\":1";  // not a column: ignored
      if (r % 11 == 0) text += ",\"f0\":5";    // twice: refused, wherever the guess put it
      text += "}";
      records.push_back(text);
      if (r % 11 != 0) expected.push_back(json::serialize(want));
    }
    const auto rows = round_trip(specs, records, dir / ("order" + std::to_string(width) + ".parquet"), {}, SIZE_MAX, &rejections);
    REQUIRE(rows.size() == expected.size());
    for (size_t i = 0; i < rows.size(); ++i) CHECK(json::parse(rows[i]) == json::parse(expected[i]));
    REQUIRE_FALSE(rejections.empty());
    for (const auto& why : rejections) CHECK_THAT(why, Catch::Contains("appears twice"));
  }
}

TEST_CASE("statistics hold the min, max and null count of what the pages hold, not of refused records") {
  TempDir dir;
  const auto specs = columns({{"s", "string"}, {"n", "int64"}, {"d", "double"}});
  std::vector<std::string> records, rejections;
  for (int i = 0; i < 5000; ++i) {
    // "s" takes 50 values (dictionary-encoded); every 10th record has no "n".
    std::string r = R"({"s":"m)" + std::to_string(i % 50 + 10) + R"(","d":)" + std::to_string(i % 7 - 3) + ".5";
    if (i % 10) r += R"(,"n":)" + std::to_string(i * 3 - 600);
    records.push_back(r + "}");
  }
  // Refused after "s" and "d" were taken: their values ("a" and -1e9, below all others) must not count.
  records.push_back(R"({"s":"a","d":-1e9,"n":"not a number"})");
  records.push_back(R"({"s":"zz","d":1e9,"n":1.5})");
  for (const auto& options : {WriterOptions{}, [] {
                                WriterOptions o;
                                o.dictionary = false;
                                return o;
                              }()}) {
    INFO("dictionary " << options.dictionary);
    round_trip(specs, records, dir / "stats.parquet", options, SIZE_MAX, &rejections);
    FileReader reader(dir / "stats.parquet");
    const auto& group = reader.metadata().row_groups.at(0);
    const Statistics& s = *group.columns[0].meta_data->statistics;
    CHECK(s.min_value == std::optional<std::string>("m10"));
    CHECK(s.max_value == std::optional<std::string>("m59"));
    CHECK(s.null_count == 0);
    const Statistics& n = *group.columns[1].meta_data->statistics;
    int64_t min = 0, max = 0;
    std::memcpy(&min, n.min_value->data(), 8);
    std::memcpy(&max, n.max_value->data(), 8);
    CHECK(min == 3 - 600);
    CHECK(max == 4999 * 3 - 600);
    CHECK(n.null_count == 500);
    const Statistics& d = *group.columns[2].meta_data->statistics;
    double dmin = 0, dmax = 0;
    std::memcpy(&dmin, d.min_value->data(), 8);
    std::memcpy(&dmax, d.max_value->data(), 8);
    CHECK(dmin == -3.5);
    CHECK(dmax == 3.5);
  }
  CHECK(rejections.size() == 4);
}

TEST_CASE("statistics of PLAIN pages: 32-bit numbers, booleans, and floats with NaN left out of the order") {
  TempDir dir;
  const auto specs = columns({{"i", "int32"}, {"b", "bool"}, {"f", "float"}, {"g", "double"}});
  std::vector<std::string> records;
  for (int i = 0; i < 3000; ++i) {
    // NaN first in every page and between the others: an extreme taken from it would be NaN itself.
    const std::string nan = i % 3 == 0 ? R"("NaN")" : std::to_string(i % 100 - 40) + ".25";
    records.push_back(R"({"i":)" + std::to_string(1000 - i) + R"(,"b":)" + (i % 5 == 4 ? "false" : "true") + R"(,"f":)" + nan +
                      R"(,"g":)" + nan + "}");
  }
  WriterOptions options;
  options.dictionary = false;
  options.page_bytes = 1024;  // many pages, each with its own extremes to merge
  round_trip(specs, records, dir / "plain.parquet", options);
  FileReader reader(dir / "plain.parquet");
  const auto& group = reader.metadata().row_groups.at(0);
  const auto number = [&](size_t column, auto zero) {
    const Statistics& s = *group.columns[column].meta_data->statistics;
    REQUIRE(s.min_value);
    REQUIRE(s.max_value);
    auto min = zero, max = zero;
    REQUIRE(s.min_value->size() == sizeof min);
    std::memcpy(&min, s.min_value->data(), sizeof min);
    std::memcpy(&max, s.max_value->data(), sizeof max);
    return std::pair{min, max};
  };
  CHECK(number(0, int32_t(0)) == std::pair{int32_t(1000 - 2999), int32_t(1000)});
  CHECK(number(1, '\0') == std::pair{'\0', '\1'});
  CHECK(number(2, 0.0f) == std::pair{-40.25f, 59.25f});
  CHECK(number(3, 0.0) == std::pair{-40.25, 59.25});
  CHECK(group.columns[2].meta_data->statistics->null_count == 0);
}

TEST_CASE("many rows cross pages, dictionaries fall back to PLAIN, and row groups split by size") {
  TempDir dir;
  const auto specs = columns({{"id", "int64 not null"}, {"category", "string"}, {"unique", "string"}, {"n", "list<int32>"}});
  std::vector<std::string> records;
  std::mt19937_64 rng(3);
  // Fewer rows in the sanitizer build, which pays for each many times over, in smaller row groups: still several per file.
  const int count = sluice::testing::sanitizer_build() ? 80000 : 200000;
  const size_t row_group_bytes = sluice::testing::sanitizer_build() ? (192 << 10) : (512 << 10);
  for (int i = 0; i < count; ++i) {
    json::object r;
    r["id"] = i;
    r["category"] = "cat" + std::to_string(rng() % 7);
    if (i % 11) r["unique"] = "u" + std::to_string(rng()) + std::string(rng() % 40, 'x');
    else r["unique"] = nullptr;
    json::array n;
    for (int k = 0; k < int(rng() % 4); ++k) n.push_back(int(rng() % 1000));
    r["n"] = n;
    records.push_back(json::serialize(r));
  }
  for (Codec codec : {Codec::zstd, Codec::snappy, Codec::gzip, Codec::uncompressed}) {
    WriterOptions options;
    options.codec = codec;
    options.dictionary_bytes = 64 * 1024;
    options.page_bytes = 64 * 1024;
    const std::string path = dir / (std::string(codec_name(codec)) + ".parquet");
    const auto rows = round_trip(specs, records, path, options, row_group_bytes);
    REQUIRE(rows.size() == records.size());
    for (size_t i = 0; i < rows.size(); i += 997) CHECK(json::parse(rows[i]) == json::parse(records[i]));
    CHECK(rows.back().size() > 0);
    FileReader reader(path);
    CHECK(reader.metadata().row_groups.size() > 3);
    CHECK(reader.metadata().num_rows == count);
    const auto& unique = *reader.metadata().row_groups[0].columns[2].meta_data;
    CHECK(std::count(unique.encodings.begin(), unique.encodings.end(), Encoding::rle_dictionary) == 1);
    CHECK(std::count(unique.encodings.begin(), unique.encodings.end(), Encoding::plain) == 1);
    CHECK(unique.statistics->null_count > 0);

    // Pages compressed on the writer's background thread: the same pages, so one row group comes out byte for
    // byte the same; cut by size, the row groups may end elsewhere (the size of a page still being compressed
    // is estimated), and the rows are the same.
    // A quarter of the records is plenty of pages (the sanitizer build pays for each row many times over).
    WriterOptions background = options;
    background.background_compression = true;
    const std::vector<std::string> some(records.begin(), records.begin() + 50000);
    const std::string inline_whole = dir / (std::string(codec_name(codec)) + "-whole.parquet");
    const std::string background_whole = dir / (std::string(codec_name(codec)) + "-whole-background.parquet");
    round_trip(specs, some, inline_whole, options);
    round_trip(specs, some, background_whole, background);
    CHECK(sluice::testing::read_file(background_whole) == sluice::testing::read_file(inline_whole));
    const auto background_rows = round_trip(specs, some, dir / "background.parquet", background, 128 << 10);
    CHECK(background_rows == std::vector<std::string>(rows.begin(), rows.begin() + 50000));
    CHECK(FileReader(dir / "background.parquet").metadata().row_groups.size() > 3);
  }
}

TEST_CASE("a reader resumes at any row group and row") {
  TempDir dir;
  const auto specs = columns({{"id", "int64 not null"}, {"l", "list<int64>"}});
  std::vector<std::string> records;
  for (int i = 0; i < 5000; ++i) records.push_back(R"({"id":)" + std::to_string(i) + R"(,"l":[)" + std::to_string(i) + "]}");
  round_trip(specs, records, dir / "seek.parquet", {}, 8 * 1024);
  FileReader reader(dir / "seek.parquet");
  REQUIRE(reader.metadata().row_groups.size() > 2);
  const auto& groups = reader.metadata().row_groups;
  uint64_t first_of_group2 = uint64_t(groups[0].num_rows + groups[1].num_rows);
  reader.seek({2, 17});
  std::string row;
  REQUIRE(reader.next(row));
  CHECK(json::parse(row).at("id").as_int64() == int64_t(first_of_group2 + 17));
  reader.seek({0, 3});
  row.clear();
  REQUIRE(reader.next(row));
  CHECK(json::parse(row).at("id").as_int64() == 3);
  CHECK(reader.position() == RowPosition{0, 4});
  reader.seek({uint32_t(groups.size()), 0});
  CHECK_FALSE(reader.next(row));
}

namespace {

struct DataPage {
  uint64_t values_at = 0;  // file offset of the page's values, after its definition levels
  uint64_t first_row = 0;  // for a column without repetition
};

// The data pages of an uncompressed V1 column chunk whose entries are rows (no repetition levels).
std::vector<DataPage> data_pages(const std::string& file, const ColumnMetaData& meta) {
  std::vector<DataPage> pages;
  uint64_t at = uint64_t(meta.dictionary_page_offset ? *meta.dictionary_page_offset : meta.data_page_offset);
  const uint64_t end = at + uint64_t(meta.total_compressed_size);
  uint64_t row = 0;
  while (at < end) {
    PageHeader header;
    const size_t header_size = parse_page_header(std::string_view(file).substr(at), header, Limits{});
    REQUIRE(header_size > 0);
    const uint64_t data = at + header_size;
    if (header.data_page) {
      uint32_t levels;
      std::memcpy(&levels, file.data() + data, 4);
      pages.push_back({data + 4 + levels, row});
      row += uint64_t(header.data_page->num_values);
    }
    at = data + uint64_t(header.compressed_page_size);
  }
  return pages;
}

}  // namespace

TEST_CASE("a page that cannot be decoded: the rows before it come out whole, then the error names its column, at its first row") {
  TempDir dir;
  const auto specs = columns({{"id", "int64 not null"}, {"s", "string"}, {"n", "list<int32>"}, {"t", "string"}});
  std::vector<std::string> records;
  for (int i = 0; i < 30000; ++i) {
    json::object r;
    r["id"] = i;
    if (i % 13) r["s"] = "s" + std::to_string(i * 7919);
    else r["s"] = nullptr;
    json::array n;
    for (int k = 0; k < i % 4; ++k) n.push_back(i + k);
    r["n"] = n;
    r["t"] = "t" + std::to_string(i);
    records.push_back(json::serialize(r));
  }
  WriterOptions options;
  options.codec = Codec::uncompressed;
  options.dictionary = false;
  options.page_bytes = 4096;
  const std::string path = dir / "pages.parquet";
  const auto rows = round_trip(specs, records, path, options);
  REQUIRE(rows.size() == records.size());
  const std::string original = sluice::testing::read_file(path);
  const FileMetaData meta = FileReader(path).metadata();
  REQUIRE(meta.row_groups.size() == 1);
  const auto& column_s = *meta.row_groups[0].columns[1].meta_data;
  const auto pages = data_pages(original, column_s);
  REQUIRE(pages.size() > 10);

  for (size_t page : {size_t(1), size_t(7), pages.size() - 1}) {
    // The page's first string claims to be longer than the page.
    std::string broken = original;
    std::memset(broken.data() + pages[page].values_at, 0xff, 4);
    const std::string broken_path = dir / ("broken-" + std::to_string(page) + ".parquet");
    sluice::testing::write_file(broken_path, broken);
    for (size_t stream_from : {size_t(4) << 20, size_t(0)}) {
      INFO("page " << page << " of column s, first row " << pages[page].first_row << "; PLAIN pages streamed: " << (stream_from == 0));
      Limits limits;
      limits.stream_page_bytes = stream_from;
      FileReader reader(broken_path, limits);
      std::vector<std::string> got;
      std::string error;
      try {
        for (std::string row; reader.next(row); row.clear()) got.push_back(row);
      } catch (const ParquetError& e) {
        error = e.what();
      }
      CHECK(error.find("column 's', row group 0") != std::string::npos);
      REQUIRE(got.size() == pages[page].first_row);
      CHECK(reader.position() == RowPosition{0, pages[page].first_row});
      for (size_t i = 0; i < got.size(); ++i)
        if (got[i] != rows[i]) FAIL("row " << i << " is " << got[i] << ", not " << rows[i]);
    }
  }
}

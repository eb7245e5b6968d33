// Writes the seed corpus of parquet_fuzz: small valid files from sluice's own Writer, over its column types,
// every codec it writes, dictionaries on and off, several pages and row groups. Usage: parquet_seeds DIR
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "formats/parquet/writer.hpp"

using namespace sluice::formats::parquet;

namespace {

struct Schema {
  const char* name;
  std::vector<std::pair<const char*, const char*>> columns;
  std::vector<const char*> records;
};

const std::vector<Schema> kSchemas = {
    {"flat",
     {{"id", "int64 not null"}, {"i", "int32"}, {"f", "float"}, {"d", "double"}, {"b", "bool"}, {"s", "string"}, {"raw", "bytes"}},
     {R"({"id":1,"i":-2147483648,"f":0.1,"d":-1.5e300,"b":true,"s":"plain","raw":"AAEC/w=="})",
      R"({"id":2,"i":null,"f":"NaN","d":"-Infinity","b":false,"s":"ünï \"q\"","raw":""})",
      R"({"id":3,"i":7,"f":-0.0,"d":5e-324,"s":"plain"})",
      R"({"id":9223372036854775807,"i":2147483647,"f":3.4e38,"d":0,"b":null,"s":"","raw":null})"}},
    {"time",
     {{"day", "date"}, {"ms", "timestamp(ms)"}, {"us", "timestamp(us, utc)"}, {"ns", "timestamp(ns, utc)"},
      {"d9", "decimal(9,2)"}, {"d18", "decimal(18,4)"}, {"d38", "decimal(38,10)"}},
     {R"({"day":"2024-02-29","ms":"1969-12-31T23:59:59.999","us":"2024-02-29T13:45:00.123456Z","ns":"1677-09-21T00:12:43.145224192Z","d9":"-0.05","d18":"-99999999999999.9999","d38":"-9999999999999999999999999999.9999999999"})",
      R"({"day":"-0044-03-15","ms":null,"us":"0001-01-01T00:00:00Z","ns":null,"d9":"0.00","d18":"1","d38":"0.0000000001"})",
      R"({"day":null,"ms":"2262-04-11T23:47:16.854","us":null,"ns":"2262-04-11T23:47:16.854775807Z","d9":null,"d18":null,"d38":null})"}},
    {"nested",
     {{"tags", "list<string not null>"},
      {"nums", "list<int64>"},
      {"point", "struct{x: double, label: struct{text: string}}"},
      {"items", "list<struct{k: string, v: list<int32>}>"}},
     {R"({"tags":["a","b"],"nums":[9223372036854775807,null,-9223372036854775808],"point":{"x":1,"label":{"text":"p"}},"items":[{"k":"a","v":[1,null]},null,{"k":null,"v":[]}]})",
      R"({"tags":null,"nums":[],"point":null,"items":null})",
      R"({"tags":[],"nums":null,"point":{"x":null,"label":null},"items":[]})",
      R"({"point":{"label":{"text":null}},"items":[null]})"}},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: parquet_seeds DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  int written = 0;
  for (const auto& schema : kSchemas) {
    std::vector<ColumnSpec> specs;
    for (const auto& [name, type] : schema.columns) specs.push_back({name, parse_column_type(type)});
    for (Codec codec : {Codec::uncompressed, Codec::snappy, Codec::gzip, Codec::zstd, Codec::brotli, Codec::lz4_raw})
      for (bool dictionary : {true, false}) {
        WriterOptions options;
        options.codec = codec;
        options.dictionary = dictionary;
        options.page_bytes = 64;  // a few values a page: page boundaries are where decoders slip
        Writer writer(specs, options);
        std::string file(kParquetMagic);
        std::vector<RowGroup> groups;
        // two row groups, each holding every record twice
        for (int group = 0; group < 2; ++group) {
          for (int copy = 0; copy < 2; ++copy)
            for (const char* record : schema.records)
              if (auto why = writer.add(record)) {
                std::fprintf(stderr, "parquet_seeds: %s: %s\n", schema.name, why->c_str());
                return 1;
              }
          groups.push_back(writer.flush(file.size(), file));
        }
        file += writer.footer(groups, {{"seed", std::string("1")}}, "sluice parquet_seeds");
        const std::string path =
            dir + "/sluice_" + schema.name + "_" + codec_name(codec) + (dictionary ? "_dict" : "_plain") + ".parquet";
        std::ofstream(path, std::ios::binary) << file;
        ++written;
      }
  }
  std::printf("parquet_seeds: %d files in %s\n", written, dir.c_str());
  return 0;
}

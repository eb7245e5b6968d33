#include "support/parquet_support.hpp"

#include <catch2/catch.hpp>

#include "formats/parquet/file_reader.hpp"

namespace sluice::testing {

std::vector<std::string> parquet_rows(const std::string& path, const formats::parquet::Limits& limits) {
  formats::parquet::FileReader reader(path, limits);
  std::vector<std::string> rows;
  std::string row;
  while (reader.next(row)) {
    rows.push_back(row);
    row.clear();
  }
  return rows;
}

std::vector<std::string> parquet_rows_both_ways(const std::string& path) {
  std::vector<std::string> rows = parquet_rows(path);
  formats::parquet::Limits stream_all;
  stream_all.stream_page_bytes = 0;
  const std::vector<std::string> streamed = parquet_rows(path, stream_all);
  REQUIRE(streamed.size() == rows.size());
  for (size_t i = 0; i < rows.size(); ++i)
    if (streamed[i] != rows[i]) FAIL(path << ": row " << i << " streamed is " << streamed[i] << ", held whole " << rows[i]);
  return rows;
}

}  // namespace sluice::testing

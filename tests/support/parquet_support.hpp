#pragma once
#include <string>
#include <vector>

#include "formats/parquet/error.hpp"

namespace sluice::testing {

// Every row of a Parquet file, as sluice's reader renders it (a JSON object each).
std::vector<std::string> parquet_rows(const std::string& path, const formats::parquet::Limits& limits = {});

// The same rows read twice, once with pages held whole and once with every PLAIN page streamed (as the reader
// does for big pages); fails the test unless the two agree row for row.
std::vector<std::string> parquet_rows_both_ways(const std::string& path);

}  // namespace sluice::testing

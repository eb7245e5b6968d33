#pragma once
#include <string_view>
#include <vector>

#include "formats/parquet/column_spec.hpp"

// Parquet columns inferred from JSON records, for `schema: infer`: integers are int64 (double once any value
// has a fraction or exponent), strings string, booleans bool, objects structs, arrays lists. A field seen only
// as null or as an empty array has no type yet and gets no column until a value shows one. Every inferred
// column is nullable.
namespace sluice::formats::parquet {

// Widens `columns` with the fields of one JSON object (text). Existing columns keep their order, new ones are
// appended in the order they appear; int64 widens to double, a struct gains fields, a list's element widens.
// A value whose type conflicts (a string where a number was) leaves the column as it is. Returns false if the
// text is not a JSON object.
bool widen_columns(std::vector<ColumnSpec>& columns, std::string_view json_object);

}  // namespace sluice::formats::parquet

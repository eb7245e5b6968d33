#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::formats {

// RFC 4180 CSV. Only LF and CRLF end a record: a lone CR is ordinary data, because treating it as a
// terminator would make every buffer that ends in CR ambiguous for one more byte.
struct CsvOptions {
  char delimiter = ',';
  char quote = '"';
};

enum class CsvStatus { record, need_more, error };

struct CsvParse {
  CsvStatus status = CsvStatus::need_more;
  // record: just past the record's terminator (or buf.size() for a last record at eof).
  // error: just past the terminator of the line where parsing failed, so the caller can skip the bad record.
  // need_more: just past any blank lines skipped before the incomplete record; the caller may drop them or
  // simply parse again from its old pos once more input arrived.
  size_t end = 0;
  size_t newlines = 0;  // LFs consumed between pos and end, embedded ones included, for line numbers
  std::string error;    // CsvStatus::error only
};

// Parses one record from buf at pos into fields (cleared first; values unquoted). Blank lines are not
// records and are skipped. at_eof says buf holds the rest of the input: a last record without terminator is
// then complete and an unterminated quoted field is an error; without at_eof both are need_more. At eof
// with nothing but blank lines left, the result is need_more: there is no record left.
CsvParse parse_csv_record(std::string_view buf, size_t pos, bool at_eof, std::vector<std::string>& fields,
                          const CsvOptions& options = {});

// 3 if buf starts with a UTF-8 byte order mark (Excel writes one), else 0.
size_t utf8_bom_length(std::string_view buf);

// Appends {"h1":"v1",...} to out, every value a JSON string. A row shorter than the header gets null for the
// missing columns (spreadsheets drop trailing empty cells); a longer one is an error, since the extra values
// would have no name: returns "row has N fields, header has M" and appends nothing.
std::optional<std::string> csv_row_to_json(const std::vector<std::string>& header,
                                           const std::vector<std::string>& fields, std::string& out);

// An error for a header csv_row_to_json could not map unambiguously: an empty or a duplicate column name.
std::optional<std::string> check_csv_header(const std::vector<std::string>& header);

// Appends value as one field, quoted only when a reader could otherwise misread it. An empty value is not
// quoted, so a writer of single-column rows must write "" itself or the reader will see a blank line.
void append_csv_field(std::string& out, std::string_view value, const CsvOptions& options = {});

}  // namespace sluice::formats

#include "formats/csv.hpp"

#include <catch2/catch.hpp>

using namespace sluice::formats;
using Fields = std::vector<std::string>;

namespace {

// Parses every record of a complete input, as a reader at eof would.
std::vector<Fields> parse_all(std::string_view text, const CsvOptions& options = {}) {
  std::vector<Fields> rows;
  Fields fields;
  size_t pos = utf8_bom_length(text);
  for (;;) {
    const CsvParse r = parse_csv_record(text, pos, true, fields, options);
    if (r.status != CsvStatus::record) {
      REQUIRE(r.status == CsvStatus::need_more);
      return rows;
    }
    rows.push_back(fields);
    pos = r.end;
  }
}

}  // namespace

TEST_CASE("csv: plain records split on the delimiter and end at LF", "[formats][csv]") {
  Fields f;
  const std::string_view buf = "a,b,c\nd,e,f\n";
  CsvParse r = parse_csv_record(buf, 0, false, f);
  REQUIRE(r.status == CsvStatus::record);
  CHECK(f == Fields{"a", "b", "c"});
  CHECK(r.end == 6);
  CHECK(r.newlines == 1);
  r = parse_csv_record(buf, r.end, false, f);
  REQUIRE(r.status == CsvStatus::record);
  CHECK(f == Fields{"d", "e", "f"});
  CHECK(r.end == buf.size());
}

TEST_CASE("csv: quoted fields unescape doubled quotes and keep delimiters", "[formats][csv]") {
  CHECK(parse_all(R"("say ""hi""","a,b","""",x)"
                  "\n") == std::vector<Fields>{{R"(say "hi")", "a,b", "\"", "x"}});
  CHECK(parse_all("\"\",\"\"\n") == std::vector<Fields>{{"", ""}});
}

TEST_CASE("csv: newlines inside quotes are data and are counted", "[formats][csv]") {
  Fields f;
  const std::string_view buf = "\"line1\nline2\",\"a\r\nb\",\"lone\rcr\"\nnext\n";
  const CsvParse r = parse_csv_record(buf, 0, false, f);
  REQUIRE(r.status == CsvStatus::record);
  CHECK(f == Fields{"line1\nline2", "a\r\nb", "lone\rcr"});
  CHECK(r.newlines == 3);  // two embedded LFs (one of them in CRLF) plus the terminator
  CHECK(buf.substr(r.end) == "next\n");
}

TEST_CASE("csv: CRLF terminates a record and is not part of the last field", "[formats][csv]") {
  Fields f;
  const std::string_view buf = "a,b\r\nc,d\r\n";
  const CsvParse r = parse_csv_record(buf, 0, false, f);
  REQUIRE(r.status == CsvStatus::record);
  CHECK(f == Fields{"a", "b"});
  CHECK(r.end == 5);
  CHECK(r.newlines == 1);
  CHECK(parse_all(buf) == std::vector<Fields>{{"a", "b"}, {"c", "d"}});
}

TEST_CASE("csv: a lone CR outside quotes is data", "[formats][csv]") {
  CHECK(parse_all("a\rb,c\n") == std::vector<Fields>{{"a\rb", "c"}});
}

TEST_CASE("csv: a CR at the end of the buffer waits for a possible LF", "[formats][csv]") {
  Fields f;
  CHECK(parse_csv_record("a,b\r", 0, false, f).status == CsvStatus::need_more);
  CHECK(parse_csv_record("\"a\"\r", 0, false, f).status == CsvStatus::need_more);
  const CsvParse r = parse_csv_record("a,b\r\n", 0, false, f);
  REQUIRE(r.status == CsvStatus::record);
  CHECK(f == Fields{"a", "b"});
}

TEST_CASE("csv: the UTF-8 BOM is detected so the first header name stays clean", "[formats][csv]") {
  const std::string text = "\xEF\xBB\xBFid,name\n1,x\n";
  CHECK(utf8_bom_length(text) == 3);
  CHECK(utf8_bom_length("id,name") == 0);
  CHECK(utf8_bom_length("\xEF\xBB") == 0);
  CHECK(parse_all(text) == std::vector<Fields>{{"id", "name"}, {"1", "x"}});
}

TEST_CASE("csv: a trailing delimiter means a final empty field", "[formats][csv]") {
  CHECK(parse_all("a,b,\n") == std::vector<Fields>{{"a", "b", ""}});
  CHECK(parse_all(",,\n") == std::vector<Fields>{{"", "", ""}});
  CHECK(parse_all("a,") == std::vector<Fields>{{"a", ""}});  // at eof, no terminator
  Fields f;
  CHECK(parse_csv_record("a,", 0, false, f).status == CsvStatus::need_more);
}

TEST_CASE("csv: a last record without terminator is complete only at eof", "[formats][csv]") {
  Fields f;
  const std::string_view buf = "a,b\nc,d";
  CsvParse r = parse_csv_record(buf, 4, false, f);
  CHECK(r.status == CsvStatus::need_more);
  CHECK(r.end == 4);
  CHECK(f.empty());
  r = parse_csv_record(buf, 4, true, f);
  REQUIRE(r.status == CsvStatus::record);
  CHECK(f == Fields{"c", "d"});
  CHECK(r.end == buf.size());
  CHECK(r.newlines == 0);
  r = parse_csv_record(buf, r.end, true, f);
  CHECK(r.status == CsvStatus::need_more);  // nothing left
}

TEST_CASE("csv: an unterminated quoted field is an error at eof and need_more before", "[formats][csv]") {
  Fields f;
  const std::string_view buf = "a,\"open\nstill open";
  CHECK(parse_csv_record(buf, 0, false, f).status == CsvStatus::need_more);
  const CsvParse r = parse_csv_record(buf, 0, true, f);
  REQUIRE(r.status == CsvStatus::error);
  CHECK(r.error == "unterminated quoted field");
  CHECK(r.end == buf.size());
  CHECK(r.newlines == 1);
}

TEST_CASE("csv: a quote at the end of the buffer waits to tell an escape from a close", "[formats][csv]") {
  Fields f;
  CHECK(parse_csv_record("\"a\"", 0, false, f).status == CsvStatus::need_more);
  CsvParse r = parse_csv_record("\"a\"", 0, true, f);
  REQUIRE(r.status == CsvStatus::record);
  CHECK(f == Fields{"a"});
  r = parse_csv_record("\"a\"\"\n", 0, true, f);
  CHECK(r.status == CsvStatus::error);  // "a"" + LF: the field never closes
}

TEST_CASE("csv: garbage after a closing quote fails that line and the next record still parses",
          "[formats][csv]") {
  Fields f;
  const std::string_view buf = "1,\"multi\nline\"x,3\n4,5,6\n";
  CsvParse r = parse_csv_record(buf, 0, false, f);
  REQUIRE(r.status == CsvStatus::error);
  CHECK(r.error == "unexpected character 'x' after closing quote");
  CHECK(r.newlines == 2);
  CHECK(buf.substr(r.end) == "4,5,6\n");
  r = parse_csv_record(buf, r.end, false, f);
  REQUIRE(r.status == CsvStatus::record);
  CHECK(f == Fields{"4", "5", "6"});

  SECTION("unprintable bytes are named by value") {
    r = parse_csv_record("\"a\"\x01\n", 0, false, f);
    REQUIRE(r.status == CsvStatus::error);
    CHECK(r.error == "unexpected character byte 0x01 after closing quote");
  }
  SECTION("without the line's end the error waits for more input") {
    CHECK(parse_csv_record("\"a\"x,b", 0, false, f).status == CsvStatus::need_more);
    r = parse_csv_record("\"a\"x,b", 0, true, f);
    CHECK(r.status == CsvStatus::error);
    CHECK(r.end == 6);
  }
}

TEST_CASE("csv: blank lines between records are skipped and counted", "[formats][csv]") {
  Fields f;
  const std::string_view buf = "a\n\n\r\n\nb\n\n";
  CsvParse r = parse_csv_record(buf, 2, false, f);
  REQUIRE(r.status == CsvStatus::record);
  CHECK(f == Fields{"b"});
  CHECK(r.newlines == 4);  // three blank lines and b's terminator
  r = parse_csv_record(buf, r.end, true, f);
  CHECK(r.status == CsvStatus::need_more);
  CHECK(r.end == buf.size());
  CHECK(r.newlines == 1);
  CHECK(parse_all(buf) == std::vector<Fields>{{"a"}, {"b"}});
  CHECK(parse_all("\"\"\n") == std::vector<Fields>{{""}});  // a quoted empty field is not a blank line
}

TEST_CASE("csv: a record split across reads parses once the rest arrives", "[formats][csv]") {
  const std::string input = "id,\"text, with \"\"quotes\"\"\r\nand a newline\",z\r\nnext,row,1\r\n";
  std::string buf;
  Fields f;
  std::vector<Fields> rows;
  size_t pos = 0, lines = 0, need_more = 0;
  for (const char c : input) {  // the worst case: one byte per read
    buf.push_back(c);
    for (;;) {
      const CsvParse r = parse_csv_record(buf, pos, false, f);
      REQUIRE(r.status != CsvStatus::error);
      if (r.status == CsvStatus::need_more) {
        ++need_more;
        break;
      }
      rows.push_back(f);
      pos = r.end;
      lines += r.newlines;
    }
  }
  CHECK(need_more == input.size());  // every read ends waiting for more
  CHECK(rows == std::vector<Fields>{{"id", "text, with \"quotes\"\r\nand a newline", "z"}, {"next", "row", "1"}});
  CHECK(lines == 3);
  CHECK(pos == input.size());
}

TEST_CASE("csv: other delimiters and quote characters", "[formats][csv]") {
  const CsvOptions tsv{'\t', '\''};
  CHECK(parse_all("a\t'b\tc'\t'it''s'\n", tsv) == std::vector<Fields>{{"a", "b\tc", "it's"}});
}

TEST_CASE("csv: a quote inside an unquoted field is data", "[formats][csv]") {
  CHECK(parse_all("5'11\",ab\"c\n") == std::vector<Fields>{{"5'11\"", "ab\"c"}});
}

TEST_CASE("csv: rows become JSON objects keyed by the header", "[formats][csv]") {
  const Fields header{"id", "na\"me", "ctl"};
  std::string out = "prefix:";
  REQUIRE_FALSE(csv_row_to_json(header, {"1", "x\"y\\z", std::string("\x01\n\t", 3)}, out));
  CHECK(out == R"(prefix:{"id":"1","na\"me":"x\"y\\z","ctl":"\u0001\n\t"})");
}

TEST_CASE("csv: a short row gets null for the missing columns", "[formats][csv]") {
  std::string out;
  REQUIRE_FALSE(csv_row_to_json({"a", "b", "c"}, {"1"}, out));
  CHECK(out == R"({"a":"1","b":null,"c":null})");
}

TEST_CASE("csv: a long row is an error and appends nothing", "[formats][csv]") {
  std::string out = "keep";
  const auto error = csv_row_to_json({"a", "b"}, {"1", "2", "3"}, out);
  REQUIRE(error);
  CHECK(*error == "row has 3 fields, header has 2");
  CHECK(out == "keep");
}

TEST_CASE("csv: headers with empty or duplicate names are rejected", "[formats][csv]") {
  CHECK_FALSE(check_csv_header({"a", "b"}));
  CHECK(check_csv_header({}) == "header has no columns");
  CHECK(check_csv_header({"a", ""}) == "header column 2 has an empty name");
  CHECK(check_csv_header({"a", "b", "a"}) == "duplicate header column \"a\"");
}

TEST_CASE("csv: the writer quotes only what needs it", "[formats][csv]") {
  std::string out;
  for (const char* v : {"plain", "", "a,b", "q\"q", "cr\r", "lf\n", " lead", "trail\t", "mid space"}) {
    append_csv_field(out, v);
    out.push_back('|');
  }
  CHECK(out == "plain||\"a,b\"|\"q\"\"q\"|\"cr\r\"|\"lf\n\"|\" lead\"|\"trail\t\"|mid space|");
}

TEST_CASE("csv: writer output reads back as the same values", "[formats][csv]") {
  const std::vector<Fields> rows{
      {"plain", "", "with,comma", "\"quoted\"", "\"\""},
      {"multi\nline", "crlf\r\nin", "lone\rcr", " spaces ", "ends with quote\""},
      {"", "", "", "", "ünïcödé ✓"},
      {"\t", ",", "\n", "\r", "\r\n"},
  };
  for (const CsvOptions& options : {CsvOptions{}, CsvOptions{';', '\''}, CsvOptions{'\t', '"'}}) {
    std::string text;
    for (const Fields& row : rows) {
      for (size_t k = 0; k < row.size(); ++k) {
        if (k) text.push_back(options.delimiter);
        append_csv_field(text, row[k], options);
      }
      text += "\r\n";
    }
    CHECK(parse_all(text, options) == rows);
  }
}

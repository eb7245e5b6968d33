#include "sources/postgres_cdc/values.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace sluice::sources::postgres_cdc;

namespace {

std::string json(uint32_t type, std::string_view text) {
  std::string out;
  append_json_value(out, type, text);
  boost::json::parse(out);  // whatever we emit must be valid JSON
  return out;
}

}  // namespace

TEST_CASE("column values become JSON by their type, exactly", "[pgoutput][values]") {
  CHECK(json(16, "t") == "true");
  CHECK(json(16, "f") == "false");
  CHECK(json(20, "-9223372036854775808") == "-9223372036854775808");  // beyond 2^53, digits kept
  CHECK(json(23, "42") == "42");
  CHECK(json(701, "1.5e+300") == "1.5e+300");
  CHECK(json(701, "NaN") == "\"NaN\"");
  CHECK(json(700, "-Infinity") == "\"-Infinity\"");
  CHECK(json(1700, "12345678901234.123456") == "\"12345678901234.123456\"");  // never through a double
  CHECK(json(25, "say \"hi\"\n") == "\"say \\\"hi\\\"\\n\"");
  CHECK(json(3802, "{\"a\": [1, 2]}") == "{\"a\": [1, 2]}");
  CHECK(json(17, "\\x") == "\"\"");
  CHECK(json(17, "\\x616263") == "\"YWJj\"");
  CHECK(json(17, "\\x6162") == "\"YWI=\"");
  CHECK(json(17, "\\x61") == "\"YQ==\"");
  CHECK(json(1114, "2026-11-25 10:00:00.123456") == "\"2026-11-25T10:00:00.123456\"");
  CHECK(json(1184, "2026-11-25 10:00:00+00") == "\"2026-11-25T10:00:00Z\"");
  CHECK(json(1184, "2026-11-25 15:30:00.5+05:30") == "\"2026-11-25T15:30:00.5+05:30\"");
  CHECK(json(1184, "2026-11-25 08:00:00-02") == "\"2026-11-25T08:00:00-02:00\"");
  CHECK(json(1184, "infinity") == "\"infinity\"");
  CHECK(json(1082, "2026-11-25") == "\"2026-11-25\"");
  CHECK(json(2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11") == "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
  CHECK(json(99999, "happy") == "\"happy\"");  // an enum or other custom type
}

TEST_CASE("arrays become JSON arrays of their element type", "[pgoutput][values]") {
  CHECK(json(1007, "{1,2,3}") == "[1,2,3]");
  CHECK(json(1007, "{}") == "[]");
  CHECK(json(1016, "{{1,2},{3,NULL}}") == "[[1,2],[3,null]]");
  CHECK(json(1009, "{a,\"b c\",\"q\\\"uote\",\"NULL\",NULL}") == "[\"a\",\"b c\",\"q\\\"uote\",\"NULL\",null]");
  CHECK(json(1000, "{t,f}") == "[true,false]");
  CHECK(json(1231, "{1.10,NaN}") == "[\"1.10\",\"NaN\"]");
  CHECK(json(1007, "[0:1]={7,8}") == "[7,8]");
  CHECK(json(3807, "{\"{\\\"a\\\": 1}\"}") == "[{\"a\": 1}]");
}

TEST_CASE("text that does not parse as its type is an error naming the type", "[pgoutput][values]") {
  CHECK_THROWS_WITH(json(16, "yes"), Catch::Contains("type oid 16") && Catch::Contains("not t or f"));
  CHECK_THROWS_WITH(json(20, "12a"), Catch::Contains("not an integer"));
  CHECK_THROWS_WITH(json(17, "abc"), Catch::Contains("bytea"));
  CHECK_THROWS_WITH(json(1184, "Nov 25 2026"), Catch::Contains("DateStyle"));
  CHECK_THROWS_WITH(json(1007, "{1,2"), Catch::Contains("unterminated array"));
  CHECK_THROWS_WITH(json(1007, "{1,2}x"), Catch::Contains("text after the array"));
}

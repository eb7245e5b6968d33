#include "formats/json_check.hpp"

#include <catch2/catch.hpp>

using namespace sluice::formats;

TEST_CASE("json: objects pass, with surrounding whitespace and a trailing CR", "[formats][json]") {
  JsonChecker checker;
  for (const char* line : {R"({})", R"({"a":1,"b":[true,false,null],"c":{"d":"é \u00e9"}})", "  {\"a\":1}\t",
                           "{\"a\":1}\r", " {} \r", "{\"nested\":{\"deep\":[[[{}]]]}}"}) {
    INFO(line);
    CHECK_FALSE(checker.check_object(line));
  }
}

TEST_CASE("json: arrays and scalars are rejected as not objects", "[formats][json]") {
  JsonChecker checker;
  for (const char* line : {"[]", "[{\"a\":1}]", "1", "\"text\"", "true", "null"}) {
    INFO(line);
    CHECK(checker.check_object(line) == "not a JSON object");
  }
}

TEST_CASE("json: malformed lines are rejected with a reason", "[formats][json]") {
  JsonChecker checker;
  for (const char* line : {"{\"a\":1", "{\"a\":", "{\"a\"", "{\"a", "{", "{\"a\":1}}", "{} {}", "{\"a\":tru}",
                           "{'a':1}", "{\"a\":1,}", "{\"a\":01}", "not json", "{\"a\":\"\x01\"}"}) {
    INFO(line);
    const auto error = checker.check_object(line);
    REQUIRE(error);
    CHECK_THAT(*error, Catch::StartsWith("invalid JSON: "));
  }
  CHECK(checker.check_object("") == "empty line");
  CHECK(checker.check_object(" \r") == "empty line");
}

TEST_CASE("json: invalid UTF-8 inside an object is rejected", "[formats][json]") {
  JsonChecker checker;
  const auto error = checker.check_object("{\"a\":\"\xC3\x28\"}");
  REQUIRE(error);
  CHECK_THAT(*error, Catch::StartsWith("invalid JSON: UTF8_ERROR"));
}

TEST_CASE("json: the checker reads nothing past the line", "[formats][json]") {
  // The line is a view into a larger buffer whose next bytes would complete it: they must not count.
  const std::string buffer = "{\"a\":1}\n{\"b\":2}";
  JsonChecker checker;
  CHECK_FALSE(checker.check_object(std::string_view(buffer).substr(0, 7)));
  CHECK(checker.check_object(std::string_view(buffer).substr(0, 6)));
  // A long line then a short one: the short one must not see the long one's leftovers in the buffer.
  CHECK_FALSE(checker.check_object("{\"long\":\"" + std::string(10000, 'x') + "\"}"));
  CHECK(checker.check_object("{\"long\":"));
  CHECK_FALSE(checker.check_object("{}"));
}

TEST_CASE("json: one checker handles many lines of changing size", "[formats][json]") {
  // A rough self-check that the reused buffers stay correct (and quick) over a realistic volume.
  JsonChecker checker;
  size_t ok = 0, bad = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string line = R"({"id":)" + std::to_string(i) + R"(,"payload":")" + std::string(i % 300, 'p') + "\"}";
    if (i % 7 == 0) line.pop_back();
    (checker.check_object(line) ? bad : ok) += 1;
  }
  CHECK(bad == 28572);
  CHECK(ok == 200000 - 28572);
}

TEST_CASE("json: trim_line strips CR and surrounding blanks only", "[formats][json]") {
  CHECK(trim_line(" \t{} \r") == "{}");
  CHECK(trim_line("{}\r") == "{}");
  CHECK(trim_line("\r") == "");
  CHECK(trim_line("") == "");
  CHECK(trim_line("a b") == "a b");
  CHECK(trim_line("{}\n") == "{}\n");  // lines come without their LF
}

TEST_CASE("json: strings are escaped into valid JSON literals", "[formats][json]") {
  std::string out;
  append_json_string(out, "plain \"q\" back\\slash\b\f\n\r\t\x01\x1f\x7f");
  CHECK(out == R"("plain \"q\" back\\slash\b\f\n\r\t\u0001\u001f)" "\x7f\"");
  out.clear();
  append_json_string(out, "");
  CHECK(out == "\"\"");
}

TEST_CASE("json: valid UTF-8 passes through and invalid bytes become U+FFFD", "[formats][json]") {
  const auto escaped = [](std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
  };
  CHECK(escaped("é ✓ \xF0\x9F\x98\x80") == "\"é ✓ \xF0\x9F\x98\x80\"");
  CHECK(escaped("a\xFF" "b") == R"("a\ufffdb")");
  CHECK(escaped("\xC3") == R"("\ufffd")");                          // truncated sequence
  CHECK(escaped("\xC0\xAF") == R"("\ufffd\ufffd")");                // overlong '/'
  CHECK(escaped("\xED\xA0\x80") == R"("\ufffd\ufffd\ufffd")");      // UTF-16 surrogate
  CHECK(escaped("\xF4\x90\x80\x80") == R"("\ufffd\ufffd\ufffd\ufffd")");  // past U+10FFFF
  CHECK(escaped("\x80x") == R"("\ufffdx")");                         // stray continuation byte
  // Whatever we emit must itself pass the checker.
  JsonChecker checker;
  CHECK_FALSE(checker.check_object("{\"v\":" + escaped("\xC3\x28\xFF\x01\"\\ ok") + "}"));
}

TEST_CASE("json: a character that needs escaping is found wherever it falls in an 8-byte word", "[formats][json]") {
  // Plain ASCII is scanned eight bytes at a time: put each kind of special byte at every offset of a few words,
  // among every plain byte value next to it (0x1f/0x20, 0x21/0x22/0x23, 0x5b/0x5c/0x5d, 0x7f/0x80 are the edges).
  const std::vector<std::pair<std::string, std::string>> specials = {
      {"\"", "\\\""}, {"\\", "\\\\"}, {"\x1f", "\\u001f"}, {"\x01", "\\u0001"}, {"\n", "\\n"},
      {"\xC3\xA9", "\xC3\xA9"}, {"\xFF", "\\ufffd"}, {"\x7f", "\x7f"}, {" ", " "}, {"!", "!"}, {"#", "#"},
      {"[", "["}, {"]", "]"}};
  for (const auto& [raw, escaped] : specials) {
    for (size_t before = 0; before < 20; ++before) {
      for (size_t after : {size_t{0}, size_t{3}, size_t{8}, size_t{13}}) {
        const std::string plain_before(before, char('A' + before % 26)), plain_after(after, '~');
        std::string out;
        append_json_string(out, plain_before + raw + plain_after);
        INFO("special " << escaped << " after " << before << " bytes, " << after << " after it");
        CHECK(out == "\"" + plain_before + escaped + plain_after + "\"");
      }
    }
  }
}

#include "sinks/kafka/origin_header.hpp"

#include <catch2/catch.hpp>

using namespace sluice::sinks::kafka;

TEST_CASE("origin header: fields round-trip, and a position may hold anything", "[kafka_sink][unit]") {
  std::string value;
  render_origin(value, origin_prefix("orders", "0123abcd", "payments-3"), 4711, "lsn 0/16B3748|tx 7");
  CHECK(value == "orders|0123abcd|payments-3|4711|lsn 0/16B3748|tx 7");
  auto o = parse_origin(value);
  REQUIRE(o);
  CHECK(o->pipeline == "orders");
  CHECK(o->instance == "0123abcd");
  CHECK(o->partition == "payments-3");
  CHECK(o->sequence == 4711u);
  CHECK(o->position == "lsn 0/16B3748|tx 7");
}

TEST_CASE("origin header: separators, percent signs and control characters in names are escaped", "[kafka_sink][unit]") {
  std::string value;
  render_origin(value, origin_prefix("p", "i", "/data/in|out/100%\n.jsonl"), 0, "");
  CHECK(value == "p|i|/data/in%7Cout/100%25%0A.jsonl|0|");
  auto o = parse_origin(value);
  REQUIRE(o);
  CHECK(o->partition == "/data/in|out/100%\n.jsonl");
  CHECK(o->position.empty());
}

TEST_CASE("origin header: values that are not ours are refused, not misread", "[kafka_sink][unit]") {
  CHECK_FALSE(parse_origin(""));
  CHECK_FALSE(parse_origin("some other tool's header"));
  CHECK_FALSE(parse_origin("p|i|s||pos"));       // no sequence
  CHECK_FALSE(parse_origin("p|i|s|12x|pos"));    // not a number
  CHECK_FALSE(parse_origin("p|i|s|-1|pos"));
  CHECK_FALSE(parse_origin("p|i|s%2|3|pos"));    // cut escape
  CHECK_FALSE(parse_origin("p|i|s%zz|3|pos"));   // not hex
  CHECK_FALSE(parse_origin("p|i|s|3"));          // no position separator
  CHECK(parse_origin("p|i|s|3|"));
}

TEST_CASE("origin header: re-rendering reuses the buffer and leaves nothing of the previous value", "[kafka_sink][unit]") {
  std::string value;
  const std::string prefix = origin_prefix("p", "i", "s");
  render_origin(value, prefix, 123456789, "a long position from an earlier record");
  render_origin(value, prefix, 7, "x");
  CHECK(value == "p|i|s|7|x");
}

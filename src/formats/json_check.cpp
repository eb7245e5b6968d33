#include "formats/json_check.hpp"

#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>
#include <vector>

namespace sluice::formats {
namespace {

// simdjson's messages say what went wrong but not which code it was; the name is what people search for.
const char* error_name(simdjson::error_code e) {
  switch (e) {
    case simdjson::CAPACITY: return "CAPACITY";
    case simdjson::TAPE_ERROR: return "TAPE_ERROR";
    case simdjson::DEPTH_ERROR: return "DEPTH_ERROR";
    case simdjson::STRING_ERROR: return "STRING_ERROR";
    case simdjson::T_ATOM_ERROR: return "T_ATOM_ERROR";
    case simdjson::F_ATOM_ERROR: return "F_ATOM_ERROR";
    case simdjson::N_ATOM_ERROR: return "N_ATOM_ERROR";
    case simdjson::NUMBER_ERROR: return "NUMBER_ERROR";
    case simdjson::UTF8_ERROR: return "UTF8_ERROR";
    case simdjson::EMPTY: return "EMPTY";
    case simdjson::UNESCAPED_CHARS: return "UNESCAPED_CHARS";
    case simdjson::UNCLOSED_STRING: return "UNCLOSED_STRING";
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT: return "INCOMPLETE_ARRAY_OR_OBJECT";
    case simdjson::TRAILING_CONTENT: return "TRAILING_CONTENT";
    default: return "ERROR";
  }
}

// Length of the valid UTF-8 sequence starting at s[i] (a byte >= 0x80), or 0 if it is not one. Follows the
// RFC 3629 table, so overlong forms, surrogates and code points past U+10FFFF are invalid.
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto at = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  const auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) { return at(k) >= lo && at(k) <= hi; };
  const unsigned b = at(0);
  if (b >= 0xC2 && b <= 0xDF) return cont(1) ? 2 : 0;
  if (b == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if (b == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (b >= 0xE1 && b <= 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (b == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b >= 0xF1 && b <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

void append_escape(std::string& out, unsigned char c) {
  switch (c) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
  }
  static constexpr char hex[] = "0123456789abcdef";
  out += "\\u00";
  out.push_back(hex[c >> 4]);
  out.push_back(hex[c & 0xF]);
}

}  // namespace

struct JsonChecker::Impl {
  simdjson::dom::parser parser;
  // simdjson reads up to SIMDJSON_PADDING bytes past the input, which a line inside a read buffer can't
  // promise; we copy into this buffer, which only grows, so steady state allocates nothing.
  std::vector<char> padded;
};

JsonChecker::JsonChecker() : impl_(std::make_unique<Impl>()) {}
JsonChecker::~JsonChecker() = default;
JsonChecker::JsonChecker(JsonChecker&&) noexcept = default;
JsonChecker& JsonChecker::operator=(JsonChecker&&) noexcept = default;

std::optional<std::string> JsonChecker::check_object(std::string_view line) {
  const std::string_view text = trim_line(line);
  if (text.empty()) return "empty line";
  Impl& m = *impl_;
  if (m.padded.size() < text.size() + simdjson::SIMDJSON_PADDING)
    m.padded.resize(text.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(m.padded.data(), text.data(), text.size());
  // The parser's own buffers would otherwise be reallocated for every new longest line.
  if (text.size() > m.parser.capacity() &&
      m.parser.allocate(std::bit_ceil(std::max<size_t>(text.size(), 4096))) == simdjson::MEMALLOC)
    throw std::bad_alloc();
  simdjson::dom::element doc;
  const auto error = m.parser.parse(m.padded.data(), text.size(), false).get(doc);
  if (error == simdjson::MEMALLOC) throw std::bad_alloc();  // our problem, not the record's
  if (error) return std::string("invalid JSON: ") + error_name(error) + ": " + simdjson::error_message(error);
  if (!doc.is_object()) return "not a JSON object";
  return std::nullopt;
}

std::string_view trim_line(std::string_view line) {
  if (line.ends_with('\r')) line.remove_suffix(1);
  const size_t first = line.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const size_t last = line.find_last_not_of(" \t");
  return line.substr(first, last - first + 1);
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    size_t run = i;  // plain ASCII goes in one append
    // Eight bytes at a time while none needs a look (a control character, '"', '\\' or a byte of a UTF-8
    // sequence): strings are mostly plain, and this is every string column's cost when a file is read.
    constexpr uint64_t ones = 0x0101010101010101, highs = 0x8080808080808080;
    while (s.size() - run >= 8) {
      uint64_t x;
      std::memcpy(&x, s.data() + run, 8);
      const uint64_t quote = x ^ (ones * '"'), backslash = x ^ (ones * '\\');
      const uint64_t special = ((x - ones * 0x20) & ~x) | x | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash);
      if (special & highs) break;
      run += 8;
    }
    while (run < s.size()) {
      const auto c = static_cast<unsigned char>(s[run]);
      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
      ++run;
    }
    out.append(s.substr(i, run - i));
    if (run == s.size()) break;
    const auto c = static_cast<unsigned char>(s[run]);
    if (c < 0x80) {
      append_escape(out, c);
      i = run + 1;
    } else if (const size_t len = utf8_sequence(s, run)) {
      out.append(s.substr(run, len));
      i = run + len;
    } else {
      out += "\\ufffd";
      i = run + 1;
    }
  }
  out.push_back('"');
}

}  // namespace sluice::formats

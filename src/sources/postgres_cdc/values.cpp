#include "sources/postgres_cdc/values.hpp"

#include <stdexcept>

#include "formats/base64.hpp"
#include "formats/hex.hpp"
#include "formats/json_check.hpp"

namespace sluice::sources::postgres_cdc {
namespace {

// Built-in type OIDs (pg_type.dat); stable across PostgreSQL versions.
enum : uint32_t {
  kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kOid = 26, kJson = 114, kFloat4 = 700, kFloat8 = 701,
  kDate = 1082, kTimestamp = 1114, kTimestamptz = 1184, kNumeric = 1700, kJsonb = 3802,
};

[[noreturn]] void bad(uint32_t type, std::string_view text, const char* why) {
  std::string shown(text.substr(0, 60));
  throw std::invalid_argument("value '" + shown + "' of type oid " + std::to_string(type) + ": " + why);
}

bool is_integer(std::string_view t) {
  size_t i = !t.empty() && t[0] == '-' ? 1 : 0;
  if (i == t.size()) return false;
  for (; i < t.size(); ++i)
    if (t[i] < '0' || t[i] > '9') return false;
  return true;
}

// float4/float8 text is already a JSON number unless it is one of the non-finite spellings.
bool is_json_number(std::string_view t) {
  if (t.empty()) return false;
  for (char c : t)
    if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E')) return false;
  return t[0] == '-' || (t[0] >= '0' && t[0] <= '9');
}

// "2026-11-25 10:00:00.5+00" → "2026-11-25T10:00:00.5Z"; "+05:30" offsets are kept as offsets.
void append_timestamp(std::string& out, uint32_t type, std::string_view t, bool with_zone) {
  if (t == "infinity" || t == "-infinity") {
    formats::append_json_string(out, t);
    return;
  }
  if (t.size() < 19 || t[10] != ' ') bad(type, t, "not an ISO timestamp (is DateStyle ISO?)");
  // Written straight into out (no escaping needed for digits and separators): one of the most common column
  // types, on the hot path of every change.
  size_t end = t.size();
  std::string_view offset;
  if (with_zone) {
    end = t.find_first_of("+-", 19);
    if (end == std::string_view::npos) bad(type, t, "no UTC offset");
    offset = t.substr(end);
  }
  for (char c : t.substr(0, end))
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) bad(type, t, "unexpected character");
  out += '"';
  out.append(t.data(), 10);
  out += 'T';
  out.append(t.data() + 11, end - 11);
  if (with_zone) {
    if (offset == "+00" || offset == "+00:00") out += 'Z';
    else {
      out.append(offset);
      if (offset.size() == 3) out += ":00";
    }
  }
  out += '"';
}

// PostgreSQL's array literal: {1,2}, {"a b",NULL,"q\"uote"}, {{1,2},{3,4}}.
class ArrayParser {
 public:
  ArrayParser(std::string_view text, uint32_t array_type, uint32_t element_type)
      : t_(text), array_type_(array_type), element_type_(element_type) {}
  void parse(std::string& out) {
    // A lower-bound decoration such as "[0:1]={1,2}" precedes arrays not starting at 1.
    if (!t_.empty() && t_[0] == '[') {
      auto eq = t_.find('=');
      if (eq == std::string_view::npos) bad(array_type_, t_, "malformed array bounds");
      pos_ = eq + 1;
    }
    level(out);
    if (pos_ != t_.size()) bad(array_type_, t_, "text after the array");
  }

 private:
  void level(std::string& out) {
    expect('{');
    out += '[';
    if (peek() == '}') {
      ++pos_;
      out += ']';
      return;
    }
    for (bool first = true;; first = false) {
      if (!first) out += ',';
      if (peek() == '{') {
        level(out);
      } else {
        element(out);
      }
      char c = next();
      if (c == '}') break;
      if (c != ',') bad(array_type_, t_, "expected ',' or '}'");
    }
    out += ']';
  }
  void element(std::string& out) {
    std::string value;
    bool quoted = peek() == '"';
    if (quoted) {
      ++pos_;
      for (;;) {
        char c = next();
        if (c == '"') break;
        if (c == '\\') c = next();
        value += c;
      }
    } else {
      while (pos_ < t_.size() && t_[pos_] != ',' && t_[pos_] != '}') value += t_[pos_++];
      if (value == "NULL") {
        out += "null";
        return;
      }
    }
    append_json_value(out, element_type_, value);
  }
  char peek() const {
    if (pos_ >= t_.size()) bad(array_type_, t_, "unterminated array");
    return t_[pos_];
  }
  char next() {
    char c = peek();
    ++pos_;
    return c;
  }
  void expect(char c) {
    if (next() != c) bad(array_type_, t_, "malformed array");
  }

  std::string_view t_;
  uint32_t array_type_, element_type_;
  size_t pos_ = 0;
};

}  // namespace

uint32_t array_element_type(uint32_t type_oid) {
  switch (type_oid) {
    case 1000: return kBool;
    case 1001: return kBytea;
    case 1005: return kInt2;
    case 1007: return kInt4;
    case 1016: return kInt8;
    case 1028: return kOid;
    case 1009: return 25;    // text
    case 1015: return 1043;  // varchar
    case 1014: return 1042;  // bpchar
    case 1021: return kFloat4;
    case 1022: return kFloat8;
    case 1231: return kNumeric;
    case 1182: return kDate;
    case 1115: return kTimestamp;
    case 1185: return kTimestamptz;
    case 2951: return 2950;  // uuid
    case 199: return kJson;
    case 3807: return kJsonb;
    default: return 0;
  }
}

void append_json_value(std::string& out, uint32_t type, std::string_view text) {
  switch (type) {
    case kBool:
      if (text == "t") out += "true";
      else if (text == "f") out += "false";
      else bad(type, text, "not t or f");
      return;
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid:
      // JSON numbers have no size limit; the digits pass through exactly, even beyond 2^53.
      if (!is_integer(text)) bad(type, text, "not an integer");
      out += text;
      return;
    case kFloat4:
    case kFloat8:
      if (is_json_number(text)) out += text;
      else formats::append_json_string(out, text);  // NaN, Infinity, -Infinity
      return;
    case kNumeric:
      // As a string: numeric(18,6) and wider lose digits through any double a JSON reader would use.
      formats::append_json_string(out, text);
      return;
    case kJson:
    case kJsonb:
      out += text;  // the server only stores valid JSON
      return;
    case kBytea: {
      if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2) bad(type, text, "not hex bytea output (bytea_output = hex?)");
      std::string bytes;
      for (size_t i = 2; i < text.size(); i += 2) {
        int hi = formats::hex_digit(text[i]), lo = formats::hex_digit(text[i + 1]);
        if (hi < 0 || lo < 0) bad(type, text, "bad hex digit");
        bytes += char(hi * 16 + lo);
      }
      out += '"';
      formats::append_base64(out, bytes);
      out += '"';
      return;
    }
    case kTimestamp: append_timestamp(out, type, text, false); return;
    case kTimestamptz: append_timestamp(out, type, text, true); return;
    default:
      if (uint32_t element = array_element_type(type)) {
        ArrayParser(text, type, element).parse(out);
        return;
      }
      formats::append_json_string(out, text);
  }
}

}  // namespace sluice::sources::postgres_cdc

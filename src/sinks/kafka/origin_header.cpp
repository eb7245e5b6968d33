#include "sinks/kafka/origin_header.hpp"

#include <charconv>

namespace sluice::sinks::kafka {
namespace {

bool needs_escape(unsigned char c) { return c == '%' || c == '|' || c < 0x20 || c == 0x7f; }

void append_escaped(std::string& out, std::string_view field) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : field) {
    if (!needs_escape(c)) {
      out.push_back(char(c));
      continue;
    }
    out.push_back('%');
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<std::string> unescape(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '%') {
      out.push_back(field[i]);
      continue;
    }
    if (i + 2 >= field.size()) return std::nullopt;
    int hi = hex_digit(field[i + 1]), lo = hex_digit(field[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(char(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// The next '|'-terminated field of `rest`, consumed with its separator.
std::optional<std::string_view> take_field(std::string_view& rest) {
  auto bar = rest.find('|');
  if (bar == std::string_view::npos) return std::nullopt;
  std::string_view field = rest.substr(0, bar);
  rest.remove_prefix(bar + 1);
  return field;
}

}  // namespace

std::string origin_prefix(std::string_view pipeline, std::string_view instance, std::string_view partition) {
  std::string out;
  out.reserve(pipeline.size() + instance.size() + partition.size() + 3);
  append_escaped(out, pipeline);
  out.push_back('|');
  append_escaped(out, instance);
  out.push_back('|');
  append_escaped(out, partition);
  out.push_back('|');
  return out;
}

void render_origin(std::string& out, std::string_view prefix, uint64_t sequence, std::string_view position) {
  char digits[20];
  auto end = std::to_chars(digits, digits + sizeof digits, sequence).ptr;
  out.assign(prefix);
  out.append(digits, end);
  out.push_back('|');
  out.append(position);
}

std::optional<Origin> parse_origin(std::string_view value) {
  std::string_view rest = value;
  auto pipeline = take_field(rest), instance = take_field(rest), partition = take_field(rest), sequence = take_field(rest);
  if (!sequence || sequence->empty()) return std::nullopt;
  Origin o;
  auto [ptr, ec] = std::from_chars(sequence->data(), sequence->data() + sequence->size(), o.sequence);
  if (ec != std::errc() || ptr != sequence->data() + sequence->size()) return std::nullopt;
  auto p = unescape(*pipeline), i = unescape(*instance), s = unescape(*partition);
  if (!p || !i || !s) return std::nullopt;
  o.pipeline = std::move(*p);
  o.instance = std::move(*i);
  o.partition = std::move(*s);
  o.position = std::string(rest);
  return o;
}

}  // namespace sluice::sinks::kafka

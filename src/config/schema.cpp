#include "config/schema.hpp"

#include <charconv>
#include <cmath>

#include "core/units.hpp"

namespace sluice::config {

bool expect_scalar(const Value& v, std::string_view what, Context& ctx) {
  if (v.is_scalar()) return true;
  ctx.error(v.mark, "expected " + std::string(what) + ", got " + std::string(v.kind_name()));
  return false;
}

bool parse_bool(const Value& v, bool& out, Context& ctx) {
  if (!expect_scalar(v, "true or false", ctx)) return false;
  if (v.text == "true" || v.text == "True" || v.text == "TRUE") {
    out = true;
    return true;
  }
  if (v.text == "false" || v.text == "False" || v.text == "FALSE") {
    out = false;
    return true;
  }
  ctx.error(v.mark, "expected true or false, got '" + v.raw + "'");
  return false;
}

template <class I>
static bool parse_integral(const Value& v, I& out, Context& ctx, const char* what) {
  if (!expect_scalar(v, what, ctx)) return false;
  std::string_view t = v.text;
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  // Underscores as digit separators (1_000_000) read naturally in YAML and are common in other tools.
  std::string digits;
  for (char c : t)
    if (c != '_') digits += c;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  if (ec == std::errc::result_out_of_range) {
    ctx.error(v.mark, "integer '" + v.raw + "' out of range");
    return false;
  }
  if (ec != std::errc() || p != digits.data() + digits.size() || digits.empty()) {
    std::string message = "expected ";
    message.append(what).append(", got '").append(v.raw).append("'");
    ctx.error(v.mark, std::move(message));
    return false;
  }
  return true;
}

bool parse_int(const Value& v, int64_t& out, Context& ctx) { return parse_integral(v, out, ctx, "an integer"); }

bool parse_uint(const Value& v, uint64_t& out, Context& ctx) {
  if (v.is_scalar() && !v.text.empty() && v.text[0] == '-') {
    ctx.error(v.mark, "expected a non-negative integer, got '" + v.raw + "'");
    return false;
  }
  return parse_integral(v, out, ctx, "a non-negative integer");
}

bool parse_double(const Value& v, double& out, Context& ctx) {
  if (!expect_scalar(v, "a number", ctx)) return false;
  const std::string& t = v.text;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  if (ec != std::errc() || p != t.data() + t.size() || t.empty() || !std::isfinite(out)) {
    ctx.error(v.mark, "expected a number, got '" + v.raw + "'");
    return false;
  }
  return true;
}

bool parse_string(const Value& v, std::string& out, Context& ctx) {
  if (!expect_scalar(v, "a string", ctx)) return false;
  out = v.text;
  return true;
}

bool parse_size(const Value& v, Size& out, Context& ctx) {
  if (!expect_scalar(v, "a size such as 64MiB", ctx)) return false;
  try {
    out.bytes = core::parse_size(v.text);
    return true;
  } catch (const std::invalid_argument& e) {
    ctx.error(v.mark, e.what());
    return false;
  }
}

bool parse_duration(const Value& v, Duration& out, Context& ctx) {
  if (!expect_scalar(v, "a duration such as 200ms", ctx)) return false;
  try {
    out.value = core::parse_duration(v.text);
    return true;
  } catch (const std::invalid_argument& e) {
    ctx.error(v.mark, e.what());
    return false;
  }
}

std::string show_double(double d) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, ec == std::errc() ? p : buf);
}
std::string show_size(const Size& s) { return core::format_size(s.bytes); }
std::string show_duration(const Duration& d) { return core::format_duration(d.value); }

std::string quote_list(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

bool Codec<std::map<std::string, std::string>>::parse(const Value& v, std::map<std::string, std::string>& out,
                                                       Context& ctx) {
  out.clear();
  if (v.is_null()) return true;
  if (!v.is_map()) {
    ctx.error(v.mark, "expected a mapping, got " + std::string(v.kind_name()));
    return false;
  }
  bool ok = true;
  for (const auto& e : v.entries) {
    if (!e.value.is_scalar()) {
      ctx.error(e.value.mark, "value of '" + e.key + "' must be a scalar");
      ok = false;
      continue;
    }
    out[e.key] = e.value.text;
  }
  return ok;
}

std::string closest_name(std::string_view key, const std::vector<std::string>& names) {
  std::string best;
  size_t best_distance = 3;  // more than two edits is not a typo
  for (const auto& name : names) {
    std::vector<size_t> prev(name.size() + 1), cur(name.size() + 1);
    for (size_t j = 0; j <= name.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= key.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= name.size(); ++j)
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (key[i - 1] == name[j - 1] ? 0 : 1)});
      std::swap(prev, cur);
    }
    if (prev[name.size()] < best_distance) {
      best_distance = prev[name.size()];
      best = name;
    }
  }
  return best;
}

}  // namespace sluice::config

#pragma once
// Every option is declared once: name, C++ type (from the member it binds), default (from the struct's own
// initializer), bounds and a one-line doc. The parser, `sluiced check`, error messages and
// docs/configuration.md all come from these declarations; no option is read anywhere by string.
//
//   struct QueueOptions {
//     uint64_t max_records = 10000;
//     static const config::Schema<QueueOptions>& schema();
//   };
//   ... static const config::Schema<QueueOptions> s{"queue", {
//         config::opt(&QueueOptions::max_records, "max_records", "records the queue holds").min(1)}};
#include <algorithm>
#include <chrono>
#include <limits>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "config/error.hpp"
#include "config/value.hpp"

namespace sluice::config {

// Byte counts written as 64MiB, 4KiB, 1000B.
struct Size {
  uint64_t bytes = 0;
  auto operator<=>(const Size&) const = default;
};
// Durations written as 200ms, 5m, 1h30m.
struct Duration {
  std::chrono::nanoseconds value{0};
  auto operator<=>(const Duration&) const = default;
  template <class D>
  D as() const { return std::chrono::duration_cast<D>(value); }
};

// One row of the generated reference.
struct DocRow {
  std::string key;
  std::string type;
  std::string default_text;
  std::string doc;
};

// Maps an enum to its YAML names; specialize with `static constexpr std::pair<E, const char*> values[]`.
template <class E>
struct EnumNames;

template <class T>
class Schema;

// ---- codecs: how each C++ type is read from a Value and named in docs --------------------------------------

template <class M, class = void>
struct Codec;

bool parse_bool(const Value& v, bool& out, Context& ctx);
bool parse_int(const Value& v, int64_t& out, Context& ctx);
bool parse_uint(const Value& v, uint64_t& out, Context& ctx);
bool parse_double(const Value& v, double& out, Context& ctx);
bool parse_string(const Value& v, std::string& out, Context& ctx);
bool parse_size(const Value& v, Size& out, Context& ctx);
bool parse_duration(const Value& v, Duration& out, Context& ctx);
bool expect_scalar(const Value& v, std::string_view what, Context& ctx);
std::string show_double(double d);
std::string show_size(const Size& s);
std::string show_duration(const Duration& d);
std::string quote_list(const std::vector<std::string>& names);

template <>
struct Codec<bool> {
  static bool parse(const Value& v, bool& out, Context& ctx) { return parse_bool(v, out, ctx); }
  static std::string type_name() { return "bool"; }
  static std::string show(bool b) { return b ? "true" : "false"; }
};
template <class I>
struct Codec<I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>>> {
  static bool parse(const Value& v, I& out, Context& ctx) {
    if constexpr (std::is_signed_v<I>) {
      int64_t x = 0;
      if (!parse_int(v, x, ctx)) return false;
      if (x < int64_t(std::numeric_limits<I>::min()) || x > int64_t(std::numeric_limits<I>::max())) {
        ctx.error(v.mark, "integer '" + v.raw + "' out of range");
        return false;
      }
      out = I(x);
    } else {
      uint64_t x = 0;
      if (!parse_uint(v, x, ctx)) return false;
      if (x > uint64_t(std::numeric_limits<I>::max())) {
        ctx.error(v.mark, "integer '" + v.raw + "' out of range");
        return false;
      }
      out = I(x);
    }
    return true;
  }
  static std::string type_name() { return "integer"; }
  static std::string show(I x) { return std::to_string(x); }
  static double number(I x) { return double(x); }
};
template <>
struct Codec<double> {
  static bool parse(const Value& v, double& out, Context& ctx) { return parse_double(v, out, ctx); }
  static std::string type_name() { return "number"; }
  static std::string show(double d) { return show_double(d); }
  static double number(double d) { return d; }
};
template <>
struct Codec<std::string> {
  static bool parse(const Value& v, std::string& out, Context& ctx) { return parse_string(v, out, ctx); }
  static std::string type_name() { return "string"; }
  static std::string show(const std::string& s) { return s.empty() ? "\"\"" : s; }
};
template <>
struct Codec<Size> {
  static bool parse(const Value& v, Size& out, Context& ctx) { return parse_size(v, out, ctx); }
  static std::string type_name() { return "size"; }
  static std::string show(const Size& s) { return show_size(s); }
  static double number(const Size& s) { return double(s.bytes); }
};
template <>
struct Codec<Duration> {
  static bool parse(const Value& v, Duration& out, Context& ctx) { return parse_duration(v, out, ctx); }
  static std::string type_name() { return "duration"; }
  static std::string show(const Duration& d) { return show_duration(d); }
  static double number(const Duration& d) { return std::chrono::duration<double>(d.value).count(); }
};
template <class E>
struct Codec<E, std::enable_if_t<std::is_enum_v<E>>> {
  static bool parse(const Value& v, E& out, Context& ctx) {
    if (!expect_scalar(v, "one of " + choices(), ctx)) return false;
    for (const auto& [e, name] : EnumNames<E>::values)
      if (v.text == name) {
        out = e;
        return true;
      }
    ctx.error(v.mark, "invalid value '" + v.raw + "': expected one of " + choices());
    return false;
  }
  static std::string choices() {
    std::vector<std::string> names;
    for (const auto& [e, name] : EnumNames<E>::values) names.emplace_back(name);
    return quote_list(names);
  }
  static std::string type_name() {
    std::string s;
    for (const auto& [e, name] : EnumNames<E>::values) s += (s.empty() ? "" : " \\| ") + std::string(name);
    return s;
  }
  static std::string show(E x) {
    for (const auto& [e, name] : EnumNames<E>::values)
      if (e == x) return name;
    return "?";
  }
};
template <class M>
struct Codec<std::optional<M>> {
  static bool parse(const Value& v, std::optional<M>& out, Context& ctx) {
    if (v.is_null()) {
      out.reset();
      return true;
    }
    M m{};
    if (!Codec<M>::parse(v, m, ctx)) return false;
    out = std::move(m);
    return true;
  }
  static std::string type_name() { return Codec<M>::type_name(); }
  static std::string show(const std::optional<M>& m) { return m ? Codec<M>::show(*m) : "none"; }
};
template <class M>
struct Codec<std::vector<M>> {
  static bool parse(const Value& v, std::vector<M>& out, Context& ctx) {
    out.clear();
    if (v.is_null()) return true;
    if (!v.is_seq()) {
      ctx.error(v.mark, "expected a list, got " + std::string(v.kind_name()));
      return false;
    }
    bool ok = true;
    for (const auto& item : v.items) {
      M m{};
      if (Codec<M>::parse(item, m, ctx))
        out.push_back(std::move(m));
      else
        ok = false;
    }
    return ok;
  }
  static std::string type_name() { return "list of " + Codec<M>::type_name(); }
  static std::string show(const std::vector<M>& xs) {
    std::string s = "[";
    for (const auto& x : xs) s += (s.size() > 1 ? ", " : "") + Codec<M>::show(x);
    return s + "]";
  }
};
template <class A, class B>
struct Codec<std::pair<A, B>> {
  static bool parse(const Value& v, std::pair<A, B>& out, Context& ctx) {
    if (!v.is_seq() || v.items.size() != 2) {
      ctx.error(v.mark, "expected a pair [" + Codec<A>::type_name() + ", " + Codec<B>::type_name() + "]");
      return false;
    }
    bool a = Codec<A>::parse(v.items[0], out.first, ctx);
    bool b = Codec<B>::parse(v.items[1], out.second, ctx);
    return a && b;
  }
  static std::string type_name() { return "[" + Codec<A>::type_name() + ", " + Codec<B>::type_name() + "]"; }
  // Appended, not "[" + ...: GCC 12 warns (-Wstringop-overflow, Release only) on the inlined insert at the front.
  static std::string show(const std::pair<A, B>& p) {
    std::string s = "[";
    s += Codec<A>::show(p.first);
    s += ", ";
    s += Codec<B>::show(p.second);
    s += ']';
    return s;
  }
};
template <>
struct Codec<std::map<std::string, std::string>> {
  static bool parse(const Value& v, std::map<std::string, std::string>& out, Context& ctx);
  static std::string type_name() { return "map of string"; }
  static std::string show(const std::map<std::string, std::string>& m) { return m.empty() ? "{}" : "…"; }
};
// Nested blocks: any struct with a static schema().
template <class M>
struct Codec<M, std::void_t<decltype(M::schema())>> {
  static bool parse(const Value& v, M& out, Context& ctx) {
    size_t before = ctx.error_count();
    M::schema().parse(v, out, ctx);
    return ctx.error_count() == before;
  }
  static std::string type_name() { return "mapping"; }
  static std::string show(const M&) { return ""; }
};

template <class M>
concept HasNumber = requires(const M& m) { Codec<M>::number(m); };
template <class M>
concept IsBlock = requires { M::schema(); };
template <class M>
concept IsOptional = std::is_same_v<M, std::optional<typename M::value_type>>;

// ---- fields ------------------------------------------------------------------------------------------------

template <class T>
struct FieldBase {
  std::string name;
  std::string doc;
  std::string default_override;
  bool is_required = false;
  virtual ~FieldBase() = default;
  virtual bool parse(const Value& v, T& out, Context& ctx) const = 0;
  virtual std::string type_name() const = 0;
  virtual std::string default_text(const T& defaults) const = 0;
  virtual void document_children(const T&, const std::string&, std::vector<DocRow>&) const {}
};

template <class T, class M>
struct Field final : FieldBase<T> {
  M T::*member = nullptr;
  std::optional<double> lo, hi;
  bool lo_exclusive = false;

  bool parse(const Value& v, T& out, Context& ctx) const override {
    M parsed = out.*member;
    if (!Codec<M>::parse(v, parsed, ctx)) return false;
    if (!check_bounds(v, parsed, ctx)) return false;
    out.*member = std::move(parsed);
    return true;
  }
  bool check_bounds(const Value& v, const M& m, Context& ctx) const {
    if constexpr (HasNumber<M>) {
      return check_number(v, Codec<M>::number(m), ctx);
    } else if constexpr (IsOptional<M>) {
      if constexpr (HasNumber<typename M::value_type>)
        return !m || check_number(v, Codec<typename M::value_type>::number(*m), ctx);
    }
    return true;
  }
  bool check_number(const Value& v, double x, Context& ctx) const {
    if (lo && (lo_exclusive ? x <= *lo : x < *lo)) {
      ctx.error(v.mark, "'" + v.raw + "' is out of range for " + this->name + ": must be " +
                            (lo_exclusive ? "greater than " : "at least ") + show_double(*lo));
      return false;
    }
    if (hi && x > *hi) {
      ctx.error(v.mark, "'" + v.raw + "' is out of range for " + this->name + ": must be at most " + show_double(*hi));
      return false;
    }
    return true;
  }
  std::string type_name() const override { return Codec<M>::type_name(); }
  std::string default_text(const T& defaults) const override {
    if (!this->default_override.empty()) return this->default_override;
    if (this->is_required) return "required";
    if constexpr (IsBlock<M>) return "";
    return Codec<M>::show(defaults.*member);
  }
  void document_children(const T& defaults, const std::string& prefix, std::vector<DocRow>& rows) const override {
    if constexpr (IsBlock<M>) {
      M::schema().document(defaults.*member, prefix + this->name + ".", rows);
    } else if constexpr (IsOptional<M>) {
      using Inner = typename M::value_type;
      if constexpr (IsBlock<Inner>) Inner::schema().document(Inner{}, prefix + this->name + ".", rows);
    }
  }
};

// Builder returned by opt(); converts into the schema's field list.
template <class T, class M>
class Opt {
 public:
  Opt(M T::*member, std::string name, std::string doc) : f_(std::make_shared<Field<T, M>>()) {
    f_->member = member;
    f_->name = std::move(name);
    f_->doc = std::move(doc);
  }
  Opt&& min(double lo) && { f_->lo = lo; return std::move(*this); }
  Opt&& above(double lo) && { f_->lo = lo; f_->lo_exclusive = true; return std::move(*this); }
  Opt&& max(double hi) && { f_->hi = hi; return std::move(*this); }
  Opt&& required() && { f_->is_required = true; return std::move(*this); }
  Opt&& default_text(std::string text) && { f_->default_override = std::move(text); return std::move(*this); }
  operator std::shared_ptr<const FieldBase<T>>() && { return std::move(f_); }

 private:
  std::shared_ptr<Field<T, M>> f_;
};

template <class T, class M>
Opt<T, M> opt(M T::*member, std::string name, std::string doc) {
  return Opt<T, M>(member, std::move(name), std::move(doc));
}

// ---- schema ------------------------------------------------------------------------------------------------

// Suggests the closest declared key for a typo ("cout" → "count").
std::string closest_name(std::string_view key, const std::vector<std::string>& names);

template <class T>
class Schema {
 public:
  using Validator = std::function<void(const T&, const Value& node, Context& ctx)>;

  Schema(std::string what, std::initializer_list<std::shared_ptr<const FieldBase<T>>> fields, Validator validate = {})
      : what_(std::move(what)), fields_(fields), validate_(std::move(validate)) {}

  const std::string& what() const { return what_; }

  // Parses a mapping into out (which holds the defaults). Keys in `shared_keys` belong to an enclosing
  // declaration (such as a component's `type`) and are skipped here rather than rejected.
  void parse(const Value& node, T& out, Context& ctx, const std::vector<std::string>& shared_keys = {}) const {
    static const Value empty_map = [] {
      Value v;
      v.kind = Value::Kind::map;
      return v;
    }();
    const Value& map = node.is_null() ? empty_map : node;
    if (!map.is_map()) {
      ctx.error(node.mark, "expected a mapping for " + what_ + ", got " + std::string(node.kind_name()));
      return;
    }
    for (const auto& e : map.entries) {
      if (find(e.key) || std::find(shared_keys.begin(), shared_keys.end(), e.key) != shared_keys.end()) continue;
      std::vector<std::string> names = shared_keys;
      for (const auto& f : fields_) names.push_back(f->name);
      std::string hint = closest_name(e.key, names);
      ctx.error(e.key_mark, "unknown key '" + e.key + "' in " + what_ +
                                (hint.empty() ? "" : " (did you mean '" + hint + "'?)") + "; valid keys: " + quote_list(names));
    }
    size_t before = ctx.error_count();
    for (const auto& f : fields_) {
      if (const Value* v = map.find(f->name)) {
        f->parse(*v, out, ctx);
      } else if (f->is_required) {
        ctx.error(node.mark.line ? node.mark : Mark{1, 1}, "missing required key '" + f->name + "' in " + what_);
      }
    }
    if (validate_ && ctx.error_count() == before) validate_(out, map, ctx);
  }

  void document(const T& defaults, const std::string& prefix, std::vector<DocRow>& rows) const {
    for (const auto& f : fields_) {
      rows.push_back({prefix + f->name, f->type_name(), f->default_text(defaults), f->doc});
      f->document_children(defaults, prefix, rows);
    }
  }
  std::vector<DocRow> document(const std::string& prefix = "") const {
    std::vector<DocRow> rows;
    document(T{}, prefix, rows);
    return rows;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& f : fields_) out.push_back(f->name);
    return out;
  }

 private:
  const FieldBase<T>* find(std::string_view name) const {
    for (const auto& f : fields_)
      if (f->name == name) return f.get();
    return nullptr;
  }

  std::string what_;
  std::vector<std::shared_ptr<const FieldBase<T>>> fields_;
  Validator validate_;
};

// Parses a whole block (for tests and the daemon file): throws ConfigError on any problem.
template <class T>
T parse_block(const Document& doc) {
  T out{};
  Context ctx(doc.path);
  T::schema().parse(doc.root, out, ctx);
  ctx.throw_if_failed();
  return out;
}

}  // namespace sluice::config

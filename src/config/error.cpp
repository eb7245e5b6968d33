#include "config/error.hpp"

#include <string_view>

#include "config/value.hpp"

namespace sluice::config {

std::string Diagnostic::to_string() const {
  if (mark.line <= 0) return path + ": " + message;
  return path + ":" + std::to_string(mark.line) + ":" + std::to_string(mark.col) + ": " + message;
}

static std::string join(const std::vector<Diagnostic>& ds) {
  std::string s;
  for (const auto& d : ds) {
    if (!s.empty()) s += '\n';
    s += d.to_string();
  }
  return s;
}

ConfigError::ConfigError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join(diagnostics)), diagnostics_(std::move(diagnostics)) {}

void Context::throw_if_failed() {
  if (!diagnostics_.empty()) throw ConfigError(diagnostics_);
}

const Value* Value::find(std::string_view key) const {
  for (const auto& e : entries)
    if (e.key == key) return &e.value;
  return nullptr;
}

std::string_view Value::kind_name() const {
  switch (kind) {
    case Kind::null: return "null";
    case Kind::scalar: return "a scalar";
    case Kind::map: return "a mapping";
    case Kind::seq: return "a list";
  }
  return "?";
}

}  // namespace sluice::config

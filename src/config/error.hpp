#pragma once
#include <stdexcept>
#include <string>
#include <vector>

#include "config/value.hpp"

namespace sluice::config {

struct Diagnostic {
  std::string path;
  Mark mark;
  std::string message;
  std::string to_string() const;  // "path:line:col: message"
};

// Thrown at the configuration boundary; carries every problem found in one pass so that a user fixes a
// file in one edit rather than one error per run.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<Diagnostic> diagnostics);
  explicit ConfigError(Diagnostic diagnostic) : ConfigError(std::vector<Diagnostic>{std::move(diagnostic)}) {}
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

// Collects diagnostics while a document is parsed against a schema.
class Context {
 public:
  explicit Context(std::string path) : path_(std::move(path)) {}
  void error(Mark mark, std::string message) { diagnostics_.push_back({path_, mark, std::move(message)}); }
  bool ok() const { return diagnostics_.empty(); }
  const std::string& path() const { return path_; }
  size_t error_count() const { return diagnostics_.size(); }
  void throw_if_failed();

 private:
  std::string path_;
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace sluice::config

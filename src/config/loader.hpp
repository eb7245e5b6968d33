#pragma once
#include <string>

#include "config/value.hpp"

namespace sluice::config {

// Reads a YAML file into a Value tree, substituting ${ENV_VAR} and ${file:/path} in scalars ($${ escapes a
// literal "${"). Throws ConfigError naming path:line:col for syntax errors, unset variables and unreadable files.
Document load_yaml_file(const std::string& path);
Document load_yaml_string(const std::string& text, const std::string& path);

}  // namespace sluice::config

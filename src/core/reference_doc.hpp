#pragma once
#include <string>

namespace sluice::core {

// docs/configuration.md, rendered from the option declarations themselves so it cannot drift from the
// parser (a test compares the committed file with this).
std::string render_configuration_reference();

}  // namespace sluice::core

// Prints docs/configuration.md: build/tests/sluice_docgen > docs/configuration.md
#include <iostream>

#include "core/reference_doc.hpp"

int main() {
  std::cout << sluice::core::render_configuration_reference();
  return 0;
}

#include "core/registry.hpp"

#include <stdexcept>

namespace sluice::core {

void register_builtin(Registry& r);  // builtin.cpp

void Registry::add(SourceFactory f) {
  if (!sources_.emplace(f.type, f).second) throw std::logic_error("source type registered twice: " + f.type);
}
void Registry::add(SinkFactory f) {
  if (!sinks_.emplace(f.type, f).second) throw std::logic_error("sink type registered twice: " + f.type);
}
const SourceFactory* Registry::source(const std::string& type) const {
  auto it = sources_.find(type);
  return it == sources_.end() ? nullptr : &it->second;
}
const SinkFactory* Registry::sink(const std::string& type) const {
  auto it = sinks_.find(type);
  return it == sinks_.end() ? nullptr : &it->second;
}
std::vector<std::string> Registry::source_types() const {
  std::vector<std::string> out;
  for (const auto& [t, f] : sources_) out.push_back(t);
  return out;
}
std::vector<std::string> Registry::sink_types() const {
  std::vector<std::string> out;
  for (const auto& [t, f] : sinks_) out.push_back(t);
  return out;
}

const Registry& registry() {
  static const Registry r = [] {
    Registry built;
    register_builtin(built);
    return built;
  }();
  return r;
}

}  // namespace sluice::core

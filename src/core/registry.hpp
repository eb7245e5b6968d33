#pragma once
// Connectors are found by their YAML `type`. Each registers a factory that parses and documents its own
// block, so adding a connector never touches the engine: a folder, and one line in builtin.cpp.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/schema.hpp"
#include "core/sink.hpp"
#include "core/source.hpp"

namespace sluice::core {

using OptionsPtr = std::shared_ptr<const void>;

struct SourceFactory {
  std::string type;
  std::string summary;
  std::function<OptionsPtr(const config::Value&, config::Context&, const std::vector<std::string>& shared_keys)> parse;
  std::function<std::vector<config::DocRow>()> document;
  std::function<std::unique_ptr<Source>(const OptionsPtr&)> create;
};

struct SinkFactory {
  std::string type;
  std::string summary;
  std::function<OptionsPtr(const config::Value&, config::Context&, const std::vector<std::string>& shared_keys)> parse;
  std::function<std::vector<config::DocRow>()> document;
  std::function<std::unique_ptr<Sink>(const OptionsPtr&)> create;
};

class Registry {
 public:
  void add(SourceFactory f);
  void add(SinkFactory f);
  const SourceFactory* source(const std::string& type) const;
  const SinkFactory* sink(const std::string& type) const;
  std::vector<std::string> source_types() const;
  std::vector<std::string> sink_types() const;

 private:
  std::map<std::string, SourceFactory> sources_;
  std::map<std::string, SinkFactory> sinks_;
};

// The process-wide registry with every built-in connector registered (see builtin.cpp).
const Registry& registry();

namespace detail {
template <class Options>
OptionsPtr parse_options(const config::Value& v, config::Context& ctx, const std::vector<std::string>& shared) {
  auto options = std::make_shared<Options>();
  Options::schema().parse(v, *options, ctx, shared);
  return options;
}
}  // namespace detail

// Options: a struct with a static schema(); Impl: constructible from const Options&.
template <class Options, class Impl>
SourceFactory make_source_factory(std::string type, std::string summary) {
  return {std::move(type), std::move(summary), &detail::parse_options<Options>,
          [] { return Options::schema().document(); },
          [](const OptionsPtr& o) -> std::unique_ptr<Source> {
            return std::make_unique<Impl>(*static_cast<const Options*>(o.get()));
          }};
}

template <class Options, class Impl>
SinkFactory make_sink_factory(std::string type, std::string summary) {
  return {std::move(type), std::move(summary), &detail::parse_options<Options>,
          [] { return Options::schema().document(); },
          [](const OptionsPtr& o) -> std::unique_ptr<Sink> {
            return std::make_unique<Impl>(*static_cast<const Options*>(o.get()));
          }};
}

}  // namespace sluice::core

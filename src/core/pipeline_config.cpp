#include "core/pipeline_config.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/loader.hpp"

namespace sluice::config {

template <>
struct Codec<core::SourceSpec> {
  static bool parse(const Value& v, core::SourceSpec& out, Context& ctx);
  static std::string type_name() { return "mapping"; }
  static std::string show(const core::SourceSpec&) { return "required"; }
};
template <>
struct Codec<core::SinkSpec> {
  static bool parse(const Value& v, core::SinkSpec& out, Context& ctx);
  static std::string type_name() { return "mapping"; }
  static std::string show(const core::SinkSpec&) { return "required"; }
};
template <>
struct Codec<std::vector<Value>> {
  static bool parse(const Value& v, std::vector<Value>& out, Context& ctx) {
    out.clear();
    if (v.is_null()) return true;
    if (!v.is_seq()) {
      ctx.error(v.mark, "expected a list of transforms, got " + std::string(v.kind_name()));
      return false;
    }
    // The transform chain is an extension point with no transforms registered yet.
    for (const auto& item : v.items) ctx.error(item.mark, "unknown transform: no transforms are available in this version");
    return v.items.empty();
  }
  static std::string type_name() { return "list"; }
  static std::string show(const std::vector<Value>&) { return "[]"; }
};

// The component's `type` picks the connector, which then validates the rest of the block itself.
template <class Spec, class Factory, class Common>
static bool parse_component(const Value& v, Spec& out, Context& ctx, const char* kind, const Factory* (core::Registry::*lookup)(const std::string&) const,
                            std::vector<std::string> (core::Registry::*types)() const) {
  if (!v.is_map()) {
    ctx.error(v.mark, std::string("expected a mapping for ") + kind + ", got " + std::string(v.kind_name()));
    return false;
  }
  const Value* type = v.find("type");
  if (!type) {
    ctx.error(v.mark, std::string("missing required key 'type' in ") + kind + "; available types: " +
                          quote_list((core::registry().*types)()));
    return false;
  }
  if (!type->is_scalar()) {
    ctx.error(type->mark, std::string(kind) + " type must be a name");
    return false;
  }
  const Factory* factory = (core::registry().*lookup)(type->text);
  if (!factory) {
    ctx.error(type->mark, std::string("unknown ") + kind + " type '" + type->raw + "'; available types: " +
                              quote_list((core::registry().*types)()));
    return false;
  }
  size_t before = ctx.error_count();
  out.factory = factory;
  out.options = factory->parse(v, ctx, Common::schema().names());
  // Connector keys were checked by the connector; here only the shared keys are read.
  std::vector<std::string> connector_keys;
  for (const auto& e : v.entries) connector_keys.push_back(e.key);
  Common::schema().parse(v, out.common, ctx, connector_keys);
  return ctx.error_count() == before;
}

bool Codec<core::SourceSpec>::parse(const Value& v, core::SourceSpec& out, Context& ctx) {
  return parse_component<core::SourceSpec, core::SourceFactory, core::SourceCommon>(
      v, out, ctx, "source", &core::Registry::source, &core::Registry::source_types);
}
bool Codec<core::SinkSpec>::parse(const Value& v, core::SinkSpec& out, Context& ctx) {
  return parse_component<core::SinkSpec, core::SinkFactory, core::SinkCommon>(v, out, ctx, "sink", &core::Registry::sink,
                                                                              &core::Registry::sink_types);
}

}  // namespace sluice::config

namespace sluice::core {
using config::opt;

const config::Schema<BufferOptions>& BufferOptions::schema() {
  static const config::Schema<BufferOptions> s{
      "queue.buffer",
      {opt(&BufferOptions::max_bytes, "max_bytes", "disk spool capacity for policy buffer; when full, the source is throttled")
           .min(1 << 20)}};
  return s;
}

const config::Schema<QueueOptions>& QueueOptions::schema() {
  static const config::Schema<QueueOptions> s{
      "queue",
      {opt(&QueueOptions::max_records, "max_records", "records the in-memory queue holds").min(1).max(100'000'000),
       opt(&QueueOptions::max_bytes, "max_bytes", "bytes of record data the in-memory queue holds").min(1024),
       opt(&QueueOptions::policy, "policy",
           "when the queue is full: suspend the source, drop the newest or oldest records, or spool to disk"),
       opt(&QueueOptions::buffer, "buffer", "the disk spool used by policy buffer")}};
  return s;
}

const config::Schema<BatchOptions>& BatchOptions::schema() {
  static const config::Schema<BatchOptions> s{
      "sink.batch",
      {opt(&BatchOptions::max_records, "max_records", "most records in one commit").min(1).max(10'000'000),
       opt(&BatchOptions::max_bytes, "max_bytes", "most record bytes in one commit").min(1),
       opt(&BatchOptions::max_wait, "max_wait", "longest a record waits for its batch to fill before it is committed")
           .min(0)
           .max(3600)}};
  return s;
}

const config::Schema<RateLimitOptions>& RateLimitOptions::schema() {
  static const config::Schema<RateLimitOptions> s{
      "source.rate_limit",
      {opt(&RateLimitOptions::rate, "rate", "records per second admitted on average").above(0).required(),
       opt(&RateLimitOptions::burst, "burst", "records admitted at once after idling; 0 = one second's worth")
           .min(0)},
      [](const RateLimitOptions& r, const config::Value& node, config::Context& ctx) {
        if (r.burst > 0 && r.burst < 1) ctx.error(node.find("burst")->mark, "burst must be 0 (one second's worth) or at least 1");
      }};
  return s;
}

const config::Schema<DeadLetterOptions>& DeadLetterOptions::schema() {
  static const config::Schema<DeadLetterOptions> s{
      "dead_letter",
      {opt(&DeadLetterOptions::path, "path",
           "directory of JSONL part files (file, line, reason, original bytes) for input that could not be read")
           .default_text("<state_dir>/dead_letter/<pipeline>")}};
  return s;
}

const config::Schema<SourceCommon>& SourceCommon::schema() {
  static const config::Schema<SourceCommon> s{
      "source",
      {opt(&SourceCommon::type, "type", "the source connector").required(),
       opt(&SourceCommon::rate_limit, "rate_limit", "token bucket on the records the source emits, e.g. { rate: 1000, burst: 100 }")}};
  return s;
}

const config::Schema<SinkCommon>& SinkCommon::schema() {
  static const config::Schema<SinkCommon> s{
      "sink",
      {opt(&SinkCommon::type, "type", "the sink connector").required(),
       opt(&SinkCommon::batch, "batch", "how records are grouped into commits")}};
  return s;
}

static bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 128) return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

const config::Schema<PipelineConfig>& PipelineConfig::schema() {
  static const config::Schema<PipelineConfig> s{
      "pipeline",
      {opt(&PipelineConfig::name, "name", "the pipeline's name (letters, digits, _ - .); keys its state and metrics")
           .default_text("the file name without .yaml"),
       opt(&PipelineConfig::source, "source", "where records come from; `type` picks the connector").required(),
       opt(&PipelineConfig::transforms, "transforms", "transform chain applied in order (none available yet)"),
       opt(&PipelineConfig::queue, "queue", "the bounded queue between source and sink, and its backpressure policy"),
       opt(&PipelineConfig::sink, "sink", "where records go; `type` picks the connector").required(),
       opt(&PipelineConfig::dead_letter, "dead_letter", "where unreadable input is kept")},
      [](const PipelineConfig& p, const config::Value& node, config::Context& ctx) {
        if (!valid_name(p.name)) {
          const config::Value* n = node.find("name");
          ctx.error(n ? n->mark : config::Mark{1, 1},
                    "invalid pipeline name '" + p.name + "': use 1-128 letters, digits, '_', '-' or '.'");
        }
      }};
  return s;
}

PipelineConfig parse_pipeline(const config::Document& doc, const std::string& default_name) {
  PipelineConfig p;
  p.name = default_name;
  p.file = doc.path;
  config::Context ctx(doc.path);
  if (!doc.root.is_map())
    ctx.error(doc.root.mark, "a pipeline file must be a mapping with source and sink, got " + std::string(doc.root.kind_name()));
  else
    PipelineConfig::schema().parse(doc.root, p, ctx);
  ctx.throw_if_failed();
  return p;
}

namespace {

// FNV-1a over the parsed tree (kinds, keys and values after ${...} substitution, with lengths so that no two
// trees collide by concatenation): comments and formatting do not restart a pipeline on reload, while a
// changed secret behind ${file:...} does. Stable across builds and runs, unlike std::hash, so /status can
// show it.
struct TreeHash {
  uint64_t h = 14695981039346656037ull;
  void bytes(std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  }
  void text(std::string_view s) {
    bytes(std::to_string(s.size()));
    bytes(":");
    bytes(s);
  }
  void value(const config::Value& v) {
    switch (v.kind) {
      case config::Value::Kind::null: bytes("~"); break;
      case config::Value::Kind::scalar:
        bytes("s");
        text(v.text);
        break;
      case config::Value::Kind::map:
        bytes("{");
        for (const auto& e : v.entries) {
          text(e.key);
          value(e.value);
        }
        bytes("}");
        break;
      case config::Value::Kind::seq:
        bytes("[");
        for (const auto& item : v.items) value(item);
        bytes("]");
        break;
    }
  }
};

}  // namespace

PipelineConfig load_pipeline_file(const std::string& path) {
  config::Document doc = config::load_yaml_file(path);
  PipelineConfig p = parse_pipeline(doc, std::filesystem::path(path).stem().string());
  TreeHash hash;
  hash.text(p.name);
  hash.value(doc.root);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash.h));
  p.config_hash = hex;
  return p;
}

}  // namespace sluice::core

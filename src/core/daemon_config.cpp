#include "core/daemon_config.hpp"

#include <algorithm>
#include <filesystem>
#include <map>

#include "config/loader.hpp"
#include "metrics/http_server.hpp"

namespace sluice::core {
using config::opt;
namespace fs = std::filesystem;

const config::Schema<HttpOptions>& HttpOptions::schema() {
  static const config::Schema<HttpOptions> s{
      "http",
      {opt(&HttpOptions::listen, "listen",
           "address:port of the listener for /metrics /healthz /readyz /status /tap; port 0 picks a free port (logged, and written to "
           "<state_dir>/http.address); empty turns the listener off")},
      [](const HttpOptions& h, const config::Value& node, config::Context& ctx) {
        if (h.listen.empty()) return;
        try {
          metrics::parse_listen_address(h.listen);
        } catch (const std::invalid_argument& e) {
          const config::Value* v = node.find("listen");
          ctx.error(v ? v->mark : node.mark, std::string("http.listen: ") + e.what());
        }
      }};
  return s;
}

const config::Schema<LogOptions>& LogOptions::schema() {
  static const config::Schema<LogOptions> s{
      "log",
      {opt(&LogOptions::level, "level", "least severe level logged"),
       opt(&LogOptions::format, "format", "text lines, or one JSON object per line")}};
  return s;
}

const config::Schema<DaemonConfig>& DaemonConfig::schema() {
  static const config::Schema<DaemonConfig> s{
      "daemon",
      {opt(&DaemonConfig::state_dir, "state_dir", "directory of the RocksDB state (checkpoints, spools); relative to this file"),
       opt(&DaemonConfig::pipelines_dir, "pipelines_dir", "directory whose *.yaml files are the pipelines; relative to this file"),
       opt(&DaemonConfig::http, "http", "the HTTP listener"),
       opt(&DaemonConfig::log, "log", "logging"),
       opt(&DaemonConfig::shutdown_timeout, "shutdown_timeout", "how long a stop waits for queues to drain and commit").min(0),
       opt(&DaemonConfig::blocking_threads, "blocking_threads", "threads for fsync and synchronous state writes").min(1).max(64)}};
  return s;
}

DaemonConfig load_daemon_file(const std::string& path) {
  config::Document doc = config::load_yaml_file(path);
  DaemonConfig d = config::parse_block<DaemonConfig>(doc);
  d.file = path;
  fs::path base = fs::absolute(path).parent_path();
  auto resolve = [&](std::string& p) {
    if (!p.empty() && fs::path(p).is_relative()) p = (base / p).lexically_normal().string();
  };
  resolve(d.state_dir);
  resolve(d.pipelines_dir);
  return d;
}

PipelineSet load_pipeline_dir(const std::string& dir) {
  PipelineSet set;
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto& p = it->path();
    if (p.extension() == ".yaml" || p.extension() == ".yml") files.push_back(p);
  }
  if (ec) {
    set.errors.push_back({dir, {}, "cannot read pipelines_dir: " + ec.message()});
    return set;
  }
  std::sort(files.begin(), files.end());
  std::map<std::string, std::string> names;  // name → file
  for (const auto& f : files) {
    try {
      PipelineConfig p = load_pipeline_file(f.string());
      auto [it, fresh] = names.emplace(p.name, f.string());
      if (!fresh) {
        set.errors.push_back({f.string(), {1, 1}, "pipeline name '" + p.name + "' is already used by " + it->second});
        set.invalid_files.push_back(f.string());
        continue;
      }
      set.pipelines.push_back(std::move(p));
    } catch (const config::ConfigError& e) {
      for (const auto& d : e.diagnostics()) set.errors.push_back(d);
      set.invalid_files.push_back(f.string());
    }
  }
  return set;
}

}  // namespace sluice::core

// sluiced: command line, signals and process exit codes; everything else lives in the library.
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "config/error.hpp"
#include "core/daemon_config.hpp"
#include "core/logging.hpp"
#include "core/runtime.hpp"
#include "core/status.hpp"
#include "metrics/http_client.hpp"
#include "metrics/http_server.hpp"

namespace po = boost::program_options;
using namespace sluice;

namespace {

constexpr int kOk = 0, kRuntimeFailure = 1, kInvalid = 2;

const char* kUsage =
    "usage: sluiced run   --config FILE [--once]   run the pipelines until SIGTERM/SIGINT\n"
    "                                             (--once: until every bounded source is exhausted and committed)\n"
    "       sluiced check --config FILE            validate the daemon file and every pipeline file\n"
    "       sluiced check PIPELINE.yaml ...        validate single pipeline files\n"
    "       sluiced status [--config FILE | --url HOST:PORT]\n"
    "                                             a table of a running daemon's pipelines\n"
    "       sluiced tap PIPELINE [--limit N] [--rate R] [--config FILE | --url HOST:PORT]\n"
    "                                             live records of a pipeline as JSONL (sampled: at most R/s,\n"
    "                                             default 1000; skipped records are counted on stderr)\n"
    "       sluiced --version\n";

int usage_error(const std::string& message) {
  std::cerr << "sluiced: " << message << "\n" << kUsage;
  return kInvalid;
}

void print(const config::ConfigError& e) {
  for (const auto& d : e.diagnostics()) std::cerr << d.to_string() << "\n";
}

int check(const std::vector<std::string>& args) {
  po::options_description opts;
  opts.add_options()("config", po::value<std::string>())("files", po::value<std::vector<std::string>>());
  po::positional_options_description positional;
  positional.add("files", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).positional(positional).run(), vm);
  bool has_config = vm.count("config"), has_files = vm.count("files");
  if (has_config == has_files) return usage_error("check takes either --config FILE or pipeline files");

  size_t errors = 0, valid = 0;
  if (has_config) {
    core::DaemonConfig daemon;
    try {
      daemon = core::load_daemon_file(vm["config"].as<std::string>());
    } catch (const config::ConfigError& e) {
      print(e);
      return kInvalid;
    }
    core::PipelineSet set = core::load_pipeline_dir(daemon.pipelines_dir);
    for (const auto& d : set.errors) std::cerr << d.to_string() << "\n";
    errors = set.errors.size();
    valid = set.pipelines.size();
  } else {
    for (const auto& file : vm["files"].as<std::vector<std::string>>()) {
      try {
        core::load_pipeline_file(file);
        ++valid;
      } catch (const config::ConfigError& e) {
        print(e);
        errors += e.diagnostics().size();
      }
    }
  }
  if (errors) {
    std::cerr << "sluiced: " << errors << " error(s); " << valid << " valid pipeline(s)\n";
    return kInvalid;
  }
  std::cout << "ok: " << valid << " valid pipeline(s)\n";
  return kOk;
}

// glibc keeps small freed chunks in fast bins, unmerged, until the next large allocation merges them all at
// once (malloc_consolidate). librdkafka frees every delivered message and a committed batch frees its records
// in bulk, so that merge took a tenth of the loop thread's time producing to Kafka; without fast bins frees
// merge as they happen and the per-thread cache still serves small sizes (docs/benchmarks.md). An operator's
// own GLIBC_TUNABLES setting of it wins.
void tune_allocator() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables && std::strstr(tunables, "malloc.mxfast")) return;
  mallopt(M_MXFAST, 0);
}

int run(const std::vector<std::string>& args) {
  tune_allocator();
  po::options_description opts;
  opts.add_options()("config", po::value<std::string>())("once", po::bool_switch());
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).run(), vm);
  if (!vm.count("config")) return usage_error("run needs --config FILE");
  core::DaemonConfig daemon;
  try {
    daemon = core::load_daemon_file(vm["config"].as<std::string>());
  } catch (const config::ConfigError& e) {
    print(e);
    return kInvalid;
  }
  core::configure_logging(daemon.log);
  return core::run_daemon(daemon, core::RunOptions{vm["once"].as<bool>()});
}

const char* kDefaultDaemonFile = "/etc/sluice/sluice.yaml";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Where the running daemon listens: --url, else the daemon file's http.listen (the address it wrote to
// state_dir when the port was 0), else the default listener.
std::string daemon_address(const po::variables_map& vm) {
  if (vm.count("url")) {
    std::string url = vm["url"].as<std::string>();
    if (url.rfind("http://", 0) == 0) url.erase(0, 7);
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
  }
  std::string file = vm.count("config") ? vm["config"].as<std::string>() : kDefaultDaemonFile;
  if (!vm.count("config") && !std::filesystem::exists(file)) return core::HttpOptions{}.listen;
  core::DaemonConfig daemon = core::load_daemon_file(file);
  if (daemon.http.listen.empty()) throw UsageError(file + ": http.listen is empty, so the daemon serves no status");
  auto [host, port] = metrics::parse_listen_address(daemon.http.listen);
  if (port == 0) {
    auto path = std::filesystem::path(daemon.state_dir) / "http.address";
    std::ifstream in(path);
    std::string bound;
    if (!(in >> bound)) throw std::runtime_error(file + " lets the kernel pick the port, and " + path.string() + " is not there: is sluiced running?");
    return bound;
  }
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

void add_address_options(po::options_description& opts) {
  opts.add_options()("config", po::value<std::string>())("url", po::value<std::string>());
}

int status(const std::vector<std::string>& args) {
  po::options_description opts;
  add_address_options(opts);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).run(), vm);
  if (vm.count("config") && vm.count("url")) return usage_error("status takes --config or --url, not both");
  std::string address = daemon_address(vm);
  auto answer = metrics::http_get(address, "/status");
  if (answer.status != 200) {
    std::cerr << "sluiced: " << address << "/status answered " << answer.status << ": " << answer.body;
    return kRuntimeFailure;
  }
  std::cout << core::format_status_table(answer.body);
  return kOk;
}

int tap(const std::vector<std::string>& args) {
  po::options_description opts;
  add_address_options(opts);
  opts.add_options()("pipeline", po::value<std::string>())("limit", po::value<uint64_t>())("rate", po::value<double>());
  po::positional_options_description positional;
  positional.add("pipeline", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).positional(positional).run(), vm);
  if (!vm.count("pipeline")) return usage_error("tap needs a PIPELINE name");
  if (vm.count("config") && vm.count("url")) return usage_error("tap takes --config or --url, not both");
  if (vm.count("rate") && !(vm["rate"].as<double>() > 0)) return usage_error("--rate must be above 0");
  std::string pipeline = vm["pipeline"].as<std::string>();
  std::string target = "/tap/" + pipeline + "?";
  if (vm.count("limit")) target += "limit=" + std::to_string(vm["limit"].as<uint64_t>()) + "&";
  if (vm.count("rate")) target += "rate=" + std::to_string(vm["rate"].as<double>());
  std::string address = daemon_address(vm);

  uint64_t records = 0, skipped = 0;
  std::string error;
  unsigned code = metrics::http_get_lines(address, target, [&](std::string_view line) {
    constexpr std::string_view kRecord = "{\"record\":", kText = "{\"record_text\":", kSkipped = "{\"skipped\":";
    if (line.substr(0, kRecord.size()) == kRecord && line.size() > kRecord.size()) {
      line.remove_prefix(kRecord.size());
      line.remove_suffix(1);
      std::cout << line << '\n';
      ++records;
    } else if (line.substr(0, kText.size()) == kText || line.substr(0, kSkipped.size()) == kSkipped || line.find("\"error\"") != std::string_view::npos) {
      boost::system::error_code ec;
      auto v = boost::json::parse(line, ec);
      if (ec || !v.is_object()) return true;
      const auto& o = v.as_object();
      if (const auto* t = o.if_contains("record_text"); t && t->is_string()) {
        std::cout << std::string_view(t->as_string()) << '\n';
        ++records;
      } else if (const auto* n = o.if_contains("skipped"); n && n->is_number()) {
        uint64_t now = n->to_number<uint64_t>();
        skipped += now;
        std::cerr << "sluiced tap: " << now << " record(s) skipped (sampled out, or this reader was too slow)\n";
      } else if (const auto* e = o.if_contains("error"); e && e->is_string()) {
        error = std::string(e->as_string());
        return false;
      }
    }
    std::cout.flush();
    return true;
  });
  std::cout.flush();
  if (code != 200) {
    std::cerr << "sluiced: " << address << " answered " << code << " to " << target << "\n";
    return kRuntimeFailure;
  }
  if (!error.empty()) {
    std::cerr << "sluiced: " << error << "\n";
    return kRuntimeFailure;
  }
  std::cerr << "sluiced tap: " << records << " record(s) shown, " << skipped << " skipped\n";
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage_error("no command");
  const std::string command = args.front();
  args.erase(args.begin());
  try {
    if (command == "--version" || command == "version") {
      std::cout << "sluiced " << SLUICE_VERSION << "\n";
      return kOk;
    }
    if (command == "--help" || command == "-h" || command == "help") {
      std::cout << kUsage;
      return kOk;
    }
    if (command == "check") return check(args);
    if (command == "run") return run(args);
    if (command == "status") return status(args);
    if (command == "tap") return tap(args);
    return usage_error("unknown command '" + command + "'");
  } catch (const po::error& e) {
    return usage_error(e.what());
  } catch (const UsageError& e) {
    return usage_error(e.what());
  } catch (const config::ConfigError& e) {
    print(e);
    return kInvalid;
  } catch (const std::exception& e) {
    std::cerr << "sluiced: " << e.what() << "\n";
    return kRuntimeFailure;
  }
}

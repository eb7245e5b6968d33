// sluiced: command line, signals and process exit codes; everything else lives in the library.
#include <spdlog/spdlog.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "config/error.hpp"
#include "core/daemon_config.hpp"
#include "core/logging.hpp"
#include "core/runtime.hpp"

namespace po = boost::program_options;
using namespace sluice;

namespace {

constexpr int kOk = 0, kRuntimeFailure = 1, kInvalid = 2;

const char* kUsage =
    "usage: sluiced run   --config FILE [--once]   run the pipelines until SIGTERM/SIGINT\n"
    "                                             (--once: until every bounded source is exhausted and committed)\n"
    "       sluiced check --config FILE            validate the daemon file and every pipeline file\n"
    "       sluiced check PIPELINE.yaml ...        validate single pipeline files\n"
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

int run(const std::vector<std::string>& args) {
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
    return usage_error("unknown command '" + command + "'");
  } catch (const po::error& e) {
    return usage_error(e.what());
  } catch (const std::exception& e) {
    std::cerr << "sluiced: " << e.what() << "\n";
    return kRuntimeFailure;
  }
}

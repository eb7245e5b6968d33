// The shipped systemd unit stays valid and hardened, and the compose stack's Prometheus config stays loadable:
// both are checked with the tools that consume them (systemd-analyze, promtool), offline.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/test_support.hpp"

using namespace sluice::testing;

namespace {

// Plain text for parsing: no colours, no pager, whatever the caller's terminal.
const std::vector<std::string> kPlainSystemd = {"SYSTEMD_COLORS=0", "SYSTEMD_PAGER=", "SYSTEMD_LOG_COLOR=0"};

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// systemd/sluiced.service with the installed binary path replaced by the one just built: `verify` checks that
// every Exec*= binary exists and is executable.
std::string copy_unit(const TempDir& dir) {
  const std::string source = std::string(SLUICE_SOURCE_DIR) + "/systemd/sluiced.service";
  std::string unit = read_file(source);
  INFO("unit file: " << source);
  // ExecStartPre= and ExecStart= both name it; if they stop doing so the substitution would test nothing.
  REQUIRE(count_occurrences(unit, "/usr/bin/sluiced ") >= 2);
  const std::string copy = dir / "sluiced.service";
  write_file(copy, replace_all(unit, "/usr/bin/sluiced ", sluiced_path() + " "));
  return copy;
}

void require_tool(const std::string& program, const std::string& package) {
  if (!on_path(program))
    FAIL(program << " is not installed (not found in PATH): scripts/setup.sh installs the `" << package
                 << "` package that provides it");
}

}  // namespace

TEST_CASE("the systemd unit passes systemd-analyze verify and rates at most 3.0 in systemd-analyze security",
          "[integration][systemd]") {
  require_tool("systemd-analyze", "systemd");
  TempDir dir;
  const std::string unit = copy_unit(dir);

  // verify: exit 0 is not enough (unknown keys and bad values are only warnings), so no line may name the unit.
  // Lines about other units on this machine (pulled in through After=/WantedBy=) are not ours to judge.
  CommandResult verify = run_command({"systemd-analyze", "verify", unit}, "", kPlainSystemd);
  INFO("$ systemd-analyze verify " << unit << "\n(exit " << verify.exit_code << ")\n" << verify.output);
  REQUIRE(verify.exit_code == 0);
  std::istringstream lines(verify.output);
  std::string line;
  std::vector<std::string> about_unit;
  while (std::getline(lines, line))
    if (line.find("sluiced.service") != std::string::npos || line.find(unit) != std::string::npos ||
        line.find(sluiced_path()) != std::string::npos)
      about_unit.push_back(line);
  CHECK(about_unit.empty());

  // security: the "Overall exposure level" is 0.0 (locked down) to 10.0 (wide open).
  CommandResult security = run_command({"systemd-analyze", "security", "--offline=true", "--no-pager", unit}, "", kPlainSystemd);
  INFO("$ systemd-analyze security --offline=true --no-pager " << unit << "\n(exit " << security.exit_code << ")\n"
                                                    << security.output);
  REQUIRE(security.exit_code == 0);
  std::smatch m;
  static const std::regex overall(R"(Overall exposure level for [^:]+: ([0-9]+)\.([0-9]))");
  REQUIRE(std::regex_search(security.output, m, overall));
  const int tenths = std::stoi(m[1].str()) * 10 + std::stoi(m[2].str());  // integers: no rounding at 3.0
  INFO("overall exposure level: " << m[1].str() << "." << m[2].str() << " (at most 3.0 required)");
  REQUIRE(tenths <= 30);
}

TEST_CASE("docker/prometheus.yml passes promtool check config", "[integration][systemd]") {
  require_tool("promtool", "prometheus");
  const std::string config = std::string(SLUICE_SOURCE_DIR) + "/docker/prometheus.yml";
  CommandResult check = run_command({"promtool", "check", "config", config});
  INFO("$ promtool check config " << config << "\n(exit " << check.exit_code << ")\n" << check.output);
  REQUIRE(check.exit_code == 0);
}

#pragma once
// Helpers shared by the tests: scratch directories, files, running the real sluiced binary.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace boost::json {
class object;
}

namespace sluice::testing {

// A fresh directory under /tmp, removed when the object goes away (kept if SLUICE_KEEP_TEST_DIRS is set).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& content);
void append_file(const std::string& path, const std::string& content);
// The whole file, or "(cannot read PATH)" so that it can sit in failure messages of files not yet written.
std::string read_file(const std::string& path);

// The records of every finished part under dir (*.jsonl, *.csv, *.gz decompressed), in file-name order, one
// string per line.
std::vector<std::string> finished_part_lines(const std::string& dir);
// Names of in-progress (hidden) parts under dir.
std::vector<std::string> in_progress_parts(const std::string& dir);

// A child process running the real sluiced.
class Daemon {
 public:
  // env: extra NAME=value entries for the child (e.g. SLUICE_CRASH_AT).
  Daemon(std::vector<std::string> args, const std::string& log_path, std::vector<std::string> env = {});
  ~Daemon();  // SIGKILLs it if still running
  int pid() const { return pid_; }
  void signal(int sig);
  // Waits for exit; returns the exit code (128+signal if killed), or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  int pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
};

// Runs `sluiced run --config DIR/sluice.yaml --once` (log in DIR/sluiced.log), SIGKILLing it `kills` times at random
// moments in [min_delay, max_delay) counted from its start-up log line (every other kill: from the run's first
// commit), then lets the last run finish and requires exit 0. Workloads must be paced so that they cannot
// finish before the last kill (that fails too).
void run_with_kills(const std::string& dir, int kills, std::chrono::milliseconds min_delay, std::chrono::milliseconds max_delay,
                    uint32_t seed);

// Runs sluiced to completion and returns its exit code; stdout+stderr go to log_path.
int run_sluiced(const std::vector<std::string>& args, const std::string& log_path,
                std::chrono::milliseconds timeout = std::chrono::minutes(5), std::vector<std::string> env = {});
// Lines in every part under dir, finished or in progress (committed data only after a clean stop).
size_t all_part_lines(const std::string& dir);

std::string sluiced_path();

// DIR/sluice.yaml with state and pipelines inside DIR (DIR/state, DIR/pipelines).
void write_daemon_file(const TempDir& dir);
// A gzip member of text, made with zlib directly (an oracle independent of sluice's own encoder).
std::string gzip_text(const std::string& text);
// The integer after `"field":` (quoted or not) in a JSON line.
std::optional<uint64_t> field_number(const std::string& line, const std::string& field);
// Every id in [0, expected) exactly once among the lines' `field`; fails naming the first offender.
void require_ids_exactly_once(const std::vector<std::string>& lines, const std::string& field, uint64_t expected);
size_t count_occurrences(const std::string& text, const std::string& needle);

// Polls until `done` holds or the timeout passes; returns the last answer.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout, std::chrono::milliseconds step = std::chrono::milliseconds(50));
// The address a daemon started with `http.listen: ...:0` wrote to STATE_DIR/http.address; fails the test if
// it does not appear within the timeout.
std::string wait_for_http_address(const std::string& state_dir, std::chrono::milliseconds timeout = std::chrono::seconds(15));
// The value of one sample in a Prometheus text exposition, by its exact series text
// (e.g. `sluice_records_out_total{pipeline="orders"}`); nullopt if absent.
std::optional<double> metric_value(const std::string& exposition, const std::string& series);
// The sum of every sample of one family (`name` alone or `name{...}`) in a Prometheus text exposition; 0 if absent.
double metric_sum(const std::string& exposition, const std::string& family);
// GET http://address/metrics, then metric_value; nullopt when unreachable or absent.
std::optional<double> scrape_value(const std::string& address, const std::string& series);
// Waits until the daemon serving /metrics at `address` has committed a record since it started (any pipeline's
// sluice_records_out_total above 0), or `running` turns false; false at the timeout.
bool wait_for_first_commit(const std::string& address, const std::function<bool()>& running,
                           std::chrono::milliseconds timeout = std::chrono::minutes(2));
struct CommandResult {
  int exit_code = -1;  // 127 if the program could not be run, 128+signal if killed
  std::string output;  // stdout and stderr, interleaved
};
// Runs args[0] (looked up in PATH) without a shell, so paths need no quoting, with stdin_text on its
// standard input and env (NAME=value entries) added to its environment; collects what it prints. A command
// still running after `timeout` is killed and the call throws, naming it with its output so far: a stuck
// command fails the test with that instead of hanging it until CTest's timeout.
CommandResult run_command(const std::vector<std::string>& args, const std::string& stdin_text = "",
                          const std::vector<std::string>& env = {}, std::chrono::milliseconds timeout = std::chrono::minutes(10));
// Whether an executable of that name is in PATH.
bool on_path(const std::string& program);

// GET /status of a daemon, parsed; throws when it does not answer 200 with a JSON object.
boost::json::object daemon_status(const std::string& address);
// One pipeline's entry in a /status document; throws naming it when it is not there.
const boost::json::object& status_pipeline(const boost::json::object& status, const std::string& name);

// Whether this is the AddressSanitizer build, where everything runs several times slower: the longest
// end-to-end tests run a smaller workload there (the normal build runs the full one).
constexpr bool sanitizer_build() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#else
  return false;
#endif
}

// A TCP port that was free a moment ago, for servers that cannot be told to pick one themselves.
uint16_t free_port();

}  // namespace sluice::testing

#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/json.hpp>

#include "metrics/http_client.hpp"

extern char** environ;

namespace fs = std::filesystem;

namespace sluice::testing {
namespace {

// The test's environment with `extra` NAME=value entries added or replacing those of the same name.
std::vector<std::string> environment_with(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  for (const auto& entry : extra) {
    std::string name = entry.substr(0, entry.find('=') + 1);
    std::erase_if(env, [&](const std::string& e) { return e.starts_with(name); });
    env.push_back(entry);
  }
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Children start through posix_spawn, not fork + code of ours: tests start them while other threads of the test
// run (a workload writer running psql), and a child inherits every descriptor open at that moment that is not
// close-on-exec. A sluiced that inherited the write end of a writer thread's psql output pipe kept that
// thread's read from ever seeing EOF, and postgres_cdc's resume test hung until CTest's timeout; hence the
// pipes and sockets opened here are close-on-exec. posix_spawn also runs none of our code in the child, where
// after a fork of a threaded process a malloc may wait forever for a lock another thread held at the fork.
class SpawnActions {
 public:
  SpawnActions() { check(posix_spawn_file_actions_init(&actions_), "init"); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&actions_); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  void open(int fd, const std::string& path, int flags, mode_t mode = 0) {
    check(posix_spawn_file_actions_addopen(&actions_, fd, path.c_str(), flags, mode), "open " + path);
  }
  void dup2(int from, int to) { check(posix_spawn_file_actions_adddup2(&actions_, from, to), "dup2"); }
  const posix_spawn_file_actions_t* get() const { return &actions_; }

 private:
  static void check(int rc, const std::string& what) {
    if (rc != 0) throw std::runtime_error("posix_spawn_file_actions " + what + ": " + std::strerror(rc));
  }
  posix_spawn_file_actions_t actions_;
};

class OwnedFd {
 public:
  explicit OwnedFd(int fd) : fd_(fd) {}
  ~OwnedFd() { reset(); }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

std::string command_line(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
  return s;
}

}  // namespace

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "sluice-test.XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (std::getenv("SLUICE_KEEP_TEST_DIRS")) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void write_file(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

void append_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << content;
  if (!out) throw std::runtime_error("cannot append to " + path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "(cannot read " + path + ")";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

static std::string gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, size_t(n));
  gzclose(f);
  return out;
}

std::vector<std::string> finished_part_lines(const std::string& dir) {
  std::vector<std::string> files;
  if (!fs::exists(dir)) return {};
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string name = e.path().filename().string();
    if (name.starts_with(".")) continue;
    if (name.ends_with(".jsonl") || name.ends_with(".csv") || name.ends_with(".jsonl.gz") || name.ends_with(".csv.gz"))
      files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> lines;
  for (const auto& f : files) {
    std::string text = f.ends_with(".gz") ? gunzip(f) : read_file(f);
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> in_progress_parts(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.ends_with(".inprogress")) out.push_back(name);
  }
  return out;
}

std::string sluiced_path() { return SLUICED_PATH; }

Daemon::Daemon(std::vector<std::string> args, const std::string& log_path, std::vector<std::string> env) {
  SpawnActions actions;
  actions.open(STDOUT_FILENO, log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
  actions.dup2(STDOUT_FILENO, STDERR_FILENO);
  std::string bin = sluiced_path();
  args.insert(args.begin(), bin);
  auto argv = c_strings(args);
  auto environment = environment_with(env);
  auto envp = c_strings(environment);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, bin.c_str(), actions.get(), nullptr, argv.data(), envp.data());
  if (rc != 0) throw std::runtime_error("cannot start " + bin + " (log " + log_path + "): " + std::strerror(rc));
  pid_ = pid;
}

Daemon::~Daemon() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
  }
}

void Daemon::signal(int sig) {
  if (!reaped_) ::kill(pid_, sig);
}

bool Daemon::running() {
  if (reaped_) return false;
  pid_t r = ::waitpid(pid_, &status_, WNOHANG);
  if (r == pid_) reaped_ = true;
  return !reaped_;
}

int Daemon::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

size_t all_part_lines(const std::string& dir) {
  size_t n = 0;
  if (!fs::exists(dir)) return 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string text = read_file(e.path().string());
    n += size_t(std::count(text.begin(), text.end(), '\n'));
  }
  return n;
}

int run_sluiced(const std::vector<std::string>& args, const std::string& log_path, std::chrono::milliseconds timeout,
                std::vector<std::string> env) {
  Daemon d(args, log_path, std::move(env));
  int rc = d.wait(timeout);
  if (rc == -1) throw std::runtime_error("sluiced did not finish within the timeout; log: " + log_path);
  return rc;
}

void write_daemon_file(const TempDir& dir) {
  fs::create_directories(dir / "pipelines");
  write_file(dir / "sluice.yaml", "state_dir: " + (dir / "state") + "\npipelines_dir: " + (dir / "pipelines") +
                                      "\nlog: { level: info, format: text }\n"
                                      // Tests run side by side: let the kernel pick each daemon's port.
                                      "http: { listen: 127.0.0.1:0 }\n");
}

std::string gzip_text(const std::string& text) {
  std::string out(compressBound(uLong(text.size())) + 64, '\0');
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = uInt(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = uInt(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::optional<uint64_t> field_number(const std::string& line, const std::string& field) {
  std::string needle = "\"" + field + "\":";
  auto at = line.find(needle);
  if (at == std::string::npos) return std::nullopt;
  at += needle.size();
  if (at < line.size() && line[at] == '"') ++at;
  uint64_t v = 0;
  size_t digits = 0;
  for (; at < line.size() && std::isdigit(static_cast<unsigned char>(line[at])); ++at, ++digits) v = v * 10 + uint64_t(line[at] - '0');
  if (!digits) return std::nullopt;
  return v;
}

void require_ids_exactly_once(const std::vector<std::string>& lines, const std::string& field, uint64_t expected) {
  std::vector<uint32_t> seen(expected, 0);
  for (const auto& line : lines) {
    auto id = field_number(line, field);
    INFO("line: " << line);
    REQUIRE(id.has_value());
    REQUIRE(*id < expected);
    seen[*id]++;
  }
  for (uint64_t i = 0; i < expected; ++i) {
    if (seen[i] == 1) continue;
    FAIL(field << " " << i << " appears " << seen[i] << " times (want exactly once); " << lines.size() << " lines in all");
  }
  REQUIRE(lines.size() == expected);
}

void run_with_kills(const std::string& dir_path, int kills, std::chrono::milliseconds min_delay, std::chrono::milliseconds max_delay,
                    uint32_t seed) {
  using namespace std::chrono_literals;
  auto at = [&](const char* name) { return dir_path + "/" + name; };
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> delay(min_delay.count(), max_delay.count());
  for (int killed = 0; killed < kills; ++killed) {
    size_t starts = count_occurrences(read_file(at("sluiced.log")), "] sluiced ");
    std::error_code ec;
    fs::remove(at("state/http.address"), ec);
    Daemon d({"run", "--config", at("sluice.yaml"), "--once"}, at("sluiced.log"));
    for (auto until = std::chrono::steady_clock::now() + 30s;
         count_occurrences(read_file(at("sluiced.log")), "] sluiced ") == starts && d.running();)
      REQUIRE(std::chrono::steady_clock::now() < until);
    // The random moment is counted from the daemon's start-up log line, or, for every other kill, from this
    // run's first commit: kills then land both during start-up and while data flows, however slowly a loaded
    // machine or a sanitizer build starts sluiced.
    if (killed % 2 == 1) {
      const std::string address = wait_for_http_address(at("state"), 30s);
      bool committed = wait_for_first_commit(address, [&] { return d.running(); });
      INFO("kill " << killed + 1 << " of " << kills << ": no commit within 2 minutes; log: " << read_file(at("sluiced.log")));
      REQUIRE(committed);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay(rng)));
    INFO("kill " << killed + 1 << " of " << kills << "; log: " << read_file(at("sluiced.log")));
    REQUIRE(d.running());  // finished before all kills: the workload is too small to prove anything
    d.signal(SIGKILL);
    REQUIRE(d.wait(10s) == 128 + SIGKILL);
  }
  // Every run killed after its first commit left a commit for the next one to resume from.
  CHECK(count_occurrences(read_file(at("sluiced.log")), "resuming from") >= size_t(kills / 2));
  int rc = run_sluiced({"run", "--config", at("sluice.yaml"), "--once"}, at("sluiced.log"), 10min);
  INFO("log tail: " << read_file(at("sluiced.log")).substr(0, 4000));
  REQUIRE(rc == 0);
}

size_t count_occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout, std::chrono::milliseconds step) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

std::string wait_for_http_address(const std::string& state_dir, std::chrono::milliseconds timeout) {
  std::string address;
  bool found = wait_until(
      [&] {
        std::ifstream in(state_dir + "/http.address");
        return bool(in >> address);
      },
      timeout);
  if (!found) throw std::runtime_error("sluiced wrote no " + state_dir + "/http.address within the timeout");
  return address;
}

std::optional<double> metric_value(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ')
      return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

double metric_sum(const std::string& exposition, const std::string& family) {
  std::istringstream in(exposition);
  std::string line;
  double sum = 0;
  while (std::getline(in, line))
    if (line.size() > family.size() && line.compare(0, family.size(), family) == 0 && (line[family.size()] == '{' || line[family.size()] == ' '))
      sum += std::stod(line.substr(line.rfind(' ') + 1));
  return sum;
}

namespace {
// GET http://address/metrics: the exposition, or nullopt when unreachable or not 200.
std::optional<std::string> scrape_metrics(const std::string& address) {
  try {
    auto answer = metrics::http_get(address, "/metrics");
    if (answer.status != 200) return std::nullopt;
    return std::move(answer.body);
  } catch (const std::runtime_error&) {
    return std::nullopt;
  }
}
}  // namespace

std::optional<double> scrape_value(const std::string& address, const std::string& series) {
  auto body = scrape_metrics(address);
  return body ? metric_value(*body, series) : std::nullopt;
}

bool wait_for_first_commit(const std::string& address, const std::function<bool()>& running, std::chrono::milliseconds timeout) {
  return wait_until(
      [&] {
        if (!running()) return true;
        auto body = scrape_metrics(address);
        return body && metric_sum(*body, "sluice_records_out_total") > 0;
      },
      timeout, std::chrono::milliseconds(20));
}

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("cannot find a free port");
  uint16_t port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

CommandResult run_command(const std::vector<std::string>& args, const std::string& stdin_text, const std::vector<std::string>& env,
                          std::chrono::milliseconds timeout) {
  TempDir scratch;
  std::string input = scratch / "stdin";
  write_file(input, stdin_text);
  int pipefd[2];
  // Close-on-exec: only this child may hold the write end, or the read below waits for some other child too.
  if (::pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe for ") + args.at(0) + ": " + std::strerror(errno));
  OwnedFd out(pipefd[0]), child_out(pipefd[1]);
  SpawnActions actions;
  actions.open(STDIN_FILENO, input, O_RDONLY);
  actions.dup2(child_out.get(), STDOUT_FILENO);
  actions.dup2(child_out.get(), STDERR_FILENO);
  std::vector<std::string> arguments = args;
  auto argv = c_strings(arguments);
  auto environment = environment_with(env);
  auto envp = c_strings(environment);
  CommandResult result;
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv[0], actions.get(), nullptr, argv.data(), envp.data());
  child_out.reset();
  if (rc != 0) {
    result.exit_code = 127;
    result.output = "cannot run " + args.at(0) + ": " + std::strerror(rc) + "\n";
    return result;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      throw std::runtime_error("`" + command_line(args).substr(0, 300) + "` did not finish within " + std::to_string(timeout.count()) +
                               " ms and was killed; its output so far:\n" + result.output.substr(0, 4000));
    }
    pollfd p{out.get(), POLLIN, 0};
    int ready = ::poll(&p, 1, int(std::min<int64_t>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) throw std::runtime_error(std::string("poll on the output of ") + args.at(0) + ": " + std::strerror(errno));
    if (ready <= 0) continue;
    ssize_t n = ::read(out.get(), buf, sizeof buf);
    if (n > 0) result.output.append(buf, size_t(n));
    else if (n < 0 && errno == EINTR) continue;
    else break;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  return false;
}

boost::json::object daemon_status(const std::string& address) {
  auto answer = metrics::http_get(address, "/status");
  if (answer.status != 200) throw std::runtime_error(address + "/status answered " + std::to_string(answer.status) + ": " + answer.body);
  return boost::json::parse(answer.body).as_object();
}

const boost::json::object& status_pipeline(const boost::json::object& status, const std::string& name) {
  for (const auto& p : status.at("pipelines").as_array())
    if (p.as_object().at("name").as_string() == name) return p.as_object();
  throw std::runtime_error("no pipeline " + name + " in /status");
}

}  // namespace sluice::testing

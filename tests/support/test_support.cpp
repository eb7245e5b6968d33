#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/json.hpp>

#include "metrics/http_client.hpp"

namespace fs = std::filesystem;

namespace sluice::testing {

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
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    for (auto& e : env) ::putenv(e.data());
    std::vector<char*> argv;
    std::string bin = sluiced_path();
    argv.push_back(bin.data());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
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
    Daemon d({"run", "--config", at("sluice.yaml"), "--once"}, at("sluiced.log"));
    // The random moment is counted from the daemon's start-up log line, so that kills land while data flows
    // (start-up is much slower under sanitizers) rather than before the first commit.
    for (auto until = std::chrono::steady_clock::now() + 30s;
         count_occurrences(read_file(at("sluiced.log")), "] sluiced ") == starts && d.running();)
      REQUIRE(std::chrono::steady_clock::now() < until);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay(rng)));
    INFO("kill " << killed + 1 << " of " << kills << "; log: " << read_file(at("sluiced.log")));
    REQUIRE(d.running());  // finished before all kills: the workload is too small to prove anything
    d.signal(SIGKILL);
    REQUIRE(d.wait(10s) == 128 + SIGKILL);
  }
  // Kills landed mid-stream: most restarts resumed from a commit of an earlier run (a kill during start-up,
  // slow under sanitizers, may precede the first commit).
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

std::optional<double> scrape_value(const std::string& address, const std::string& series) {
  try {
    auto answer = metrics::http_get(address, "/metrics");
    if (answer.status != 200) return std::nullopt;
    return metric_value(answer.body, series);
  } catch (const std::runtime_error&) {
    return std::nullopt;
  }
}

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
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

CommandResult run_command(const std::vector<std::string>& args, const std::string& stdin_text,
                          const std::vector<std::string>& env) {
  TempDir scratch;
  std::string input = scratch / "stdin";
  write_file(input, stdin_text);
  int pipefd[2];
  if (::pipe(pipefd) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int in = ::open(input.c_str(), O_RDONLY);
    if (in >= 0) ::dup2(in, STDIN_FILENO);
    ::dup2(pipefd[1], STDOUT_FILENO);
    ::dup2(pipefd[1], STDERR_FILENO);
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  CommandResult result;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(pipefd[0], buf, sizeof buf);
    if (n > 0) result.output.append(buf, size_t(n));
    else if (n < 0 && errno == EINTR) continue;
    else break;
  }
  ::close(pipefd[0]);
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

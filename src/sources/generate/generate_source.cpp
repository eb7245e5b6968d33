#include "sources/generate/generate_source.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <cmath>

#include "core/async.hpp"

namespace sluice::sources::generate {
using config::opt;
using core::awaitable;

const config::Schema<GenerateOptions>& GenerateOptions::schema() {
  static const config::Schema<GenerateOptions> s{
      "source (generate)",
      {opt(&GenerateOptions::count, "count", "records to generate, then the source is exhausted; omit for endless"),
       opt(&GenerateOptions::rate, "rate", "mean records per second; 0 = as fast as possible (timestamps then 1 ms apart)").min(0),
       opt(&GenerateOptions::arrival, "arrival",
           "inter-arrival times: fixed 1/rate, exponential with mean 1/rate, or a non-homogeneous Poisson process following profile"),
       opt(&GenerateOptions::profile, "profile",
           "nhpp: [[hour, rate], ...] rates by UTC hour of day; each holds until the next listed hour"),
       opt(&GenerateOptions::seed, "seed", "the same seed (and start_time) gives the same records"),
       opt(&GenerateOptions::keys, "keys", "number of distinct values of the `key` field").min(1),
       opt(&GenerateOptions::payload_bytes, "payload_bytes", "length of the random `payload` string").max(1 << 20),
       opt(&GenerateOptions::start_time, "start_time",
           "event time of the first record: RFC 3339, or now (the first start; kept across restarts)")},
      [](const GenerateOptions& o, const config::Value& node, config::Context& ctx) {
        auto mark_of = [&](const char* key) {
          const config::Value* v = node.find(key);
          return v ? v->mark : node.mark;
        };
        if (o.arrival == ArrivalKind::nhpp) {
          RateProfile profile{o.profile};
          if (auto err = profile.validate()) ctx.error(mark_of("profile"), "invalid nhpp profile: " + *err);
        } else {
          if (!o.profile.empty()) ctx.error(mark_of("profile"), "profile is only used with arrival: nhpp");
          if (o.arrival == ArrivalKind::poisson && o.rate == 0)
            ctx.error(mark_of("arrival"), "arrival: poisson needs a rate above 0 (the mean inter-arrival time is 1/rate)");
        }
        if (o.arrival == ArrivalKind::nhpp && node.find("rate"))
          ctx.error(mark_of("rate"), "rate is not used with arrival: nhpp; the profile sets the rate");
        if (o.start_time != "now" && !parse_rfc3339_ms(o.start_time))
          ctx.error(mark_of("start_time"), "invalid start_time '" + o.start_time + "': use RFC 3339 (2026-01-02T03:04:05Z) or now");
      }};
  return s;
}

namespace {

constexpr const char* kPartition = "generate";
constexpr size_t kChunk = 1024;
constexpr uint64_t kPayloadStream = 0x9E3779B97F4A7C15ull;  // a different counter stream from the arrivals'

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

void append_digits(std::string& out, int64_t v, int width) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  for (int pad = width - int(p - buf); pad > 0; --pad) out.push_back('0');
  out.append(buf, p);
}

struct Position {
  uint64_t next_seq = 0;
  int64_t last_t_ns = -1;  // virtual time of the last emitted record; -1 before the first
  int64_t start_ms = 0;
};

std::optional<Position> parse_position(const std::string& text) {
  Position p;
  long long a, b, c;
  if (std::sscanf(text.c_str(), "%lld %lld %lld", &a, &b, &c) != 3 || a < 0) return std::nullopt;
  p.next_seq = uint64_t(a);
  p.last_t_ns = b;
  p.start_ms = c;
  return p;
}

std::string format_position(const Position& p) {
  return std::to_string(p.next_seq) + " " + std::to_string(p.last_t_ns) + " " + std::to_string(p.start_ms);
}

}  // namespace

void append_iso8601_ms(std::string& out, int64_t unix_ms) {
  int64_t days = unix_ms >= 0 ? unix_ms / 86400000 : (unix_ms - 86399999) / 86400000;
  int64_t ms_of_day = unix_ms - days * 86400000;
  // civil_from_days (H. Hinnant's algorithm)
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = int64_t(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  append_digits(out, y, 4);
  out.push_back('-');
  append_digits(out, m, 2);
  out.push_back('-');
  append_digits(out, d, 2);
  out.push_back('T');
  append_digits(out, ms_of_day / 3600000, 2);
  out.push_back(':');
  append_digits(out, ms_of_day / 60000 % 60, 2);
  out.push_back(':');
  append_digits(out, ms_of_day / 1000 % 60, 2);
  out.push_back('.');
  append_digits(out, ms_of_day % 1000, 3);
  out.push_back('Z');
}

std::optional<int64_t> parse_rfc3339_ms(std::string_view t) {
  int y, mo, d, h, mi, s;
  if (t.size() < 20) return std::nullopt;
  std::string text(t);
  char sep;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &s, &consumed) != 7 || consumed != 19)
    return std::nullopt;
  if ((sep != 'T' && sep != 't' && sep != ' ') || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
    return std::nullopt;
  size_t i = 19;
  int64_t frac_ms = 0;
  if (i < t.size() && t[i] == '.') {
    int64_t scale = 100;
    for (++i; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i, scale /= 10) frac_ms += (t[i] - '0') * scale;
  }
  int64_t offset_min = 0;
  if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) {
    ++i;
  } else if (i + 6 == t.size() && (t[i] == '+' || t[i] == '-') && t[i + 3] == ':') {
    int oh = std::atoi(text.substr(i + 1, 2).c_str()), om = std::atoi(text.substr(i + 4, 2).c_str());
    offset_min = (t[i] == '+' ? 1 : -1) * (oh * 60 + om);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != t.size()) return std::nullopt;
  int64_t days = days_from_civil(y, unsigned(mo), unsigned(d));
  return ((days * 24 + h) * 60 + mi - offset_min) * 60000 + int64_t(s) * 1000 + frac_ms;
}

GenerateSource::GenerateSource(const GenerateOptions& options) : options_(options) {}

void GenerateSource::render(uint64_t seq, int64_t event_ms, std::string& out) const {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
  Rng rng(options_.seed ^ kPayloadStream, seq);
  out.reserve(out.size() + 80 + options_.payload_bytes);
  out.append(R"({"seq":)");
  append_digits(out, int64_t(seq), 1);
  out.append(R"(,"ts":")");
  append_iso8601_ms(out, event_ms);
  out.append(R"(","key":"key-)");
  append_digits(out, int64_t(rng.next_u64() % options_.keys), 1);
  out.append(R"(","payload":")");
  for (uint64_t i = 0; i < options_.payload_bytes;) {
    uint64_t bits = rng.next_u64();
    for (int j = 0; j < 10 && i < options_.payload_bytes; ++j, ++i, bits >>= 6) out.push_back(kAlphabet[bits & 63]);
  }
  out.append(R"("})");
}

awaitable<void> GenerateSource::run(core::SourceContext& ctx) {
  const uint32_t partition = ctx.partition(kPartition);
  Position pos;
  if (auto it = ctx.checkpoint().find(kPartition); it != ctx.checkpoint().end()) {
    auto parsed = parse_position(it->second);
    if (!parsed) throw std::runtime_error("unreadable generate position '" + it->second + "' in the checkpoint");
    pos = *parsed;
  } else {
    pos.start_ms = options_.start_time == "now"
                       ? std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count()
                       : *parse_rfc3339_ms(options_.start_time);
  }
  if (pos.next_seq > 0) ctx.log().info("generator resuming at seq {}", pos.next_seq);

  const bool paced = options_.rate > 0 || options_.arrival == ArrivalKind::nhpp;
  std::optional<ArrivalProcess> arrivals;
  if (paced) {
    double start_hour = std::fmod(double(pos.start_ms) / 3600000.0, 24.0);
    arrivals.emplace(options_.arrival, options_.rate, RateProfile{options_.profile}, start_hour);
  }
  auto next_t = [&](uint64_t seq, int64_t prev_t_ns) -> int64_t {
    if (prev_t_ns < 0) return 0;
    if (!paced) return prev_t_ns + 1'000'000;
    Rng rng(options_.seed, seq);
    double gap = arrivals->next_gap(double(prev_t_ns) / 1e9, rng);
    return prev_t_ns + std::max<int64_t>(1, std::llround(gap * 1e9));
  };

  // Virtual time maps onto wall time from this start on, so a restart does not burst to catch up.
  const auto wall_anchor = std::chrono::steady_clock::now();
  const int64_t t_anchor = next_t(pos.next_seq, pos.last_t_ns);
  boost::asio::steady_timer timer(ctx.executor());
  core::Records chunk;
  chunk.reserve(kChunk);
  int64_t pending_t = t_anchor;  // virtual time of record pos.next_seq
  for (;;) {
    if (options_.count && pos.next_seq >= *options_.count) co_return;
    auto now = std::chrono::steady_clock::now();
    while (chunk.size() < kChunk && !(options_.count && pos.next_seq >= *options_.count)) {
      auto due = wall_anchor + std::chrono::nanoseconds(pending_t - t_anchor);
      if (paced && due > now + std::chrono::milliseconds(1)) break;
      core::Record& r = chunk.emplace_back();
      r.event_time_ms = pos.start_ms + pending_t / 1'000'000;
      render(pos.next_seq, r.event_time_ms, r.value);
      r.partition = partition;
      pos.last_t_ns = pending_t;
      ++pos.next_seq;
      pending_t = next_t(pos.next_seq, pending_t);
    }
    if (chunk.empty()) {
      timer.expires_at(wall_anchor + std::chrono::nanoseconds(pending_t - t_anchor));
      co_await timer.async_wait(boost::asio::use_awaitable);
      continue;
    }
    // Only the chunk's last record carries the position: batches end on chunk boundaries, and the other
    // records need no position string of their own.
    chunk.back().position = format_position(pos);
    co_await ctx.push(chunk);
  }
}

core::SourceFactory factory() {
  return core::make_source_factory<GenerateOptions, GenerateSource>(
      "generate", "Synthetic records with a gap-free seq, at a constant, Poisson or hourly-profile (NHPP) rate");
}

}  // namespace sluice::sources::generate

#include "sources/generate/generate_source.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <cmath>
#include <cstring>

#include "core/async.hpp"
#include "formats/timestamp.hpp"

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
        if (o.start_time != "now" && !formats::parse_rfc3339_ms(o.start_time))
          ctx.error(mark_of("start_time"), "invalid start_time '" + o.start_time + "': use RFC 3339 (2026-01-02T03:04:05Z) or now");
      }};
  return s;
}

namespace {

constexpr const char* kPartition = "generate";
constexpr size_t kChunk = 1024;
constexpr uint64_t kPayloadStream = 0x9E3779B97F4A7C15ull;  // a different counter stream from the arrivals'

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

GenerateSource::GenerateSource(const GenerateOptions& options) : options_(options) {}

RecordRenderer::RecordRenderer(const GenerateOptions& options) : options_(options) {}

void RecordRenderer::render(uint64_t seq, int64_t event_ms, std::string& out) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
  static constexpr std::string_view kSeq = R"({"seq":)", kTs = R"(,"ts":")", kKey = R"(","key":"key-)", kPayload = R"(","payload":")",
                                    kEnd = R"("})";
  const int64_t second = event_ms >= 0 ? event_ms / 1000 : (event_ms - 999) / 1000;
  if (second_text_.empty() || second != second_) {
    second_text_.clear();
    formats::append_iso8601_ms(second_text_, second * 1000);
    second_text_.resize(second_text_.size() - 4);  // "000Z"
    second_ = second;
  }
  const uint64_t payload = options_.payload_bytes;
  const size_t most = kSeq.size() + 20 + kTs.size() + second_text_.size() + 4 + kKey.size() + 20 + kPayload.size() + payload + kEnd.size();
  if (scratch_.size() < most) scratch_.resize(most);
  char* p = scratch_.data();
  auto put = [&p](std::string_view text) {
    std::memcpy(p, text.data(), text.size());
    p += text.size();
  };
  Rng rng(options_.seed ^ kPayloadStream, seq);
  put(kSeq);
  p = std::to_chars(p, p + 20, seq).ptr;
  put(kTs);
  put(second_text_);
  const auto millis = unsigned(event_ms - second * 1000);
  *p++ = char('0' + millis / 100);
  *p++ = char('0' + millis / 10 % 10);
  *p++ = char('0' + millis % 10);
  *p++ = 'Z';
  put(kKey);
  p = std::to_chars(p, p + 20, rng.next_u64() % options_.keys).ptr;
  put(kPayload);
  for (uint64_t i = 0; i < payload;) {
    uint64_t bits = rng.next_u64();
    for (int j = 0; j < 10 && i < payload; ++j, ++i, bits >>= 6) *p++ = kAlphabet[bits & 63];
  }
  put(kEnd);
  out.assign(scratch_.data(), size_t(p - scratch_.data()));
}

awaitable<void> GenerateSource::run(core::SourceContext& ctx) {
  const uint32_t partition = ctx.partition(kPartition);
  Position pos;
  if (auto it = ctx.checkpoint().find(kPartition); it != ctx.checkpoint().end()) {
    auto parsed = parse_position(it->second);
    if (!parsed) throw std::runtime_error("unreadable generate position '" + it->second + "' in the checkpoint");
    pos = *parsed;
  } else {
    pos.start_ms = options_.start_time == "now" ? formats::unix_ms_now() : *formats::parse_rfc3339_ms(options_.start_time);
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
  RecordRenderer renderer(options_);
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
      renderer.render(pos.next_seq, r.event_time_ms, r.value);
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

#include "core/status.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "formats/timestamp.hpp"

namespace sluice::core {
namespace json = boost::json;

namespace {

json::value timestamp(int64_t unix_ms) {
  if (unix_ms <= 0) return nullptr;
  std::string s;
  formats::append_iso8601_ms(s, unix_ms);
  return json::value(s);
}

json::value seconds_since(int64_t unix_ms, int64_t now_ms) {
  if (unix_ms <= 0) return nullptr;
  return double(std::max<int64_t>(0, now_ms - unix_ms)) / 1e3;
}

json::value finite_or_null(double v) {
  if (!std::isfinite(v)) return nullptr;
  return v;
}

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

std::string render_status(const StatusInput& in) {
  int64_t now = formats::unix_ms_now();
  json::object root;
  root["version"] = in.version;
  root["started_at"] = timestamp(in.started_unix_ms);
  root["uptime_s"] = double(now - in.started_unix_ms) / 1e3;
  root["ready"] = in.ready;
  root["reloading"] = in.reloading;
  root["startup_errors"] = strings(in.startup_errors);

  json::array pipelines;
  for (const auto& p : in.pipelines) {
    const auto& s = *p.stats;
    const auto& q = p.config->queue;
    uint64_t cap_bytes = q.policy == Policy::buffer ? q.buffer.max_bytes.bytes : q.max_bytes.bytes;
    json::object o;
    o["name"] = p.config->name;
    o["state"] = state_name(p.state);
    o["config_hash"] = p.config->config_hash;
    o["file"] = p.config->file;
    o["source"] = p.config->source.common.type;
    o["sink"] = p.config->sink.common.type;
    json::object position;
    for (const auto& [partition, value] : s.committed_position) position[partition] = value;
    o["position"] = std::move(position);
    o["records_in"] = s.records_in;
    o["bytes_in"] = s.bytes_in;
    o["records_out"] = s.records_out;
    o["bytes_out"] = s.bytes_out;
    json::object dropped;
    for (const auto& [reason, count] : s.dropped) dropped[reason] = count;
    o["dropped"] = std::move(dropped);
    o["rejected"] = s.rejected;
    o["arrival_rate"] = s.arrival_rate;
    o["service_rate"] = s.service_rate;
    json::object queue;
    queue["records"] = s.queue_records;
    queue["bytes"] = s.queue_bytes;
    queue["capacity_records"] = q.max_records;
    queue["capacity_bytes"] = cap_bytes;
    // The fuller of the two limits is the one that will throttle or drop first.
    double fill = std::max(q.max_records ? double(s.queue_records) / double(q.max_records) : 0.0,
                           cap_bytes ? double(s.queue_bytes) / double(cap_bytes) : 0.0);
    queue["fill"] = fill;
    queue["policy"] = config::EnumNames<Policy>::values[size_t(q.policy)].second;
    o["queue"] = std::move(queue);
    o["time_to_overflow_s"] = finite_or_null(s.time_to_overflow_s);
    o["source_lag_s"] = seconds_since(s.last_read_event_time_ms, now);
    o["end_to_end_lag_s"] = seconds_since(s.last_event_time_ms, now);
    o["commits"] = s.commits;
    o["last_commit_at"] = timestamp(s.last_commit_unix_ms);
    o["commit_p50_ms"] = s.commit_latency.quantile(0.5) * 1e3;
    o["commit_p99_ms"] = s.commit_latency.quantile(0.99) * 1e3;
    o["last_error"] = s.last_error.empty() ? json::value(nullptr) : json::value(s.last_error);
    o["last_error_at"] = timestamp(s.last_error_unix_ms);
    o["restarts"] = s.restarts;
    o["degraded"] = s.degraded.empty() ? json::value(nullptr) : json::value(s.degraded);
    o["degraded_since"] = timestamp(s.degraded_since_unix_ms);
    o["instance"] = p.instance;
    o["tap_readers"] = p.tap_readers;
    o["tap_skipped"] = s.tap_skipped;
    pipelines.emplace_back(std::move(o));
  }
  root["pipelines"] = std::move(pipelines);

  json::object reload;
  reload["signals"] = in.reload_signals;
  reload["succeeded"] = in.reloads_succeeded;
  reload["failed"] = in.reloads_failed;
  auto report = [](const ReloadReport* r) -> json::value {
    if (!r || r->sequence == 0) return nullptr;
    json::object last;
    last["sequence"] = r->sequence;
    last["at"] = timestamp(r->at_unix_ms);
    last["result"] = r->succeeded ? "success" : "failure";
    last["errors"] = strings(r->errors);
    last["started"] = strings(r->started);
    last["restarted"] = strings(r->restarted);
    last["stopped"] = strings(r->stopped);
    last["unchanged"] = r->unchanged;
    return last;
  };
  reload["last"] = report(in.last_reload);
  reload["last_failure"] = report(in.last_failed_reload);
  root["reload"] = std::move(reload);
  return json::serialize(root) + "\n";
}

namespace {

std::string rate(double v) {
  char buf[32];
  if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.1fM", v / 1e6);
  else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

std::string seconds(const json::value* v) {
  if (!v || v->is_null()) return "-";
  double s = v->to_number<double>();
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.1fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%.0fm%02.0fs", std::floor(s / 60), std::fmod(s, 60));
  else std::snprintf(buf, sizeof buf, "%.1fh", s / 3600);
  return buf;
}

uint64_t number(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_number() ? v->to_number<uint64_t>() : 0;
}

std::string pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace

std::string format_status_table(const std::string& status_json) {
  json::value doc;
  try {
    doc = json::parse(status_json);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("the daemon's /status is not JSON: ") + e.what());
  }
  if (!doc.is_object() || !doc.as_object().contains("pipelines")) throw std::runtime_error("the daemon's /status has no pipelines");
  const auto& root = doc.as_object();

  std::vector<std::vector<std::string>> rows{
      {"PIPELINE", "STATE", "IN/S", "OUT/S", "QUEUE", "OVERFLOW IN", "LAG", "COMMITTED", "DROPPED", "REJECTED", "RESTARTS", "LAST ERROR"}};
  for (const auto& pv : root.at("pipelines").as_array()) {
    const auto& p = pv.as_object();
    uint64_t dropped = 0;
    for (const auto& [reason, count] : p.at("dropped").as_object()) dropped += count.to_number<uint64_t>();
    char fill[16];
    std::snprintf(fill, sizeof fill, "%.0f%%", p.at("queue").as_object().at("fill").to_number<double>() * 100);
    std::string error = p.at("last_error").is_string() ? std::string(p.at("last_error").as_string()) : "-";
    if (error.size() > 60) {
      error.resize(57);
      error += "...";
    }
    std::string state(p.at("state").as_string());
    const auto* degraded = p.if_contains("degraded");
    if (degraded && degraded->is_string()) {
      state += " (degraded)";
      error = std::string(degraded->as_string()) + (error == "-" ? "" : "; " + error);
      if (error.size() > 60) {
        error.resize(57);
        error += "...";
      }
    }
    rows.push_back({std::string(p.at("name").as_string()), state,
                    rate(p.at("arrival_rate").to_number<double>()), rate(p.at("service_rate").to_number<double>()), fill,
                    seconds(p.if_contains("time_to_overflow_s")), seconds(p.if_contains("end_to_end_lag_s")),
                    std::to_string(number(p, "records_out")), std::to_string(dropped), std::to_string(number(p, "rejected")),
                    std::to_string(number(p, "restarts")), error});
  }
  std::vector<size_t> widths(rows.front().size(), 0);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], r[i].size());

  std::string out = "sluiced " + std::string(root.at("version").as_string()) + ", up " + seconds(root.if_contains("uptime_s")) + ", " +
                    (root.at("ready").as_bool() ? "ready" : "not ready") + "\n";
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) line += i + 1 < r.size() ? pad(r[i], widths[i] + 2) : r[i];
    out += line + "\n";
  }
  if (rows.size() == 1) out += "(no pipelines)\n";
  for (const auto& e : root.at("startup_errors").as_array()) out += "invalid at start-up: " + std::string(e.as_string()) + "\n";
  const auto& last = root.at("reload").as_object().at("last");
  if (last.is_object()) {
    const auto& r = last.as_object();
    out += "last reload #" + std::to_string(number(r, "sequence")) + ": " + std::string(r.at("result").as_string());
    if (r.at("at").is_string()) out += " at " + std::string(r.at("at").as_string());
    out += "\n";
    for (const auto& e : r.at("errors").as_array()) out += "  " + std::string(e.as_string()) + "\n";
  }
  const auto* failure = root.at("reload").as_object().if_contains("last_failure");
  if (failure && failure->is_object() && last.is_object() && last.as_object().at("result").as_string() == "success") {
    const auto& r = failure->as_object();
    out += "last failed reload #" + std::to_string(number(r, "sequence")) + (r.at("at").is_string() ? " at " + std::string(r.at("at").as_string()) : "") + "\n";
    for (const auto& e : r.at("errors").as_array()) out += "  " + std::string(e.as_string()) + "\n";
  }
  return out;
}

}  // namespace sluice::core

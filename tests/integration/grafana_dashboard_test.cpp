// The monitoring artefacts shipped in docs/ stay true to the daemon: every metric the Grafana dashboard
// (docs/grafana/sluice.json) and the alerting rules (docs/alerts/sluice.rules.yml) query is one a live sluiced
// exports, every query is valid PromQL, the rules pass `promtool check rules`, and each alert fires on the
// situation it is meant for and stays quiet on its look-alikes (`promtool test rules`).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>
#include <yaml-cpp/yaml.h>

#include "metrics/http_client.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using namespace sluice::testing;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

const std::string kDashboard = std::string(SLUICE_SOURCE_DIR) + "/docs/grafana/sluice.json";
const std::string kRules = std::string(SLUICE_SOURCE_DIR) + "/docs/alerts/sluice.rules.yml";

// One PromQL query found in the dashboard or the rules, with where it was found for failure messages.
struct Query {
  std::string where;
  std::string expr;
};

void require_promtool() {
  if (!on_path("promtool"))
    FAIL("promtool is not on PATH: install Debian's prometheus package (scripts/setup.sh does) to check the alert rules");
}

// Metric names a /metrics answer exports: every sample's name, plus the names each `# TYPE` line declares,
// so that a family the daemon declares before it has a series (drops by reason before the first drop) counts.
// A histogram X exports X_bucket, X_sum and X_count; a summary X exports X, X_sum and X_count.
std::set<std::string> exported_names(const std::string& exposition) {
  std::set<std::string> names;
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      if (type == "histogram") {
        for (const char* suffix : {"_bucket", "_sum", "_count"}) names.insert(name + suffix);
      } else if (type == "summary") {
        for (const char* suffix : {"", "_sum", "_count"}) names.insert(name + suffix);
      } else {
        names.insert(name);
      }
      continue;
    }
    if (line[0] == '#') continue;
    names.insert(line.substr(0, line.find_first_of("{ ")));
  }
  return names;
}

// Every identifier starting with sluice_ in a PromQL expression, outside string literals (so a label value such
// as job="sluice_prod" is not taken for a metric).
std::set<std::string> sluice_names_in(const std::string& expr) {
  std::string code;
  char quote = 0;
  for (size_t i = 0; i < expr.size(); ++i) {
    char c = expr[i];
    if (quote) {
      if (c == '\\' && quote != '`') ++i;
      else if (c == quote) quote = 0;
      code += ' ';
    } else if (c == '"' || c == '\'' || c == '`') {
      quote = c;
      code += ' ';
    } else {
      code += c;
    }
  }
  static const std::regex identifier(R"((^|[^A-Za-z0-9_:$])(sluice_[A-Za-z0-9_:]*))");
  std::set<std::string> names;
  for (std::sregex_iterator it(code.begin(), code.end(), identifier), end; it != end; ++it) names.insert((*it)[2].str());
  return names;
}

json::value load_dashboard() {
  std::string text = read_file(kDashboard);
  INFO("reading " << kDashboard);
  json::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec) FAIL(kDashboard << " is not valid JSON: " << ec.message());
  REQUIRE(doc.is_object());
  return doc;
}

// Walks the whole document for "expr" strings (panel targets, wherever they nest: rows, library panels) and
// for the queries of query variables, naming each by its JSON path and the nearest panel title.
void collect_queries(const json::value& v, const std::string& path, const std::string& panel, std::vector<Query>& out) {
  if (v.is_object()) {
    const auto& o = v.as_object();
    std::string here = panel;
    if (const auto* title = o.if_contains("title"); title && title->is_string() && o.contains("type"))
      here = "panel \"" + std::string(title->as_string()) + "\"";
    for (const auto& [key, child] : o) {
      std::string child_path = path + "/" + std::string(key);
      if (key == "expr" && child.is_string()) {
        std::string ref = o.contains("refId") && o.at("refId").is_string() ? ", refId " + std::string(o.at("refId").as_string()) : "";
        out.push_back({here + ref + " (" + child_path + ")", std::string(child.as_string())});
      } else {
        collect_queries(child, child_path, here, out);
      }
    }
  } else if (v.is_array()) {
    const auto& a = v.as_array();
    for (size_t i = 0; i < a.size(); ++i) collect_queries(a[i], path + "/" + std::to_string(i), panel, out);
  }
}

std::vector<Query> dashboard_queries(const json::value& doc) {
  std::vector<Query> queries;
  collect_queries(doc, "", "dashboard", queries);
  if (const auto* templating = doc.as_object().if_contains("templating")) {
    for (const auto& var : templating->at("list").as_array()) {
      const auto& o = var.as_object();
      if (o.at("type").as_string() != "query") continue;
      std::string where = "variable $" + std::string(o.at("name").as_string());
      if (const auto* def = o.if_contains("definition"); def && def->is_string())
        queries.push_back({where + " (definition)", std::string(def->as_string())});
      if (const auto* q = o.if_contains("query")) {
        if (q->is_string()) queries.push_back({where + " (query)", std::string(q->as_string())});
        else if (q->is_object() && q->as_object().contains("query"))
          queries.push_back({where + " (query)", std::string(q->as_object().at("query").as_string())});
      }
    }
  }
  return queries;
}

std::vector<Query> rule_queries() {
  std::vector<Query> queries;
  YAML::Node doc = YAML::LoadFile(kRules);
  for (const auto& group : doc["groups"])
    for (const auto& rule : group["rules"]) {
      std::string name = rule["alert"] ? "alert " + rule["alert"].as<std::string>() : "record " + rule["record"].as<std::string>();
      queries.push_back({name + " in " + kRules, rule["expr"].as<std::string>()});
    }
  return queries;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
  return text;
}

// A dashboard query as Prometheus would get it from Grafana, with the variables Grafana fills in.
std::string as_grafana_sends_it(std::string expr) {
  for (const auto& [var, value] : std::vector<std::pair<std::string, std::string>>{
           {"$__rate_interval", "1m"}, {"$__interval", "15s"}, {"$__range", "1h"}, {"${instance}", ".*"},
           {"$instance", ".*"}, {"${pipeline}", ".*"}, {"$pipeline", ".*"}})
    expr = replace_all(expr, var, value);
  return expr;
}

// A YAML double-quoted string.
std::string yaml_quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') out += "\\n";
    else out += c;
  }
  return out + "\"";
}

}  // namespace

TEST_CASE("every metric the Grafana dashboard and the alert rules query is one a live sluiced exports", "[grafana]") {
  TempDir dir;
  write_daemon_file(dir);
  write_file(dir / "pipelines/gen.yaml", "source: { type: generate, rate: 2000, seed: 7 }\nsink: { type: file, path: " + (dir / "out") +
                                             ", format: jsonl, batch: { max_wait: 50ms } }\n");
  Daemon daemon({"run", "--config", dir / "sluice.yaml"}, dir / "log");
  std::string address;
  try {
    address = wait_for_http_address(dir / "state", 10s);
  } catch (const std::exception& e) {
    FAIL(e.what() << "\ndaemon log:\n" << read_file(dir / "log"));
  }
  if (!wait_until([&] { return scrape_value(address, R"(sluice_commits_total{pipeline="gen"})").value_or(0) > 0; }, 10s))
    FAIL("no commit within 10 s (sluice_commits_total{pipeline=\"gen\"} stayed 0)\ndaemon log:\n" << read_file(dir / "log"));
  auto scrape = metrics::http_get(address, "/metrics");
  REQUIRE(scrape.status == 200);

  // A clean stop: SIGTERM drains, commits and exits 0.
  daemon.signal(SIGTERM);
  int exit_code = daemon.wait(30s);
  {
    INFO("daemon log:\n" << read_file(dir / "log"));
    REQUIRE(exit_code == 0);
  }

  std::set<std::string> exported = exported_names(scrape.body);
  // The exposition parser itself: a counter, a labelled gauge and the three series of the histogram.
  for (const char* name : {"sluice_records_in_total", "sluice_pipeline_state", "sluice_commit_duration_seconds_bucket",
                           "sluice_commit_duration_seconds_sum", "sluice_commit_duration_seconds_count", "sluice_reloads_total"}) {
    INFO("the scrape:\n" << scrape.body);
    REQUIRE(exported.count(name) == 1);
  }

  json::value doc = load_dashboard();
  std::vector<Query> queries = dashboard_queries(doc);
  REQUIRE(queries.size() >= 20);
  size_t from_dashboard = queries.size();
  for (auto& q : rule_queries()) queries.push_back(std::move(q));
  REQUIRE(queries.size() > from_dashboard);

  std::string offenders;
  for (const auto& q : queries) {
    auto names = sluice_names_in(q.expr);
    if (q.where.rfind("panel", 0) == 0 && names.empty()) offenders += q.where + " queries no sluice_ metric: " + q.expr + "\n";
    for (const auto& name : names)
      if (!exported.count(name)) offenders += q.where + " uses " + name + ", which sluiced does not export:\n    " + q.expr + "\n";
  }
  {
    std::string exported_list;
    for (const auto& name : exported) exported_list += "  " + name + "\n";
    INFO("not exported, or not a sluice query:\n" << offenders << "sluiced exports:\n" << exported_list);
    REQUIRE(offenders.empty());
  }

  // The panels the dashboard exists for: each topic needs at least one dashboard query on a metric named for it.
  const std::vector<std::string> topics = {
      "records_in",   "records_out",   "bytes_in",      "bytes_out",        "end_to_end_lag", "source_lag",
      "queue_records", "queue_bytes",  "queue_capacity", "arrival_rate",    "service_rate",   "time_to_overflow",
      "dropped",      "rejected",      "commit_duration", "commits_total",  "pipeline_up",    "pipeline_state",
      "restarts",     "reloads_total", "last_reload_errors"};
  std::string missing;
  for (const auto& topic : topics) {
    bool covered = false;
    for (size_t i = 0; i < from_dashboard && !covered; ++i)
      for (const auto& name : sluice_names_in(queries[i].expr))
        if (name.find(topic) != std::string::npos) covered = true;
    if (!covered) missing += " " + topic;
  }
  INFO("no dashboard query covers:" << missing);
  CHECK(missing.empty());

  // The operations page describes every family the daemon exports.
  std::string page = read_file(std::string(SLUICE_SOURCE_DIR) + "/docs/operations.md");
  std::string undocumented;
  std::istringstream lines(scrape.body);
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind("# TYPE ", 0) == 0) {
      std::string family = line.substr(7, line.find(' ', 7) - 7);
      if (page.find("`" + family + "`") == std::string::npos) undocumented += " " + family;
    }
  INFO("exported but not described in docs/operations.md:" << undocumented);
  CHECK(undocumented.empty());
}

TEST_CASE("the Grafana dashboard is importable: its frame, variables, data source and units", "[grafana]") {
  json::value doc = load_dashboard();
  const auto& d = doc.as_object();
  CHECK(d.at("title").as_string() == "sluice");
  CHECK(!d.at("uid").as_string().empty());
  CHECK(d.at("uid").as_string().size() <= 40);
  CHECK(d.at("schemaVersion").to_number<int>() >= 36);
  CHECK(!d.at("tags").as_array().empty());
  CHECK(d.at("time").as_object().at("from").as_string() == "now-1h");
  CHECK(d.at("time").as_object().at("to").as_string() == "now");
  CHECK(d.at("refresh").as_string() == "10s");
  // Import gives the dashboard its own id.
  CHECK((!d.contains("id") || d.at("id").is_null()));

  std::map<std::string, const json::object*> vars;
  for (const auto& v : d.at("templating").as_object().at("list").as_array()) vars[std::string(v.as_object().at("name").as_string())] = &v.as_object();
  REQUIRE(vars.count("DS_PROMETHEUS"));
  CHECK(vars["DS_PROMETHEUS"]->at("type").as_string() == "datasource");
  CHECK(vars["DS_PROMETHEUS"]->at("query").as_string() == "prometheus");
  REQUIRE(vars.count("pipeline"));
  const auto& pipeline = *vars["pipeline"];
  CHECK(pipeline.at("type").as_string() == "query");
  CHECK(pipeline.at("definition").as_string() == "label_values(sluice_pipeline_info, pipeline)");
  CHECK(pipeline.at("multi").as_bool());
  CHECK(pipeline.at("includeAll").as_bool());

  // Panels: unique ids, inside the 24-column grid, every query through the template data source, units set.
  const std::set<std::string> units = {"ops", "Bps", "bytes", "s", "percentunit", "short", "none", "dateTimeFromNow"};
  std::set<int64_t> ids;
  std::set<std::string> units_used;
  size_t panels_with_queries = 0;
  for (const auto& p : d.at("panels").as_array()) {
    const auto& panel = p.as_object();
    std::string title(panel.at("title").as_string());
    INFO("panel \"" << title << "\"");
    CHECK(ids.insert(panel.at("id").to_number<int64_t>()).second);
    const auto& grid = panel.at("gridPos").as_object();
    CHECK(grid.at("x").to_number<int>() + grid.at("w").to_number<int>() <= 24);
    CHECK(grid.at("h").to_number<int>() > 0);
    if (panel.at("type").as_string() == "row" || !panel.contains("targets")) continue;
    ++panels_with_queries;
    CHECK(panel.at("datasource").as_object().at("uid").as_string() == "${DS_PROMETHEUS}");
    for (const auto& t : panel.at("targets").as_array()) {
      CHECK(t.as_object().at("datasource").as_object().at("uid").as_string() == "${DS_PROMETHEUS}");
      CHECK(!t.as_object().at("refId").as_string().empty());
    }
    if (panel.at("type").as_string() == "table" || panel.at("type").as_string() == "state-timeline") continue;
    std::string unit(panel.at("fieldConfig").as_object().at("defaults").as_object().at("unit").as_string());
    CHECK(units.count(unit) == 1);
    units_used.insert(unit);
  }
  CHECK(panels_with_queries >= 15);
  for (const char* unit : {"ops", "Bps", "s", "percentunit"}) {
    INFO("unit " << unit);
    CHECK(units_used.count(unit) == 1);
  }
}

TEST_CASE("every query of the Grafana dashboard is valid PromQL (promtool)", "[grafana]") {
  require_promtool();
  json::value doc = load_dashboard();
  TempDir dir;
  // Each query as a recording rule, so that promtool's parser checks it.
  std::string rules = "groups:\n  - name: dashboard\n    rules:\n";
  size_t n = 0;
  for (const auto& q : dashboard_queries(doc)) {
    if (q.where.rfind("variable", 0) == 0) continue;  // label_values(...) is Grafana's, not PromQL
    rules += "      # " + q.where + "\n      - record: dashboard:query_" + std::to_string(n++) + "\n        expr: " +
             yaml_quoted(as_grafana_sends_it(q.expr)) + "\n";
  }
  write_file(dir / "dashboard.rules.yml", rules);
  CommandResult check = run_command({"promtool", "check", "rules", dir / "dashboard.rules.yml"});
  INFO("$ promtool check rules (the dashboard's queries)\n" << rules << "(exit " << check.exit_code << ")\n" << check.output);
  REQUIRE(check.exit_code == 0);
  CHECK(check.output.find("SUCCESS: " + std::to_string(n) + " rules found") != std::string::npos);
}

TEST_CASE("docs/alerts/sluice.rules.yml passes promtool check rules, and the operations page shows the same rules", "[grafana]") {
  require_promtool();
  CommandResult check = run_command({"promtool", "check", "rules", kRules});
  INFO("$ promtool check rules " << kRules << "\n(exit " << check.exit_code << ")\n" << check.output);
  REQUIRE(check.exit_code == 0);
  CHECK(check.output.find("SUCCESS") != std::string::npos);

  // The page carries the rules in a ```yaml block; it must not drift from the file operators load.
  std::string rules = read_file(kRules);
  std::string body = rules.substr(rules.find("groups:"));
  std::string page_path;
  std::string block;
  for (const char* page : {"/docs/operations.md"}) {
    std::string text = read_file(std::string(SLUICE_SOURCE_DIR) + page);
    for (size_t at = text.find("```yaml\n"); at != std::string::npos; at = text.find("```yaml\n", at + 1)) {
      size_t start = at + 8, end = text.find("```", start);
      if (end == std::string::npos) break;
      std::string candidate = text.substr(start, end - start);
      if (candidate.find("groups:") == std::string::npos || candidate.find("alert:") == std::string::npos) continue;
      page_path = page;
      block = candidate.substr(candidate.find("groups:"));
    }
    if (!block.empty()) break;
  }
  INFO("no ```yaml block with the alerting rules in docs/operations.md");
  REQUIRE(!block.empty());
  INFO("the rules in " << SLUICE_SOURCE_DIR << page_path << " differ from " << kRules);
  CHECK(block == body);
}

TEST_CASE("each alert fires on its situation and not on its look-alikes (promtool test rules)", "[grafana]") {
  require_promtool();
  TempDir dir;
  // The rules as shipped, less their annotations: promtool would otherwise compare every rendered text.
  YAML::Node doc = YAML::LoadFile(kRules);
  std::set<std::string> alerts;
  for (auto group : doc["groups"])
    for (auto rule : group["rules"]) {
      rule.remove("annotations");
      if (rule["alert"]) alerts.insert(rule["alert"].as<std::string>());
    }
  YAML::Emitter emitter;
  emitter << doc;
  write_file(dir / "rules.yml", emitter.c_str());

  // One group of series per concern; h:9477 is a daemon scraped by job "sluiced". Times are minutes.
  const std::string tests = R"(rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # the daemon: scraped for 5 minutes, then down; its series stop with it
      - series: 'up{job="sluiced",instance="h:9477"}'
        values: '1x4 0x40'
      - series: 'sluice_build_info{job="sluiced",instance="h:9477",version="0.1.0"}'
        values: '1x4'
    alert_rule_test:
      - {eval_time: 8m, alertname: SluiceScrapeFailing, exp_alerts: []}
      - eval_time: 11m
        alertname: SluiceScrapeFailing
        exp_alerts: [{exp_labels: {severity: critical, job: sluiced, instance: "h:9477"}}]
      - {eval_time: 15m, alertname: SluiceMetricsAbsent, exp_alerts: []}
      - eval_time: 25m
        alertname: SluiceMetricsAbsent
        exp_alerts: [{exp_labels: {severity: critical, job: sluiced}}]
  - interval: 1m
    input_series:
      # orders: running, then failing from minute 3 and restarting every minute
      - series: 'sluice_pipeline_up{job="sluiced",instance="h:9477",pipeline="orders"}'
        values: '1x2 0x20'
      - series: 'sluice_pipeline_state{job="sluiced",instance="h:9477",pipeline="orders",state="finished"}'
        values: '0x22'
      - series: 'sluice_pipeline_restarts_total{job="sluiced",instance="h:9477",pipeline="orders"}'
        values: '0x3 1+1x19'
      # batch: a bounded source that finished, which is no fault
      - series: 'sluice_pipeline_up{job="sluiced",instance="h:9477",pipeline="batch"}'
        values: '0x22'
      - series: 'sluice_pipeline_state{job="sluiced",instance="h:9477",pipeline="batch",state="finished"}'
        values: '1x22'
      - series: 'sluice_pipeline_restarts_total{job="sluiced",instance="h:9477",pipeline="batch"}'
        values: '0x22'
    alert_rule_test:
      - {eval_time: 6m, alertname: SluicePipelineDown, exp_alerts: []}
      - eval_time: 9m
        alertname: SluicePipelineDown
        exp_alerts: [{exp_labels: {severity: critical, job: sluiced, instance: "h:9477", pipeline: orders}}]
      - {eval_time: 2m, alertname: SluicePipelineRestarting, exp_alerts: []}
      - eval_time: 5m
        alertname: SluicePipelineRestarting
        exp_alerts: [{exp_labels: {severity: warning, job: sluiced, instance: "h:9477", pipeline: orders}}]
  - interval: 1m
    input_series:
      # orders: records flow, and the committed data falls behind from minute 6
      - series: 'sluice_end_to_end_lag_seconds{job="sluiced",instance="h:9477",pipeline="orders"}'
        values: '0.2x5 400x30'
      - series: 'sluice_records_in_total{job="sluiced",instance="h:9477",pipeline="orders"}'
        values: '0+6000x35'
      # idle: nothing arrives, so the lag grows without anything being wrong
      - series: 'sluice_end_to_end_lag_seconds{job="sluiced",instance="h:9477",pipeline="idle"}'
        values: '400+60x35'
      - series: 'sluice_records_in_total{job="sluiced",instance="h:9477",pipeline="idle"}'
        values: '500x35'
    alert_rule_test:
      - {eval_time: 12m, alertname: SluiceEndToEndLagHigh, exp_alerts: []}
      - eval_time: 20m
        alertname: SluiceEndToEndLagHigh
        exp_alerts: [{exp_labels: {severity: warning, job: sluiced, instance: "h:9477", pipeline: orders}}]
  - interval: 1m
    input_series:
      # orders: λ above μ from minute 4, the queue full in 5 minutes
      - series: 'sluice_time_to_overflow_seconds{job="sluiced",instance="h:9477",pipeline="orders"}'
        values: '+Inf +Inf +Inf +Inf 300x20'
      - series: 'sluice_arrival_rate_records_per_second{job="sluiced",instance="h:9477",pipeline="orders"}'
        values: '100x3 200x20'
      - series: 'sluice_service_rate_records_per_second{job="sluiced",instance="h:9477",pipeline="orders"}'
        values: '100x23'
      - series: 'sluice_pipeline_up{job="sluiced",instance="h:9477",pipeline="orders"}'
        values: '1x23'
      # stuck: never started; its time to overflow reads 0, with λ = μ = 0
      - series: 'sluice_time_to_overflow_seconds{job="sluiced",instance="h:9477",pipeline="stuck"}'
        values: '0x23'
      - series: 'sluice_arrival_rate_records_per_second{job="sluiced",instance="h:9477",pipeline="stuck"}'
        values: '0x23'
      - series: 'sluice_service_rate_records_per_second{job="sluiced",instance="h:9477",pipeline="stuck"}'
        values: '0x23'
      - series: 'sluice_pipeline_up{job="sluiced",instance="h:9477",pipeline="stuck"}'
        values: '0x23'
    alert_rule_test:
      - {eval_time: 6m, alertname: SluiceQueueOverflowSoon, exp_alerts: []}
      - eval_time: 10m
        alertname: SluiceQueueOverflowSoon
        exp_alerts: [{exp_labels: {severity: warning, job: sluiced, instance: "h:9477", pipeline: orders}}]
  - interval: 1m
    input_series:
      - series: 'sluice_records_dropped_total{job="sluiced",instance="h:9477",pipeline="orders",reason="queue_full_drop_newest"}'
        values: '0x3 10+10x10'
      - series: 'sluice_records_rejected_total{job="sluiced",instance="h:9477",pipeline="orders"}'
        values: '0x3 5+5x10'
      - series: 'sluice_records_rejected_total{job="sluiced",instance="h:9477",pipeline="clean"}'
        values: '0x13'
    alert_rule_test:
      - {eval_time: 2m, alertname: SluiceRecordsDropped, exp_alerts: []}
      - eval_time: 6m
        alertname: SluiceRecordsDropped
        exp_alerts: [{exp_labels: {severity: warning, job: sluiced, instance: "h:9477", pipeline: orders, reason: queue_full_drop_newest}}]
      - {eval_time: 2m, alertname: SluiceRecordsRejected, exp_alerts: []}
      - eval_time: 6m
        alertname: SluiceRecordsRejected
        exp_alerts: [{exp_labels: {severity: warning, job: sluiced, instance: "h:9477", pipeline: orders}}]
  - interval: 1m
    input_series:
      # orders: commits stop at minute 5 while records keep arriving
      - series: 'sluice_commits_total{job="sluiced",instance="h:9477",pipeline="orders"}'
        values: '0+1x5 5x30'
      - series: 'sluice_records_in_total{job="sluiced",instance="h:9477",pipeline="orders"}'
        values: '0+100x35'
      - series: 'sluice_queue_records{job="sluiced",instance="h:9477",pipeline="orders"}'
        values: '0x35'
      # idle: no commits because nothing arrives
      - series: 'sluice_commits_total{job="sluiced",instance="h:9477",pipeline="idle"}'
        values: '3x35'
      - series: 'sluice_records_in_total{job="sluiced",instance="h:9477",pipeline="idle"}'
        values: '700x35'
      - series: 'sluice_queue_records{job="sluiced",instance="h:9477",pipeline="idle"}'
        values: '0x35'
    alert_rule_test:
      - {eval_time: 15m, alertname: SluiceNoCommits, exp_alerts: []}
      - eval_time: 22m
        alertname: SluiceNoCommits
        exp_alerts: [{exp_labels: {severity: critical, job: sluiced, instance: "h:9477", pipeline: orders}}]
  - interval: 1m
    input_series:
      # slow: every commit takes between 1 s and 2.5 s; fast: all under 5 ms
      - series: 'sluice_commit_duration_seconds_bucket{job="sluiced",instance="h:9477",pipeline="slow",le="0.005"}'
        values: '0x30'
      - series: 'sluice_commit_duration_seconds_bucket{job="sluiced",instance="h:9477",pipeline="slow",le="1"}'
        values: '0x30'
      - series: 'sluice_commit_duration_seconds_bucket{job="sluiced",instance="h:9477",pipeline="slow",le="2.5"}'
        values: '0+20x30'
      - series: 'sluice_commit_duration_seconds_bucket{job="sluiced",instance="h:9477",pipeline="slow",le="+Inf"}'
        values: '0+20x30'
      - series: 'sluice_commit_duration_seconds_bucket{job="sluiced",instance="h:9477",pipeline="fast",le="0.005"}'
        values: '0+300x30'
      - series: 'sluice_commit_duration_seconds_bucket{job="sluiced",instance="h:9477",pipeline="fast",le="1"}'
        values: '0+300x30'
      - series: 'sluice_commit_duration_seconds_bucket{job="sluiced",instance="h:9477",pipeline="fast",le="2.5"}'
        values: '0+300x30'
      - series: 'sluice_commit_duration_seconds_bucket{job="sluiced",instance="h:9477",pipeline="fast",le="+Inf"}'
        values: '0+300x30'
    alert_rule_test:
      - {eval_time: 10m, alertname: SluiceCommitLatencyHigh, exp_alerts: []}
      - eval_time: 20m
        alertname: SluiceCommitLatencyHigh
        exp_alerts: [{exp_labels: {severity: warning, job: sluiced, instance: "h:9477", pipeline: slow}}]
  - interval: 1m
    input_series:
      # one reload fails at minute 3; the errors stay until a reload succeeds at minute 40
      - series: 'sluice_reloads_total{job="sluiced",instance="h:9477",result="failure"}'
        values: '0x2 1x50'
      - series: 'sluice_reloads_total{job="sluiced",instance="h:9477",result="success"}'
        values: '0x40 1x10'
      - series: 'sluice_last_reload_errors{job="sluiced",instance="h:9477"}'
        values: '0x2 2x37 0x10'
    alert_rule_test:
      - {eval_time: 2m, alertname: SluiceReloadFailed, exp_alerts: []}
      - eval_time: 5m
        alertname: SluiceReloadFailed
        exp_alerts: [{exp_labels: {severity: warning, job: sluiced, instance: "h:9477", result: failure}}]
      - {eval_time: 20m, alertname: SluiceReloadFailed, exp_alerts: []}
      - {eval_time: 20m, alertname: SluiceConfigErrors, exp_alerts: []}
      - eval_time: 35m
        alertname: SluiceConfigErrors
        exp_alerts: [{exp_labels: {severity: warning, job: sluiced, instance: "h:9477"}}]
      - {eval_time: 45m, alertname: SluiceConfigErrors, exp_alerts: []}
)";
  // A new alert needs its own scenario here.
  std::string untested;
  for (const auto& alert : alerts)
    if (tests.find("alertname: " + alert + ",") == std::string::npos && tests.find("alertname: " + alert + "\n") == std::string::npos)
      untested += " " + alert;
  INFO("alerts without a scenario:" << untested);
  CHECK(untested.empty());

  write_file(dir / "rules_test.yml", tests);
  CommandResult run = run_command({"promtool", "test", "rules", dir / "rules_test.yml"});
  INFO("$ promtool test rules (rules: " << dir / "rules.yml" << ")\n(exit " << run.exit_code << ")\n" << run.output);
  REQUIRE(run.exit_code == 0);
}

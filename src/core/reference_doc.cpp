#include "core/reference_doc.hpp"

#include "core/daemon_config.hpp"
#include "core/pipeline_config.hpp"
#include "core/registry.hpp"

namespace sluice::core {
namespace {

std::string escape_cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else out += c;
  }
  return out;
}

void table(std::string& out, const std::vector<config::DocRow>& rows) {
  out += "| key | type | default | description |\n|---|---|---|---|\n";
  for (const auto& r : rows) {
    std::string def = r.default_text.empty() ? "" : "`" + r.default_text + "`";
    out += "| `" + r.key + "` | " + r.type + " | " + escape_cell(def) + " | " + escape_cell(r.doc) + " |\n";
  }
  out += "\n";
}

}  // namespace

std::string render_configuration_reference() {
  std::string out =
      "# Configuration reference\n\n"
      "<!-- Generated from the option declarations by `build/tests/sluice_docgen > docs/configuration.md`; "
      "a test fails when this file is stale. Do not edit by hand. -->\n\n"
      "sluice reads one daemon file (`sluiced run --config /etc/sluice/sluice.yaml`) and one pipeline per `*.yaml` "
      "file in its `pipelines_dir`. Every key below is checked: an unknown key, a value of the wrong type, an "
      "out-of-range number, a bad size or duration is an error reported as `path:line:col: message` "
      "(`sluiced check` validates without side effects and exits 2 on any error).\n\n"
      "## Values\n\n"
      "- **size**: a whole number of bytes with an optional unit: `512B`, `64KiB`, `64MiB`, `1GiB`, `1TiB` "
      "(1024-based) or `10KB`, `10MB`, `10GB` (1000-based); a bare integer is bytes. Fractions are allowed when "
      "the result is whole (`1.5KiB`).\n"
      "- **duration**: a number with a unit `ns`, `us`, `ms`, `s`, `m`, `h`, compounds such as `1h30m`, or `0`.\n"
      "- **integer**: digits, optionally with `_` separators (`1_000_000`).\n"
      "- **Substitution**: `${NAME}` is replaced by the environment variable NAME (an unset variable is an error), "
      "`${file:/path}` by the file's content without its trailing newline (for secrets), and `$${` writes a "
      "literal `${`. Error messages quote the value as written, so substituted secrets never appear in logs.\n\n"
      "## Daemon file\n\n"
      "Relative `state_dir` and `pipelines_dir` are taken from the daemon file's directory.\n\n";
  table(out, DaemonConfig::schema().document());
  out +=
      "## Pipeline file\n\n"
      "One pipeline per file. Relative paths inside a pipeline (sink and source paths) are taken from the "
      "daemon's working directory.\n\n";
  table(out, PipelineConfig::schema().document());
  out += "### Keys of every source\n\n";
  table(out, SourceCommon::schema().document("source."));
  out += "### Keys of every sink\n\n";
  table(out, SinkCommon::schema().document("sink."));
  out += "## Sources\n\n";
  for (const auto& type : registry().source_types()) {
    const auto* f = registry().source(type);
    out += "### `type: " + type + "`\n\n" + f->summary + ".\n\n";
    auto rows = f->document();
    for (auto& r : rows) r.key = "source." + r.key;
    table(out, rows);
  }
  out += "## Sinks\n\n";
  for (const auto& type : registry().sink_types()) {
    const auto* f = registry().sink(type);
    out += "### `type: " + type + "`\n\n" + f->summary + ".\n\n";
    auto rows = f->document();
    for (auto& r : rows) r.key = "sink." + r.key;
    if (rows.empty()) out += "No options of its own.\n\n";
    else table(out, rows);
  }
  return out;
}

}  // namespace sluice::core

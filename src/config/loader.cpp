#include "config/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "config/error.hpp"

namespace sluice::config {
namespace {

Mark mark_of(const YAML::Mark& m) { return {m.line + 1, m.column + 1}; }

std::string read_file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Substitutes ${NAME} from the environment and ${file:/path} from a file (one trailing newline dropped, as
// secret files written by `echo` end with one).
std::string substitute(const std::string& raw, Mark mark, Context& ctx) {
  if (raw.find('$') == std::string::npos) return raw;
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size();) {
    if (raw.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (raw.compare(i, 2, "${") != 0) {
      out += raw[i++];
      continue;
    }
    size_t close = raw.find('}', i + 2);
    if (close == std::string::npos) {
      ctx.error(mark, "unterminated '${' in value (write $${ for a literal)");
      return raw;
    }
    std::string name = raw.substr(i + 2, close - i - 2);
    if (name.rfind("file:", 0) == 0) {
      std::string file = name.substr(5);
      try {
        std::string content = read_file_text(file);
        if (!content.empty() && content.back() == '\n') content.pop_back();
        out += content;
      } catch (const std::exception&) {
        ctx.error(mark, "cannot read file '" + file + "' named by ${file:...}");
      }
    } else if (name.empty()) {
      ctx.error(mark, "empty variable name in '${}'");
    } else if (const char* env = std::getenv(name.c_str())) {
      out += env;
    } else {
      ctx.error(mark, "environment variable " + name + " is not set");
    }
    i = close + 1;
  }
  return out;
}

Value convert(const YAML::Node& node, Context& ctx) {
  Value v;
  v.mark = mark_of(node.Mark());
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      v.kind = Value::Kind::null;
      break;
    case YAML::NodeType::Scalar:
      v.kind = Value::Kind::scalar;
      v.raw = node.Scalar();
      v.text = substitute(v.raw, v.mark, ctx);
      break;
    case YAML::NodeType::Sequence:
      v.kind = Value::Kind::seq;
      for (const auto& item : node) v.items.push_back(convert(item, ctx));
      break;
    case YAML::NodeType::Map: {
      v.kind = Value::Kind::map;
      std::set<std::string> seen;
      for (const auto& kv : node) {
        Value::Entry e;
        e.key_mark = mark_of(kv.first.Mark());
        if (!kv.first.IsScalar()) {
          ctx.error(e.key_mark, "mapping keys must be plain names");
          continue;
        }
        e.key = kv.first.Scalar();
        if (!seen.insert(e.key).second) {
          ctx.error(e.key_mark, "duplicate key '" + e.key + "'");
          continue;
        }
        e.value = convert(kv.second, ctx);
        v.entries.push_back(std::move(e));
      }
      break;
    }
  }
  return v;
}

}  // namespace

Document load_yaml_string(const std::string& text, const std::string& path) {
  Context ctx(path);
  Document doc{path, {}};
  try {
    YAML::Node root = YAML::Load(text);
    doc.root = convert(root, ctx);
    if (doc.root.mark.line == 0) doc.root.mark = {1, 1};
  } catch (const YAML::Exception& e) {
    ctx.error(mark_of(e.mark), "YAML syntax error: " + e.msg);
  }
  ctx.throw_if_failed();
  return doc;
}

Document load_yaml_file(const std::string& path) {
  std::string text;
  try {
    text = read_file_text(path);
  } catch (const std::exception&) {
    throw ConfigError(Diagnostic{path, {1, 1}, "cannot read file"});
  }
  return load_yaml_string(text, path);
}

}  // namespace sluice::config

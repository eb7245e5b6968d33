#include "sources/postgres_cdc/position.hpp"

#include <boost/json.hpp>
#include <stdexcept>

namespace sluice::sources::postgres_cdc {
namespace json = boost::json;

std::string CdcPosition::format() const {
  json::object o;
  o["lsn"] = format_lsn(lsn);
  if (partial_txn) {
    o["txn"] = format_lsn(partial_txn);
    o["done"] = partial_done;
  }
  if (snapshot) {
    json::object s;
    s["table"] = snapshot->table;
    if (snapshot->after) {
      json::array a;
      for (const auto& k : *snapshot->after) a.emplace_back(k);
      s["after"] = std::move(a);
    } else {
      s["after"] = nullptr;
    }
    o["snapshot"] = std::move(s);
  }
  return json::serialize(o);
}

CdcPosition CdcPosition::parse(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return std::invalid_argument("unreadable postgres_cdc position '" + std::string(text.substr(0, 200)) + "': " + why);
  };
  json::value v;
  try {
    v = json::parse(text);
  } catch (const std::exception& e) {
    throw bad(e.what());
  }
  if (!v.is_object()) throw bad("not a JSON object");
  const auto& o = v.as_object();
  auto lsn_of = [&](const char* key) {
    const auto* f = o.if_contains(key);
    if (!f || !f->is_string()) throw bad(std::string("no \"") + key + "\" LSN");
    auto lsn = parse_lsn(f->as_string());
    if (!lsn) throw bad(std::string("\"") + key + "\" is not an LSN");
    return *lsn;
  };
  CdcPosition p;
  p.lsn = lsn_of("lsn");
  if (o.contains("txn")) {
    p.partial_txn = lsn_of("txn");
    const auto* done = o.if_contains("done");
    if (!done || !done->is_number()) throw bad("\"txn\" without a \"done\" count");
    p.partial_done = done->to_number<uint64_t>();
  }
  if (const auto* s = o.if_contains("snapshot")) {
    if (!s->is_object() || !s->as_object().contains("table") || !s->as_object().at("table").is_string())
      throw bad("\"snapshot\" has no table");
    SnapshotProgress progress;
    progress.table = s->as_object().at("table").as_string();
    const auto* after = s->as_object().if_contains("after");
    if (after && after->is_array()) {
      std::vector<std::string> key;
      for (const auto& k : after->as_array()) {
        if (!k.is_string()) throw bad("a snapshot key value is not a string");
        key.emplace_back(k.as_string());
      }
      progress.after = std::move(key);
    } else if (after && !after->is_null()) {
      throw bad("\"after\" is neither a list nor null");
    }
    p.snapshot = std::move(progress);
  }
  return p;
}

}  // namespace sluice::sources::postgres_cdc

#include "sources/postgres_cdc/pgoutput.hpp"

#include <cstdio>

#include "formats/hex.hpp"

namespace sluice::sources::postgres_cdc {
namespace {

// Reads big-endian fields from one message, naming the message and the offset on any overrun.
class Reader {
 public:
  Reader(std::string_view bytes, const char* what) : bytes_(bytes), what_(what) {}

  uint8_t u8() { return uint8_t(take(1)[0]); }
  char byte() { return take(1)[0]; }
  uint16_t u16() { return uint16_t(be(take(2))); }
  uint32_t u32() { return uint32_t(be(take(4))); }
  uint64_t u64() { return be(take(8)); }
  int32_t i32() { return int32_t(u32()); }
  int64_t i64() { return int64_t(u64()); }
  std::string cstring() {
    auto end = bytes_.find('\0', pos_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string s(bytes_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  std::string_view take(size_t n) {
    if (bytes_.size() - pos_ < n) fail("truncated: needs " + std::to_string(n) + " more byte(s)");
    auto s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  Tuple tuple() {
    uint16_t n = u16();
    Tuple t(n);
    for (auto& d : t) {
      char kind = byte();
      switch (kind) {
        case 'n': d.kind = Datum::Kind::null; break;
        case 'u': d.kind = Datum::Kind::unchanged_toast; break;
        case 't': {
          d.kind = Datum::Kind::text;
          uint32_t len = u32();
          d.text = std::string(take(len));
          break;
        }
        default: fail(std::string("unknown tuple column kind '") + kind + "' (binary mode is not requested)");
      }
    }
    return t;
  }
  void finish() {
    if (pos_ != bytes_.size()) fail(std::to_string(bytes_.size() - pos_) + " unexpected trailing byte(s)");
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw PgOutputError(std::string("pgoutput ") + what_ + " message, byte " + std::to_string(pos_) + ": " + why);
  }

 private:
  static uint64_t be(std::string_view s) {
    uint64_t v = 0;
    for (unsigned char c : s) v = (v << 8) | c;
    return v;
  }
  std::string_view bytes_;
  const char* what_;
  size_t pos_ = 1;  // after the message type
};

// A message type byte as an error message shows it.
std::string shown(char kind) {
  if (kind >= 32 && kind < 127) return std::string(1, kind);
  return "\\x" + std::to_string(uint8_t(kind));
}

}  // namespace

void append_lsn(std::string& out, Lsn lsn) {
  // Every change record carries two LSNs: hex digits by hand, not through snprintf.
  static constexpr char kDigits[] = "0123456789ABCDEF";
  auto half = [&](uint32_t v) {
    char buf[8];
    int n = 0;
    do {
      buf[n++] = kDigits[v & 15];
      v >>= 4;
    } while (v);
    while (n) out += buf[--n];
  };
  half(uint32_t(lsn >> 32));
  out += '/';
  half(uint32_t(lsn));
}

std::string format_lsn(Lsn lsn) {
  std::string s;
  append_lsn(s, lsn);
  return s;
}

std::optional<Lsn> parse_lsn(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size() || slash > 8 || text.size() - slash - 1 > 8)
    return std::nullopt;
  uint64_t hi = 0, lo = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == slash) continue;
    int d = formats::hex_digit(text[i]);
    if (d < 0) return std::nullopt;
    (i < slash ? hi : lo) = (i < slash ? hi : lo) * 16 + uint64_t(d);
  }
  return (hi << 32) | lo;
}

int64_t pg_timestamp_to_unix_ms(PgTimestamp ts) {
  constexpr int64_t kPgEpochUnixMs = 946684800000;  // 2000-01-01T00:00:00Z
  // Floor division: timestamps before 2000 are negative.
  int64_t ms = ts >= 0 ? ts / 1000 : -((-ts + 999) / 1000);
  return kPgEpochUnixMs + ms;
}

PgTimestamp unix_ms_to_pg_timestamp(int64_t unix_ms) { return (unix_ms - 946684800000) * 1000; }

std::variant<XLogData, Keepalive> decode_copy_message(std::string_view bytes) {
  if (bytes.empty()) throw PgOutputError("replication stream: empty message");
  switch (bytes[0]) {
    case 'w': {
      Reader r(bytes, "XLogData");
      XLogData m;
      m.start = r.u64();
      m.wal_end = r.u64();
      m.sent = r.i64();
      m.payload = bytes.substr(25);
      return m;
    }
    case 'k': {
      Reader r(bytes, "primary keepalive");
      Keepalive m;
      m.wal_end = r.u64();
      m.sent = r.i64();
      m.reply_requested = r.u8() != 0;
      r.finish();
      return m;
    }
    default:
      throw PgOutputError("replication stream: unknown message type '" + shown(bytes[0]) + "'");
  }
}

std::string standby_status_update(Lsn received, Lsn flushed, PgTimestamp now) {
  std::string out(34, '\0');
  out[0] = 'r';
  auto put = [&](size_t at, uint64_t v) {
    for (int i = 0; i < 8; ++i) out[at + size_t(i)] = char((v >> (56 - 8 * i)) & 0xff);
  };
  put(1, received);
  put(9, flushed);
  put(17, flushed);
  put(25, uint64_t(now));
  out[33] = 0;  // no reply wanted
  return out;
}

PgOutputMessage decode_pgoutput(std::string_view bytes) {
  if (bytes.empty()) throw PgOutputError("pgoutput: empty message");
  switch (bytes[0]) {
    case 'B': {
      Reader r(bytes, "Begin");
      Begin m{r.u64(), r.i64(), r.u32()};
      r.finish();
      return m;
    }
    case 'C': {
      Reader r(bytes, "Commit");
      Commit m;
      m.flags = r.u8();
      m.commit_lsn = r.u64();
      m.end_lsn = r.u64();
      m.commit_time = r.i64();
      r.finish();
      return m;
    }
    case 'O': {
      Reader r(bytes, "Origin");
      Origin m;
      m.commit_lsn = r.u64();
      m.name = r.cstring();
      r.finish();
      return m;
    }
    case 'R': {
      Reader r(bytes, "Relation");
      Relation m;
      m.id = r.u32();
      m.schema = r.cstring();
      m.name = r.cstring();
      m.replica_identity = r.byte();
      m.columns.resize(r.u16());
      for (auto& c : m.columns) {
        c.key = (r.u8() & 1) != 0;
        c.name = r.cstring();
        c.type_oid = r.u32();
        c.type_modifier = r.i32();
      }
      r.finish();
      return m;
    }
    case 'Y': {
      Reader r(bytes, "Type");
      Type m;
      m.oid = r.u32();
      m.schema = r.cstring();
      m.name = r.cstring();
      r.finish();
      return m;
    }
    case 'I': {
      Reader r(bytes, "Insert");
      Insert m;
      m.relation = r.u32();
      if (char n = r.byte(); n != 'N') r.fail(std::string("expected 'N' before the new tuple, got '") + n + "'");
      m.after = r.tuple();
      r.finish();
      return m;
    }
    case 'U': {
      Reader r(bytes, "Update");
      Update m;
      m.relation = r.u32();
      char kind = r.byte();
      if (kind == 'K' || kind == 'O') {
        m.old_kind = kind;
        m.before = r.tuple();
        kind = r.byte();
      }
      if (kind != 'N') r.fail(std::string("expected 'N' before the new tuple, got '") + kind + "'");
      m.after = r.tuple();
      r.finish();
      return m;
    }
    case 'D': {
      Reader r(bytes, "Delete");
      Delete m;
      m.relation = r.u32();
      m.old_kind = r.byte();
      if (m.old_kind != 'K' && m.old_kind != 'O') r.fail(std::string("expected 'K' or 'O', got '") + m.old_kind + "'");
      m.before = r.tuple();
      r.finish();
      return m;
    }
    case 'T': {
      Reader r(bytes, "Truncate");
      Truncate m;
      uint32_t n = r.u32();
      uint8_t options = r.u8();
      m.cascade = (options & 1) != 0;
      m.restart_identity = (options & 2) != 0;
      m.relations.resize(n);
      for (auto& id : m.relations) id = r.u32();
      r.finish();
      return m;
    }
    case 'M': {
      Reader r(bytes, "Message");
      Message m;
      m.transactional = (r.u8() & 1) != 0;
      m.lsn = r.u64();
      m.prefix = r.cstring();
      uint32_t len = r.u32();
      m.content = std::string(r.take(len));
      r.finish();
      return m;
    }
    default:
      throw PgOutputError("pgoutput: unknown message type '" + shown(bytes[0]) + "' (only protocol version 1 is requested)");
  }
}

}  // namespace sluice::sources::postgres_cdc

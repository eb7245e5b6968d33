#include "sources/postgres_cdc/pgoutput.hpp"

#include <catch2/catch.hpp>

using namespace sluice::sources::postgres_cdc;

namespace {

// Builds messages field by field, big-endian, as the server sends them.
struct Bytes {
  std::string s;
  Bytes& c(char v) { s += v; return *this; }
  Bytes& u16(uint16_t v) { return be(v, 2); }
  Bytes& u32(uint32_t v) { return be(v, 4); }
  Bytes& u64(uint64_t v) { return be(v, 8); }
  Bytes& str(const std::string& v) { s += v; s += '\0'; return *this; }
  Bytes& text(const std::string& v) { c('t').u32(uint32_t(v.size())); s += v; return *this; }
  Bytes& be(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) s += char((v >> (8 * i)) & 0xff);
    return *this;
  }
};

}  // namespace

TEST_CASE("LSNs print and parse as PostgreSQL writes them", "[pgoutput]") {
  CHECK(format_lsn(0x16B374D848ull) == "16/B374D848");
  CHECK(format_lsn(0) == "0/0");
  CHECK(parse_lsn("16/B374D848") == 0x16B374D848ull);
  CHECK(parse_lsn("0/16b3748") == 0x16B3748ull);
  CHECK(parse_lsn("FFFFFFFF/FFFFFFFF") == ~0ull);
  for (const char* bad : {"", "/", "1/", "/1", "16B374D848", "1/2/3", "G/1", "123456789/1"}) {
    INFO(bad);
    CHECK_FALSE(parse_lsn(bad).has_value());
  }
}

TEST_CASE("PostgreSQL timestamps count microseconds from 2000-01-01", "[pgoutput]") {
  CHECK(pg_timestamp_to_unix_ms(0) == 946684800000);
  CHECK(pg_timestamp_to_unix_ms(1500) == 946684800001);
  CHECK(pg_timestamp_to_unix_ms(-1) == 946684799999);  // floor, not toward zero
}

TEST_CASE("every pgoutput message kind decodes", "[pgoutput]") {
  auto begin = std::get<Begin>(decode_pgoutput(Bytes{}.c('B').u64(0x100).u64(123456789).u32(742).s));
  CHECK(begin.final_lsn == 0x100);
  CHECK(begin.commit_time == 123456789);
  CHECK(begin.xid == 742);

  auto commit = std::get<Commit>(decode_pgoutput(Bytes{}.c('C').c(0).u64(0x100).u64(0x130).u64(99).s));
  CHECK(commit.commit_lsn == 0x100);
  CHECK(commit.end_lsn == 0x130);

  auto origin = std::get<Origin>(decode_pgoutput(Bytes{}.c('O').u64(0x42).str("node_a").s));
  CHECK(origin.name == "node_a");

  auto rel = std::get<Relation>(decode_pgoutput(
      Bytes{}.c('R').u32(16384).str("public").str("orders").c('f').u16(2).c(1).str("id").u32(20).u32(0xffffffff).c(0).str("note").u32(25).u32(0xffffffff).s));
  CHECK(rel.id == 16384);
  CHECK(rel.schema == "public");
  CHECK(rel.replica_identity == 'f');
  REQUIRE(rel.columns.size() == 2);
  CHECK(rel.columns[0].key);
  CHECK(rel.columns[0].type_oid == 20);
  CHECK(rel.columns[0].type_modifier == -1);
  CHECK_FALSE(rel.columns[1].key);

  auto type = std::get<Type>(decode_pgoutput(Bytes{}.c('Y').u32(90001).str("public").str("mood").s));
  CHECK(type.name == "mood");

  auto ins = std::get<Insert>(decode_pgoutput(Bytes{}.c('I').u32(16384).c('N').u16(3).text("7").c('n').text("").s));
  REQUIRE(ins.after.size() == 3);
  CHECK(ins.after[0].text == "7");
  CHECK(ins.after[1].kind == Datum::Kind::null);
  CHECK(ins.after[2].kind == Datum::Kind::text);  // an empty string is not NULL
  CHECK(ins.after[2].text.empty());

  // An update that left a TOASTed column alone, with the old key because the key changed.
  auto upd = std::get<Update>(
      decode_pgoutput(Bytes{}.c('U').u32(16384).c('K').u16(2).text("7").c('n').c('N').u16(2).text("8").c('u').s));
  CHECK(upd.old_kind == 'K');
  CHECK(upd.before[0].text == "7");
  CHECK(upd.after[0].text == "8");
  CHECK(upd.after[1].kind == Datum::Kind::unchanged_toast);
  auto plain = std::get<Update>(decode_pgoutput(Bytes{}.c('U').u32(1).c('N').u16(1).text("x").s));
  CHECK(plain.old_kind == 0);
  CHECK(plain.before.empty());

  auto del = std::get<Delete>(decode_pgoutput(Bytes{}.c('D').u32(16384).c('O').u16(1).text("8").s));
  CHECK(del.old_kind == 'O');
  CHECK(del.before[0].text == "8");

  auto trunc = std::get<Truncate>(decode_pgoutput(Bytes{}.c('T').u32(2).c(3).u32(16384).u32(16390).s));
  CHECK(trunc.cascade);
  CHECK(trunc.restart_identity);
  CHECK(trunc.relations == std::vector<uint32_t>{16384, 16390});

  auto msg = std::get<Message>(decode_pgoutput(Bytes{}.c('M').c(1).u64(0x200).str("sluice").u32(2).s + std::string("hb")));
  CHECK(msg.transactional);
  CHECK(msg.prefix == "sluice");
  CHECK(msg.content == "hb");
}

TEST_CASE("malformed pgoutput messages are errors naming the kind and the byte", "[pgoutput]") {
  CHECK_THROWS_WITH(decode_pgoutput(""), Catch::Contains("empty message"));
  CHECK_THROWS_WITH(decode_pgoutput("Z"), Catch::Contains("unknown message type 'Z'"));
  CHECK_THROWS_WITH(decode_pgoutput(Bytes{}.c('B').u64(1).s), Catch::Contains("Begin message, byte 9: truncated"));
  CHECK_THROWS_WITH(decode_pgoutput(Bytes{}.c('B').u64(1).u64(2).u32(3).c('x').s), Catch::Contains("1 unexpected trailing byte"));
  CHECK_THROWS_WITH(decode_pgoutput(Bytes{}.c('R').u32(1).s + "public"), Catch::Contains("Relation message, byte 5: unterminated string"));
  CHECK_THROWS_WITH(decode_pgoutput(Bytes{}.c('I').u32(1).c('N').u16(1).c('b').s), Catch::Contains("unknown tuple column kind 'b'"));
  CHECK_THROWS_WITH(decode_pgoutput(Bytes{}.c('I').u32(1).c('N').u16(1).c('t').u32(10).s + "abc"), Catch::Contains("truncated"));
  CHECK_THROWS_WITH(decode_pgoutput(Bytes{}.c('D').u32(1).c('N').s), Catch::Contains("expected 'K' or 'O'"));
}

TEST_CASE("replication stream messages decode, and a standby status update encodes as the protocol says", "[pgoutput]") {
  const std::string wire = Bytes{}.c('w').u64(0x10).u64(0x20).u64(99).s + "Bxyz";
  auto data = std::get<XLogData>(decode_copy_message(wire));  // its payload points into wire
  CHECK(data.start == 0x10);
  CHECK(data.wal_end == 0x20);
  CHECK(data.sent == 99);
  CHECK(data.payload == "Bxyz");
  auto keepalive = std::get<Keepalive>(decode_copy_message(Bytes{}.c('k').u64(0x30).u64(5).c(1).s));
  CHECK(keepalive.wal_end == 0x30);
  CHECK(keepalive.reply_requested);
  CHECK_THROWS_WITH(decode_copy_message("w123"), Catch::Contains("XLogData message, byte 1: truncated"));
  CHECK_THROWS_WITH(decode_copy_message("q"), Catch::Contains("unknown message type 'q'"));

  std::string status = standby_status_update(0x1122334455667788ull, 0x0102030405060708ull, 0x0A0B0C0D0E0F1011);
  // 'r', received, flushed, applied (= flushed), client time, no reply wanted.
  CHECK(status == Bytes{}.c('r').u64(0x1122334455667788ull).u64(0x0102030405060708ull).u64(0x0102030405060708ull).u64(0x0A0B0C0D0E0F1011).c(0).s);
  CHECK(unix_ms_to_pg_timestamp(946684800001) == 1000);
}

#include "core/pending_commit.hpp"

#include <catch2/catch.hpp>

#include "state/state_store.hpp"
#include "support/test_support.hpp"

using namespace sluice;

TEST_CASE("a pending commit survives its encoding, binary positions and an empty checkpoint included", "[core][commit]") {
  core::PendingCommit c{"abc.17.3", {{"orders-0", "42"}, {std::string("odd\0name", 8), std::string("\xff\x00\x01", 3)}}, "image\0bytes"};
  auto back = core::PendingCommit::decode(c.encode());
  REQUIRE(back);
  CHECK(back->id == c.id);
  CHECK(back->positions == c.positions);
  CHECK(back->txn_image == c.txn_image);

  core::PendingCommit empty{"x", {}, ""};
  auto e = core::PendingCommit::decode(empty.encode());
  REQUIRE(e);
  CHECK(e->positions.empty());
}

TEST_CASE("a truncated or padded pending commit is refused, never half-read", "[core][commit]") {
  std::string bytes = core::PendingCommit{"id", {{"p", "1"}, {"q", "2"}}, "txn"}.encode();
  for (size_t n = 0; n < bytes.size(); ++n) {
    INFO("truncated to " << n << " of " << bytes.size() << " bytes");
    CHECK_FALSE(core::PendingCommit::decode(bytes.substr(0, n)));
  }
  CHECK_FALSE(core::PendingCommit::decode(bytes + "x"));
}

TEST_CASE("a write batch image replays the same operations into the store", "[state][commit]") {
  testing::TempDir dir;
  auto store = state::StateStore::open(dir / "state");
  state::WriteBatch setup;
  for (const char* k : {"a1", "a2", "b1", "gone"}) setup.put(state::Family::sink, k, "old");
  store->write(setup, true);

  state::WriteBatch txn;
  txn.put(state::Family::checkpoints, std::string("pipe\0orders-3", 13), "1234");
  txn.put(state::Family::sink, "a1", std::string("new\0value", 9));
  txn.remove(state::Family::sink, "gone");
  txn.remove_range(state::Family::sink, "a2", "b");
  auto replay = state::WriteBatch::deserialize(txn.serialize());
  CHECK(replay.count() == txn.count());
  store->write(replay, true);

  CHECK(store->get(state::Family::checkpoints, std::string("pipe\0orders-3", 13)) == "1234");
  CHECK(store->get(state::Family::sink, "a1") == std::string("new\0value", 9));
  CHECK_FALSE(store->get(state::Family::sink, "gone"));
  CHECK_FALSE(store->get(state::Family::sink, "a2"));
  CHECK(store->get(state::Family::sink, "b1") == "old");
  CHECK_THROWS_AS(state::WriteBatch::deserialize(txn.serialize().substr(0, 7)), state::StateError);
  CHECK_THROWS_AS(state::WriteBatch::deserialize("\x09"), state::StateError);
}

TEST_CASE("the instance id is made once per state dir and kept across opens", "[state]") {
  testing::TempDir a, b;
  std::string first;
  {
    auto store = state::StateStore::open(a / "state");
    first = store->instance_id();
    CHECK(first.size() == 32);
  }
  CHECK(state::StateStore::open(a / "state")->instance_id() == first);
  CHECK(state::StateStore::open(b / "state")->instance_id() != first);
}

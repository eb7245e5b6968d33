#include "sinks/kafka/replay_guard.hpp"

#include <catch2/catch.hpp>

using sluice::sinks::kafka::ReplayGuard;

TEST_CASE("replay guard: records are numbered per source partition across batches, however they are batched", "[kafka_sink][unit]") {
  ReplayGuard g;
  g.restore({{"a", 10}}, "");
  CHECK(g.next("a") == 10u);
  CHECK(g.next("b") == 0u);
  CHECK(g.next("a") == 11u);
  auto changed = g.commit_batch();
  CHECK(changed == std::map<std::string, uint64_t>{{"a", 12}, {"b", 1}});
  CHECK(g.next("a") == 12u);
  g.abandon_batch();
  CHECK(g.next("a") == 12u);  // an abandoned batch's numbers are given again
}

TEST_CASE("replay guard: what landed after the last commit is skipped on replay, wherever it falls in later batches", "[kafka_sink][unit]") {
  ReplayGuard g;
  g.restore({{"a", 5}, {"b", 0}}, "");
  // The crashed run wrote a5..a9 and b0..b2 after the commit; a7 and b1 never arrived.
  for (uint64_t n : {5, 6, 8, 9}) g.landed("a", n);
  for (uint64_t n : {0, 2}) g.landed("b", n);
  g.landed("a", 3);  // below the committed count: committed long ago, never replayed
  CHECK(g.landed_count() == 6);

  // The replay of `a` comes first, split in two batches; `b` comes only after a commit.
  CHECK_FALSE(g.next("a"));  // 5
  CHECK_FALSE(g.next("a"));  // 6
  CHECK(g.next("a") == 7u);
  g.commit_batch();
  CHECK(g.landed_count() == 4);
  CHECK_FALSE(g.next("a"));  // 8
  CHECK_FALSE(g.next("a"));  // 9
  CHECK(g.next("a") == 10u);
  g.commit_batch();
  CHECK(g.landed_count() == 2);
  CHECK_FALSE(g.encode_landed().empty());

  // A restart here must still know that b0 and b2 landed: the list travels with the commits.
  ReplayGuard after;
  after.restore({{"a", 11}, {"b", 0}}, g.encode_landed());
  CHECK(after.landed_count() == 2);
  CHECK_FALSE(after.next("b"));
  CHECK(after.next("b") == 1u);
  CHECK_FALSE(after.next("b"));
  CHECK(after.next("b") == 3u);
  after.commit_batch();
  CHECK(after.landed_count() == 0);
  CHECK(after.encode_landed().empty());
}

TEST_CASE("replay guard: a batch sent ahead numbers on from the one before it and commits after it", "[kafka_sink][unit]") {
  ReplayGuard g;
  g.restore({{"a", 10}}, "");
  g.landed("a", 13);  // landed before a crash: skipped in the batch ahead
  CHECK(g.next("a") == 10u);
  CHECK(g.next("a") == 11u);
  g.seal_batch();
  // The next batch is sent while the first waits for its acknowledgements.
  CHECK(g.next("a") == 12u);
  CHECK_FALSE(g.next("a"));  // 13
  CHECK(g.next("b") == 0u);
  g.seal_batch();
  // The first batch's commit holds its own counts only: a crash now must not count the second as written.
  CHECK(g.commit_batch() == std::map<std::string, uint64_t>{{"a", 12}});
  CHECK(g.landed_count() == 1);
  CHECK(g.next("a") == 14u);  // a third batch opens while the second waits
  CHECK(g.commit_batch() == std::map<std::string, uint64_t>{{"a", 14}, {"b", 1}});
  CHECK(g.landed_count() == 0);
  CHECK(g.commit_batch() == std::map<std::string, uint64_t>{{"a", 15}});
  g.abandon_batch();
  CHECK(g.next("a") == 15u);
}

TEST_CASE("replay guard: an unreadable landed list is an error, not an empty one", "[kafka_sink][unit]") {
  ReplayGuard g;
  CHECK_THROWS_WITH(g.restore({}, "{not json"), Catch::Contains("unreadable landed-record list"));
  CHECK_THROWS_WITH(g.restore({}, "{\"a\":3}"), Catch::Contains("unreadable landed-record list"));
}

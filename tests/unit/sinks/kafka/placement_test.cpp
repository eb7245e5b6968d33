#include "sinks/kafka/placement.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>

using namespace sluice::sinks::kafka;

TEST_CASE("keyless placement: runs of `sticky` consecutive numbers, the partitions in turn", "[kafka_sink][unit]") {
  const uint64_t start = keyless_rotation_start("orders-0");
  const int32_t first = int32_t(start % 5);
  // Three per run over five partitions: 15 numbers go once around.
  for (uint64_t seq = 0; seq < 45; ++seq) {
    INFO("sequence " << seq);
    CHECK(keyless_partition(start, seq, 3, 5) == (first + int32_t(seq / 3)) % 5);
  }
  // Every partition gets the same share over whole turns.
  std::map<int32_t, int> counts;
  for (uint64_t seq = 0; seq < 4096 * 48 * 2; ++seq) counts[keyless_partition(start, seq, 4096, 48)]++;
  CHECK(counts.size() == 48);
  for (const auto& [partition, n] : counts) CHECK(n == 4096 * 2);
  // One per run is plain round robin.
  CHECK(keyless_partition(start, 7, 1, 5) == (first + 7) % 5);
}

TEST_CASE("keyless placement: each source partition's rotation starts at a place of its own, the same on every run",
          "[kafka_sink][unit]") {
  // XXH3 of the name, which is the same on every platform and version: a restart after an upgrade keeps placing
  // a replayed record where it went before. Changing this value moves every keyless record of every pipeline.
  CHECK(keyless_rotation_start("generate") == 0x8fb8e47cec8b26e9ull);
  CHECK(keyless_rotation_start("generate") == keyless_rotation_start(std::string("gener") + "ate"));
  // 24 source partitions of a topic do not all start on the same of 48 output partitions.
  std::set<int32_t> firsts;
  for (int i = 0; i < 24; ++i) firsts.insert(keyless_partition(keyless_rotation_start("payments-" + std::to_string(i)), 0, 4096, 48));
  CHECK(firsts.size() >= 12);
}

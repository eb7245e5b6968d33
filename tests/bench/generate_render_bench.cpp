// Baseline for generate → blackhole: the generator's record rendering alone, in a tight loop, with the same
// options the daemon benchmark uses. sluiced cannot beat this; the gap is the engine's cost.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "sources/generate/generate_source.hpp"

int main(int argc, char** argv) {
  const uint64_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 5'000'000;
  sluice::sources::generate::GenerateOptions options;
  sluice::sources::generate::RecordRenderer renderer(options);
  std::string value;
  uint64_t bytes = 0;
  auto start = std::chrono::steady_clock::now();
  for (uint64_t seq = 0; seq < count; ++seq) {
    renderer.render(seq, 1767323045000 + int64_t(seq), value);
    bytes += value.size();
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%llu records %llu bytes %.3f s %.0f records/s %.1f MB/s\n", static_cast<unsigned long long>(count),
              static_cast<unsigned long long>(bytes), s, double(count) / s, double(bytes) / s / 1e6);
  return 0;
}

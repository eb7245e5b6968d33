#pragma once
// Named places where a test build can die as if the machine lost power, to prove recovery at each step of a
// commit. Set SLUICE_CRASH_AT=name or name:N (die at the Nth time the point is reached).
// The same places can be made slow, as a disk under load is: SLUICE_SLOW_AT=name@pipeline:ms sleeps ms there
// for that pipeline only (name:ms for every pipeline), which lets tests hold a drain open deterministically.
// Compiled out unless SLUICE_CRASH_POINTS is defined; the points sit on blocking-pool threads, never on the
// event loop.
#include <string_view>

namespace sluice::core {

#ifdef SLUICE_CRASH_POINTS
void crash_point(const char* name, std::string_view pipeline = {});
#else
inline void crash_point(const char*, std::string_view = {}) {}
#endif

}  // namespace sluice::core

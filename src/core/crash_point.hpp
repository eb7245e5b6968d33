#pragma once
// Named places where a test build can die as if the machine lost power, to prove recovery at each step of a
// commit. Set SLUICE_CRASH_AT=name or name:N (die at the Nth time the point is reached). Compiled out unless
// SLUICE_CRASH_POINTS is defined.
namespace sluice::core {

#ifdef SLUICE_CRASH_POINTS
void crash_point(const char* name);
#else
inline void crash_point(const char*) {}
#endif

}  // namespace sluice::core

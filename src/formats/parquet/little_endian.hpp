#pragma once
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

// Parquet stores lengths and fixed-width values little-endian, whatever the machine.
namespace sluice::formats::parquet {

inline uint32_t load_le32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

inline void append_le32(std::string& out, uint32_t v) {
  const char b[4] = {char(v), char(v >> 8), char(v >> 16), char(v >> 24)};
  out.append(b, 4);
}

}  // namespace sluice::formats::parquet

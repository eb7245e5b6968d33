#include "sources/file/shared.hpp"

#include <unistd.h>

#include <string>

namespace sluice::sources::file {

uint64_t fnv1a(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::pair<uint32_t, uint64_t> read_fingerprint(int fd, uint32_t len) {
  std::string head(len, '\0');
  ssize_t n = ::pread(fd, head.data(), len, 0);
  if (n < 0) n = 0;
  head.resize(size_t(n));
  return {uint32_t(n), fnv1a(head)};
}

}  // namespace sluice::sources::file

// libFuzzer target for sluice's Parquet reader: the input is a whole Parquet file, read row by row with tight
// Limits, once with pages held whole and once with PLAIN pages streamed. A file that breaks the format may only
// make the reader throw ParquetError; anything else (another exception, a crash, a sanitizer report, a leak, a
// hang, an allocation past -malloc_limit_mb) is a finding.
// The raw input also goes straight to the footer and page header parsers.
// Built and run by run_parquet_fuzz.sh beside this file.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "formats/parquet/file_reader.hpp"
#include "formats/parquet/metadata.hpp"

using namespace sluice::formats::parquet;

namespace {

Limits tight_limits() {
  Limits limits;
  limits.max_footer_bytes = 4u << 20;
  limits.max_page_header_bytes = 1u << 20;
  limits.max_page_bytes = 16u << 20;
  limits.max_list_elements = 1u << 16;
  limits.max_string_bytes = 1u << 20;
  limits.max_nesting = 32;
  limits.max_schema_elements = 1u << 12;
  return limits;
}

// Rows of one input past which the reader stops: a few bytes of RLE can legitimately encode billions of null rows,
// and reading them all would be a slow input, not a bug. Likewise the JSON text of one input.
constexpr size_t kMaxRows = 1u << 16;
constexpr size_t kMaxText = 64u << 20;

// The input as a file FileReader can open by path: one memfd, rewritten for each input.
const std::string& input_path() {
  static const std::string path = [] {
    const int fd = ::memfd_create("parquet_fuzz_input", 0);
    if (fd < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    return "/proc/self/fd/" + std::to_string(fd);
  }();
  return path;
}

void write_input(const uint8_t* data, size_t size) {
  const int fd = std::stoi(input_path().substr(std::string("/proc/self/fd/").size()));
  if (::ftruncate(fd, 0) != 0) std::abort();
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd, data + done, size - done, off_t(done));
    if (n <= 0) std::abort();
    done += size_t(n);
  }
}

// Reads rows until the end, kMaxRows or kMaxText; with `seek`, first goes to a position the input picks.
void read_rows(const Limits& limits, const uint8_t* data, size_t size, bool seek) {
  try {
    FileReader reader(input_path(), limits);
    if (seek && size >= 16) {
      // bytes just before the footer length: somewhere in the footer, so they vary with the metadata
      const RowPosition to{uint32_t(data[size - 9] % 4), uint64_t(data[size - 10] % 64)};
      reader.seek(to);
    }
    std::string row;
    size_t text = 0;
    for (size_t rows = 0; rows < kMaxRows && text < kMaxText; ++rows) {
      row.clear();
      if (!reader.next(row)) break;
      text += row.size();
    }
  } catch (const ParquetError&) {
    // the file is at fault, and the reader said so: the expected outcome for most inputs
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Limits limits = tight_limits();
  // The second read streams every PLAIN page, as the reader does for big ones, so both paths meet every input.
  static const Limits streaming = [] {
    Limits l = tight_limits();
    l.stream_page_bytes = 0;
    return l;
  }();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  try {
    (void)parse_file_metadata(bytes, limits);
  } catch (const ParquetError&) {
  }
  try {
    PageHeader header;
    (void)parse_page_header(bytes, header, limits);
  } catch (const ParquetError&) {
  }
  // The footer as FileReader finds it (before the last 8 bytes), so mutations of a whole file reach the parser
  // through both doors.
  if (size >= 12) {
    uint32_t length = uint32_t(data[size - 8]) | uint32_t(data[size - 7]) << 8 | uint32_t(data[size - 6]) << 16 |
                      uint32_t(data[size - 5]) << 24;
    if (length <= size - 12) {
      try {
        (void)parse_file_metadata(bytes.substr(size - 8 - length, length), limits);
      } catch (const ParquetError&) {
      }
    }
  }

  write_input(data, size);
  read_rows(limits, data, size, false);
  read_rows(streaming, data, size, true);
  return 0;
}

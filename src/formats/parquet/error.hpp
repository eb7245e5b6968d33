#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "formats/gzip.hpp"  // FormatError

namespace sluice::formats::parquet {

// A Parquet file that breaks its format's rules, or asks for more than the reader's limits allow. The message
// says what and where ("column 'a', row group 3, page at byte 1234: ..."); a reader that catches it knows the
// file, not the process, is at fault.
struct ParquetError : FormatError {
  using FormatError::FormatError;
};

// Bounds on what untrusted input may make the reader allocate or loop over. Every size or count read from a
// file is checked against these before anything is sized by it.
struct Limits {
  size_t max_footer_bytes = 64u << 20;      // the serialized FileMetaData
  size_t max_page_header_bytes = 16u << 20; // one serialized PageHeader (statistics may hold long min/max)
  size_t max_page_bytes = 512u << 20;       // a page, compressed or not
  // PLAIN values of a bigger page (decompressed) are decompressed and decoded as they are read, never held
  // whole, when its codec streams (none, gzip, zstd, brotli): writers that put a whole column chunk in one
  // page would otherwise cost its full size per column.
  size_t stream_page_bytes = 4u << 20;
  size_t max_list_elements = 1u << 24;      // one Thrift list in the metadata
  size_t max_string_bytes = 64u << 20;      // one Thrift binary/string field
  uint32_t max_nesting = 64;                // Thrift struct nesting, and schema depth
  size_t max_schema_elements = 1u << 16;
};

}  // namespace sluice::formats::parquet

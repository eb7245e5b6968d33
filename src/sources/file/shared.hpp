#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

// What the JSONL/CSV reader (file_source.cpp) and the Parquet reader (parquet_input.cpp) share.
namespace sluice::sources::file {

// One read step: a JSONL/CSV chunk of input, or about this much Parquet row text.
inline constexpr size_t kChunkBytes = 1 << 20;
// A batch may only end at a record that carries a position; one every so many records keeps batches near
// their configured size without a position string per record.
inline constexpr size_t kPositionEvery = 128;
// How many leading bytes of a file its fingerprint covers at most.
inline constexpr uint32_t kFingerprintBytes = 256;

uint64_t fnv1a(std::string_view bytes);

// The fingerprint ties a position to the file's content, so a new file that reuses a deleted file's inode is
// not mistaken for it: FNV-1a 64 of the first `len` bytes, with how many there were (fewer at the end of the
// file).
std::pair<uint32_t, uint64_t> read_fingerprint(int fd, uint32_t len);

}  // namespace sluice::sources::file

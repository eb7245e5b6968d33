#pragma once
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sluice::formats {

// Input that is not what its format promises; the reader reports it instead of emitting garbage.
struct FormatError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Streaming gzip decompression. Concatenated members decode as one stream, since our file sink writes one
// member per commit.
class GzipDecoder {
 public:
  GzipDecoder();
  ~GzipDecoder();
  GzipDecoder(GzipDecoder&&) noexcept;
  GzipDecoder& operator=(GzipDecoder&&) noexcept;

  // Decompresses in, appending to out. Throws FormatError("corrupt gzip data: ...") on corrupt input,
  // including anything after a member that does not start another one; reset() before using it again.
  void feed(std::string_view in, std::string& out);
  // True when no member is partially decoded: nothing was fed, or the input so far ended exactly after a
  // member's trailer. A reader at eof uses it to tell a complete file from a truncated one.
  bool at_member_boundary() const;
  void reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class GzipEncoder {
 public:
  explicit GzipEncoder(int level = 6);  // zlib levels 0-9; anything else throws std::invalid_argument
  ~GzipEncoder();
  GzipEncoder(GzipEncoder&&) noexcept;
  GzipEncoder& operator=(GzipEncoder&&) noexcept;

  // Appends compressed bytes to out; zlib may hold some input back until more comes or the member ends.
  void write(std::string_view in, std::string& out);
  // Completes the current member (flushes and writes the trailer), so everything up to here survives a later
  // crash; the next write starts a new member. A no-op if nothing was written since the last finish.
  void finish_member(std::string& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True if head starts with the gzip magic bytes 1F 8B.
bool looks_like_gzip(std::string_view head);

}  // namespace sluice::formats

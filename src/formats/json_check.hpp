#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::formats {

// Validates JSONL lines without building anything from them: sources pass the bytes through untouched, so
// all we need is a yes or a reason for the dead-letter entry. Reusable (its buffers only grow), one per
// reader, not thread-safe.
class JsonChecker {
 public:
  JsonChecker();
  ~JsonChecker();
  JsonChecker(JsonChecker&&) noexcept;
  JsonChecker& operator=(JsonChecker&&) noexcept;

  // nullopt if line is exactly one JSON object (surrounding whitespace and a trailing '\r' allowed); else a
  // short reason such as "invalid JSON: TAPE_ERROR: ..." or "not a JSON object".
  std::optional<std::string> check_object(std::string_view line);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Strips a trailing '\r' (CRLF files) and surrounding spaces and tabs.
std::string_view trim_line(std::string_view line);

// Appends s as a JSON string literal. Invalid UTF-8 bytes become \ufffd, one per byte, so that whatever we
// emit is valid JSON for any consumer.
void append_json_string(std::string& out, std::string_view s);

}  // namespace sluice::formats

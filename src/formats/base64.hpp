#pragma once
#include <optional>
#include <string>
#include <string_view>

// Standard base64 (RFC 4648 §4, padded): how records carry binary values in JSON.
namespace sluice::formats {

void append_base64(std::string& out, std::string_view bytes);
// Appends the decoded bytes; false (out unchanged) if text is not padded standard base64.
bool decode_base64(std::string_view text, std::string& out);

}  // namespace sluice::formats

#pragma once
// One hexadecimal digit, either case: its value, or -1. For the places that read hex from text (LSNs, bytea,
// percent-escapes in URLs).
namespace sluice::formats {

constexpr int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace sluice::formats

#pragma once
// Column values as pgoutput sends them (PostgreSQL's text output, with DateStyle=ISO and TimeZone=UTC set on
// the connection) turned into JSON by the column's type: numbers stay numbers where JSON keeps them exact,
// numerics stay strings (never through a double), timestamps become ISO 8601, json/jsonb stay JSON, bytea
// becomes base64, arrays become JSON arrays of their element type. Unknown types (enums, domains, custom)
// are strings.
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::sources::postgres_cdc {

// Appends the JSON for one non-NULL value of type `type_oid` given in PostgreSQL's text format. Throws
// std::invalid_argument naming the type when the text does not parse as that type (a protocol error).
void append_json_value(std::string& out, uint32_t type_oid, std::string_view text);

// The element type of a built-in array type, or 0 if `type_oid` is not one.
uint32_t array_element_type(uint32_t type_oid);

}  // namespace sluice::sources::postgres_cdc

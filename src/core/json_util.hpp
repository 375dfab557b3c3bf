// json_util: the JSON helpers that matching.md and trace-format.md pin down exactly.
//
// - `json_equal`: deep JSON equality of matching.md section 3 (numbers by value as doubles,
//   never equal to booleans; arrays in order; objects by key set). Boost.JSON's operator==
//   says 16 != 16.0, so it must not be used for matching.
// - `parse_strict`: RFC 8259 parsing as trace-format.md requires (no NaN/Infinity, no numbers
//   that overflow a double, valid UTF-8, depth <= 64, duplicate keys: last one wins).
// - `describe`: "string \"16\"", "number 16", "object", ... for error messages.
#pragma once

#include "core/error.hpp"

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace jobrouter {

namespace json = boost::json;

inline constexpr std::size_t kMaxJsonDepth = 64;

/// Deep JSON equality per matching.md: numbers compare as IEEE doubles.
bool json_equal(const json::value& a, const json::value& b) noexcept;

/// True for int64, uint64 and double values.
inline bool is_number(const json::value& v) noexcept {
    return v.is_int64() || v.is_uint64() || v.is_double();
}

/// The value as a double; only for values where is_number() holds.
double as_double(const json::value& v) noexcept;

/// The value as a signed 64-bit integer when it is a JSON integer literal that fits.
std::optional<std::int64_t> as_integer(const json::value& v) noexcept;

/// Parses one JSON text strictly (trace-format.md "Lines and JSON").
result<json::value> parse_strict(std::string_view text);

/// A short description of a value for messages: `string "16"`, `number 1.5`, `array`, ...
std::string describe(const json::value& v);

/// Compact JSON text of a value (Boost.JSON's serialize), e.g. for details in explain output.
std::string to_json(const json::value& v);

/// A number as people write it: 16, 1.5, 1e+23 (shortest round-trip form).
std::string format_number(const json::value& v);

/// Quotes a string as a JSON string literal.
std::string quoted(std::string_view s);

/// `s` with every byte that is not part of a valid UTF-8 character replaced by U+FFFD, so it
/// can go into JSON text (Boost.JSON serializes strings without checking them).
std::string valid_utf8(std::string_view s);

}  // namespace jobrouter

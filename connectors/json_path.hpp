// json_path: the small path language HttpRestConnector's config uses to pick a value out of a
// JSON reply or a job ("choices[0].message.content", "prompt_id", "[0].id", "" = the whole
// value). Segments are object keys separated by '.', each optionally followed by array
// indexes "[n]". Keys cannot contain '.', '[' or ']' (none of the services we target need it).
//
// Pure functions, no I/O; errors name the config field the path came from.
#pragma once

#include "core/error.hpp"

#include <boost/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace jobrouter {

/// One step of a path: an object key or an array index.
using json_path_step = std::variant<std::string, std::size_t>;

/// A parsed path; empty means the whole value.
struct json_path {
    std::vector<json_path_step> steps;
    std::string text;  ///< as written, for messages
};

/// Parses `text`; `field` names the config field in the error ("services.s.api_config.result_path").
result<json_path> parse_json_path(std::string_view text, const std::string& field);

/// The value at `path` inside `root`, or nullptr when some step is missing (no such key, index
/// out of range, or a step into a scalar).
const boost::json::value* find_json_path(const boost::json::value& root, const json_path& path);

}  // namespace jobrouter

// request_json: how serve reads a JSON request body, and the limits it checks on the way
// (README "Security and limits"). Stricter than parse_strict where a client is concerned:
// every error names the place (a byte offset with line and column for syntax, a JSON path
// such as body.payload.prompt for values) and, for a limit, the flag that raises it.
//
// - RFC 8259 only: no comments, no trailing commas, no NaN or Infinity literals;
// - every string and object key valid UTF-8 (Boost.JSON alone says only "syntax error");
// - numbers finite (Boost.JSON turns 1e400 into infinity);
// - nesting at most limits.max_json_depth, strings and keys at most limits.max_string_bytes;
// - duplicate keys: the last one wins (as parse_strict and trace-format.md).
#pragma once

#include "server/dispatcher.hpp"
#include "server/http_limits.hpp"

#include <boost/json.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>
#include <string_view>

namespace jobrouter {

/// Parses a request body. Errors are 400 with code invalid_json or limit_exceeded.
api_result<boost::json::value> parse_request_json(std::string_view text, const http_limits& limits);

/// Checks each of `fields` of `body` that is a string (the values used as keys, in URLs, in
/// events and in log lines): at most limits.max_id_bytes long (limit_exceeded), and free of
/// control characters, C0, DEL and C1 (invalid_request naming the field, the code point and
/// its byte).
api_result<void> check_ids(const boost::json::value& body, std::initializer_list<std::string_view> fields,
                           const http_limits& limits);

/// The most job ids one heartbeat may list.
inline constexpr std::size_t kMaxHeartbeatJobs = 1000;

/// A heartbeat body's `jobs` (the jobs the worker works on): nullopt when absent; else an
/// array of at most kMaxHeartbeatJobs strings, each checked as check_ids checks an id. The
/// body must be an object (an empty body is read as {}). Errors are 400 naming the field
/// (body.jobs, body.jobs[3]) and the problem.
api_result<std::optional<std::vector<std::string>>> heartbeat_jobs(const boost::json::value& body, const http_limits& limits);

/// Checks a job submission's `requirements` against limits.max_requirements_bytes (its
/// size as compact JSON text).
api_result<void> check_requirements_size(const boost::json::value& body, const http_limits& limits);

/// The 400 that every limit_exceeded refusal uses: "<where>: <what>, over the limit of N (<flag>)".
api_error limit_exceeded(const std::string& where, const std::string& what, std::size_t limit, const char* flag);

}  // namespace jobrouter

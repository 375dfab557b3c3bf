// log: serve's log lines, on standard error: human-readable by default, one JSON object a line
// with --log-format json. One process-wide sink, configured once at start-up by serve.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <string_view>

namespace jobrouter::log {

enum class level { debug, info, warn, error };
enum class format { text, json };

void configure(level min_level, format f);
bool enabled(level l);

/// Writes `message` with structured `fields` (shown as key=value in text format).
void write(level l, std::string_view message, const boost::json::object& fields = {});

inline void debug(std::string_view m, const boost::json::object& f = {}) { write(level::debug, m, f); }
inline void info(std::string_view m, const boost::json::object& f = {}) { write(level::info, m, f); }
inline void warn(std::string_view m, const boost::json::object& f = {}) { write(level::warn, m, f); }
inline void error(std::string_view m, const boost::json::object& f = {}) { write(level::error, m, f); }

}  // namespace jobrouter::log

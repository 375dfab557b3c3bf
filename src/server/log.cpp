#include "server/log.hpp"

#include "server/job_json.hpp"

#include <chrono>
#include <iostream>

namespace jobrouter::log {

namespace {

level g_min = level::info;
format g_format = format::text;

const char* name(level l) {
    switch (l) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
    }
    return "info";
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

void configure(level min_level, format f) {
    g_min = min_level;
    g_format = f;
}

bool enabled(level l) { return l >= g_min; }

void write(level l, std::string_view message, const boost::json::object& fields) {
    if (!enabled(l)) return;
    std::string line;
    if (g_format == format::json) {
        boost::json::object o{{"time", iso_time(now_ms())}, {"level", name(l)}, {"msg", message}};
        for (const auto& kv : fields) o[kv.key()] = kv.value();
        line = boost::json::serialize(o);
    } else {
        line = iso_time(now_ms()) + " " + name(l) + " " + std::string(message);
        for (const auto& kv : fields) {
            line += " ";
            line += kv.key();
            line += "=";
            line += kv.value().is_string() ? std::string(kv.value().get_string()) : boost::json::serialize(kv.value());
        }
    }
    line += '\n';
    std::cerr << line << std::flush;
}

}  // namespace jobrouter::log

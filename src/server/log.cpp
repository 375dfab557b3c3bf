#include "server/log.hpp"

#include "core/json_util.hpp"
#include "server/job_json.hpp"

#include <chrono>
#include <cstdio>
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

// Text format: one event is one line, whatever the strings in it hold. Values come from
// clients (a job's id and service_required, in the unroutable warning): one holding a newline
// could otherwise forge a second log line, one holding ESC or CSI could drive the terminal. So
// control characters (C0, DEL, C1) are written as \n, \u001b and the like, invalid UTF-8 as
// U+FFFD, and a value that is not a plain word (empty, or with a space, a quote, a backslash, an
// '=' or a control character) is written between double quotes.
std::string escaped(std::string_view raw, bool quote_too) {
    const std::string s = valid_utf8(raw);
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        unsigned control = 0x100;  // none
        if (c < 0x20 || c == 0x7f) control = c;
        else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9f) control = static_cast<unsigned char>(s[++i]);
        if (control == '\n') out += "\\n";
        else if (control == '\r') out += "\\r";
        else if (control == '\t') out += "\\t";
        else if (control != 0x100) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", control);
            out += buf;
        } else if (quote_too && (c == '"' || c == '\\')) {
            out += '\\';
            out += static_cast<char>(c);
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

bool plain_word(std::string_view s) {
    if (s.empty()) return false;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c == 0x7f || c == 0xc2 || c == '"' || c == '\\' || c == '=') return false;
    }
    return true;
}

std::string text_message(std::string_view s) { return escaped(s, false); }

std::string text_value(std::string_view s) { return plain_word(s) ? std::string(s) : "\"" + escaped(s, true) + "\""; }

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
        boost::json::object o{{"time", iso_time(now_ms())}, {"level", name(l)}, {"msg", valid_utf8(message)}};
        for (const auto& kv : fields) o[kv.key()] = kv.value();
        line = boost::json::serialize(o);
    } else {
        line = iso_time(now_ms()) + " " + name(l) + " " + text_message(message);
        for (const auto& kv : fields) {
            line += " ";
            line += text_message(kv.key());
            line += "=";
            line += kv.value().is_string() ? text_value(kv.value().get_string()) : boost::json::serialize(kv.value());
        }
    }
    line += '\n';
    std::cerr << line << std::flush;
}

}  // namespace jobrouter::log

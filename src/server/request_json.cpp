#include "server/request_json.hpp"

#include "core/json_util.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <optional>
#include <utility>

namespace jobrouter {

namespace json = boost::json;

namespace {

// The offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), or nullopt when all of `s` is.
std::optional<std::size_t> invalid_utf8_at(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;  // overlong
            if (c == 0xED) hi = 0x9F;  // surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;  // overlong
            if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
        } else {
            return i;
        }
        if (i + len > n) return i;
        if (p[i + 1] < lo || p[i + 1] > hi) return i;
        for (std::size_t k = 2; k < len; ++k)
            if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
        i += len;
    }
    return std::nullopt;
}

// The byte offset and code point of the first control character (U+0000..U+001F, U+007F..U+009F:
// C0, DEL and C1, which terminals act on) in valid UTF-8 `s`, or nullopt.
std::optional<std::pair<std::size_t, unsigned>> control_character_at(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) return std::pair<std::size_t, unsigned>{i, c};
        if (c == 0xc2 && i + 1 < s.size()) {
            const auto next = static_cast<unsigned char>(s[i + 1]);
            if (next >= 0x80 && next <= 0x9f) return std::pair<std::size_t, unsigned>{i, next};
        }
    }
    return std::nullopt;
}

// "line 3, column 7 (byte 41)" for a 0-based byte offset.
std::string position(std::string_view text, std::size_t offset) {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column) + " (byte " + std::to_string(offset) + ")";
}

// A path step for an object key: .name when it is a plain name, else ["..."]; keys that are
// not UTF-8 or are long are shown in a form that is safe to put in a JSON reply.
std::string key_step(std::string_view key) {
    if (invalid_utf8_at(key)) return "[(a key that is not UTF-8)]";
    std::string_view shown = key.size() > 64 ? key.substr(0, 64) : key;
    while (!shown.empty() && invalid_utf8_at(shown)) shown.remove_suffix(1);  // do not cut a character in two
    bool plain = !key.empty() && shown.size() == key.size();
    for (char c : key)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) plain = false;
    if (plain) return "." + std::string(key);
    return "[" + quoted(shown) + (shown.size() < key.size() ? "..." : "") + "]";
}

// Where a value sits in the body ("body.payload.items[3]"), as a chain of steps on the
// caller's stack: the text is built only for an error, not for every value checked.
struct path_step {
    const path_step* parent = nullptr;  ///< nullptr: the body itself
    std::string_view key;               ///< an object member's key, or
    std::size_t index = 0;              ///< an array element's index (when is_index)
    bool is_index = false;

    std::string text() const {
        if (!parent) return "body";
        std::string out = parent->text();
        if (is_index) {
            out += '[';
            out += std::to_string(index);
            out += ']';
        } else {
            out += key_step(key);
        }
        return out;
    }
};

struct checker {
    const http_limits& limits;

    std::optional<api_error> string(std::string_view s, const path_step& path, const char* what) const {
        if (auto bad = invalid_utf8_at(s))
            return api_error{400, "invalid_json",
                             path.text() + ": " + what + " is not valid UTF-8 (byte " + std::to_string(*bad) + " of it)"};
        if (s.size() > limits.max_string_bytes)
            return limit_exceeded(path.text(), std::string(what) + " of " + std::to_string(s.size()) + " bytes",
                                  limits.max_string_bytes, "--max-string-bytes");
        return std::nullopt;
    }

    std::optional<api_error> value(const json::value& v, const path_step& path) const {
        switch (v.kind()) {
        case json::kind::double_:
            if (!std::isfinite(v.get_double()))
                return api_error{400, "invalid_json", path.text() + ": number is out of range (it overflows a double)"};
            return std::nullopt;
        case json::kind::string: return string(v.get_string(), path, "string");
        case json::kind::array: {
            const auto& a = v.get_array();
            for (std::size_t i = 0; i < a.size(); ++i)
                if (auto e = value(a[i], path_step{&path, {}, i, true})) return e;
            return std::nullopt;
        }
        case json::kind::object:
            for (const auto& kv : v.get_object()) {
                const path_step child{&path, kv.key(), 0, false};
                if (auto e = string(kv.key(), child, "key")) return e;
                if (auto e = value(kv.value(), child)) return e;
            }
            return std::nullopt;
        default: return std::nullopt;
        }
    }
};

}  // namespace

api_error limit_exceeded(const std::string& where, const std::string& what, std::size_t limit, const char* flag) {
    return api_error{400, "limit_exceeded",
                     where + ": " + what + " is over the limit of " + std::to_string(limit) + " (" + flag + " raises it)"};
}

api_result<json::value> parse_request_json(std::string_view text, const http_limits& limits) {
    json::parse_options options;
    options.max_depth = limits.max_json_depth;
    // Strings are checked below, with their path: Boost.JSON would only say "syntax error".
    options.allow_invalid_utf8 = true;
    // The parser's working stack on ours: no allocation for it per request (bodies nested
    // deeper than this buffer holds make it allocate, as before).
    unsigned char temp[4096];
    json::parser p(json::storage_ptr(), options, temp);
    boost::system::error_code ec;
    const std::size_t used = p.write(text.data(), text.size(), ec);
    if (ec == json::error::too_deep)
        return limit_exceeded("body", "nesting deeper than " + std::to_string(limits.max_json_depth) + " levels at " +
                                          position(text, used),
                              limits.max_json_depth, "--max-json-depth");
    if (ec) {
        std::string what = ec.message();
        // Outside strings Boost.JSON reports a non-UTF-8 byte as a plain syntax error.
        if (used < text.size() && static_cast<unsigned char>(text[used]) >= 0x80 && invalid_utf8_at(text.substr(used)))
            what = "not valid UTF-8";
        return api_error{400, "invalid_json", "body: invalid JSON at " + position(text, used) + ": " + what};
    }
    json::value v = p.release();
    if (auto e = checker{limits}.value(v, path_step{})) return *e;
    return v;
}

namespace {

// One id at `where`: at most limits.max_id_bytes, no control characters.
api_result<void> check_id(const std::string& where, std::string_view id, const http_limits& limits) {
    if (id.size() > limits.max_id_bytes)
        return limit_exceeded(where, "a value of " + std::to_string(id.size()) + " bytes", limits.max_id_bytes, "--max-id-bytes");
    if (auto at = control_character_at(id)) {
        char code[8];
        std::snprintf(code, sizeof code, "U+%04X", at->second);
        return api_error{400, "invalid_request",
                         where + ": holds the control character " + code + " at byte " + std::to_string(at->first) +
                             " (ids go into URLs, events and log lines: no control characters)"};
    }
    return {};
}

}  // namespace

api_result<void> check_ids(const json::value& body, std::initializer_list<std::string_view> fields, const http_limits& limits) {
    if (!body.is_object()) return {};
    for (auto f : fields) {
        const json::value* v = body.get_object().if_contains(f);
        if (!v || !v->is_string()) continue;
        if (auto ok = check_id("body." + std::string(f), v->get_string(), limits); !ok) return ok.error();
    }
    return {};
}

api_result<std::optional<std::vector<std::string>>> heartbeat_jobs(const json::value& body, const http_limits& limits) {
    if (!body.is_object()) return api_error{400, "invalid_request", "body: must be a JSON object, got " + describe(body)};
    const json::value* v = body.get_object().if_contains("jobs");
    if (!v) return std::optional<std::vector<std::string>>();
    if (!v->is_array())
        return api_error{400, "invalid_request", "body.jobs: must be an array of the job ids the worker works on, got " + describe(*v)};
    const json::array& a = v->get_array();
    if (a.size() > kMaxHeartbeatJobs)
        return api_error{400, "limit_exceeded", "body.jobs: " + std::to_string(a.size()) + " job ids, over the limit of " +
                                                    std::to_string(kMaxHeartbeatJobs) + " (a worker lists only the jobs it works on)"};
    std::vector<std::string> ids;
    ids.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        const std::string where = "body.jobs[" + std::to_string(i) + "]";
        if (!a[i].is_string()) return api_error{400, "invalid_request", where + ": must be a string (a job id), got " + describe(a[i])};
        if (auto ok = check_id(where, a[i].get_string(), limits); !ok) return ok.error();
        ids.emplace_back(a[i].get_string());
    }
    return std::optional<std::vector<std::string>>(std::move(ids));
}

api_result<void> check_requirements_size(const json::value& body, const http_limits& limits) {
    if (!body.is_object()) return {};
    const json::value* r = body.get_object().if_contains("requirements");
    if (!r) return {};
    const std::size_t size = json::serialize(*r).size();
    if (size > limits.max_requirements_bytes)
        return limit_exceeded("body.requirements", std::to_string(size) + " bytes of JSON", limits.max_requirements_bytes,
                              "--max-requirements-bytes");
    return {};
}

}  // namespace jobrouter

#include "core/json_util.hpp"

#include <charconv>
#include <cmath>

namespace jobrouter {

double as_double(const json::value& v) noexcept {
    switch (v.kind()) {
    case json::kind::int64: return static_cast<double>(v.get_int64());
    case json::kind::uint64: return static_cast<double>(v.get_uint64());
    case json::kind::double_: return v.get_double();
    default: return 0.0;
    }
}

std::optional<std::int64_t> as_integer(const json::value& v) noexcept {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v.get_uint64());
    return std::nullopt;
}

bool json_equal(const json::value& a, const json::value& b) noexcept {
    if (is_number(a) || is_number(b)) return is_number(a) && is_number(b) && as_double(a) == as_double(b);
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
    case json::kind::null: return true;
    case json::kind::bool_: return a.get_bool() == b.get_bool();
    case json::kind::string: return a.get_string() == b.get_string();
    case json::kind::array: {
        const auto& x = a.get_array();
        const auto& y = b.get_array();
        if (x.size() != y.size()) return false;
        for (std::size_t i = 0; i < x.size(); ++i)
            if (!json_equal(x[i], y[i])) return false;
        return true;
    }
    case json::kind::object: {
        const auto& x = a.get_object();
        const auto& y = b.get_object();
        if (x.size() != y.size()) return false;
        for (const auto& kv : x) {
            const auto* other = y.if_contains(kv.key());
            if (!other || !json_equal(kv.value(), *other)) return false;
        }
        return true;
    }
    default: return false;
    }
}

namespace {

// Boost.JSON turns 1e400 into infinity; RFC 8259 numbers must fit a double.
bool all_finite(const json::value& v) {
    switch (v.kind()) {
    case json::kind::double_: return std::isfinite(v.get_double());
    case json::kind::array:
        for (const auto& x : v.get_array())
            if (!all_finite(x)) return false;
        return true;
    case json::kind::object:
        for (const auto& kv : v.get_object())
            if (!all_finite(kv.value())) return false;
        return true;
    default: return true;
    }
}

}  // namespace

result<json::value> parse_strict(std::string_view text) {
    json::parse_options options;
    options.max_depth = kMaxJsonDepth;
    boost::system::error_code ec;
    json::value v = json::parse(text, ec, json::storage_ptr(), options);
    if (ec) {
        if (ec == json::error::too_deep)
            return make_error("", "invalid JSON: nested deeper than " + std::to_string(kMaxJsonDepth));
        return make_error("", "invalid JSON: " + ec.message());
    }
    if (!all_finite(v)) return make_error("", "invalid JSON: a number overflows a double");
    return v;
}

std::string to_json(const json::value& v) { return json::serialize(v); }

std::string format_number(const json::value& v) {
    if (v.is_int64()) return std::to_string(v.get_int64());
    if (v.is_uint64()) return std::to_string(v.get_uint64());
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, as_double(v));
    return std::string(buf, r.ptr);
}

std::string quoted(std::string_view s) { return json::serialize(json::string_view(s.data(), s.size())); }

namespace {

// The length of the valid UTF-8 character at the start of `s` (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF), or 0 when there is none.
std::size_t utf8_char_length(std::string_view s) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char b0 = byte(0);
    if (b0 < 0x80) return 1;
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) n = 2;
    else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else
        return 0;
    if (s.size() < n || byte(1) < lo || byte(1) > hi) return 0;
    for (std::size_t i = 2; i < n; ++i)
        if ((byte(i) & 0xC0) != 0x80) return 0;
    return n;
}

}  // namespace

std::string valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    while (!s.empty()) {
        const std::size_t n = utf8_char_length(s);
        if (n == 0) {
            out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
            s.remove_prefix(1);
        } else {
            out.append(s.substr(0, n));
            s.remove_prefix(n);
        }
    }
    return out;
}

std::string describe(const json::value& v) {
    switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return v.get_bool() ? "boolean true" : "boolean false";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "number " + format_number(v);
    case json::kind::string: {
        std::string s = json::serialize(v);
        if (s.size() > 60) {
            // Cut before a UTF-8 continuation byte, never inside a character: the message
            // goes into JSON (replay's error lines, HTTP error bodies) and must stay UTF-8.
            std::size_t cut = 57;
            while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
            s = s.substr(0, cut) + "...\"";
        }
        return "string " + s;
    }
    case json::kind::array: return "array";
    case json::kind::object: return "object";
    }
    return "value";
}

}  // namespace jobrouter

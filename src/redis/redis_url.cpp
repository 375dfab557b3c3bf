#include "redis/redis_url.hpp"

#include <boost/url/parse.hpp>

#include <charconv>

namespace jobrouter::redis {

namespace {

result<int> integer_in(std::string_view s, int lo, int hi, const std::string& option, const std::string& what) {
    int v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v < lo || v > hi)
        return make_error(option, what + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " +
                                      quoted(s));
    return v;
}

}  // namespace

std::string redis_url::display() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/" + std::to_string(db);
}

bool is_redis_url(std::string_view text) { return text.rfind("redis://", 0) == 0; }

result<redis_url> parse_redis_url(std::string_view text, const std::string& option) {
    const std::string form = " (expected redis://HOST:PORT/DB, e.g. redis://127.0.0.1:6379/0)";
    if (!is_redis_url(text)) return make_error(option, quoted(text) + " is not a redis:// URL" + form);
    auto parsed = boost::urls::parse_uri(text);
    if (!parsed) return make_error(option, quoted(text) + " is not a valid URL: " + parsed.error().message() + form);
    const auto& u = *parsed;
    redis_url out;
    if (u.host_type() == boost::urls::host_type::ipv6) {
        out.host = u.host_address();
    } else {
        out.host = u.host();
    }
    if (out.host.empty()) return make_error(option, quoted(text) + " has no host" + form);
    if (u.has_port()) {
        auto port = integer_in(u.port(), 1, 65535, option, "the port in " + quoted(text));
        if (!port) return port.error();
        out.port = *port;
    }
    if (u.has_userinfo()) {
        out.user = u.user();
        out.password = u.password();
    }
    std::string_view path = u.encoded_path();
    if (!path.empty() && path != "/") {
        auto db = integer_in(path.substr(1), 0, 1 << 20, option, "the database number (the path) in " + quoted(text));
        if (!db) return db.error();
        out.db = *db;
    }
    if (u.has_query() || u.has_fragment()) return make_error(option, quoted(text) + " has a query or fragment; Redis URLs take none" + form);
    return out;
}

}  // namespace jobrouter::redis

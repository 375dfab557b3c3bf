#include "server/auth.hpp"

#include "server/request_target.hpp"

#include <cctype>

namespace jobrouter {

namespace http = boost::beast::http;

std::string_view to_string(route_class c) {
    switch (c) {
    case route_class::open: return "open";
    case route_class::client: return "client";
    case route_class::worker: return "worker";
    }
    return "client";
}

route_class route_class_of(http::verb method, std::string_view target) {
    // Decoded exactly as api_router decodes them, so that no spelling of a path (%61 for a,
    // a trailing slash) reaches a route under another class.
    const auto parsed = request_target::parse(target);
    if (!parsed) return route_class::client;
    const request_target& seg = *parsed;

    if (seg.is({"health"})) return route_class::open;
    if (seg.size() < 2 || seg[0] != "api") return route_class::client;
    if (seg[1] == "workers") {
        if (seg.size() == 2) return method == http::verb::post ? route_class::worker : route_class::client;
        if (seg.size() == 3) return route_class::worker;  // DELETE /api/workers/{id}
        if (seg.size() == 4 && (seg[3] == "claim" || seg[3] == "heartbeat")) return route_class::worker;
        return route_class::client;  // GET /api/workers/{id}/explain and unknown routes
    }
    if (seg[1] == "jobs" && seg.size() == 4 && (seg[3] == "progress" || seg[3] == "complete" || seg[3] == "fail"))
        return route_class::worker;
    return route_class::client;
}

bool constant_time_equal(std::string_view given, std::string_view expected) noexcept {
    // Every byte of `expected` is looked at whatever `given` holds; a length mismatch is
    // folded into the same accumulator instead of returning early.
    volatile unsigned char diff = given.size() == expected.size() ? 0 : 1;
    const std::size_t n = given.size();
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const unsigned char g = n ? static_cast<unsigned char>(given[i % n]) : 0;
        diff = diff | static_cast<unsigned char>(g ^ static_cast<unsigned char>(expected[i]));
    }
    return diff == 0;
}

std::string check_token_syntax(std::string_view token) {
    if (token.empty()) return "must not be empty";
    if (token.size() > 4096) return "must be at most 4096 characters, got " + std::to_string(token.size());
    for (std::size_t i = 0; i < token.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(token[i]);
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                        c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
        if (!ok)
            return "may hold only letters, digits and - . _ ~ + / = (a bearer token); character " + std::to_string(i + 1) +
                   " is not one of them";
    }
    return {};
}

namespace {

// "Bearer <token>": the scheme is case-insensitive (RFC 7235); nullopt when absent or another scheme.
std::optional<std::string_view> bearer_token(std::string_view header) {
    constexpr std::string_view scheme = "bearer";
    if (header.size() <= scheme.size()) return std::nullopt;
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (static_cast<char>(std::tolower(static_cast<unsigned char>(header[i]))) != scheme[i]) return std::nullopt;
    if (header[scheme.size()] != ' ') return std::nullopt;
    std::string_view token = header.substr(scheme.size() + 1);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    return token;
}

auth_refusal unauthorized(std::string message, bool invalid_token) {
    auth_refusal r;
    r.status = 401;
    r.code = "unauthorized";
    r.message = std::move(message);
    r.www_authenticate = invalid_token ? R"(Bearer realm="jobrouter", error="invalid_token")" : R"(Bearer realm="jobrouter")";
    return r;
}

}  // namespace

std::optional<auth_refusal> authorize(const auth_settings& s, route_class c, std::string_view authorization) {
    if (c == route_class::open) return std::nullopt;
    // The token this class needs: a worker route takes the worker token when one is set.
    const bool worker_route = c == route_class::worker;
    const std::string& needed = worker_route && !s.worker_token.empty() ? s.worker_token : s.client_token;
    if (needed.empty()) return std::nullopt;  // this class is open
    const char* flag = &needed == &s.worker_token ? "--worker-token" : "--auth-token";
    const std::string what = std::string("this is a ") + std::string(to_string(c)) + " route: it needs the token set by " + flag;

    auto token = bearer_token(authorization);
    if (!token)
        return unauthorized(authorization.empty() ? "missing Authorization header; " + what + " (Authorization: Bearer <token>)"
                                                  : "the Authorization header is not \"Bearer <token>\"; " + what,
                            !authorization.empty());
    if (constant_time_equal(*token, needed)) return std::nullopt;
    // The other class's token: known, but not for this route.
    const std::string& other = &needed == &s.worker_token ? s.client_token : s.worker_token;
    if (!other.empty() && constant_time_equal(*token, other)) {
        auth_refusal r;
        r.status = 403;
        r.code = "forbidden";
        r.message = worker_route ? "a client token cannot call a worker route; " + what
                                 : "a worker token cannot call a client route; " + what;
        return r;
    }
    return unauthorized("wrong token; " + what, true);
}

}  // namespace jobrouter

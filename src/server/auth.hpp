// auth: bearer tokens for serve's HTTP API (README "Security and limits").
//
// Routes fall in three classes (route_class_of): open (GET /health only), worker routes (what
// an external worker calls: register, unregister, claim, heartbeat, progress, complete, fail)
// and client routes (everything else: submit, list, get, explain, cancel, workers list,
// metrics, /ws/events). With a client token set, client routes need it; with a worker token
// set, worker routes need it; with only the client token set, worker routes need the client
// token too. So with both set a client cannot claim and a worker cannot submit. Tokens are
// compared in constant time and never logged or echoed.
#pragma once

#include <ostream>  // before Beast's verb.hpp, which uses std::ostream without including it

#include <boost/beast/http/verb.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace jobrouter {

enum class route_class { open, client, worker };

std::string_view to_string(route_class c);

/// The class of a request, from its method and target (the query string is ignored).
/// Unknown routes are client routes: they answer 404 only to an authenticated client.
route_class route_class_of(boost::beast::http::verb method, std::string_view target);

struct auth_settings {
    std::string client_token;  ///< --auth-token / JOBROUTER_AUTH_TOKEN; "" = client routes open
    std::string worker_token;  ///< --worker-token / JOBROUTER_WORKER_TOKEN; "" = as client_token
    bool any() const { return !client_token.empty() || !worker_token.empty(); }
};

/// Why a request is refused: 401 (no or unknown token) or 403 (the other class's token).
struct auth_refusal {
    unsigned status = 401;
    std::string code;               ///< "unauthorized" or "forbidden"
    std::string message;            ///< never contains a token
    std::string www_authenticate;   ///< the WWW-Authenticate header value (401 only)
};

/// Checks the Authorization header (`Bearer <token>`) for a route of class `c`.
std::optional<auth_refusal> authorize(const auth_settings& s, route_class c, std::string_view authorization);

/// Equality whose running time depends only on `expected`'s length, not on where `given`
/// first differs.
bool constant_time_equal(std::string_view given, std::string_view expected) noexcept;

/// Empty when `token` may be used as a bearer token (RFC 6750 b64token characters,
/// 1..4096 of them); else what is wrong (without the token itself).
std::string check_token_syntax(std::string_view token);

}  // namespace jobrouter

// api_router: the HTTP API of `jobrouter serve` (README "HTTP API"). It turns requests into
// dispatcher calls and dispatcher answers into JSON responses; every error is
// {"error":{"code":"...","message":"..."}} with the matching status. It holds no job state of
// its own. Runs on the server's io_context thread.
#pragma once

#include "server/connection_stats.hpp"
#include "server/job_service.hpp"
#include "server/http_limits.hpp"
#include "server/metrics.hpp"

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <string>

namespace jobrouter {

/// What the connection a request came on can tell the router (http_session fills it in; either
/// may be empty; both may be called only during handle()). A long-poll claim uses both, so that
/// no job is handed to a client that is gone.
struct client_link {
    std::function<bool()> gone;                            ///< the client has hung up already
    std::function<void(std::function<void()>)> on_hang_up;  ///< call this once if it hangs up later
};

class api_router {
public:
    using request = boost::beast::http::request<boost::beast::http::string_body>;
    using response = boost::beast::http::response<boost::beast::http::string_body>;
    using respond_fn = std::function<void(response)>;

    api_router(job_service& d, metrics& m, const http_limits& limits);

    /// Answers `req` through `respond`, exactly once (later, for a long-poll claim).
    void handle(request&& req, respond_fn respond, client_link link = {});

    /// A WebSocket upgrade: GET /ws/events becomes a ws_session; anything else is refused.
    /// Returns true when the connection was taken (with its slot, which it then holds).
    bool upgrade(boost::beast::tcp_stream&& stream, request&& req, connection_slot slot);

    static response error_response(unsigned version, bool keep_alive, boost::beast::http::status status,
                                   std::string code, std::string message);

private:
    job_service& dispatcher_;
    metrics& metrics_;
    const http_limits& limits_;
};

}  // namespace jobrouter

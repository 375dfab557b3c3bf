// http_server: accepts TCP connections and runs one http_session per connection (Beast).
// Each session reads a request, hands it to the api_router, writes the answer, and repeats
// while the client keeps the connection alive; a WebSocket upgrade on /ws/events becomes a
// ws_session. At limits.max_connections open connections a new one gets 503 and is closed.
// Everything runs on the server's single io_context thread.
#pragma once

#include "server/auth.hpp"
#include "server/connection_stats.hpp"
#include "server/http_limits.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <memory>

namespace jobrouter {

class api_router;

class http_server {
public:
    /// `limits`, `auth` and `stats` must outlive the server (sessions keep their own share of
    /// `stats`).
    http_server(boost::asio::io_context& io, api_router& router, const http_limits& limits, const auth_settings& auth,
                std::shared_ptr<connection_stats> stats);

    /// Binds and listens; throws boost::system::system_error when the address is unusable.
    void listen(const boost::asio::ip::tcp::endpoint& endpoint);
    /// The bound endpoint (the real port when listening on port 0).
    boost::asio::ip::tcp::endpoint local_endpoint() const;
    /// Stops accepting; sessions in flight finish their current exchange.
    void stop_accepting();

private:
    void do_accept();

    boost::asio::io_context& io_;
    api_router& router_;
    const http_limits& limits_;
    const auth_settings& auth_;
    std::shared_ptr<connection_stats> stats_;
    boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace jobrouter

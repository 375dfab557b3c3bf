// http_server: accepts TCP connections and runs one http_session per connection (Beast).
// Each session reads a request, hands it to the api_router, writes the answer, and repeats
// while the client keeps the connection alive; a WebSocket upgrade on /ws/events becomes a
// ws_session. Everything runs on the server's single io_context thread.
#pragma once

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
    http_server(boost::asio::io_context& io, api_router& router, http_limits limits);

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
    http_limits limits_;
    boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace jobrouter

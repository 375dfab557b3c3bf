#include "server/http_server.hpp"

#include "server/http_session.hpp"

#include <boost/asio/strand.hpp>

namespace jobrouter {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

http_server::http_server(asio::io_context& io, api_router& router, http_limits limits)
    : io_(io), router_(router), limits_(limits), acceptor_(io) {}

void http_server::listen(const tcp::endpoint& endpoint) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    do_accept();
}

tcp::endpoint http_server::local_endpoint() const { return acceptor_.local_endpoint(); }

void http_server::stop_accepting() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
}

void http_server::do_accept() {
    acceptor_.async_accept(io_, [this](boost::system::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (!ec) {
            socket.set_option(tcp::no_delay(true), ec);
            std::make_shared<http_session>(std::move(socket), router_, limits_)->run();
        }
        // Errors like EMFILE are transient: keep accepting.
        do_accept();
    });
}

}  // namespace jobrouter

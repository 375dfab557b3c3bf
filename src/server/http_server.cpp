#include "server/http_server.hpp"

#include "server/api_router.hpp"
#include "server/http_session.hpp"

#include <boost/asio/strand.hpp>

namespace jobrouter {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
namespace http = boost::beast::http;

http_server::http_server(asio::io_context& io, api_router& router, const http_limits& limits, const auth_settings& auth,
                         std::shared_ptr<connection_stats> stats)
    : io_(io), router_(router), limits_(limits), auth_(auth), stats_(std::move(stats)), acceptor_(io) {}

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
            if (stats_->open >= limits_.max_connections) {
                // Answered without a slot, and closed after a short drain.
                ++stats_->refused;
                auto refusal = api_router::error_response(
                    11, false, http::status::service_unavailable, "too_many_connections",
                    std::to_string(stats_->open) + " connections are open, the limit of " +
                        std::to_string(limits_.max_connections) + " (--max-connections raises it); try again later");
                refusal.set(http::field::retry_after, "1");
                std::make_shared<http_session>(std::move(socket), router_, limits_, auth_, connection_slot())
                    ->refuse(std::move(refusal));
            } else {
                std::make_shared<http_session>(std::move(socket), router_, limits_, auth_, connection_slot(stats_))->run();
            }
        }
        // Errors like EMFILE are transient: keep accepting.
        do_accept();
    });
}

}  // namespace jobrouter

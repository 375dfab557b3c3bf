// http_session: one HTTP/1.1 connection (boostorg/beast advanced_server's shape): read a
// request within limits.read_timeout, let the router answer (now, or later for a long-poll),
// write the answer, and read the next while keep-alive holds. Kept alive by shared_from_this
// while an operation or a pending answer refers to it.
#pragma once

#include "server/http_limits.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <memory>
#include <optional>

namespace jobrouter {

class api_router;

class http_session : public std::enable_shared_from_this<http_session> {
public:
    http_session(boost::asio::ip::tcp::socket&& socket, api_router& router, const http_limits& limits);
    void run();

private:
    using response = boost::beast::http::response<boost::beast::http::string_body>;

    void do_read();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void send(response res);
    void on_write(boost::beast::error_code ec, bool close);
    void do_close();

    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    api_router& router_;
    const http_limits& limits_;
};

}  // namespace jobrouter

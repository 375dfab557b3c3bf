#include "server/http_session.hpp"

#include "server/api_router.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/websocket.hpp>

#include <iterator>
#include <string>

namespace jobrouter {

namespace beast = boost::beast;
namespace http = beast::http;

http_session::http_session(boost::asio::ip::tcp::socket&& socket, api_router& router, const http_limits& limits)
    : stream_(std::move(socket)), router_(router), limits_(limits) {}

void http_session::run() { do_read(); }

void http_session::do_read() {
    parser_.emplace();
    parser_->body_limit(limits_.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    stream_.expires_after(limits_.read_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&http_session::on_read, shared_from_this()));
}

void http_session::on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == boost::asio::error::connection_reset)
        return do_close();
    if (ec == http::error::body_limit) {
        auto res = api_router::error_response(11, false, http::status::payload_too_large, "payload_too_large",
                                              "request body is larger than " + std::to_string(limits_.max_body_bytes) + " bytes");
        return send(std::move(res));
    }
    if (ec == http::error::header_limit) {
        auto res = api_router::error_response(11, false, http::status::request_header_fields_too_large, "headers_too_large",
                                              "request headers are larger than " + std::to_string(limits_.max_header_bytes) + " bytes");
        return send(std::move(res));
    }
    if (ec) {
        auto res = api_router::error_response(11, false, http::status::bad_request, "bad_http", "malformed HTTP request: " + ec.message());
        return send(std::move(res));
    }
    auto req = parser_->release();
    if (beast::websocket::is_upgrade(req)) {
        stream_.expires_never();
        if (router_.upgrade(std::move(stream_), std::move(req))) return;
        return;  // the router answered and closed
    }
    // The router may answer later (long-poll claims): the session waits without a deadline,
    // the router bounds the wait.
    stream_.expires_never();
    router_.handle(std::move(req), [self = shared_from_this()](response res) { self->send(std::move(res)); });
}

// The response goes out as one contiguous buffer: Beast's serializer walks a gather list of
// start line, fields and body through several layers of buffer views on every write, which
// was ~20% of serve's instructions per job (bench http, callgrind); the bytes are the same.
void http_session::send(response res) {
    res.prepare_payload();
    const bool close = res.need_eof();
    auto out = std::make_shared<std::string>();
    const std::string_view reason = res.reason();
    out->reserve(64 + res.body().size() + 64 * static_cast<std::size_t>(std::distance(res.begin(), res.end())));
    out->append(res.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    out->append(std::to_string(res.result_int()));
    out->push_back(' ');
    out->append(reason.data(), reason.size());
    out->append("\r\n");
    for (const auto& field : res) {
        out->append(field.name_string().data(), field.name_string().size());
        out->append(": ");
        out->append(field.value().data(), field.value().size());
        out->append("\r\n");
    }
    out->append("\r\n");
    out->append(res.body());
    stream_.expires_after(limits_.write_timeout);
    boost::asio::async_write(stream_, boost::asio::buffer(*out),
                             [self = shared_from_this(), out, close](beast::error_code ec, std::size_t) { self->on_write(ec, close); });
}

void http_session::on_write(beast::error_code ec, bool close) {
    if (ec || close) return do_close();
    do_read();
}

void http_session::do_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
}

}  // namespace jobrouter

#include "server/http_session.hpp"

#include "server/api_router.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/websocket.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <iterator>
#include <string>

namespace jobrouter {

namespace beast = boost::beast;
namespace http = beast::http;
using clock_type = std::chrono::steady_clock;

namespace {

// How long a connection that we end is drained of the client's unread request, at most.
constexpr auto kLinger = std::chrono::milliseconds(2000);
constexpr std::size_t kLingerBytes = 4 * 1024 * 1024;

bool is_disconnect(const beast::error_code& ec) {
    return ec == http::error::end_of_stream || ec == beast::error::timeout || ec == boost::asio::error::connection_reset ||
           ec == boost::asio::error::eof || ec == boost::asio::error::operation_aborted ||
           ec == boost::asio::error::broken_pipe;
}

}  // namespace

http_session::http_session(boost::asio::ip::tcp::socket&& socket, api_router& router, const http_limits& limits,
                           const auth_settings& auth, connection_slot slot)
    : socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      check_interval_(std::max<clock_type::duration>(
          std::min({limits.idle_timeout, limits.header_timeout, limits.read_timeout, limits.write_timeout}),
          std::chrono::milliseconds(1))),
      router_(router),
      limits_(limits),
      auth_(auth),
      slot_(std::move(slot)) {}

void http_session::run() { read_next(); }

void http_session::refuse(response refusal) {
    refusal.keep_alive(false);
    send(std::move(refusal));
}

void http_session::read_next() {
    parser_.emplace();
    parser_->body_limit(limits_.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(limits_.max_header_bytes, UINT32_MAX)));
    // A connection's first request is timed from the accept; a pipelined one has its first
    // bytes already: neither waits as idle.
    if (first_request_ || buffer_.size() > 0) {
        request_start_ = clock_type::now();
        first_request_ = false;
        return read_header();
    }
    set_deadline(clock_type::now() + limits_.idle_timeout);
    socket_.async_read_some(buffer_.prepare(4096), beast::bind_front_handler(&http_session::on_idle_read, shared_from_this()));
}

void http_session::on_idle_read(beast::error_code ec, std::size_t bytes) {
    if (ec) return do_close();  // idle too long, or the client closed: nothing to answer
    buffer_.commit(bytes);
    request_start_ = clock_type::now();
    read_header();
}

void http_session::read_header() {
    set_deadline(request_start_ + std::min(limits_.header_timeout, limits_.read_timeout));
    http::async_read_header(socket_, buffer_, *parser_, beast::bind_front_handler(&http_session::on_header, shared_from_this()));
}

void http_session::on_header(beast::error_code ec, std::size_t bytes) {
    if (ec) return on_read(ec, bytes);
    // The token is checked before any body is read: a client without one cannot make the
    // server buffer a body.
    const auto& header = parser_->get();
    if (auto refusal = authorize(auth_, route_class_of(header.method(), header.target()), header[http::field::authorization])) {
        auto res = api_router::error_response(header.version(), false, static_cast<http::status>(refusal->status),
                                              refusal->code, refusal->message);
        if (!refusal->www_authenticate.empty()) res.set(http::field::www_authenticate, refusal->www_authenticate);
        return send(std::move(res));
    }
    if (parser_->is_done()) return on_read({}, 0);
    set_deadline(request_start_ + limits_.read_timeout);
    if (beast::iequals(header[http::field::expect], "100-continue")) {
        // The client (curl, for bodies over 1 KiB) waits for this before sending the body: the
        // header passed the token and size checks, so ask for it now instead of letting the
        // client wait a second.
        auto go_on = std::make_shared<http::response<http::empty_body>>(http::status::continue_, header.version());
        http::async_write(socket_, *go_on, [self = shared_from_this(), go_on](beast::error_code ec, std::size_t) {
            if (ec) return self->do_close();
            self->read_body();
        });
        return;
    }
    read_body();
}

void http_session::read_body() {
    http::async_read(socket_, buffer_, *parser_, beast::bind_front_handler(&http_session::on_read, shared_from_this()));
}

void http_session::refuse_request(http::status status, std::string code, std::string message) {
    send(api_router::error_response(11, false, status, std::move(code), std::move(message)));
}

void http_session::on_read(beast::error_code ec, std::size_t) {
    if (ec && is_disconnect(ec)) return do_close();  // timed out (slow client) or gone
    if (ec == http::error::body_limit) {
        const auto declared = parser_->content_length();
        const std::string what = declared ? "a request body of " + std::to_string(*declared) + " bytes"
                                          : "a request body of more than " + std::to_string(limits_.max_body_bytes) + " bytes";
        return refuse_request(http::status::payload_too_large, "payload_too_large",
                              "body: " + what + " is over the limit of " + std::to_string(limits_.max_body_bytes) +
                                  " (--max-body-bytes raises it)");
    }
    if (ec == http::error::header_limit)
        return refuse_request(http::status::request_header_fields_too_large, "headers_too_large",
                              "headers: more than " + std::to_string(limits_.max_header_bytes) +
                                  " bytes is over the limit of " + std::to_string(limits_.max_header_bytes) +
                                  " (--max-header-bytes raises it)");
    if (ec) return refuse_request(http::status::bad_request, "bad_http", "malformed HTTP request: " + ec.message());
    auto req = parser_->release();
    clear_deadline();
    if (beast::websocket::is_upgrade(req)) {
        timer_.cancel();
        router_.upgrade(beast::tcp_stream(std::move(socket_)), std::move(req), std::move(slot_));
        return;  // the stream now belongs to the WebSocket session, or was answered and closed
    }
    // The router may answer later (long-poll claims): the session waits without a deadline,
    // the router bounds the wait.
    router_.handle(std::move(req), [self = shared_from_this()](response res) { self->send(std::move(res)); },
                   // Called only during handle() (see client_link): `this` is alive, and the
                   // captures fit std::function's local buffer (no allocation per request).
                   client_link{[this] { return client_gone(); },
                               [this](std::function<void()> on_gone) { watch_hang_up(std::move(on_gone)); }});
}

bool http_session::client_gone() {
    char byte;
    const ssize_t n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return true;  // end of stream: the client closed (at least its sending side)
    return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

// Waits for the socket to become readable without reading: a hang-up (end of stream or reset)
// calls `on_gone`; bytes of a next request leave them for the parser and stop watching. The
// wait ends with the connection (closing the socket cancels it).
void http_session::watch_hang_up(std::function<void()> on_gone) {
    socket_.async_wait(boost::asio::ip::tcp::socket::wait_read,
                                [self = shared_from_this(), on_gone = std::move(on_gone)](beast::error_code ec) {
                                    if (!ec && self->client_gone()) on_gone();
                                });
}

// The response goes out as one contiguous buffer: Beast's serializer walks a gather list of
// start line, fields and body through several layers of buffer views on every write, which
// was ~20% of serve's instructions per job (bench http, callgrind); the bytes are the same.
void http_session::send(response res) {
    res.prepare_payload();
    const bool close = res.need_eof();
    const std::string_view reason = res.reason();
    // One response is written at a time (the next request is read after the write): the
    // buffer's capacity is kept from one response to the next.
    out_.clear();
    out_.reserve(64 + res.body().size() + 64 * static_cast<std::size_t>(std::distance(res.begin(), res.end())));
    out_.append(res.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    char status[16];
    const auto status_end = std::to_chars(status, status + sizeof status, res.result_int()).ptr;
    out_.append(status, status_end);
    out_.push_back(' ');
    out_.append(reason.data(), reason.size());
    out_.append("\r\n");
    for (const auto& field : res) {
        out_.append(field.name_string().data(), field.name_string().size());
        out_.append(": ");
        out_.append(field.value().data(), field.value().size());
        out_.append("\r\n");
    }
    out_.append("\r\n");
    out_.append(res.body());
    set_deadline(clock_type::now() + limits_.write_timeout);
    boost::asio::async_write(socket_, boost::asio::buffer(out_),
                             [self = shared_from_this(), close](beast::error_code ec, std::size_t) { self->on_write(ec, close); });
}

void http_session::on_write(beast::error_code ec, bool close) {
    if (ec) return do_close();
    if (close) return linger_close();
    read_next();
}

// The client may still be sending the request we refused: closing now would reset the
// connection, and the client could lose our reply. Half-close, then read and discard until
// the client closes too, for a bounded time and number of bytes.
void http_session::linger_close() {
    beast::error_code ignored;
    socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    linger_deadline_ = clock_type::now() + std::min<clock_type::duration>(kLinger, limits_.header_timeout);
    buffer_.consume(buffer_.size());
    drain();
}

void http_session::drain() {
    if (drained_ > kLingerBytes) return do_close();
    set_deadline(linger_deadline_);
    socket_.async_read_some(buffer_.prepare(16 * 1024), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
        if (ec) return self->do_close();
        self->drained_ += n;
        self->drain();
    });
}

void http_session::do_close() {
    clear_deadline();
    timer_.cancel();
    beast::error_code ignored;
    socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
}

void http_session::set_deadline(clock_type::time_point deadline) {
    deadline_ = deadline;
    // A wait that ends before the deadline re-checks it then: no timer operation per request.
    if (!timer_waiting_ || timer_.expiry() > deadline) arm_timer(deadline);
}

// At most check_interval_ ahead, so that every later phase's deadline (now + one of the
// timeouts) falls after the armed time and needs no re-arming.
void http_session::arm_timer(clock_type::time_point deadline) {
    timer_.expires_at(std::min(deadline, clock_type::now() + check_interval_));  // cancels a pending wait
    timer_waiting_ = true;
    timer_.async_wait(beast::bind_front_handler(&http_session::on_timer, shared_from_this()));
}

void http_session::on_timer(beast::error_code ec) {
    if (ec == boost::asio::error::operation_aborted) return;  // re-armed (a newer wait is pending) or closed
    timer_waiting_ = false;
    if (deadline_ == clock_type::time_point::max() || !socket_.is_open()) return;  // armed again when a deadline is set
    if (clock_type::now() < deadline_) return arm_timer(deadline_);
    // Too slow: closing the socket ends the pending read or write with operation_aborted.
    clear_deadline();
    beast::error_code ignored;
    socket_.close(ignored);
}

}  // namespace jobrouter

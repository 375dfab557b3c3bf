// ws_client: a blocking /ws/events client for tests, on its own io_context; every operation
// has a deadline. Include after server_fixture.hpp, or after your own kDeadline and parse_body
// (serve_events_test).
#pragma once

#include <boost/beast/websocket.hpp>

namespace {

namespace websocket = beast::websocket;

// A WebSocket client on its own io_context: each operation runs with a deadline, so a read
// that gets nothing ends (and closes the socket) instead of hanging.
class ws_client {
public:
    // Connects to /ws/events...; on a refused upgrade, `refused_status` holds the HTTP status.
    ws_client(const std::string& port, const std::string& target) : ws_(io_) {
        beast::error_code ec = asio::error::timed_out;
        const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"),
                                         static_cast<unsigned short>(std::stoi(port)));
        auto& tcp = beast::get_lowest_layer(ws_);
        tcp.expires_after(10s);
        tcp.async_connect(ep, [&](beast::error_code e) {
            if (e) {
                ec = e;
                return;
            }
            ws_.async_handshake(handshake_res_, "127.0.0.1:" + port, target, [&](beast::error_code e2) { ec = e2; });
        });
        io_.run_for(15s);
        if (ec) {
            error_ = ec.message();
            refused_status_ = handshake_res_.result_int();
            close_now();
            return;
        }
        // From here the WebSocket's own timeouts, not the TCP stream's, apply; reads are bounded
        // by run_for below.
        tcp.expires_never();
        open_ = true;
    }
    ~ws_client() { close(); }

    bool open() const { return open_; }
    const std::string& error() const { return error_; }
    unsigned refused_status() const { return refused_status_; }

    // The next message as JSON, or nothing when none came in `timeout` (or the stream ended).
    std::optional<json::object> next(std::chrono::steady_clock::duration timeout = kDeadline) {
        if (!open_) return std::nullopt;
        bool done = false;
        beast::error_code ec;
        buffer_.consume(buffer_.size());
        io_.restart();
        ws_.async_read(buffer_, [&](beast::error_code e, std::size_t) {
            ec = e;
            done = true;
        });
        io_.run_for(timeout);
        if (!done) {
            close_now();  // aborts the read
            return std::nullopt;
        }
        if (ec) {
            error_ = ec.message();
            open_ = false;
            return std::nullopt;
        }
        auto v = parse_body(beast::buffers_to_string(buffer_.data()));
        BOOST_REQUIRE_MESSAGE(v.is_object(), "event is not an object: " << json::serialize(v));
        return v.get_object();
    }

    // Reads until `pred` accepts a message; everything read on the way (that one included) is
    // appended to `seen`. Fails when it never comes.
    json::object until(const std::function<bool(const json::object&)>& pred, const std::string& what,
                       std::vector<json::object>* seen = nullptr) {
        const auto deadline = std::chrono::steady_clock::now() + kDeadline;
        std::string log;
        while (std::chrono::steady_clock::now() < deadline) {
            auto m = next(deadline - std::chrono::steady_clock::now());
            if (!m) break;
            log += json::serialize(*m) + "\n";
            if (seen) seen->push_back(*m);
            if (pred(*m)) return *m;
        }
        BOOST_FAIL("no " << what << " event came (" << (error_.empty() ? "timeout" : error_) << "); received:\n"
                         << log);
        return {};
    }

    void close() {
        if (!open_) return;
        open_ = false;
        io_.restart();
        ws_.async_close(websocket::close_code::normal, [](beast::error_code) {});
        io_.run_for(2s);
        close_now();
    }

private:
    void close_now() {
        open_ = false;
        beast::error_code ignored;
        beast::get_lowest_layer(ws_).socket().close(ignored);
        io_.restart();
        io_.poll();  // let the aborted handlers run
    }

    asio::io_context io_;
    websocket::stream<beast::tcp_stream> ws_;
    websocket::response_type handshake_res_;
    beast::flat_buffer buffer_;
    bool open_ = false;
    std::string error_;
    unsigned refused_status_ = 0;
};

}  // namespace

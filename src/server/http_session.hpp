// http_session: one HTTP/1.1 connection (boostorg/beast advanced_server's shape), read in
// phases so that every wait has its own bound (README "Security and limits"):
//   idle   - a kept-alive connection waits for the first byte of its next request, at most
//            limits.idle_timeout (a connection's first request skips this phase);
//   header - the header must be complete within limits.header_timeout of the request's first
//            byte (of the accept, for the first request): a slow-loris client is cut off;
//            then the bearer token is checked (auth.hpp) before any body is read, and a
//            client that sent `Expect: 100-continue` is told to go on;
//   body   - the whole request must be in within limits.read_timeout of its first byte.
// Then the router answers (now, or later for a long-poll), the answer is written within
// limits.write_timeout, and the next request is read while keep-alive holds. While an answer
// is pending the session tells the router when the client hangs up (client_link), so that a
// long-poll claim whose client is gone is withdrawn instead of handing out a job. A refusal that
// ends the connection is written, then the rest of the client's request is drained for a
// moment so that the client reads the refusal instead of a connection reset. Kept alive by
// shared_from_this while an operation or a pending answer refers to it.
//
// The bounds are kept by one timer per connection, not by Beast's tcp_stream (which arms and
// cancels its timer around every read and write: ~8% of serve's time per job, bench http). Each
// phase only sets `deadline_`; the timer, armed at most `check_interval_` ahead, checks it when
// it fires: past -> the socket is closed (pending operations end with operation_aborted, which
// ends the connection as a timeout did), not yet -> armed again. A deadline earlier than the
// armed time (the linger after a refusal) arms it earlier.
#pragma once

#include "server/auth.hpp"
#include "server/connection_stats.hpp"
#include "server/http_limits.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace jobrouter {

class api_router;

class http_session : public std::enable_shared_from_this<http_session> {
public:
    using response = boost::beast::http::response<boost::beast::http::string_body>;

    http_session(boost::asio::ip::tcp::socket&& socket, api_router& router, const http_limits& limits,
                 const auth_settings& auth, connection_slot slot);
    /// Serves requests until the connection ends.
    void run();
    /// Writes `refusal` (e.g. 503 at --max-connections) and closes, reading no request.
    void refuse(response refusal);

private:
    void read_next();
    void on_idle_read(boost::beast::error_code ec, std::size_t bytes);
    void read_header();
    void on_header(boost::beast::error_code ec, std::size_t bytes);
    void read_body();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    /// Answers a request that could not be read or was refused; the connection then ends.
    void refuse_request(boost::beast::http::status status, std::string code, std::string message);
    void send(response res);
    void on_write(boost::beast::error_code ec, bool close);
    void linger_close();
    void drain();
    void do_close();
    /// The client has closed its side or reset the connection (peeks, never blocks or consumes).
    bool client_gone();
    /// Calls `on_gone` once if the client hangs up before it sends anything more.
    void watch_hang_up(std::function<void()> on_gone);
    /// The connection is closed if the current operation has not ended by `deadline`.
    void set_deadline(std::chrono::steady_clock::time_point deadline);
    /// No deadline (the router bounds a long-poll's wait itself).
    void clear_deadline() { deadline_ = std::chrono::steady_clock::time_point::max(); }
    void arm_timer(std::chrono::steady_clock::time_point deadline);
    void on_timer(boost::beast::error_code ec);

    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer timer_;
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
    std::chrono::steady_clock::duration check_interval_;  ///< the shortest of the limits' timeouts
    bool timer_waiting_ = false;
    std::string out_;  ///< the response being written (one at a time), its capacity kept
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    api_router& router_;
    const http_limits& limits_;
    const auth_settings& auth_;
    connection_slot slot_;
    bool first_request_ = true;
    std::chrono::steady_clock::time_point request_start_;
    std::chrono::steady_clock::time_point linger_deadline_;
    std::size_t drained_ = 0;
};

}  // namespace jobrouter

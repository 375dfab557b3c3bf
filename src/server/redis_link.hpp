// redis_link: serve's one connection to the Redis store, kept up by itself.
//
// Commands are synchronous on the io thread (one FCALL per operation on loopback, each bounded
// by the command deadline, --store-timeout-ms). When a command fails for an I/O reason (Redis
// down, restarted, or slower than the deadline), the connection is dropped, the caller gets a
// 503 `store_unavailable` naming the Redis URL and the error, and a timer reconnects with
// doubling back-off (100 ms up to 5 s): one log line per attempt, none per refused request.
// While it is down, commands are refused at once without touching the network. An error reply
// from Redis (a bug, a wrong type) is a 500 and keeps the connection.
//
// On every (re)connection `on_connected` runs first (load and check the function library,
// write the configuration, re-register this process's workers); if it throws redis_error the
// link counts as down again.
#pragma once

#include "redis/connection.hpp"
#include "redis/redis_url.hpp"
#include "server/job_service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>

namespace jobrouter {

class redis_link {
public:
    using connected_fn = std::function<void(redis::connection&)>;

    redis_link(boost::asio::io_context& io, redis::redis_url url, std::chrono::milliseconds timeout, connected_fn on_connected);

    /// Start-up: connects now; the error names the URL and says why.
    result<void> connect_now();

    /// One command; a 503 when Redis cannot be reached (a reconnect is then scheduled).
    api_result<redis::reply> command(std::span<const std::string> args);
    api_result<redis::reply> command(std::initializer_list<std::string> args) { return command(std::vector<std::string>(args)); }

    bool up() const { return conn_.has_value(); }
    /// Whether the last failed command was sent and its reply lost (it may have been applied).
    bool last_reply_lost() const { return last_reply_lost_; }
    const redis::redis_url& url() const { return url_; }
    /// Called after a reconnection (not the first connection), once on_connected has run.
    std::function<void()> on_reconnected;

private:
    result<void> open();
    void lost(const std::string& why);
    void schedule_reconnect();
    api_error unavailable() const;

    boost::asio::io_context& io_;
    redis::redis_url url_;
    std::chrono::milliseconds timeout_;
    connected_fn on_connected_;
    std::optional<redis::connection> conn_;
    std::string last_error_;
    std::chrono::milliseconds backoff_{100};
    boost::asio::steady_timer timer_;
    bool reconnecting_ = false;
    bool last_reply_lost_ = false;
    int attempt_ = 0;
};

}  // namespace jobrouter

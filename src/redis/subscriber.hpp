// subscriber: a Redis pub/sub subscription on an Asio io_context (hiredis's asynchronous API
// through asio_adapter.hpp), for what several jobrouter processes on one Redis tell each other.
//
// It connects, authenticates when the URL has a password, SUBSCRIBEs to its channels and calls
// on_message(channel, message) for each message. When the connection fails or drops (Redis
// stopped, restarted, CLIENT KILL, no answer within connect_timeout while connecting) it calls
// on_state(false, why) and tries again after a back-off that doubles from backoff_initial to
// backoff_max; once every channel is subscribed again it calls on_state(true, ...). Pub/sub
// keeps nothing for absent subscribers: messages published while it was not subscribed are
// lost, so the owner resynchronises from Redis's keys on on_state(true). A dead peer that sends
// no reset is found by TCP keepalive (15 s).
//
// Channels are server-wide in Redis (not per database): put the database in their names.
//
// Executor: the io_context's thread; callbacks are posted (never called from inside hiredis),
// so they may call stop() or destroy the subscriber. start(), stop() and the destructor must
// run on that thread or while it is not running.
#pragma once

#include "redis/redis_url.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct redisAsyncContext;

namespace jobrouter::redis {

struct subscriber_options {
    std::chrono::milliseconds connect_timeout{2000};  ///< connect + AUTH + SUBSCRIBE
    std::chrono::milliseconds backoff_initial{100};
    std::chrono::milliseconds backoff_max{5000};
};

class subscriber {
public:
    using options = subscriber_options;
    using message_fn = std::function<void(const std::string& channel, const std::string& message)>;
    /// subscribed: true once every channel is subscribed, false when the connection is lost or
    /// could not be made; detail says what happened ("redis HOST:PORT/DB: ...").
    using state_fn = std::function<void(bool subscribed, const std::string& detail)>;

    subscriber(boost::asio::io_context& io, redis_url url, std::vector<std::string> channels, message_fn on_message,
               state_fn on_state = {}, options o = {});
    ~subscriber();
    subscriber(const subscriber&) = delete;
    subscriber& operator=(const subscriber&) = delete;

    /// Starts connecting (once; later calls do nothing).
    void start();
    /// Closes the connection; no callback is called after it returns.
    void stop();

    bool subscribed() const { return subscribed_; }
    /// Connection attempts so far (the first one included).
    std::size_t attempts() const { return attempts_; }

private:
    void connect();
    void lost(const std::string& why);
    void schedule_reconnect();
    void report(bool subscribed, std::string detail);
    void subscribe();
    void on_reply(void* reply);

    static void connect_cb(const redisAsyncContext* ac, int status);
    static void disconnect_cb(const redisAsyncContext* ac, int status);
    static void auth_cb(redisAsyncContext* ac, void* reply, void* privdata);
    static void reply_cb(redisAsyncContext* ac, void* reply, void* privdata);

    boost::asio::io_context& io_;
    redis_url url_;
    std::vector<std::string> channels_;
    message_fn on_message_;
    state_fn on_state_;
    options options_;
    boost::asio::steady_timer connect_timer_;
    boost::asio::steady_timer reconnect_timer_;
    redisAsyncContext* ac_ = nullptr;
    std::chrono::milliseconds backoff_;
    std::size_t confirmed_ = 0;  ///< channels confirmed on this connection
    std::string refused_;        ///< an error reply that made us close this connection
    std::size_t attempts_ = 0;
    bool started_ = false, stopping_ = false, subscribed_ = false;
    std::shared_ptr<const int> alive_ = std::make_shared<const int>(0);
};

}  // namespace jobrouter::redis
